package httpx

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// hitLog records when the test server was hit.
type hitLog struct {
	mu    sync.Mutex
	times []time.Time
}

// hit records a hit and returns its 1-based number.
func (h *hitLog) hit() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.times = append(h.times, time.Now())
	return len(h.times)
}

func (h *hitLog) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.times)
}

// gap is the time between hit i and hit i+1 (1-based).
func (h *hitLog) gap(t *testing.T, i int) time.Duration {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.times) < i+1 {
		t.Fatalf("want at least %d hits, got %d", i+1, len(h.times))
	}
	return h.times[i].Sub(h.times[i-1])
}

// countingTransport counts the attempts that reach the base transport.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

const testCloud = "testcloud"

// newServer starts a test server whose handler is told the 1-based hit number.
func newServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, hit int)) (*httptest.Server, *hitLog) {
	t.Helper()
	hits := &hitLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler(w, r, hits.hit())
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

// newClient builds a Client for srv with short retry waits; mutate adjusts the Config.
func newClient(t *testing.T, srv *httptest.Server, mutate func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		Cloud:        testCloud,
		BaseURL:      srv.URL + "/api/v1",
		UserAgent:    "neocloud-test/1.0",
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 5 * time.Millisecond,
		Transport:    srv.Client().Transport,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// noRetries gives a call a budget that no wait fits in: one attempt.
func noRetries(cfg *Config) { cfg.RetryBudget = time.Nanosecond }

// hijack takes the connection over from the server, or returns nil.
func hijack(t *testing.T, w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("response writer cannot be hijacked")
		return nil, nil
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return nil, nil
	}
	return conn, buf
}

// hijackAndClose reads the whole request and then drops the connection without answering.
func hijackAndClose(t *testing.T, w http.ResponseWriter, r *http.Request) {
	_, _ = io.ReadAll(r.Body)
	if conn, _ := hijack(t, w); conn != nil {
		_ = conn.Close()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func TestNew_rejectsEndpointThatIsNotAnAbsoluteURL(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "cloud.lambda.ai/api/v1", "/api/v1", "://x"} {
		if _, err := New(Config{Cloud: testCloud, BaseURL: base}); err == nil {
			t.Errorf("New(BaseURL=%q) = nil error, want one", base)
		}
	}
}

func TestDo_idempotentGETRetriedOnTransientStatusUntilSuccess(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout, http.StatusTooManyRequests} {
		t.Run(statusName(status), func(t *testing.T) {
			t.Parallel()
			srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
				if hit <= 2 {
					http.Error(w, "try later", status)
					return
				}
				writeJSON(w, http.StatusOK, map[string]string{"id": "i-1"})
			})
			c := newClient(t, srv, nil)
			var out struct{ ID string }
			err := c.Do(context.Background(), Request{Operation: "get instance", Method: http.MethodGet, Path: "/instances/i-1"}, &out)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if out.ID != "i-1" {
				t.Errorf("decoded id = %q, want i-1", out.ID)
			}
			if n := hits.count(); n != 3 {
				t.Errorf("server hits = %d, want 3", n)
			}
		})
	}
}

func TestDo_idempotentGETGivesUpWhenTheBudgetIsSpentWithTheVendorAnswer(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		http.Error(w, "still down", http.StatusServiceUnavailable)
	})
	c := newClient(t, srv, func(cfg *Config) { cfg.RetryBudget = 100 * time.Millisecond })
	err := c.Do(context.Background(), Request{Operation: "list instances", Method: http.MethodGet, Path: "/instances"}, nil)
	var apiErr *clients.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want an *APIError", err)
	}
	if apiErr.StatusCode != http.StatusServiceUnavailable || !strings.Contains(apiErr.Message, "still down") {
		t.Errorf("APIError = %+v, want the last 503 and its body", apiErr)
	}
	if errors.Is(err, clients.ErrNotFound) || errors.Is(err, clients.ErrOutcomeUnknown) {
		t.Errorf("a 503 on a GET must be neither not-found nor outcome-unknown: %v", err)
	}
	if n := hits.count(); n < 2 {
		t.Errorf("server hits = %d, want retries until the budget was spent", n)
	}
}

func TestDo_budgetNoWaitFitsInMeansOneAttempt(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := newClient(t, srv, noRetries)
	if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/x"}, nil); err == nil {
		t.Fatal("want an error")
	}
	if n := hits.count(); n != 1 {
		t.Errorf("server hits = %d, want 1", n)
	}
}

func TestDo_notIdempotentPOSTNotRetriedOn5xxAndOutcomeUnknown(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout, http.StatusInternalServerError} {
		t.Run(statusName(status), func(t *testing.T) {
			t.Parallel()
			srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
				http.Error(w, "upstream trouble", status)
			})
			c := newClient(t, srv, nil)
			err := c.Do(context.Background(), Request{
				Operation: "launch instance", Method: http.MethodPost, Path: "/launch",
				Body: map[string]string{"name": "a"}, NotIdempotent: true,
			}, nil)
			if !errors.Is(err, clients.ErrOutcomeUnknown) {
				t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
			}
			var apiErr *clients.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != status || apiErr.Operation != "launch instance" {
				t.Errorf("APIError = %+v, want status %d and the operation", apiErr, status)
			}
			if n := hits.count(); n != 1 {
				t.Errorf("server hits = %d, want exactly 1 (a launch must not be repeated)", n)
			}
		})
	}
}

