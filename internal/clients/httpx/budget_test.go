package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Retries and attempts bounded by time: the deadline, the retry budget, the per-request timeout; list routes.

// A 429 storm outlasting the call's deadline ends with the 429 itself, as soon as the next
// wait no longer fits before the deadline.
func TestDo_rateLimitStormLongerThanTheDeadline(t *testing.T) {
	t.Parallel()
	t.Run("server-paced: stops before the deadline", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "rate limit exceeded for the minute window", http.StatusTooManyRequests)
		})
		c := newClient(t, srv, nil)
		// Hits at ~0 s and ~1 s; a third would come at ~2 s, past the deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		err := c.Do(ctx, Request{Operation: "list pods", Method: http.MethodGet, Path: "/pods", List: true}, nil)
		if ctx.Err() != nil {
			t.Errorf("Do returned after the deadline, want it back as soon as no retry fits")
		}
		if !errors.Is(err, clients.ErrRateLimited) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrRateLimited (and not the deadline: it has not passed)", err)
		}
		var apiErr *clients.APIError
		if !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "minute window") || apiErr.RetryAfter != time.Second {
			t.Errorf("APIError = %+v, want the vendor's message and RetryAfter 1s", apiErr)
		}
		hits.want(t, 2, "")
	})
	t.Run("exponential backoff: retries until the deadline", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
			http.Error(w, "slow down", http.StatusTooManyRequests)
		})
		c := newClient(t, srv, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err := c.Do(ctx, Request{Operation: "get instance", Method: http.MethodGet, Path: "/instances/i-1"}, nil)
		// The last attempt may still be in flight when the deadline passes: then the error
		// wraps the deadline too, but the 429 is what it reports.
		var apiErr *clients.APIError
		if !errors.Is(err, clients.ErrRateLimited) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, "slow down") {
			t.Fatalf("err = %v, want the 429 with its body", err)
		}
		if clients.IsNotFound(err) {
			t.Errorf("err = %v, a 429 is never not-found", err)
		}
		if hits.count() < 2 {
			t.Errorf("server hits = %d, want retries until the deadline", hits.count())
		}
	})
}

func TestDo_withoutDeadlineRetriesAreBoundedByTheBudget(t *testing.T) {
	t.Parallel()
	t.Run("backoff", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
			http.Error(w, "slow down", http.StatusTooManyRequests)
		})
		c := newClient(t, srv, func(cfg *Config) { cfg.RetryBudget = 200 * time.Millisecond })
		err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/pods"}, nil)
		if !errors.Is(err, clients.ErrRateLimited) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the 429 alone", err)
		}
		if hits.count() < 2 {
			t.Errorf("server hits = %d, want retries within the budget", hits.count())
		}
	})
	t.Run("server ask longer than the budget", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
			w.Header().Set("Retry-After", "30") // below MaxRetryAfter, above the budget
			http.Error(w, "slow down", http.StatusTooManyRequests)
		})
		c := newClient(t, srv, func(cfg *Config) { cfg.RetryBudget = 10 * time.Second })
		err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/pods"}, nil)
		var apiErr *clients.APIError
		if !errors.As(err, &apiErr) || !errors.Is(err, clients.ErrRateLimited) || apiErr.RetryAfter != 30*time.Second {
			t.Fatalf("err = %v, want the 429 with RetryAfter 30s", err)
		}
		hits.want(t, 1, "")
	})
}

// hangOnFirstHit answers every hit but the first, which it holds until the client gives up on
// it (or the test ends).
func hangOnFirstHit(t *testing.T) (*httptest.Server, *hitLog) {
	t.Helper()
	release := make(chan struct{})
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		// The server notices the client hanging up only once the body is read.
		_, _ = io.ReadAll(r.Body)
		if hit == 1 {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": "i-1"})
	})
	t.Cleanup(func() { close(release) }) // before srv.Close, which waits for handlers
	return srv, hits
}

