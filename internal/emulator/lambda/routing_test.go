package lambda

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// A client that calls a path Lambda does not have, or a method a path does not take, reads a
// Lambda error, never the Go mux's plain text.
func TestUnknownPathsAndMethodsAnswerLambdaErrors(t *testing.T) {
	e, c := newTestEmulator(t, Options{})
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/api/v1/nope", 404, "global/object-does-not-exist"},
		{"GET", "/api/v1/instances/x/y", 404, "global/object-does-not-exist"},
		{"POST", "/api/v1/instance-operations/reboot", 404, "global/object-does-not-exist"},
		{"DELETE", "/api/v1/instances", 405, "global/invalid-parameters"},
		{"PUT", "/api/v1/ssh-keys", 405, "global/invalid-parameters"},
		{"PATCH", "/api/v1/instance-types", 405, "global/invalid-parameters"},
	}
	for _, tc := range cases {
		res := c.do(tc.method, tc.path, nil)
		if ct := res.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: content type %q, want application/json", tc.method, tc.path, ct)
		}
		got := decodeError(t, res, tc.status, tc.code)
		if got.Suggestion == "" {
			t.Errorf("%s %s: no suggestion", tc.method, tc.path)
		}
		if tc.status == 405 {
			allow := res.header.Get("Allow")
			if allow == "" || !strings.Contains(got.Suggestion, allow) {
				t.Errorf("%s %s: Allow %q, suggestion %q", tc.method, tc.path, allow, got.Suggestion)
			}
		}
	}
	// Still behind the API key: an unknown path does not tell a stranger anything.
	res := c.request("GET", "/api/v1/nope", nil, func(*http.Request) {})
	decodeError(t, res, 401, "global/invalid-api-key")
	if n := e.Core.Stats.Get("unmatched GET /api/v1/nope"); n != 2 {
		t.Errorf("unmatched route counted %d times, want 2", n)
	}
	// A documented route still answers normally next to the rewritten ones.
	c.ok("GET", "/api/v1/instances", nil, nil)
}

// GET /stats keeps its shape (calls per route); /stats?by=status breaks the answers down by
// HTTP status, so a storm of 429s shows.
func TestStatsByStatusShowsA429Storm(t *testing.T) {
	e, c := newTestEmulator(t, Options{})
	call := admin(t, e)
	e.Core.AddFault(emucore.Fault{Route: "GET /api/v1/instances", Action: emucore.FaultRateLimit, Times: 3})
	for range 3 {
		decodeError(t, c.do("GET", "/api/v1/instances", nil), 429, "global/rate-limited")
	}
	c.ok("GET", "/api/v1/instances", nil, nil)
	c.fail("GET", "/api/v1/instances/nope", nil, 404, "global/object-does-not-exist")
	c.do("DELETE", "/api/v1/instances", nil)

	code, body := call("GET", "/stats", "")
	var counts map[string]int
	if code != 200 || json.Unmarshal(body, &counts) != nil {
		t.Fatalf("GET /stats: %d %s", code, body)
	}
	if counts["GET /api/v1/instances"] != 4 || counts["GET /api/v1/instances/{id}"] != 1 {
		t.Fatalf("GET /stats changed shape or counts: %s", body)
	}

	code, body = call("GET", "/stats?by=status", "")
	var byStatus map[string]map[string]int
	if code != 200 || json.Unmarshal(body, &byStatus) != nil {
		t.Fatalf("GET /stats?by=status: %d %s", code, body)
	}
	want := map[string]map[string]int{
		"GET /api/v1/instances":              {"429": 3, "200": 1},
		"GET /api/v1/instances/{id}":         {"404": 1},
		"unmatched DELETE /api/v1/instances": {"405": 1},
	}
	for route, statuses := range want {
		for status, n := range statuses {
			if byStatus[route][status] != n {
				t.Errorf("%s %s: %d, want %d (%s)", route, status, byStatus[route][status], n, body)
			}
		}
	}
	if got := e.Core.Stats.GetStatus("GET /api/v1/instances", 429); got != 3 {
		t.Errorf("GetStatus 429 = %d, want 3", got)
	}
	if code, _ := call("GET", "/stats?by=color", ""); code != 400 {
		t.Errorf("GET /stats?by=color: %d, want 400", code)
	}
	if code, _ := call("DELETE", "/stats", ""); code != 204 || len(e.Core.Stats.ByStatus()) != 0 {
		t.Errorf("DELETE /stats did not clear the status counts")
	}
}

// A dropped connection is counted as such, not as a 200.
func TestStatsByStatusCountsDroppedAnswers(t *testing.T) {
	e := New(Options{TimeScale: 0.001})
	e.Core.SetRateLimitEnabled(false)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	e.Core.AddFault(emucore.Fault{Route: "GET /api/v1/instances", Action: emucore.FaultDropBeforeCommit, Times: 1})
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/instances", nil)
	req.Header.Set("Authorization", "Bearer "+e.APIKey())
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("answered %d; the fault should have dropped the connection", res.StatusCode)
	}
	if got := e.Core.Stats.ByStatus()["GET /api/v1/instances"]; got[emucore.StatusDropped] != 1 || len(got) != 1 {
		t.Fatalf("by status %v, want one dropped", got)
	}
}