func TestDo_notIdempotentPOSTRetriedOn429(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		if hit <= 2 {
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": "i-9"})
	})
	c := newClient(t, srv, nil)
	var out struct{ ID string }
	err := c.Do(context.Background(), Request{
		Operation: "launch instance", Method: http.MethodPost, Path: "/launch",
		Body: map[string]string{"name": "a"}, NotIdempotent: true,
	}, &out)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if out.ID != "i-9" || hits.count() != 3 {
		t.Errorf("id = %q after %d hits, want i-9 after 3", out.ID, hits.count())
	}
}

func TestDo_notIdempotent5xxClassifiedByDecoderKeepsItsKind(t *testing.T) {
	t.Parallel()
	// RunPod-style: a capacity refusal on a 5xx status. The decoder says the server did not
	// act, so placement can move on to the next candidate instead of searching for a machine.
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		http.Error(w, "There are no longer any instances available with the requested specifications", http.StatusInternalServerError)
	})
	c := newClient(t, srv, func(cfg *Config) {
		cfg.DecodeError = func(resp *http.Response, body []byte) *clients.APIError {
			if strings.Contains(string(body), "no longer any instances") {
				return &clients.APIError{Kind: clients.ErrCapacity, Message: strings.TrimSpace(string(body))}
			}
			return nil
		}
	})
	err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/pods", NotIdempotent: true}, nil)
	if !errors.Is(err, clients.ErrCapacity) || errors.Is(err, clients.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrCapacity and not ErrOutcomeUnknown", err)
	}
	if hits.count() != 1 {
		t.Errorf("server hits = %d, want 1", hits.count())
	}
}

func TestDo_notIdempotentPOSTConnectionDroppedAfterReadIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		hijackAndClose(t, w, r)
	})
	c := newClient(t, srv, nil)
	err := c.Do(context.Background(), Request{
		Operation: "launch instance", Method: http.MethodPost, Path: "/launch",
		Body: map[string]string{"name": "a"}, NotIdempotent: true,
	}, nil)
	if !errors.Is(err, clients.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	var apiErr *clients.APIError
	if !errors.As(err, &apiErr) || apiErr.Cloud != testCloud || apiErr.Operation != "launch instance" {
		t.Errorf("APIError = %+v, want cloud and operation named", apiErr)
	}
	if n := hits.count(); n != 1 {
		t.Errorf("server hits = %d, want exactly 1", n)
	}
}

func TestDo_idempotentGETConnectionDroppedIsRetried(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		if hit == 1 {
			hijackAndClose(t, w, r)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": "i-1"})
	})
	c := newClient(t, srv, nil)
	if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/instances/i-1"}, nil); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if n := hits.count(); n != 2 {
		t.Errorf("server hits = %d, want 2", n)
	}
}

// cutOffAnswer sends headers promising more body than it writes, then drops the connection.
func cutOffAnswer(t *testing.T, w http.ResponseWriter, r *http.Request) {
	_, _ = io.ReadAll(r.Body)
	conn, buf := hijack(t, w)
	if conn == nil {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
	_ = buf.Flush()
	_ = conn.Close()
}

func TestDo_answerCutOffMidBody(t *testing.T) {
	t.Parallel()
	t.Run("NotIdempotent POST is outcome unknown", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) { cutOffAnswer(t, w, r) })
		c := newClient(t, srv, nil)
		err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/launch", NotIdempotent: true}, nil)
		if !errors.Is(err, clients.ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v, want the cause (unexpected EOF) kept", err)
		}
		if hits.count() != 1 {
			t.Errorf("server hits = %d, want 1", hits.count())
		}
	})
	t.Run("idempotent GET is retried", func(t *testing.T) {
		t.Parallel()
		srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
			if hit == 1 {
				cutOffAnswer(t, w, r)
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"id": "i-1"})
		})
		c := newClient(t, srv, nil)
		if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/instances"}, nil); err != nil {
			t.Fatalf("Do: %v", err)
		}
		if hits.count() != 2 {
			t.Errorf("server hits = %d, want 2", hits.count())
		}
	})
}

