package httpx

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// TestDo_yieldingLookGoesAfterTheQueuedRequests: a look marked clients.Yield, asked while
// deletes wait for the rate limiter, is sent after them, and after a delete asked later too:
// requests that do not yield are served first, in their order. Without yielding, the look
// would take its turn before the last delete and spend a request's room in the middle of the
// stream.
func TestDo_yieldingLookGoesAfterTheQueuedRequests(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var order []string
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		mu.Lock()
		order = append(order, r.URL.Path)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Limiter = rate.NewLimiter(rate.Every(20*time.Millisecond), 1)
	})
	tr, ok := c.http.Transport.(*transportChain)
	if !ok {
		t.Fatalf("the client's transport is a %T", c.http.Transport)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	do := func(ctx context.Context, p string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Do(ctx, Request{Method: http.MethodDelete, Path: p}, nil); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}()
	}
	state := func() (pressing int, waiting bool) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return tr.pressing, tr.clear != nil
	}
	for i, p := range []string{"/d1", "/d2", "/d3"} {
		do(ctx, p)
		apifake.WaitUntil(t, apifake.Patience, func() bool {
			mu.Lock()
			sent := len(order)
			mu.Unlock()
			n, _ := state()
			return n+sent >= i+1 // each delete is queued or sent before the next is asked
		})
	}
	do(clients.Yield(ctx), "/look")
	apifake.WaitUntil(t, apifake.Patience, func() bool { _, waiting := state(); return waiting })
	do(ctx, "/d4")
	wg.Wait()
	want := []string{"/api/v1/d1", "/api/v1/d2", "/api/v1/d3", "/api/v1/d4", "/api/v1/look"}
	if !slices.Equal(order, want) {
		t.Errorf("sent in the order %v, want %v", order, want)
	}
}

// TestWaitClear_yieldsNoLongerThanHalfTheTimeLeft: a look that yields to a stream that does not
// end still takes its turn, with half its time left to be sent in.
func TestWaitClear_yieldsNoLongerThanHalfTheTimeLeft(t *testing.T) {
	t.Parallel()
	tr := &transportChain{cfg: &Config{Cloud: testCloud}}
	tr.press(1) // a request that holds its turn for good
	ctx, cancel := context.WithTimeout(t.Context(), 400*time.Millisecond)
	defer cancel()
	if err := tr.waitClear(ctx); err != nil {
		t.Fatalf("waitClear: %v, want it to stop yielding before its context ends", err)
	}
	if ctx.Err() != nil {
		t.Errorf("waitClear yielded until its context ended")
	}
	tr.press(-1)
	if err := tr.waitClear(context.Background()); err != nil {
		t.Errorf("waitClear with nothing pressing: %v", err)
	}
}
