package lambda

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// The tests talk to an httptest server whose answers are written here, from the API document,
// as literal JSON: they never reuse the package's wire structs, so a wrong field name in the
// client cannot be mirrored by the test.

const (
	testKey       = "secret-test-key"
	testUserAgent = "neocloud-test/1.0"
)

type recorded struct {
	Method, Path, Auth, UserAgent, ContentType string
	Body                                       []byte
}

// fakeAPI routes "METHOD /path" (relative to /api/v1) to handlers and records every request.
type fakeAPI struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []recorded
	routes map[string]http.HandlerFunc
}

func newFake(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, routes: map[string]http.HandlerFunc{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/api/v1")
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{
		Method: r.Method, Path: path, Auth: r.Header.Get("Authorization"),
		UserAgent: r.Header.Get("User-Agent"), ContentType: r.Header.Get("Content-Type"), Body: body,
	})
	h, ok := f.routes[r.Method+" "+path]
	f.mu.Unlock()
	if !ok {
		writeErr(w, http.StatusNotFound, "global/object-does-not-exist", "No route "+r.Method+" "+path+" in this test.", "")
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	h(w, r)
}

func (f *fakeAPI) handle(method, path string, h http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = h
}

// data answers {"data": v} where v is raw JSON.
func (f *fakeAPI) data(method, path, rawJSON string) {
	f.handle(method, path, func(w http.ResponseWriter, _ *http.Request) { writeRaw(w, http.StatusOK, `{"data":`+rawJSON+`}`) })
}

func (f *fakeAPI) count(method, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reqs {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func (f *fakeAPI) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

func (f *fakeAPI) requests(method, path string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.reqs {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeAPI) last() recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		f.t.Fatal("no request was made")
	}
	return f.reqs[len(f.reqs)-1]
}

func (f *fakeAPI) endpoint() string { return f.srv.URL + "/api/v1" }

func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func writeErr(w http.ResponseWriter, status int, code, message, suggestion string) {
	e := map[string]string{"code": code, "message": message}
	if suggestion != "" {
		e["suggestion"] = suggestion
	}
	b, _ := json.Marshal(map[string]any{"error": e})
	writeRaw(w, status, string(b))
}

// testRetryBudget bounds the retries of a call without a deadline, so that a failure the fake
// keeps answering (a 500, a 404 on a list route) ends the test's call quickly.
const testRetryBudget = 300 * time.Millisecond

// newTestCloud builds a Cloud against the fake without rate limits, with short retry waits and
// budget and a short adoption window so the package's tests stay fast.
func newTestCloud(t *testing.T, f *fakeAPI, opts ...Option) *Cloud {
	t.Helper()
	all := append([]Option{
		WithRateLimiters(rate.NewLimiter(rate.Inf, 1), rate.NewLimiter(rate.Inf, 1)),
		withHTTP(nil, 5*time.Millisecond, 20*time.Millisecond),
		withRetryBudget(testRetryBudget),
		WithAdoptionWindow(300*time.Millisecond, 20*time.Millisecond),
	}, opts...)
	c, err := NewWithOptions(clients.Settings{APIKey: testKey, Endpoint: f.endpoint(), UserAgent: testUserAgent}, all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// assertJSON compares a request body with the expected JSON, ignoring formatting and key order.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	g = withoutLaunchedAt(t, g)
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("request body\n got: %s\nwant: %s", gb, wb)
	}
}

// instanceJSON is one Instance as Lambda's API document describes it.
func instanceJSON(id, status, ip, region, instanceType string, priceCents int, tags map[string]string) string {
	var tagList []map[string]string
	for k, v := range tags {
		tagList = append(tagList, map[string]string{"key": k, "value": v})
	}
	if tagList == nil {
		tagList = []map[string]string{}
	}
	m := map[string]any{
		"id": id, "name": "inst-" + id, "status": status,
		"ssh_key_names": []string{"me"}, "file_system_names": []string{"datasets"},
		"region": map[string]string{"name": region, "description": "somewhere"},
		"instance_type": map[string]any{
			"name": instanceType, "description": "8x H100 (80 GB SXM5)", "gpu_description": "H100 (80 GB SXM5)",
			"price_cents_per_hour": priceCents,
			"specs":                map[string]int{"vcpus": 208, "memory_gib": 1800, "storage_gib": 24780, "gpus": 8},
		},
		"hostname": "h-" + id,
		"actions": map[string]any{
			"migrate": map[string]any{"available": false}, "rebuild": map[string]any{"available": false},
			"restart": map[string]any{"available": true}, "cold_reboot": map[string]any{"available": true},
			"terminate": map[string]any{"available": true},
		},
		"tags":              tagList,
		"firewall_rulesets": []map[string]string{{"id": "fw-1"}},
	}
	if ip != "" {
		m["ip"] = ip
		m["private_ip"] = "10.0.0.5"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

const sshKeysJSON = `[{"id":"key-1","name":"me","public_key":"ssh-ed25519 AAAAC3Nza me@host"}]`

// instanceTypesJSON lists two types; the H100 one has capacity in the given regions.
func instanceTypesJSON(h100Regions ...string) string {
	regions := make([]string, len(h100Regions))
	for i, r := range h100Regions {
		regions[i] = `{"name":"` + r + `","description":"somewhere"}`
	}
	return `{
	  "gpu_8x_h100_sxm5": {
	    "instance_type": {"name":"gpu_8x_h100_sxm5","description":"8x H100 (80 GB SXM5)","gpu_description":"H100 (80 GB SXM5)",
	      "price_cents_per_hour":2392,"specs":{"vcpus":208,"memory_gib":1800,"storage_gib":24780,"gpus":8}},
	    "regions_with_capacity_available": [` + strings.Join(regions, ",") + `]
	  },
	  "gpu_1x_a10": {
	    "instance_type": {"name":"gpu_1x_a10","description":"1x A10 (24 GB PCIe)","gpu_description":"A10 (24 GB PCIe)",
	      "price_cents_per_hour":75,"specs":{"vcpus":30,"memory_gib":200,"storage_gib":1400,"gpus":1}},
	    "regions_with_capacity_available": [{"name":"us-east-1","description":"Virginia, USA"}]
	  }
	}`
}

// withoutLaunchedAt checks and drops the launched-at tag of a launch body, whose value is the
// time of sending: every launch carries one, and the expectations leave it out.
func withoutLaunchedAt(t *testing.T, body any) any {
	t.Helper()
	m, ok := body.(map[string]any)
	if !ok {
		return body
	}
	tags, ok := m["tags"].([]any)
	if !ok {
		return body
	}
	kept := []any{}
	for _, tag := range tags {
		e, _ := tag.(map[string]any)
		if e["key"] == LaunchedAtTag {
			if v, _ := e["value"].(string); clients.ParseLaunchedAt(v).IsZero() {
				t.Errorf("launched-at tag %q is not a Unix time", v)
			}
			continue
		}
		kept = append(kept, tag)
	}
	m["tags"] = kept
	return m
}
