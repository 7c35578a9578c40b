package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// Deadlines and rate limiters: waits honour the context, route limits pace only their route.

func TestDo_contextDeadlineWhileServerIsSlow(t *testing.T) {
	t.Parallel()
	// The server answers only once the client has hung up: the test lets the deadline pass
	// while the server holds the request, and a client that waited for the answer would hang.
	slow := func(gate *apifake.Gate) func(w http.ResponseWriter, r *http.Request, hit int) {
		return func(w http.ResponseWriter, r *http.Request, hit int) {
			// The server notices the client hanging up only once the body is read.
			_, _ = io.ReadAll(r.Body)
			gate.Arrive()
			<-r.Context().Done()
			w.WriteHeader(http.StatusNoContent)
		}
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
			gate := apifake.NewGate(t)
			srv, hits := newServer(t, slow(gate))
			c := newClient(t, srv, nil)
			ctx := apifake.NewExpiring(t, context.Background(), time.Now().Add(time.Hour))
			go func() {
				gate.Await(1)
				ctx.Expire()
			}()
			var err error
			apifake.Returns(t, "Do after its deadline passed", func() { err = c.Do(ctx, tt.req, nil) })
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
			}
			if got := errors.Is(err, clients.ErrOutcomeUnknown); got != tt.wantOutcomeUnk {
				t.Errorf("errors.Is(err, ErrOutcomeUnknown) = %v, want %v (err: %v)", got, tt.wantOutcomeUnk, err)
			}
			hits.want(t, 1, "")
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
		cancel  bool          // cancel once the answer is in, instead of a deadline an hour ahead
		wantErr error
	}{
		{
			// A backoff that would end past the deadline is not started: the 503 comes back
			// at once, long before the deadline.
			name: "exponential backoff past the deadline", status: http.StatusServiceUnavailable,
			req: Request{Method: http.MethodGet, Path: "/x"}, wait: 2 * time.Hour,
		},
		{
			name: "Retry-After wait, cancel", status: http.StatusServiceUnavailable, header: "100",
			req: Request{Method: http.MethodGet, Path: "/x"}, wait: time.Millisecond, cancel: true, wantErr: context.Canceled,
		},
		{
			// The 429 says the launch was not done: cancelling the wait that follows must
			// not claim the outcome is unknown.
			name: "NotIdempotent 429 then cancel", status: http.StatusTooManyRequests, header: "100",
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
			answered := make(chan struct{}, 1)
			c := newClient(t, srv, func(cfg *Config) {
				cfg.RetryWaitMin, cfg.RetryWaitMax = tt.wait, tt.wait
				cfg.OnResponse = func(*http.Response) { answered <- struct{}{} }
			})
			// The waits (two hours, or the server's 100 s) outlast Patience: a Do that started
			// one past the deadline, or did not end it on cancel, fails apifake.Returns.
			var ctx context.Context
			var cancel context.CancelFunc
			if tt.cancel {
				ctx, cancel = context.WithCancel(context.Background())
				go func() {
					<-answered
					cancel()
				}()
			} else {
				ctx, cancel = context.WithTimeout(context.Background(), time.Hour)
			}
			defer cancel()
			var err error
			apifake.Returns(t, "Do", func() { err = c.Do(ctx, tt.req, nil) })
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
			hits.want(t, 1, "")
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
			// The second request's wait is an hour: it can only end through the context.
			c := newClient(t, srv, func(cfg *Config) { cfg.Limiter = rate.NewLimiter(rate.Every(time.Hour), 1) })
			if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/x"}, nil); err != nil {
				t.Fatalf("first Do: %v", err)
			}
			var ctx context.Context
			var cancel context.CancelFunc
			if tt.cancel {
				// Whenever the cancel lands (before the wait or during it), Do must end with it.
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(10*time.Millisecond, cancel)
			} else {
				ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
			}
			defer cancel()
			var err error
			apifake.Returns(t, "Do waiting for the limiter", func() {
				err = c.Do(ctx, Request{Method: http.MethodPost, Path: "/launch", NotIdempotent: true}, nil)
			})
			if !tt.cancel && ctx.Err() != nil {
				t.Errorf("Do ended with the deadline, want it to fail at once: %v", err)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantErr)
			}
			if errors.Is(err, clients.ErrOutcomeUnknown) {
				t.Errorf("err = %v: nothing was sent, the outcome is known", err)
			}
			hits.want(t, 1, "the second request must not be sent")
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
	routeLimiter := rate.NewLimiter(rate.Every(400*time.Millisecond), 1)
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Limiter = rate.NewLimiter(rate.Every(100*time.Millisecond), 1)
		cfg.RouteLimits = []RouteLimit{{Method: http.MethodPost, Path: "/launch", Limiter: routeLimiter}}
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
		// Sent while the launch still waits for its route, less than the client-wide interval
		// before the launch's token comes (its route limiter is then 80% refilled).
		apifake.WaitUntil(t, apifake.Patience, func() bool { return routeLimiter.Tokens() >= 0.8 })
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

// A route's pace holds between real sends even when the client-wide limiter delays one of
// them: all limiters give their token at the moment of sending.
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

// TestDo_creditSkipsTheLimiter: requests the Credit hook grants go without the limiter's token
// (here one an hour), and every request that goes gets the next number, which OnResponse reads
// back from the answer (RequestSeq); a request it does not grant waits for the limiter.
func TestDo_creditSkipsTheLimiter(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		w.WriteHeader(http.StatusNoContent)
	})
	var mu sync.Mutex
	credit := 3
	var asked, answered []uint64
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Limiter = rate.NewLimiter(rate.Every(time.Hour), 1)
		cfg.Credit = func(seq uint64) bool {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, seq)
			if credit == 0 {
				return false
			}
			credit--
			return true
		}
		cfg.OnResponse = func(resp *http.Response) {
			seq, _, ok := RequestSeq(resp.Request)
			if !ok {
				t.Error("an answer without its request's number")
			}
			mu.Lock()
			defer mu.Unlock()
			answered = append(answered, seq)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for i := range 4 { // three on credit, one on the limiter's only token
		if err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/x"}, nil); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/x"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("fifth request: %v, want it refused by the limiter's hour-long wait", err)
	}
	hits.want(t, 4, "the fifth request must not be sent")
	if !slices.Equal(answered, []uint64{1, 2, 3, 4}) || !slices.Equal(asked, []uint64{1, 2, 3, 4, 5}) {
		t.Errorf("asked %v, answered %v", asked, answered)
	}
}