func TestDo_connectionRefusedIsRetriedAndNotOutcomeUnknown(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there any more

	counter := &countingTransport{next: http.DefaultTransport}
	c, err := New(Config{
		Cloud: testCloud, BaseURL: "http://" + addr + "/api/v1",
		RetryBudget: 500 * time.Millisecond, RetryWaitMin: 20 * time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
		Transport: counter,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(context.Background(), Request{
		Operation: "launch instance", Method: http.MethodPost, Path: "/launch",
		Body: map[string]string{"name": "a"}, NotIdempotent: true,
	}, nil)
	if err == nil {
		t.Fatal("want an error")
	}
	if errors.Is(err, clients.ErrOutcomeUnknown) {
		t.Errorf("err = %v: a refused connection sent nothing, so the outcome is known", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v, want it to wrap ECONNREFUSED", err)
	}
	if n := counter.n.Load(); n < 2 {
		t.Errorf("attempts = %d, want retries (nothing was sent, so retrying is safe)", n)
	}
}

func TestDo_untrustedCertificateIsNotRetriedAndNotOutcomeUnknown(t *testing.T) {
	t.Parallel()
	hits := &hitLog{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.hit() }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	counter := &countingTransport{next: &http.Transport{}} // does not trust the test certificate
	c := newClient(t, srv, func(cfg *Config) { cfg.Transport = counter })
	err := c.Do(context.Background(), Request{Method: http.MethodPost, Path: "/launch", NotIdempotent: true}, nil)
	if err == nil || errors.Is(err, clients.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want a certificate error that is not ErrOutcomeUnknown", err)
	}
	if n := counter.n.Load(); n != 1 || hits.count() != 0 {
		t.Errorf("attempts = %d, server hits = %d; want 1 and 0 (retrying cannot fix a certificate)", n, hits.count())
	}
}

func TestDo_retryAfterSecondsIsHonoured(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		if hit == 1 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "rate limit exceeded for the minute window", http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	// RetryWaitMax is far below the server's ask: the server's ask still wins.
	c := newClient(t, srv, nil)
	if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/pods"}, nil); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if gap := hits.gap(t, 1); gap < 950*time.Millisecond {
		t.Errorf("second attempt came %v after the 429, want >= ~1s (Retry-After: 1)", gap)
	}
}

func TestDo_retryAfterHTTPDateIsHonoured(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		if hit == 1 {
			// Dates have whole seconds: now+2s truncated is at least ~1s away.
			w.Header().Set("Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv, nil)
	if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/pods"}, nil); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if gap := hits.gap(t, 1); gap < 900*time.Millisecond {
		t.Errorf("second attempt came %v after the 503, want >= ~1s (Retry-After as an HTTP date)", gap)
	}
}

func TestDo_rateLimitHeaderResetIsHonouredOn429(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		if hit == 1 {
			w.Header().Set("RateLimit", `"minute";r=0;t=1, "hour";r=2800;t=1812`)
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv, nil)
	if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/pods"}, nil); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if gap := hits.gap(t, 1); gap < 950*time.Millisecond {
		t.Errorf("second attempt came %v after the 429, want >= ~1s (RateLimit minute window resets in 1s)", gap)
	}
}

func TestDo_serverWaitTooLongIsNotWaitedOut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
		timeout    time.Duration // 0: no deadline
		want       time.Duration
	}{
		{name: "longer than MaxRetryAfter", retryAfter: "3600", want: time.Hour},
		{name: "past the context deadline", retryAfter: "5", timeout: 2 * time.Second, want: 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
				w.Header().Set("Retry-After", tt.retryAfter)
				http.Error(w, "rate limit exceeded for the hour window", http.StatusTooManyRequests)
			})
			c := newClient(t, srv, nil)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			start := time.Now()
			err := c.Do(ctx, Request{Operation: "list pods", Method: http.MethodGet, Path: "/pods"}, nil)
			if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
				t.Errorf("Do took %v, want an immediate answer", elapsed)
			}
			if !errors.Is(err, clients.ErrRateLimited) {
				t.Fatalf("err = %v, want ErrRateLimited", err)
			}
			var apiErr *clients.APIError
			if !errors.As(err, &apiErr) || apiErr.RetryAfter != tt.want {
				t.Errorf("APIError = %+v, want RetryAfter %v", apiErr, tt.want)
			}
			if hits.count() != 1 {
				t.Errorf("server hits = %d, want 1", hits.count())
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
		wantOK bool
	}{
		{name: "seconds", header: map[string]string{"Retry-After": "12"}, want: 12 * time.Second, wantOK: true},
		{name: "zero seconds", header: map[string]string{"Retry-After": "0"}, want: 0, wantOK: true},
		{name: "seconds with spaces", header: map[string]string{"Retry-After": " 3 "}, want: 3 * time.Second, wantOK: true},
		{name: "HTTP date", header: map[string]string{"Retry-After": "Mon, 01 Jun 2026 12:00:30 GMT"}, want: 30 * time.Second, wantOK: true},
		{name: "HTTP date in the past", header: map[string]string{"Retry-After": "Mon, 01 Jun 2026 11:59:00 GMT"}, want: 0, wantOK: true},
		{name: "RFC 850 date", header: map[string]string{"Retry-After": "Monday, 01-Jun-26 12:01:00 GMT"}, want: time.Minute, wantOK: true},
		{name: "garbage", header: map[string]string{"Retry-After": "soon"}, wantOK: false},
		{name: "negative", header: map[string]string{"Retry-After": "-5"}, wantOK: false},
		{name: "absent", header: nil, wantOK: false},
		{
			name:   "RunPod RateLimit, minute window exhausted",
			header: map[string]string{"RateLimit": `"minute";r=0;t=12, "hour";r=2800;t=1812`},
			want:   12 * time.Second, wantOK: true,
		},
		{
			name:   "RateLimit with requests left is no ask to wait",
			header: map[string]string{"RateLimit": `"minute";r=5;t=12, "hour";r=2800;t=1812`},
			wantOK: false,
		},
		{
			name: "Retry-After wins over RateLimit",
			header: map[string]string{
				"Retry-After": "7",
				"RateLimit":   `"minute";r=0;t=12`,
			},
			want: 7 * time.Second, wantOK: true,
		},
		{
			name: "garbage Retry-After falls back to RateLimit",
			header: map[string]string{
				"Retry-After": "later",
				"RateLimit":   `"minute";r=0;t=12`,
			},
			want: 12 * time.Second, wantOK: true,
		},
		{name: "garbage RateLimit", header: map[string]string{"RateLimit": "lots"}, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			got, ok := RetryAfter(h, now)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("RetryAfter = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		value  string
		want   RateLimitWindow
		wantOK bool
	}{
		{
			name:  "RunPod two windows: the exhausted minute window is the tightest",
			value: `"minute";r=0;t=12, "hour";r=2800;t=1812`,
			want:  RateLimitWindow{Name: "minute", Remaining: 0, Reset: 12 * time.Second}, wantOK: true,
		},
		{
			name:  "RunPod three windows: fewest requests left wins",
			value: `"minute";r=40;t=12, "hour";r=3;t=1812, "day";r=49500;t=45012`,
			want:  RateLimitWindow{Name: "hour", Remaining: 3, Reset: 1812 * time.Second}, wantOK: true,
		},
		{
			name:  "tie on requests left: the longest wait wins",
			value: `"minute";r=0;t=12, "hour";r=0;t=1812`,
			want:  RateLimitWindow{Name: "hour", Remaining: 0, Reset: 1812 * time.Second}, wantOK: true,
		},
		{
			name:  "parameter order and spacing do not matter",
			value: `"minute"; t=9; r=1`,
			want:  RateLimitWindow{Name: "minute", Remaining: 1, Reset: 9 * time.Second}, wantOK: true,
		},
		{
			name:  "unreadable members are skipped",
			value: `"minute";r=x;t=12, "hour";r=2;t=60`,
			want:  RateLimitWindow{Name: "hour", Remaining: 2, Reset: time.Minute}, wantOK: true,
		},
		{name: "garbage", value: "garbage", wantOK: false},
		{name: "garbage with separators", value: `;;,, =;r=;t=`, wantOK: false},
		{name: "member without reset", value: `"minute";r=0`, wantOK: false},
		{name: "negative numbers", value: `"minute";r=-1;t=-5`, wantOK: false},
		{name: "absent", value: "", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("RateLimit", tt.value)
			}
			got, ok := ParseRateLimit(h)
			if ok != tt.wantOK || (ok && got != tt.want) {
				t.Errorf("ParseRateLimit(%q) = %+v, %v; want %+v, %v", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	t.Run("server ask is used as is, whatever RetryWaitMax", func(t *testing.T) {
		resp := &http.Response{Header: http.Header{"Retry-After": []string{"3"}}}
		if got := backoff(time.Millisecond, 5*time.Millisecond, 0, resp); got != 3*time.Second {
			t.Errorf("backoff = %v, want 3s", got)
		}
	})
	t.Run("exponential with jitter, capped", func(t *testing.T) {
		minWait, maxWait := 100*time.Millisecond, time.Second
		for attempt := 0; attempt < 8; attempt++ {
			ceiling := min(minWait<<attempt, maxWait)
			for range 200 {
				got := backoff(minWait, maxWait, attempt, &http.Response{Header: http.Header{}})
				if got < minWait/2 || got > ceiling {
					t.Fatalf("attempt %d: backoff = %v, want within [%v, %v]", attempt, got, minWait/2, ceiling)
				}
			}
		}
	})
	t.Run("no response (transport error)", func(t *testing.T) {
		if got := backoff(10*time.Millisecond, 20*time.Millisecond, 30, nil); got < 5*time.Millisecond || got > 20*time.Millisecond {
			t.Errorf("backoff = %v, want within [5ms, 20ms]", got)
		}
	})
}

func TestCheckRetry(t *testing.T) {
	t.Parallel()
	c := &Client{cfg: Config{MaxRetryAfter: time.Minute, RetryBudget: time.Minute, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}}
	live := context.Background()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	notIdem := context.WithValue(live, callStateKey{}, &callState{idempotent: false})
	list := context.WithValue(live, callStateKey{}, &callState{idempotent: true, list: true})
	decoding := context.WithValue(live, callStateKey{}, &callState{idempotent: true, wantBody: true})
	notIdemDecoding := context.WithValue(live, callStateKey{}, &callState{idempotent: false, wantBody: true})
	nearDeadline, cancelNear := context.WithDeadline(live, time.Now().Add(time.Second))
	defer cancelNear()
	resp := func(status int) *http.Response { return &http.Response{StatusCode: status, Header: http.Header{}} }
	withBody := func(status int, body string) *http.Response {
		r := resp(status)
		r.Body = bufferedBody{Reader: bytes.NewReader([]byte(body)), data: []byte(body)}
		return r
	}
	retryAfter := func(status int, secs string) *http.Response {
		r := resp(status)
		r.Header.Set("Retry-After", secs)
		return r
	}
	eof := &url.Error{Op: "Post", URL: "http://x", Err: io.EOF}
	refused := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}

	tests := []struct {
		name      string
		ctx       context.Context
		resp      *http.Response
		err       error
		wantRetry bool
		wantErr   error
	}{
		{name: "200", ctx: live, resp: resp(200), wantRetry: false},
		{name: "200 after the context ended is still returned", ctx: ended, resp: resp(201), wantRetry: false},
		{name: "404 is final", ctx: live, resp: resp(404), wantRetry: false},
		{name: "404 on a list is passing", ctx: list, resp: resp(404), wantRetry: true},
		{name: "500 idempotent", ctx: live, resp: resp(500), wantRetry: true},
		{name: "500 not idempotent", ctx: notIdem, resp: resp(500), wantRetry: false},
		{name: "503 idempotent", ctx: live, resp: resp(503), wantRetry: true},
		{name: "2xx that is not JSON, decoded", ctx: decoding, resp: withBody(200, "<html>"), wantRetry: true},
		{name: "2xx JSON, decoded", ctx: decoding, resp: withBody(200, `{"id":1}`), wantRetry: false},
		{name: "2xx empty, decoded", ctx: decoding, resp: withBody(200, ""), wantRetry: false},
		{name: "2xx that is not JSON, not decoded", ctx: live, resp: withBody(200, "<html>"), wantRetry: false},
		{name: "2xx that is not JSON, not idempotent", ctx: notIdemDecoding, resp: withBody(201, "<html>"), wantRetry: false},
		{name: "server wait within the deadline", ctx: nearDeadline, resp: retryAfter(429, "0"), wantRetry: true},
		{name: "server wait past the deadline", ctx: nearDeadline, resp: retryAfter(429, "2"), wantRetry: false},
		{name: "server wait past MaxRetryAfter", ctx: live, resp: retryAfter(429, "61"), wantRetry: false},
		{name: "503 not idempotent", ctx: notIdem, resp: resp(503), wantRetry: false},
		{name: "429 not idempotent", ctx: notIdem, resp: resp(429), wantRetry: true},
		{name: "503 after the context ended", ctx: ended, resp: resp(503), wantRetry: false, wantErr: context.Canceled},
		{name: "EOF idempotent", ctx: live, err: eof, wantRetry: true},
		{name: "EOF not idempotent", ctx: notIdem, err: eof, wantRetry: false},
		{name: "refused not idempotent", ctx: notIdem, err: refused, wantRetry: true},
		{name: "limiter wait ended", ctx: live, err: &notSentError{err: context.DeadlineExceeded}, wantRetry: false},
		{name: "attempt abandoned idempotent", ctx: live, err: &url.Error{Op: "Get", URL: "http://x", Err: &attemptTimeoutError{mayHaveBeenSent: true}}, wantRetry: true},
		{name: "attempt abandoned not idempotent", ctx: notIdem, err: &url.Error{Op: "Post", URL: "http://x", Err: &attemptTimeoutError{mayHaveBeenSent: true}}, wantRetry: false},
		{name: "attempt abandoned while connecting, not idempotent", ctx: notIdem, err: &attemptTimeoutError{}, wantRetry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			retry, err := c.checkRetry(tt.ctx, tt.resp, tt.err)
			if retry != tt.wantRetry || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("checkRetry = %v, %v; want %v, %v", retry, err, tt.wantRetry, tt.wantErr)
			}
		})
	}
}

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
	seen := map[string][]time.Time{}
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		mu.Lock()
		seen[r.Method+" "+r.URL.Path] = append(seen[r.Method+" "+r.URL.Path], time.Now())
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv, func(cfg *Config) {
		cfg.RouteLimits = []RouteLimit{{Method: http.MethodPost, Path: "/launch", Limiter: rate.NewLimiter(rate.Every(300*time.Millisecond), 1)}}
	})
	do := func(method, path string) {
		t.Helper()
		if err := c.Do(context.Background(), Request{Method: method, Path: path}, nil); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	do(http.MethodPost, "/launch")
	do(http.MethodPost, "/launch")
	// The launch token is spent now; none of these may wait for it.
	start := time.Now()
	for range 2 {
		do(http.MethodPost, "/terminate")
		do(http.MethodGet, "/launch")
		do(http.MethodPost, "/other/launch")
		do(http.MethodPost, "/launch/x")
	}
	if elapsed := time.Since(start); elapsed > 200*time.Millisecond {
		t.Errorf("requests to other routes took %v, want no pacing", elapsed)
	}
	mu.Lock()
	launches := seen["POST /api/v1/launch"]
	mu.Unlock()
	if len(launches) != 2 {
		t.Fatalf("launch hits = %d, want 2", len(launches))
	}
	if gap := launches[1].Sub(launches[0]); gap < 280*time.Millisecond {
		t.Errorf("second launch came %v after the first, want >= ~300ms", gap)
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

func decodeVendorError(resp *http.Response, body []byte) *clients.APIError {
	var v vendorError
	_ = json.Unmarshal(body, &v) // not this vendor's JSON: Code stays empty
	if v.Error.Code == "" {
		return nil
	}
	e := &clients.APIError{Code: v.Error.Code, Message: v.Error.Message, Suggestion: v.Error.Suggestion}
	if v.Error.Code == "instance-operations/launch/insufficient-capacity" {
		e.Kind = clients.ErrCapacity
	}
	return e
}

func TestDo_decodeErrorKeepsVendorCodeMessageAndSuggestion(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		var v vendorError
		v.Error.Code = "instance-operations/launch/insufficient-capacity"
		v.Error.Message = "Not enough capacity to fulfill launch request."
		v.Error.Suggestion = "Choose an instance type with more availability, or try again later."
		writeJSON(w, http.StatusBadRequest, v)
	})
	c := newClient(t, srv, func(cfg *Config) { cfg.DecodeError = decodeVendorError })
	err := c.Do(context.Background(), Request{Operation: "launch instance", Method: http.MethodPost, Path: "/launch", NotIdempotent: true}, nil)
	if !errors.Is(err, clients.ErrCapacity) || !clients.IsCapacity(err) {
		t.Fatalf("err = %v, want ErrCapacity", err)
	}
	for _, want := range []string{
		"launch instance", testCloud, "400",
		"instance-operations/launch/insufficient-capacity",
		"Not enough capacity to fulfill launch request.",
		"Choose an instance type with more availability",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error text %q lacks %q", err.Error(), want)
		}
	}
	var apiErr *clients.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Cloud != testCloud {
		t.Errorf("APIError = %+v", apiErr)
	}
}

