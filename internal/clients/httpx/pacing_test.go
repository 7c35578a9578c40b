package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Deadlines and rate limiters: waits honour the context, route limits pace only their route.

func TestDo_contextDeadlineWhileServerIsSlow(t *testing.T) {
	t.Parallel()
	slow := func(w http.ResponseWriter, r *http.Request, hit int) {
		// The server notices the client hanging up only once the body is read.
		_, _ = io.ReadAll(r.Body)
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	}
	tests := []struct {
		name           string
		req            Request
		wantOutcomeUnk bool
	}{
		{name: "GET", req: Request{Method: http.MethodGet, Path: "/instances"}},
		{name: "NotIdempotent POST", req: Request{Method: http.MethodPost, Path: "/launch", Body: map[string]int{"n": 1}, NotIdempotent: true}, wantOutcomeUnk: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := newServer(t, slow)
			c := newClient(t, srv, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := c.Do(ctx, tt.req, nil)
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("Do returned after %v, want < 1s", elapsed)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
			}
			if got := errors.Is(err, clients.ErrOutcomeUnknown); got != tt.wantOutcomeUnk {
				t.Errorf("errors.Is(err, ErrOutcomeUnknown) = %v, want %v (err: %v)", got, tt.wantOutcomeUnk, err)
			}
			if hits.count() != 1 {
				t.Errorf("server hits = %d, want 1", hits.count())
			}
		})
	}
}

func TestDo_contextEndedDuringBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		header  string // Retry-After
		req     Request
		wait    time.Duration // RetryWaitMin and RetryWaitMax
		cancel  bool          // cancel after 200ms instead of a 200ms deadline
		wantErr error
	}{
		{
			// A backoff that would end past the deadline is not started: the 503 comes back.
			name: "exponential backoff past the deadline", status: http.StatusServiceUnavailable,
			req: Request{Method: http.MethodGet, Path: "/x"}, wait: 10 * time.Second,
		},
		{
			name: "Retry-After wait, cancel", status: http.StatusServiceUnavailable, header: "10",
			req: Request{Method: http.MethodGet, Path: "/x"}, wait: time.Millisecond, cancel: true, wantErr: context.Canceled,
		},
		{
			// The 429 says the launch was not done: cancelling the wait that follows must
			// not claim the outcome is unknown.
			name: "NotIdempotent 429 then cancel", status: http.StatusTooManyRequests, header: "10",
			req: Request{Method: http.MethodPost, Path: "/launch", NotIdempotent: true}, wait: time.Millisecond, cancel: true,
			wantErr: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
				if tt.header != "" {
					w.Header().Set("Retry-After", tt.header)
				}
				w.WriteHeader(tt.status)
			})
			c := newClient(t, srv, func(cfg *Config) { cfg.RetryWaitMin, cfg.RetryWaitMax = tt.wait, tt.wait })
			var ctx context.Context
			var cancel context.CancelFunc
			if tt.cancel {
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(200*time.Millisecond, cancel)
			} else {
				ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
			}
			defer cancel()
			start := time.Now()
			err := c.Do(ctx, tt.req, nil)
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("Do returned after %v, want < 1s", elapsed)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			var apiErr *clients.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
				t.Errorf("err = %v, want the server's %d answer kept", err, tt.status)
			}
			if errors.Is(err, clients.ErrOutcomeUnknown) {
				t.Errorf("err = %v: the server answered %d, the outcome is known", err, tt.status)
			}
			if hits.count() != 1 {
				t.Errorf("server hits = %d, want 1", hits.count())
			}
		})
	}
}

func TestDo_rateLimiterWaitHonoursContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cancel  bool
		wantErr error
	}{
		{name: "deadline shorter than the wait fails at once", wantErr: context.DeadlineExceeded},
		{name: "cancel during the wait", cancel: true, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
				w.WriteHeader(http.StatusNoContent)
			})
			c := newClient(t, srv, func(cfg *Config) { cfg.Limiter = rate.NewLimiter(rate.Every(10*time.Second), 1) })
			if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/x"}, nil); err != nil {
				t.Fatalf("first Do: %v", err)
			}
			var ctx context.Context
			var cancel context.CancelFunc
			if tt.cancel {
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(200*time.Millisecond, cancel)
			} else {
				ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
			}
			defer cancel()
			start := time.Now()
			err := c.Do(ctx, Request{Method: http.MethodPost, Path: "/launch", NotIdempotent: true}, nil)
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("Do returned after %v, want < 1s", elapsed)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			if errors.Is(err, clients.ErrOutcomeUnknown) {
				t.Errorf("err = %v: nothing was sent, the outcome is known", err)
			}
			if hits.count() != 1 {
				t.Errorf("server hits = %d, want 1 (the second request must not be sent)", hits.count())
			}
		})
	}
}

