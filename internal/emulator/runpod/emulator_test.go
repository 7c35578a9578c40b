package runpod

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// fastOptions runs the whole lifecycle in about 50 ms.
var fastOptions = Options{TimeScale: 0.001}

// harness is one emulator behind a real HTTP server, driven with plain net/http.
type harness struct {
	t     *testing.T
	emu   *Emulator
	srv   *httptest.Server
	admin *httptest.Server
	key   string
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	emu := New(opts)
	h := &harness{t: t, emu: emu, srv: httptest.NewServer(emu), admin: httptest.NewServer(emu.AdminHandler()), key: DefaultAPIKey}
	if opts.APIKey != "" {
		h.key = opts.APIKey
	}
	t.Cleanup(h.srv.Close)
	t.Cleanup(h.admin.Close)
	return h
}

// obj is a decoded JSON object with checked accessors: a missing or mistyped field reads as
// the zero value, which the test's comparison then reports.
type obj map[string]any

func (o obj) obj(k string) obj    { m, _ := o[k].(map[string]any); return m }
func (o obj) list(k string) []any { l, _ := o[k].([]any); return l }
func (o obj) str(k string) string { s, _ := o[k].(string); return s }

// objs reads an array of objects.
func (o obj) objs(k string) []obj {
	var out []obj
	for _, x := range o.list(k) {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

// strs reads an array of strings.
func (o obj) strs(k string) []string {
	var out []string
	for _, x := range o.list(k) {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   obj
	raw    []byte
}

func (h *harness) send(base, method, path string, body any, auth bool) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+h.key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			h.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return out
}

// do calls the RunPod API with the bearer key.
func (h *harness) do(method, path string, body any) response {
	h.t.Helper()
	return h.send(h.srv.URL, method, path, body, true)
}

// want fails unless the answer has the status.
func (h *harness) want(r response, status int) response {
	h.t.Helper()
	if r.status != status {
		h.t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// wantProblem checks an RFC 9457 error body and returns its detail.
func (h *harness) wantProblem(r response, status int) string {
	h.t.Helper()
	h.want(r, status)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		h.t.Fatalf("content type %q, want application/problem+json", ct)
	}
	if r.body["title"] != http.StatusText(status) || r.body["status"] != float64(status) {
		h.t.Fatalf("problem %s, want title %q status %d", r.raw, http.StatusText(status), status)
	}
	d, _ := r.body["detail"].(string)
	if d == "" {
		h.t.Fatalf("problem without detail: %s", r.raw)
	}
	return d
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestAuth(t *testing.T) {
	h := newHarness(t, fastOptions)
	r := h.send(h.srv.URL, "GET", "/v2/pods", nil, false)
	if d := h.wantProblem(r, 401); d != "missing bearer token" {
		t.Errorf("detail %q", d)
	}
	if r.header.Get("RateLimit") != "" {
		t.Errorf("401 carries RateLimit %q; only authenticated answers do", r.header.Get("RateLimit"))
	}
	h.key = "wrong"
	h.wantProblem(h.do("GET", "/v2/pods", nil), 401)
	h.key = DefaultAPIKey
	r = h.want(h.do("GET", "/v2/pods", nil), 200)
	if pods, ok := r.body["pods"].([]any); !ok || len(pods) != 0 {
		t.Errorf("list %s, want {\"pods\":[]}", r.raw)
	}

	custom := newHarness(t, Options{APIKey: "secret", TimeScale: 0.001})
	custom.want(custom.do("GET", "/v2/network-volumes", nil), 200)
}

var (
	rateLimitRe = regexp.MustCompile(`^"minute";r=(\d+);t=(\d+), "hour";r=(\d+);t=(\d+), "day";r=(\d+);t=(\d+)$`)
	policy      = `"minute";q=60;w=60, "hour";q=3000;w=3600, "day";q=50000;w=86400`
)

func TestRateLimitHeadersAnd429(t *testing.T) {
	// Real time: 60 requests a minute, so the 61st in a burst is refused.
	h := newHarness(t, Options{})
	r := h.want(h.do("GET", "/v2/pods", nil), 200)
	if got := r.header.Get("RateLimit-Policy"); got != policy {
		t.Fatalf("RateLimit-Policy %q, want %q", got, policy)
	}
	m := rateLimitRe.FindStringSubmatch(r.header.Get("RateLimit"))
	if m == nil || m[1] != "59" || m[3] != "2999" || m[5] != "49999" {
		t.Fatalf("RateLimit %q after one request", r.header.Get("RateLimit"))
	}
	// Error answers carry the headers too.
	r = h.do("GET", "/v2/pods/nope", nil)
	h.wantProblem(r, 404)
	if !rateLimitRe.MatchString(r.header.Get("RateLimit")) {
		t.Fatalf("404 without RateLimit: %q", r.header.Get("RateLimit"))
	}
	var last response
	for i := 0; i < 100; i++ {
		last = h.do("GET", "/v2/pods", nil)
		if last.status == 429 {
			break
		}
	}
	if d := h.wantProblem(last, 429); d != "rate limit exceeded for the minute window" {
		t.Errorf("429 detail %q", d)
	}
	if ra := last.header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	m = rateLimitRe.FindStringSubmatch(last.header.Get("RateLimit"))
	if m == nil || m[1] != "0" || m[2] != "1" {
		t.Errorf("RateLimit on 429 %q, want minute r=0;t=1", last.header.Get("RateLimit"))
	}
	if last.header.Get("RateLimit-Policy") != policy {
		t.Errorf("429 without RateLimit-Policy")
	}
}

func TestInjectedRateLimitIsConsistent(t *testing.T) {
	h := newHarness(t, fastOptions)
	h.emu.Core.AddFault(emucore.Fault{Route: "GET /v2/pods", Action: emucore.FaultRateLimit, RetryAfter: 7, Times: 1})
	r := h.do("GET", "/v2/pods", nil)
	h.wantProblem(r, 429)
	if r.header.Get("Retry-After") != "7" || !strings.HasPrefix(r.header.Get("RateLimit"), `"minute";r=0;t=7, "hour"`) {
		t.Errorf("injected 429 headers: Retry-After %q RateLimit %q", r.header.Get("Retry-After"), r.header.Get("RateLimit"))
	}
	h.want(h.do("GET", "/v2/pods", nil), 200)
}

func TestUnknownRoutesAnswerProblems(t *testing.T) {
	h := newHarness(t, fastOptions)
	h.wantProblem(h.do("GET", "/v2/nothing-here", nil), 404)
	r := h.do("PUT", "/v2/pods", map[string]any{})
	h.wantProblem(r, 405)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow %q", allow)
	}
}

func TestStatsByRouteTemplate(t *testing.T) {
	h := newHarness(t, fastOptions)
	p := h.createPod(map[string]any{"name": "a", "image": "img", "gpu": map[string]any{"id": "NVIDIA GeForce RTX 4090"}})
	h.do("GET", "/v2/pods/"+p, nil)
	h.do("GET", "/v2/pods/"+p, nil)
	h.do("POST", "/v2/pods/"+p+"/action", map[string]any{"action": "stop"})
	h.do("GET", "/v2/catalog/gpus/NVIDIA%20H200", nil)
	stats := h.emu.Core.Stats.Snapshot()
	for route, n := range map[string]int{
		"POST /v2/pods":                  1,
		"GET /v2/pods/{id}":              2,
		"POST /v2/pods/{id}/action":      1,
		"GET /v2/catalog/gpus/{id}":      1,
		"GET /v2/catalog/datacenters":    0,
		"DELETE /v2/clusters/{id}":       0,
		"GET /v2/account/ssh-keys":       0,
		"PATCH /v2/network-volumes/{id}": 0,
	} {
		if stats[route] != n {
			t.Errorf("stats[%q] = %d, want %d (all: %v)", route, stats[route], n, stats)
		}
	}
	// The admin API serves the same counters.
	r := h.send(h.admin.URL, "GET", "/stats", nil, false)
	if r.body["GET /v2/pods/{id}"] != float64(2) {
		t.Errorf("admin /stats %s", r.raw)
	}
}

func TestDropAfterCommitLeavesOnePod(t *testing.T) {
	h := newHarness(t, fastOptions)
	h.emu.Core.AddFault(emucore.Fault{Route: "POST /v2/pods", Action: emucore.FaultDropAfterCommit, Times: 1})
	body, _ := json.Marshal(map[string]any{"name": "lost", "image": "img", "gpu": map[string]any{"id": "NVIDIA L40S"}})
	req, _ := http.NewRequest("POST", h.srv.URL+"/v2/pods", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.key)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("got an answer (%d); the connection should have been dropped", resp.StatusCode)
	}
	r := h.want(h.do("GET", "/v2/pods", nil), 200)
	pods := r.body.objs("pods")
	if len(pods) != 1 || pods[0]["name"] != "lost" {
		t.Fatalf("after a lost answer the account has %s, want exactly the one pod", r.raw)
	}
	if n := len(h.emu.LivePods()); n != 1 {
		t.Fatalf("LivePods %d", n)
	}
}

func TestAdminAPI(t *testing.T) {
	h := newHarness(t, fastOptions)
	a := h.admin.URL
	h.want(h.send(a, "PUT", "/capacity", map[string]any{"gpu_type_id": "NVIDIA H200", "data_center_id": "US-TX-3", "cloud_type": "SECURE", "available": 3}, false), 200)
	if n := h.emu.Capacity("NVIDIA H200", "US-TX-3", "SECURE"); n != 3 {
		t.Fatalf("capacity %d after PUT /capacity", n)
	}
	h.want(h.send(a, "PUT", "/capacity", map[string]any{"gpu_type_id": "NVIDIA H999", "data_center_id": "US-TX-3", "cloud_type": "SECURE", "available": 3}, false), 400)

	id := h.createPod(map[string]any{"name": "x", "image": "img", "gpu": map[string]any{"id": "NVIDIA H200", "count": 2}, "dataCenterIds": []string{"US-TX-3"}})
	h.want(h.send(a, "POST", "/pods/"+id+"/fail", nil, false), 204)
	p := h.want(h.do("GET", "/v2/pods/"+id, nil), 200).body
	if p["status"] != "ERROR" || !slices.Equal(p.strs("actions"), []string{"start", "terminate"}) {
		t.Fatalf("failed pod: %v %v", p["status"], p["actions"])
	}
	h.want(h.send(a, "DELETE", "/pods/"+id, nil, false), 204)
	h.wantProblem(h.do("GET", "/v2/pods/"+id, nil), 404)
	if n := h.emu.Capacity("NVIDIA H200", "US-TX-3", "SECURE"); n != 3 {
		t.Fatalf("out-of-band deletion did not return the GPUs: %d free", n)
	}
	var views []PodView
	r := h.send(a, "GET", "/pods", nil, false)
	if err := json.Unmarshal(r.raw, &views); err != nil || len(views) != 1 || views[0].Status != "TERMINATED" || views[0].GPUCount != 2 {
		t.Fatalf("admin /pods %s (%v)", r.raw, err)
	}
	h.want(h.send(a, "POST", "/reset", nil, false), 204)
	if len(h.emu.Pods()) != 0 || h.emu.Capacity("NVIDIA H200", "US-TX-3", "SECURE") != 16 {
		t.Fatalf("reset left state behind")
	}
}