func TestDo_statusDecidesKindWithoutDecoder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   error
	}{
		{http.StatusUnauthorized, clients.ErrAuth},
		{http.StatusForbidden, clients.ErrAuth},
		{http.StatusNotFound, clients.ErrNotFound},
		{http.StatusGone, clients.ErrNotFound},
		{http.StatusConflict, clients.ErrConflict},
		{http.StatusUnprocessableEntity, clients.ErrInvalid},
		{http.StatusBadRequest, clients.ErrInvalid},
		{http.StatusTooManyRequests, clients.ErrRateLimited},
		{http.StatusInternalServerError, nil},
	}
	for _, tt := range tests {
		for _, decoder := range []ErrorDecoder{nil, decodeVendorError} { // a decoder returning nil falls back
			name := statusName(tt.status)
			if decoder != nil {
				name += "/decoder returns nil"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
					http.Error(w, "plain text trouble", tt.status)
				})
				c := newClient(t, srv, func(cfg *Config) { noRetries(cfg); cfg.DecodeError = decoder })
				err := c.Do(context.Background(), Request{Operation: "get thing", Method: http.MethodGet, Path: "/things/1"}, nil)
				var apiErr *clients.APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("err = %v, want an *APIError", err)
				}
				if apiErr.Kind != tt.want {
					t.Errorf("Kind = %v, want %v", apiErr.Kind, tt.want)
				}
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Errorf("errors.Is(err, %v) = false", tt.want)
				}
				if apiErr.Message != "plain text trouble" || !strings.Contains(err.Error(), "plain text trouble") {
					t.Errorf("message = %q, want the body", apiErr.Message)
				}
			})
		}
	}
}

