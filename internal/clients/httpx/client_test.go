package httpx

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// want fails the test unless the server was hit n times; why (if any) says why n.
func (h *hitLog) want(t *testing.T, n int, why string) {
	t.Helper()
	if got := h.count(); got != n {
		if why != "" {
			why = " (" + why + ")"
		}
		t.Errorf("server hits = %d, want %d%s", got, n, why)
	}
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
		Cloud:     testCloud,
		BaseURL:   srv.URL + "/api/v1",
		UserAgent: "neocloud-test/1.0",
		Tuning:    Tuning{RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond, Transport: srv.Client().Transport},
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

// launchRequest is the not-idempotent launch the tests send: a POST that must never be repeated.
func launchRequest() Request {
	return Request{
		Operation: "launch instance", Method: http.MethodPost, Path: "/launch",
		Body: map[string]string{"name": "a"}, NotIdempotent: true,
	}
}

// wantOutcomeUnknown sends req, fails the test unless its outcome is unknown, and returns the
// error for the test's further checks.
func wantOutcomeUnknown(t *testing.T, c *Client, req Request) error {
	t.Helper()
	err := c.Do(context.Background(), req, nil)
	if !errors.Is(err, clients.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	return err
}

// wantIDAfter sends req and fails the test unless it answers {"id": id} after n hits.
func wantIDAfter(t *testing.T, c *Client, req Request, hits *hitLog, id string, n int) {
	t.Helper()
	var out struct{ ID string }
	if err := c.Do(context.Background(), req, &out); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if out.ID != id || hits.count() != n {
		t.Errorf("id = %q after %d hits, want %s after %d", out.ID, hits.count(), id, n)
	}
}

// wantInstanceAfter gets /instances/i-1 and fails the test unless it answers i-1 after n hits.
func wantInstanceAfter(t *testing.T, c *Client, hits *hitLog, n int) {
	t.Helper()
	wantIDAfter(t, c, Request{Method: http.MethodGet, Path: "/instances/i-1"}, hits, "i-1", n)
}

// failsThenAnswers starts a server that reads each request's body, answers the first n hits
// with status and then {"id": id} with answer.
func failsThenAnswers(t *testing.T, n, status, answer int, id string) (*httptest.Server, *hitLog) {
	t.Helper()
	return newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		_, _ = io.ReadAll(r.Body)
		if hit <= n {
			http.Error(w, "not now", status)
			return
		}
		writeJSON(w, answer, map[string]string{"id": id})
	})
}

// statusName names a status for a subtest ("503_Service_Unavailable").
func statusName(status int) string {
	return fmt.Sprintf("%d_%s", status, strings.ReplaceAll(http.StatusText(status), " ", "_"))
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
		cfg.BearerToken = "k-123"
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
		t.Errorf("Authorization = %q, want the bearer token", got.auth)
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
