package snapshot

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
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

	// Concurrent readers share one fetch: it is held until all of them wait for it.
	var wg sync.WaitGroup
	results := make([]int, 5)
	readers := make([]*apifake.Watched, len(results))
	for i := range results {
		readers[i] = apifake.Watch(ctx)
		wg.Go(func() { results[i], _ = s.Get(readers[i], time.Now().Add(-time.Second)) })
	}
	apifake.WaitWaiting(t, readers...)
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
	slowRelease := make(chan struct{})
	slow := New(func(context.Context) (int, error) { <-slowRelease; return 7, nil })
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := slow.Get(cctx, time.Now()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled reader: %v", err)
	}
	joiner := apifake.Watch(ctx)
	joined := make(chan error, 1)
	go func() {
		v, err := slow.Get(joiner, time.Now().Add(-time.Second))
		if err == nil && v != 7 {
			err = fmt.Errorf("got %d", v)
		}
		joined <- err
	}()
	apifake.WaitWaiting(t, joiner) // it waits on the fetch the cancelled reader started
	close(slowRelease)
	if err := <-joined; err != nil {
		t.Errorf("joined reader: %v", err)
	}
}

// Readers that need an answer newer than the fetch in flight do not start fetches beside it:
// they all wait for the one next fetch, started when the one in flight ends, which is newer
// than every one of them asked for.
func TestReadersBehindAFetchShareTheNextOne(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	tick := func() { mu.Lock(); now = now.Add(time.Millisecond); mu.Unlock() }
	var calls atomic.Int32
	gates := []chan struct{}{make(chan struct{}), make(chan struct{})}
	started := make(chan int, 2)
	s := NewWithClock(func(context.Context) (int, error) {
		n := int(calls.Add(1))
		started <- n
		<-gates[n-1]
		return n, nil
	}, clock)
	ctx := t.Context()

	first := make(chan int, 1)
	go func() { v, _ := s.Get(ctx, clock()); first <- v }()
	<-started // fetch 1 is out
	tick()
	var wg sync.WaitGroup
	var res sync.Map
	for i := range 20 { // each asks for an answer newer than fetch 1
		at := clock()
		wg.Go(func() {
			v, got, _ := s.GetAt(ctx, at)
			res.Store(i, [2]any{v, !got.Before(at)})
		})
	}
	for queued := false; !queued; runtime.Gosched() { // a reader has queued behind fetch 1
		s.mu.Lock()
		queued = s.next != nil
		s.mu.Unlock()
	}
	close(gates[0])
	if v := <-first; v != 1 {
		t.Errorf("first reader got %d", v)
	}
	<-started // fetch 2 starts only once fetch 1 has ended
	close(gates[1])
	wg.Wait()
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	res.Range(func(k, v any) bool {
		if r, ok := v.([2]any); !ok || r[0] != 2 || r[1] != true {
			t.Errorf("reader %v got %v", k, r)
		}
		return true
	})
}