func TestDo_undecodedErrorBodyIsTruncated(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		http.Error(w, strings.Repeat("x", 5000), http.StatusBadRequest)
	})
	c := newClient(t, srv, nil)
	err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/x"}, nil)
	var apiErr *clients.APIError
	if !errors.As(err, &apiErr) || len(apiErr.Message) > 520 {
		t.Errorf("message of %d bytes, want at most ~512", len(apiErr.Message))
	}
}

func TestDo_sendsJSONWithHeadersAndDecodesAnswer(t *testing.T) {
	t.Parallel()
	type launchReq struct {
		Name  string   `json:"name"`
		Count int      `json:"count"`
		Keys  []string `json:"ssh_key_names"`
	}
	var got struct {
		method, path, query, contentType, accept, auth, ua string
		body                                               launchReq
	}
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		got.method, got.path, got.query = r.Method, r.URL.Path, r.URL.RawQuery
		got.contentType, got.accept = r.Header.Get("Content-Type"), r.Header.Get("Accept")
		got.auth, got.ua = r.Header.Get("Authorization"), r.Header.Get("User-Agent")
		if err := json.NewDecoder(r.Body).Decode(&got.body); err != nil {
			t.Errorf("server decoding body: %v", err)
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"instance_ids": []string{"i-1", "i-2"}}})
	})
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer k-123") }
	})
	var out struct {
		Data struct {
			InstanceIDs []string `json:"instance_ids"`
		} `json:"data"`
	}
	err := c.Do(context.Background(), Request{
		Operation: "launch instance", Method: http.MethodPost, Path: "/instance-operations/launch",
		Query: url.Values{"dry_run": {"false"}},
		Body:  launchReq{Name: "finetune-1", Count: 1, Keys: []string{"me"}}, NotIdempotent: true,
	}, &out)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	want := launchReq{Name: "finetune-1", Count: 1, Keys: []string{"me"}}
	if got.method != http.MethodPost || got.path != "/api/v1/instance-operations/launch" || got.query != "dry_run=false" {
		t.Errorf("request line = %s %s?%s", got.method, got.path, got.query)
	}
	if got.contentType != "application/json" || got.accept != "application/json" {
		t.Errorf("Content-Type = %q, Accept = %q; want application/json", got.contentType, got.accept)
	}
	if got.auth != "Bearer k-123" {
		t.Errorf("Authorization = %q, want the Authorize hook's", got.auth)
	}
	if got.ua != "neocloud-test/1.0" {
		t.Errorf("User-Agent = %q", got.ua)
	}
	if fmt.Sprint(got.body) != fmt.Sprint(want) {
		t.Errorf("body = %+v, want %+v", got.body, want)
	}
	if strings.Join(out.Data.InstanceIDs, ",") != "i-1,i-2" {
		t.Errorf("decoded = %+v", out)
	}
}