func TestDo_requestTimeoutAbandonsAHungAttempt(t *testing.T) {
	t.Parallel()
	t.Run("GET is retried", func(t *testing.T) {
		t.Parallel()
		srv, hits := hangOnFirstHit(t)
		c := newClient(t, srv, func(cfg *Config) { cfg.RequestTimeout = 100 * time.Millisecond })
		wantInstanceAfter(t, c, hits, 2)
	})
	t.Run("NotIdempotent POST is outcome unknown", func(t *testing.T) {
		t.Parallel()
		srv, hits := hangOnFirstHit(t)
		c := newClient(t, srv, func(cfg *Config) { cfg.RequestTimeout = 100 * time.Millisecond })
		err := wantOutcomeUnknown(t, c, launchRequest())
		var timedOut *attemptTimeoutError
		if !errors.As(err, &timedOut) {
			t.Errorf("err = %v, want the per-request timeout as its cause", err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v: the operation's own deadline did not pass", err)
		}
		hits.want(t, 1, "a launch must not be repeated")
	})
	t.Run("GET attempts time out until the budget is spent", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		t.Cleanup(func() { close(release) })
		c := newClient(t, srv, func(cfg *Config) {
			cfg.RequestTimeout = 50 * time.Millisecond
			cfg.RetryBudget = 200 * time.Millisecond
		})
		err := c.Do(context.Background(), Request{Operation: "list instances", Method: http.MethodGet, Path: "/instances", List: true}, nil)
		var timedOut *attemptTimeoutError
		if !errors.As(err, &timedOut) || errors.Is(err, context.DeadlineExceeded) || clients.IsNotFound(err) {
			t.Fatalf("err = %v, want the per-request timeout, not a deadline or not-found", err)
		}
		if hits.count() < 2 {
			t.Errorf("server hits = %d, want the GET retried", hits.count())
		}
	})
}

// A request held back by the rate limiter has not been sent: its wait is not the attempt's.
func TestDo_rateLimiterWaitDoesNotCountAgainstRequestTimeout(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		_, _ = io.ReadAll(r.Body)
		writeJSON(w, http.StatusCreated, map[string]string{"id": fmt.Sprint("i-", hit)})
	})
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Limiter = rate.NewLimiter(rate.Every(600*time.Millisecond), 1)
		cfg.RequestTimeout = 200 * time.Millisecond
	})
	launch := launchRequest()
	for i := range 2 { // the second waits ~600ms for its token, three times RequestTimeout
		var out struct{ ID string }
		if err := c.Do(context.Background(), launch, &out); err != nil {
			t.Fatalf("launch %d: %v", i+1, err)
		}
	}
	hits.want(t, 2, "")
}

func TestScaledRequestTimeout(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		scale float64
		want  time.Duration
	}{
		{0, 60 * time.Second},
		{1, 60 * time.Second},
		{0.5, 30 * time.Second},
		{0.1, 6 * time.Second},
		{0.01, 5 * time.Second}, // 0.6 s would cut off ordinary answers on a loaded machine
	} {
		if got := ScaledRequestTimeout(clients.Settings{RateScale: tt.scale}); got != tt.want {
			t.Errorf("RateScale %v: %v, want %v", tt.scale, got, tt.want)
		}
	}
	c, err := New(Config{Cloud: testCloud, BaseURL: "https://example.test"})
	if err != nil {
		t.Fatal(err)
	}
	if c.cfg.RequestTimeout != DefaultRequestTimeout || c.cfg.RetryBudget != DefaultRetryBudget {
		t.Errorf("defaults: RequestTimeout %v, RetryBudget %v", c.cfg.RequestTimeout, c.cfg.RetryBudget)
	}
}

