package httpx

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Pacing under retries: a route's pace holds while the client-wide limiter delays, and retries are not counted as new calls.

func TestDo_routePaceHoldsWhenTheGeneralLimiterDelays(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var launches []time.Time
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		if r.Method == http.MethodPost {
			mu.Lock()
			launches = append(launches, time.Now())
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Limiter = rate.NewLimiter(rate.Every(200*time.Millisecond), 1)
		cfg.RouteLimits = []RouteLimit{{Method: http.MethodPost, Path: "/launch", Limiter: rate.NewLimiter(rate.Every(300*time.Millisecond), 1)}}
	})
	ctx := context.Background()
	// A read spends the client-wide token, so the first launch waits ~200ms for it.
	for _, req := range []Request{{Method: http.MethodGet, Path: "/list"}, {Method: http.MethodPost, Path: "/launch"}, {Method: http.MethodPost, Path: "/launch"}} {
		if err := c.Do(ctx, req, nil); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(launches) != 2 {
		t.Fatalf("launch hits = %d, want 2", len(launches))
	}
	if gap := launches[1].Sub(launches[0]); gap < 280*time.Millisecond {
		t.Errorf("launches were sent %v apart, want >= ~300ms (the route's pace)", gap)
	}
}

func TestDo_retriesAreNotCounted(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		failures int
		status   int
	}{
		{7, http.StatusTooManyRequests},
		{20, http.StatusTooManyRequests},
		{20, http.StatusInternalServerError},
	} {
		t.Run(fmt.Sprintf("%d x %s", tt.failures, statusName(tt.status)), func(t *testing.T) {
			t.Parallel()
			srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
				if hit <= tt.failures {
					http.Error(w, "not now", tt.status)
					return
				}
				writeJSON(w, http.StatusOK, map[string]string{"id": "i-1"})
			})
			c := newClient(t, srv, nil)
			var out struct{ ID string }
			if err := c.Do(context.Background(), Request{Operation: "list instances", Method: http.MethodGet, Path: "/instances", List: true}, &out); err != nil {
				t.Fatalf("Do: %v", err)
			}
			if out.ID != "i-1" || hits.count() != tt.failures+1 {
				t.Errorf("id = %q after %d hits, want i-1 after %d", out.ID, hits.count(), tt.failures+1)
			}
		})
	}
	t.Run("NotIdempotent POST through 20 x 429", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
			_, _ = io.ReadAll(r.Body)
			if hit <= 20 {
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
			writeJSON(w, http.StatusCreated, map[string]string{"id": "i-9"})
		})
		c := newClient(t, srv, nil)
		var out struct{ ID string }
		err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/launch", Body: map[string]string{"name": "a"}, NotIdempotent: true}, &out)
		if err != nil || out.ID != "i-9" || hits.count() != 21 {
			t.Errorf("err = %v, id = %q after %d hits; want i-9 after 21", err, out.ID, hits.count())
		}
	})
}

// A 429 storm outlasting the call's deadline ends with the 429 itself, as soon as the next
// wait no longer fits before the deadline.