func TestDo_requestWithoutBodyHasNoContentType(t *testing.T) {
	t.Parallel()
	var contentType string
	var length int64
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		contentType, length = r.Header.Get("Content-Type"), r.ContentLength
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv, nil)
	if err := c.Do(context.Background(), Request{Method: http.MethodDelete, Path: "/pods/p-1"}, nil); err != nil {
		t.Fatal(err)
	}
	if contentType != "" || length != 0 {
		t.Errorf("Content-Type = %q, length %d; want none", contentType, length)
	}
}

func TestDo_emptyOrNoContentAnswerIsOK(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusNoContent, http.StatusOK, http.StatusAccepted} {
		t.Run(statusName(status), func(t *testing.T) {
			t.Parallel()
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) { w.WriteHeader(status) })
			c := newClient(t, srv, nil)
			out := struct{ ID string }{ID: "untouched"}
			if err := c.Do(context.Background(), Request{Method: http.MethodDelete, Path: "/pods/p-1"}, &out); err != nil {
				t.Fatalf("Do: %v", err)
			}
			if out.ID != "untouched" {
				t.Errorf("out = %+v, want untouched", out)
			}
		})
	}
}

func TestDo_malformedSuccessBodyIsAnError(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<html>gateway</html>"))
	})
	c := newClient(t, srv, func(cfg *Config) { cfg.RetryBudget = 50 * time.Millisecond })
	for _, req := range []Request{
		{Operation: "get pod", Method: http.MethodGet, Path: "/pods/p-1"},
		{Operation: "list pods", Method: http.MethodGet, Path: "/pods", List: true},
	} {
		var out struct{ ID string }
		err := c.Do(context.Background(), req, &out)
		if err == nil || !strings.Contains(err.Error(), req.Operation) {
			t.Errorf("%s: err = %v, want a decoding error naming the operation", req.Operation, err)
		}
		var syntaxErr *json.SyntaxError
		if !errors.As(err, &syntaxErr) {
			t.Errorf("%s: err = %v, want the JSON syntax error kept", req.Operation, err)
		}
		if clients.IsNotFound(err) || errors.Is(err, clients.ErrOutcomeUnknown) {
			t.Errorf("%s: err = %v, a malformed answer is neither not-found nor outcome-unknown", req.Operation, err)
		}
	}
	if n := hits.count(); n < 3 {
		t.Errorf("server hits = %d, want the GETs retried", n)
	}
}

