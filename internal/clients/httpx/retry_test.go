package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// Which answers are retried, how long each retry waits, and when a create's outcome is unknown.

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
			hits.want(t, 3, "")
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
	hits.want(t, 1, "")
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
			err := wantOutcomeUnknown(t, c, launchRequest())
			var apiErr *clients.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != status || apiErr.Operation != "launch instance" {
				t.Errorf("APIError = %+v, want status %d and the operation", apiErr, status)
			}
			hits.want(t, 1, "a launch must not be repeated")
		})
	}
}

func TestDo_notIdempotentPOSTRetriedOn429(t *testing.T) {
	t.Parallel()
	srv, hits := failsThenAnswers(t, 2, http.StatusTooManyRequests, http.StatusCreated, "i-9")
	wantIDAfter(t, newClient(t, srv, nil), launchRequest(), hits, "i-9", 3)
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
	hits.want(t, 1, "")
}

func TestDo_notIdempotentPOSTConnectionDroppedAfterReadIsOutcomeUnknown(t *testing.T) {
	t.Parallel()
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		hijackAndClose(t, w, r)
	})
	c := newClient(t, srv, nil)
	err := wantOutcomeUnknown(t, c, launchRequest())
	var apiErr *clients.APIError
	if !errors.As(err, &apiErr) || apiErr.Cloud != testCloud || apiErr.Operation != "launch instance" {
		t.Errorf("APIError = %+v, want cloud and operation named", apiErr)
	}
	hits.want(t, 1, "")
}

func TestDo_idempotentGETConnectionDroppedIsRetried(t *testing.T) {
	t.Parallel()
	srv, hits := failsOnceThenAnswers(t, hijackAndClose)
	wantInstanceAfter(t, newClient(t, srv, nil), hits, 2)
}

// failsOnceThenAnswers is a server whose first hit ends with fail and whose later hits answer
// {"id":"i-1"}.
func failsOnceThenAnswers(t *testing.T, fail func(*testing.T, http.ResponseWriter, *http.Request)) (*httptest.Server, *hitLog) {
	return newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		if hit == 1 {
			fail(t, w, r)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": "i-1"})
	})
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
		err := wantOutcomeUnknown(t, c, Request{Method: http.MethodPost, Path: "/launch", NotIdempotent: true})
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v, want the cause (unexpected EOF) kept", err)
		}
		hits.want(t, 1, "")
	})
	t.Run("idempotent GET is retried", func(t *testing.T) {
		t.Parallel()
		srv, hits := failsOnceThenAnswers(t, cutOffAnswer)
		wantIDAfter(t, newClient(t, srv, nil), Request{Method: http.MethodGet, Path: "/instances"}, hits, "i-1", 2)
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
		Tuning: Tuning{RetryBudget: 500 * time.Millisecond, RetryWaitMin: 20 * time.Millisecond, RetryWaitMax: 20 * time.Millisecond, Transport: counter},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Do(context.Background(), launchRequest(), nil)
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

// The server's ask wins over RetryWaitMax (far below it): the second attempt comes no sooner.
func TestDo_serverAskedWaitIsHonoured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		header func() (string, string)
		min    time.Duration
	}{
		{name: "Retry-After seconds", status: http.StatusTooManyRequests,
			header: func() (string, string) { return "Retry-After", "1" }, min: 950 * time.Millisecond},
		// Dates have whole seconds: now+2s truncated is at least ~1s away.
		{name: "Retry-After as an HTTP date", status: http.StatusServiceUnavailable,
			header: func() (string, string) {
				return "Retry-After", time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
			}, min: 900 * time.Millisecond},
		{name: "RateLimit minute window resets in 1s", status: http.StatusTooManyRequests,
			header: func() (string, string) { return "RateLimit", `"minute";r=0;t=1, "hour";r=2800;t=1812` }, min: 950 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
				if hit == 1 {
					w.Header().Set(tt.header())
					http.Error(w, "rate limit exceeded for the minute window", tt.status)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			c := newClient(t, srv, nil)
			if err := c.Do(context.Background(), Request{Method: http.MethodGet, Path: "/pods"}, nil); err != nil {
				t.Fatalf("Do: %v", err)
			}
			if gap := hits.gap(t, 1); gap < tt.min {
				t.Errorf("second attempt came %v after the %d, want >= ~1s (%s)", gap, tt.status, tt.name)
			}
		})
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
		// Below MaxRetryAfter, past the deadline; both waits outlast apifake.Patience.
		{name: "past the context deadline", retryAfter: "100", timeout: 90 * time.Second, want: 100 * time.Second},
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
			var err error
			apifake.Returns(t, "Do, which must answer at once", func() {
				err = c.Do(ctx, Request{Operation: "list pods", Method: http.MethodGet, Path: "/pods"}, nil)
			})
			if ctx.Err() != nil {
				t.Errorf("Do answered after the deadline, want an immediate answer")
			}
			if !errors.Is(err, clients.ErrRateLimited) {
				t.Fatalf("err = %v, want ErrRateLimited", err)
			}
			var apiErr *clients.APIError
			if !errors.As(err, &apiErr) || apiErr.RetryAfter != tt.want {
				t.Errorf("APIError = %+v, want RetryAfter %v", apiErr, tt.want)
			}
			hits.want(t, 1, "")
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
	c := &Client{cfg: Config{MaxRetryAfter: time.Minute, Tuning: Tuning{RetryBudget: time.Minute, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}}}
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

// Retries are not counted as new calls: a call gets through however many 429s and 5xx it
// waits out within its budget.
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
			srv, hits := failsThenAnswers(t, tt.failures, tt.status, http.StatusOK, "i-1")
			list := Request{Operation: "list instances", Method: http.MethodGet, Path: "/instances", List: true}
			wantIDAfter(t, newClient(t, srv, nil), list, hits, "i-1", tt.failures+1)
		})
	}
	t.Run("NotIdempotent POST through 20 x 429", func(t *testing.T) {
		t.Parallel()
		srv, hits := failsThenAnswers(t, 20, http.StatusTooManyRequests, http.StatusCreated, "i-9")
		launch := Request{Method: http.MethodPost, Path: "/launch", Body: map[string]string{"name": "a"}, NotIdempotent: true}
		wantIDAfter(t, newClient(t, srv, nil), launch, hits, "i-9", 21)
	})
}
