package lambda

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// The tests talk to an httptest server whose answers are written here, from the API document,
// as literal JSON: they never reuse the package's wire structs, so a wrong field name in the
// client cannot be mirrored by the test.

const testKey = "secret-test-key"

// recorded is one request the fake received.
type recorded = apifake.Request

// fakeAPI is the shared harness with Lambda's routes under /api/v1 and Lambda's error body for
// a route the test did not set up.
type fakeAPI struct{ *apifake.Server }

func newFake(t *testing.T) *fakeAPI {
	t.Helper()
	return &fakeAPI{apifake.New(t, apifake.Config{Prefix: "/api/v1", NotFound: func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/api/v1")
		writeErr(w, http.StatusNotFound, "global/object-does-not-exist", "No route "+r.Method+" "+path+" in this test.", "")
	}})}
}

// data answers {"data": v} where v is raw JSON.
func (f *fakeAPI) data(method, path, rawJSON string) {
	f.Handle(method, path, apifake.Status(http.StatusOK, `{"data":`+rawJSON+`}`))
}

// writeOK answers 200 with a raw JSON body.
func writeOK(w http.ResponseWriter, body string) { apifake.WriteRaw(w, http.StatusOK, body) }

func writeErr(w http.ResponseWriter, status int, code, message, suggestion string) {
	e := map[string]string{"code": code, "message": message}
	if suggestion != "" {
		e["suggestion"] = suggestion
	}
	apifake.WriteJSON(w, status, map[string]any{"error": e})
}

// newTestCloud builds a Cloud against the fake without rate limits, with the short waits of
// apifake.
func newTestCloud(t *testing.T, f *fakeAPI, opts ...Option) *Cloud {
	t.Helper()
	settings := clients.Settings{APIKey: testKey, Endpoint: f.Endpoint(), UserAgent: apifake.UserAgent}
	return apifake.Build(t, NewWithOptions, settings, append([]Option{
		WithRateLimiters(apifake.Unlimited(), apifake.Unlimited()),
		withHTTP(nil, apifake.RetryWaitMin, apifake.RetryWaitMax),
		withRetryBudget(apifake.RetryBudget),
		WithAdoptionWindow(apifake.AdoptionWindow, apifake.AdoptionPoll),
	}, opts...)...)
}

// newFakeCloud is a fake and a Cloud against it (newTestCloud above).
func newFakeCloud(t *testing.T, opts ...Option) (*fakeAPI, *Cloud) {
	t.Helper()
	f := newFake(t)
	return f, newTestCloud(t, f, opts...)
}

// committingLaunch is a fake launch that creates the machine, then answers with fail (which may
// drop the connection). The machine is listed from the second GET /instances after the launch
// on: the first look after the lost answer sees nothing yet.
type committingLaunch struct {
	mu         sync.Mutex
	pending    string // the launched machine, not listed yet
	listsSince int
	instances  []string
	launches   int
}

func (l *committingLaunch) install(f *fakeAPI, fail func(http.ResponseWriter)) {
	f.Handle("POST", "/instance-operations/launch", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Region string              `json:"region_name"`
			Type   string              `json:"instance_type_name"`
			Tags   []map[string]string `json:"tags"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		tags := map[string]string{}
		for _, tg := range req.Tags {
			tags[tg["key"]] = tg["value"]
		}
		l.mu.Lock()
		l.launches++
		l.pending, l.listsSince = instanceJSON("i-lost", "booting", "", req.Region, req.Type, 2392, tags), 0
		l.mu.Unlock()
		fail(w)
	})
	f.Handle("GET", "/instances", func(w http.ResponseWriter, _ *http.Request) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.pending != "" {
			if l.listsSince++; l.listsSince >= 2 {
				l.instances, l.pending = append(l.instances, l.pending), ""
			}
		}
		writeOK(w, `{"data":[`+strings.Join(l.instances, ",")+`]}`)
	})
}

func (l *committingLaunch) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.launches
}

// assertJSON compares a launch or other request body with the expected JSON, ignoring
// formatting, key order and the launched-at tag (checked, then dropped).
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	apifake.AssertJSON(t, got, want, func(g any) any { return withoutLaunchedAt(t, g) })
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