func TestDo_pathIsSentAsAlreadyEscaped(t *testing.T) {
	t.Parallel()
	tests := []struct{ base, path, want string }{
		{base: "/api/v1", path: "/volumes/a%2Fb", want: "/api/v1/volumes/a%2Fb"},
		{base: "/api/v1/", path: "/pods/p-1", want: "/api/v1/pods/p-1"},
		{base: "", path: "/pods", want: "/pods"},
		{base: "/api/v1", path: "pods", want: "/api/v1/pods"},
		{base: "/api/v1", path: "/files/a b", want: "/api/v1/files/a%20b"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			var got string
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
				got = r.URL.EscapedPath()
				w.WriteHeader(http.StatusNoContent)
			})
			c := newClient(t, srv, func(cfg *Config) { cfg.BaseURL = srv.URL + tt.base })
			if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: tt.path}, nil); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("server saw path %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDo_onResponseSeesEveryAttempt(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		w.Header().Set("RateLimit", fmt.Sprintf(`"minute";r=%d;t=30`, 10-hit))
		if hit == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	var mu sync.Mutex
	var remaining []int
	c := newClient(t, srv, func(cfg *Config) {
		cfg.OnResponse = func(resp *http.Response) {
			if rl, ok := ParseRateLimit(resp.Header); ok {
				mu.Lock()
				remaining = append(remaining, rl.Remaining)
				mu.Unlock()
			}
		}
	})
	if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/pods"}, nil); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(remaining) != "[9 8]" {
		t.Errorf("OnResponse saw %v, want [9 8]", remaining)
	}
}