func TestDo_notFoundOnAListRouteIsNeverNotFound(t *testing.T) {
	t.Parallel()
	// Lambda-style body whose code a vendor decoder reads as "object does not exist".
	notFoundBody := func(w http.ResponseWriter) {
		var v vendorError
		v.Error.Code = "global/object-does-not-exist"
		v.Error.Message = "Not found."
		writeJSON(w, http.StatusNotFound, v)
	}
	decodeNotFound := func(_ *http.Response, body []byte) *clients.APIError {
		var v vendorError
		if json.Unmarshal(body, &v) == nil && v.Error.Code == "global/object-does-not-exist" {
			return &clients.APIError{Kind: clients.ErrNotFound, Code: v.Error.Code, Message: v.Error.Message}
		}
		return nil
	}
	t.Run("passing 404 is retried", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
			if hit <= 2 {
				notFoundBody(w)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"data": []string{"i-1"}})
		})
		c := newClient(t, srv, func(cfg *Config) { cfg.DecodeError = decodeNotFound })
		var out struct{ Data []string }
		if err := c.Do(context.Background(), Request{Operation: "list instances", Method: http.MethodGet, Path: "/instances", List: true}, &out); err != nil {
			t.Fatalf("Do: %v", err)
		}
		if len(out.Data) != 1 || hits.count() != 3 {
			t.Errorf("data = %v after %d hits, want [i-1] after 3", out.Data, hits.count())
		}
	})
	for _, decoder := range []ErrorDecoder{nil, decodeNotFound} {
		name := "persisting 404, status only"
		if decoder != nil {
			name = "persisting 404, decoder says not found"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) { notFoundBody(w) })
			c := newClient(t, srv, func(cfg *Config) { cfg.DecodeError = decoder; cfg.RetryBudget = 100 * time.Millisecond })
			err := c.Do(context.Background(), Request{Operation: "list instances", Method: http.MethodGet, Path: "/instances", List: true}, nil)
			if err == nil || clients.IsNotFound(err) {
				t.Fatalf("err = %v, want an error that is not ErrNotFound", err)
			}
			var apiErr *clients.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound || apiErr.Kind != nil ||
				!strings.Contains(err.Error(), "list route") || !strings.Contains(err.Error(), "Not found") {
				t.Errorf("err = %v (%+v), want the 404 unclassified, saying a list route answered it", err, apiErr)
			}
			if hits.count() < 2 {
				t.Errorf("server hits = %d, want the list retried", hits.count())
			}
		})
	}
	t.Run("persisting 404 past the deadline", func(t *testing.T) {
		t.Parallel()
		srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) { notFoundBody(w) })
		c := newClient(t, srv, func(cfg *Config) { cfg.DecodeError = decodeNotFound })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := c.Do(ctx, Request{Operation: "list instances", Method: http.MethodGet, Path: "/instances", List: true}, nil)
		if err == nil || clients.IsNotFound(err) {
			t.Fatalf("err = %v, want an error that is not ErrNotFound", err)
		}
	})
	t.Run("404 on the object's own URL is not found", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) { notFoundBody(w) })
		c := newClient(t, srv, func(cfg *Config) { cfg.DecodeError = decodeNotFound })
		err := c.Do(context.Background(), Request{Operation: "get instance", Method: http.MethodGet, Path: "/instances/i-1"}, nil)
		if !clients.IsNotFound(err) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		hits.want(t, 1, "")
	})
}

func TestDo_malformedSuccessBody(t *testing.T) {
	t.Parallel()
	gateway := func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<html>bad gateway</html>"))
	}
	t.Run("GET is retried", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
			if hit == 1 {
				gateway(w)
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"id": "i-1"})
		})
		c := newClient(t, srv, nil)
		wantInstanceAfter(t, c, hits, 2)
	})
	t.Run("valid JSON of another shape is not retried", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
			writeJSON(w, http.StatusOK, []int{1})
		})
		c := newClient(t, srv, nil)
		var out struct{ ID string }
		err := c.Do(context.Background(), Request{Operation: "get instance", Method: http.MethodGet, Path: "/instances/i-1"}, &out)
		if err == nil || clients.IsNotFound(err) || hits.count() != 1 {
			t.Errorf("err = %v after %d hits, want a decoding error after 1", err, hits.count())
		}
	})
	t.Run("NotIdempotent POST is outcome unknown", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
			_, _ = io.ReadAll(r.Body)
			gateway(w)
		})
		c := newClient(t, srv, nil)
		var out struct{ ID string }
		err := c.Do(context.Background(), Request{Operation: "launch instance", Method: http.MethodPost, Path: "/launch", NotIdempotent: true}, &out)
		if !errors.Is(err, clients.ErrOutcomeUnknown) || clients.IsNotFound(err) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown: the server acted but its answer cannot be read", err)
		}
		hits.want(t, 1, "")
	})
}
