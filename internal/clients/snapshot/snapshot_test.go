package snapshot

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Concurrent readers share one fetch, fresh-enough reads are cached, invalidation and newer
// needs refetch, and a reader giving up does not fail the others.
func TestCache(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	s := New(func(context.Context) (int, error) {
		n := calls.Add(1)
		<-release
		return int(n), nil
	})
	ctx := t.Context()

	// Concurrent readers share one fetch.
	var wg sync.WaitGroup
	results := make([]int, 5)
	for i := range results {
		wg.Go(func() { results[i], _ = s.Get(ctx, time.Now().Add(-time.Second)) })
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls.Load() != 1 || slices.ContainsFunc(results, func(v int) bool { return v != 1 }) {
		t.Fatalf("calls %d, results %v", calls.Load(), results)
	}
	// Fresh enough: cached.
	if v, _ := s.Get(ctx, time.Now().Add(-time.Second)); v != 1 || calls.Load() != 1 {
		t.Errorf("cached read fetched again (%d calls)", calls.Load())
	}
	// Newer than the cache: fetched.
	if v, _ := s.Get(ctx, time.Now()); v != 2 {
		t.Errorf("fresh read got %d", v)
	}
	// Invalidated: fetched even though recent.
	s.Invalidate()
	if v, _ := s.Get(ctx, time.Now().Add(-time.Hour)); v != 3 {
		t.Errorf("read after invalidate got %d", v)
	}
	// A reader whose context ends stops waiting; the fetch still completes for others.
	slow := New(func(context.Context) (int, error) { time.Sleep(50 * time.Millisecond); return 7, nil })
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := slow.Get(cctx, time.Now()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled reader: %v", err)
	}
	if v, err := slow.Get(ctx, time.Now().Add(-time.Second)); v != 7 || err != nil {
		t.Errorf("joined reader: %d, %v", v, err)
	}
}