func TestDo_logsMaskSecrets(t *testing.T) {
	// Not parallel: t.Setenv.
	t.Setenv("TF_LOG_PROVIDER_NEOCLOUD_"+strings.ToUpper(testCloud), "TRACE")
	const (
		apiKey      = "secret_apikey_8c1f0e9d"
		privateKey  = "AAAAB3NzaC1yc2EprivatePART"
		respPrivate = "b3BlbnNzaC1rZXktdjEresponsePART"
		kubeToken   = "kube_tok_5d2a"
	)
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		_, _ = io.ReadAll(r.Body)
		if hit == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // one retry, so the retry log is checked too
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
			"id":          "k-1",
			"private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\n" + respPrivate + "\n-----END OPENSSH PRIVATE KEY-----\n",
			"kubeconfig":  "apiVersion: v1\nusers:\n- user:\n    token: " + kubeToken,
		}})
	})
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+apiKey) }
		cfg.Secrets = []string{apiKey, ""}
	})
	err := c.Do(ctx, Request{
		Operation: "add SSH key", Method: http.MethodPost, Path: "/ssh-keys",
		Body: map[string]string{"name": "me", "private_key": privateKey, "note": "made with " + apiKey},
	}, nil)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	out := buf.String()
	for _, secret := range []string{apiKey, privateKey, respPrivate, kubeToken} {
		if strings.Contains(out, secret) {
			t.Errorf("log output contains secret %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, srv.URL+"/api/v1/ssh-keys") {
		t.Errorf("log output lacks the request URL:\n%s", out)
	}
	entries, err := tflogtest.MultilineJSONDecode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	messages := map[string]int{}
	for _, e := range entries {
		msg, _ := e["@message"].(string)
		messages[msg]++
		if module, _ := e["@module"].(string); !strings.HasSuffix(module, "."+testCloud) {
			t.Errorf("entry %q logged in module %q, want the %s subsystem", msg, module, testCloud)
		}
		if msg == "sending API request" {
			if e["authorization"] != "***" {
				t.Errorf("authorization field = %v, want ***", e["authorization"])
			}
			if body, _ := e["http_body"].(string); !strings.Contains(body, `"name":"me"`) || !strings.Contains(body, "***") {
				t.Errorf("request body logged as %q, want it with secrets masked", body)
			}
		}
	}
	if messages["sending API request"] != 2 || messages["received API response"] != 2 || messages["retrying API request"] != 1 {
		t.Errorf("log messages = %v, want 2 sent, 2 received, 1 retry", messages)
	}
}

func TestSecretFieldsMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		masked   bool
		survivor string // must still be there
	}{
		{in: `{"private_key":"abc"}`, masked: true},
		{in: `{"privateKey" : "abc"}`, masked: true},
		{in: `{"ssh_private_key":"abc"}`, masked: true},
		{in: `{"access_token":"abc"}`, masked: true},
		{in: `{"client_secret":"abc"}`, masked: true},
		{in: `{"Kubeconfig":"abc"}`, masked: true},
		{in: `{"API_KEY":"abc"}`, masked: true},
		{in: `{"password":"a\"bc"}`, masked: true},
		{in: `{"public_key":"abc","name":"abc"}`, masked: false},
		{in: `{"name":"me","private_key":"abc","region":"us-east-1"}`, masked: true, survivor: `"region":"us-east-1"`},
	}
	for _, tt := range tests {
		got := secretFields.ReplaceAllString(tt.in, "***")
		if tt.masked == strings.Contains(got, "abc") {
			t.Errorf("%s -> %s, masked want %v", tt.in, got, tt.masked)
		}
		if tt.survivor != "" && !strings.Contains(got, tt.survivor) {
			t.Errorf("%s -> %s, lost %s", tt.in, got, tt.survivor)
		}
	}
	pem := "key: -----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----\n"
	if got := privateKeyBlocks.ReplaceAllString(pem, "***"); strings.Contains(got, "MIIEabc") {
		t.Errorf("PEM block not masked: %q", got)
	}
}

func statusName(status int) string {
	return fmt.Sprintf("%d_%s", status, strings.ReplaceAll(http.StatusText(status), " ", "_"))
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
		if hits.count() != 2 {
			t.Errorf("server hits = %d, want 2", hits.count())
		}
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
		if hits.count() != 1 {
			t.Errorf("server hits = %d, want 1", hits.count())
		}
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
		var out struct{ ID string }
		if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/instances/i-1"}, &out); err != nil {
			t.Fatalf("Do: %v", err)
		}
		if out.ID != "i-1" || hits.count() != 2 {
			t.Errorf("id = %q after %d hits, want i-1 after 2", out.ID, hits.count())
		}
	})
	t.Run("NotIdempotent POST is outcome unknown", func(t *testing.T) {
		t.Parallel()
		srv, hits := hangOnFirstHit(t)
		c := newClient(t, srv, func(cfg *Config) { cfg.RequestTimeout = 100 * time.Millisecond })
		err := c.Do(context.Background(), Request{
			Operation: "launch instance", Method: http.MethodPost, Path: "/launch",
			Body: map[string]string{"name": "a"}, NotIdempotent: true,
		}, nil)
		if !errors.Is(err, clients.ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
		}
		var timedOut *attemptTimeoutError
		if !errors.As(err, &timedOut) {
			t.Errorf("err = %v, want the per-request timeout as its cause", err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v: the operation's own deadline did not pass", err)
		}
		if hits.count() != 1 {
			t.Errorf("server hits = %d, want exactly 1 (a launch must not be repeated)", hits.count())
		}
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
	launch := Request{Operation: "launch instance", Method: http.MethodPost, Path: "/launch", Body: map[string]string{"name": "a"}, NotIdempotent: true}
	for i := range 2 { // the second waits ~600ms for its token, three times RequestTimeout
		var out struct{ ID string }
		if err := c.Do(context.Background(), launch, &out); err != nil {
			t.Fatalf("launch %d: %v", i+1, err)
		}
	}
	if hits.count() != 2 {
		t.Errorf("server hits = %d, want 2", hits.count())
	}
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
		if hits.count() != 1 {
			t.Errorf("server hits = %d, want 1", hits.count())
		}
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
		var out struct{ ID string }
		if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/instances/i-1"}, &out); err != nil {
			t.Fatalf("Do: %v", err)
		}
		if out.ID != "i-1" || hits.count() != 2 {
			t.Errorf("id = %q after %d hits, want i-1 after 2", out.ID, hits.count())
		}
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
		if hits.count() != 1 {
			t.Errorf("server hits = %d, want 1", hits.count())
		}
	})
}
