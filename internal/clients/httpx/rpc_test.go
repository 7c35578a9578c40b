package httpx

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// HTTPClient runs RPC frameworks' requests through the same stack as Do: authorization, User-Agent,
// retries of reads (a create is never repeated: the tests below).
func TestHTTPClientRetriesReads(t *testing.T) {
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		if r.Header.Get("Authorization") != "Bearer k" || r.Header.Get("User-Agent") != "neocloud-test/1.0" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if body, _ := io.ReadAll(r.Body); string(body) != "req" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if hit < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"code":"unavailable"}`)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer k") }
	})
	hc := c.HTTPClient()
	post := func(call Call) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(WithCall(t.Context(), call), http.MethodPost, srv.URL+"/svc/Get", strings.NewReader("req"))
		return hc.Do(req)
	}

	resp, err := post(Call{Operation: "get"})
	if err != nil || resp.StatusCode != 200 || hits.count() != 3 {
		t.Fatalf("read: %v %v after %d attempts", resp, err, hits.count())
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "ok" {
		t.Errorf("body %q", body)
	}

}

func TestHTTPClientDoesNotRepeatCreates(t *testing.T) {
	srv, hits := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"code":"unavailable"}`)
	})
	c := newClient(t, srv, nil)
	// A create answered 503 is not sent again: the framework reads the answer.
	req, _ := http.NewRequestWithContext(WithCall(t.Context(), Call{Operation: "create", NotIdempotent: true}),
		http.MethodPost, srv.URL+"/svc/Create", strings.NewReader("req"))
	resp, err := c.HTTPClient().Do(req)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || hits.count() != 1 {
		t.Fatalf("create: %v %v after %d attempts", resp, err, hits.count())
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "unavailable") {
		t.Errorf("body %q", body)
	}
}

func TestHTTPClientLostCreateIsOutcomeUnknown(t *testing.T) {
	srv, hits := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		if conn, _ := hijack(t, w); conn != nil {
			_ = conn.Close()
		}
	})
	c := newClient(t, srv, func(cfg *Config) { cfg.RetryBudget = 50 * time.Millisecond })
	req, _ := http.NewRequestWithContext(WithCall(t.Context(), Call{Operation: "create", NotIdempotent: true}),
		http.MethodPost, srv.URL+"/svc/Create", strings.NewReader("req"))
	_, err := c.HTTPClient().Do(req)
	if !errors.Is(err, clients.ErrOutcomeUnknown) || hits.count() != 1 {
		t.Fatalf("lost create: %v after %d attempts", err, hits.count())
	}
}