func TestDo_routeLimiterPacesOnlyItsRoute(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		mu.Lock()
		seen[r.Method+" "+r.URL.Path]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	// Two launches an hour: once they are spent, a request that had to wait for this limiter
	// could not finish within any test's deadline, so success proves it did not wait (no
	// clock is read).
	c := newClient(t, srv, func(cfg *Config) {
		cfg.RouteLimits = []RouteLimit{{Method: http.MethodPost, Path: "/launch", Limiter: rate.NewLimiter(rate.Every(time.Hour), 2)}}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	do := func(method, path string) error {
		return c.Do(ctx, Request{Method: method, Path: path}, nil)
	}
	for range 2 {
		if err := do(http.MethodPost, "/launch"); err != nil {
			t.Fatalf("launch within the burst: %v", err)
		}
	}
	for range 2 {
		for _, r := range [][2]string{{http.MethodPost, "/terminate"}, {http.MethodGet, "/launch"}, {http.MethodPost, "/other/launch"}, {http.MethodPost, "/launch/x"}} {
			if err := do(r[0], r[1]); err != nil {
				t.Fatalf("%s %s was held by the launch limiter: %v", r[0], r[1], err)
			}
		}
	}
	// A third launch must wait an hour: it is refused at once, and nothing is sent.
	if err := do(http.MethodPost, "/launch"); err == nil {
		t.Error("a third launch went out within the hour")
	}
	mu.Lock()
	defer mu.Unlock()
	if n := seen["POST /api/v1/launch"]; n != 2 {
		t.Errorf("launch hits = %d, want 2", n)
	}
}

func TestDo_routeLimiterPatternMatchesIDs(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) { w.WriteHeader(http.StatusNoContent) })
	c := newClient(t, srv, func(cfg *Config) {
		cfg.RouteLimits = []RouteLimit{{Path: "/pods/*/action", Limiter: rate.NewLimiter(rate.Every(300*time.Millisecond), 1)}}
	})
	for _, id := range []string{"a", "b"} {
		if err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/pods/" + id + "/action"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if gap := hits.gap(t, 1); gap < 280*time.Millisecond {
		t.Errorf("second action came %v after the first, want >= ~300ms", gap)
	}
}

func TestDo_routeWaitDoesNotSpendClientWideTokenEarly(t *testing.T) {
	t.Parallel()
	// Client-wide: one request per 100ms. Launches: one per 400ms. A launch held back by its
	// route limiter must not take a client-wide token before it is really sent, or it bunches
	// up with another request sent meanwhile.
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) { w.WriteHeader(http.StatusNoContent) })
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Limiter = rate.NewLimiter(rate.Every(100*time.Millisecond), 1)
		cfg.RouteLimits = []RouteLimit{{Method: http.MethodPost, Path: "/launch", Limiter: rate.NewLimiter(rate.Every(400*time.Millisecond), 1)}}
	})
	launch := Request{Method: http.MethodPost, Path: "/launch"}
	if err := c.Do(context.Background(), launch, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := c.Do(context.Background(), launch, nil); err != nil {
			t.Error(err)
		}
	}()
	go func() {
		defer wg.Done()
		time.Sleep(330 * time.Millisecond)
		if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/instances"}, nil); err != nil {
			t.Error(err)
		}
	}()
	wg.Wait()
	for i := 1; i < hits.count(); i++ {
		if gap := hits.gap(t, i); gap < 80*time.Millisecond {
			t.Errorf("hits %d and %d came %v apart, want >= ~100ms (client-wide pace)", i, i+1, gap)
		}
	}
}

// vendorError is a Lambda-style error body.
type vendorError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		Suggestion string `json:"suggestion"`
	} `json:"error"`
}
