package coreweave

// These tests read the emulator as a user of the real APIs would: over HTTP with plain net/http
// and encoding/json, checking statuses, codes and shapes from the vendor notes, the Connect
// protocol and the Kubernetes API conventions.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// client talks to an emulator over HTTP the way an API user would.
type client struct {
	t     *testing.T
	base  string
	token string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// decode unmarshals the body, failing the test when it is not the JSON expected.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %T from %d %s: %v", v, r.status, r.body, err)
	}
}

// connectError is the platform API's error body.
type connectError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type  string          `json:"type"`
		Value string          `json:"value"`
		Debug json.RawMessage `json:"debug"`
	} `json:"details"`
}

// statusBody is a Kubernetes metav1.Status.
type statusBody struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Status     string `json:"status"`
	Message    string `json:"message"`
	Reason     string `json:"reason"`
	Code       int    `json:"code"`
	Details    *struct {
		Name   string `json:"name"`
		Group  string `json:"group"`
		Kind   string `json:"kind"`
		UID    string `json:"uid"`
		Causes []struct {
			Reason  string `json:"reason"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"causes"`
	} `json:"details"`
}

// fakeClock pins the emulator's clock so lifecycle tests can step time exactly.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newClockedEmulator is an emulator at real-time scale on a fake clock: durations are
// CoreWeave's real ones and only Advance moves time.
func newClockedEmulator(t *testing.T, opts Options) (*Emulator, *client, *fakeClock) {
	t.Helper()
	opts.TimeScale = 1
	e := New(opts)
	clk := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e.now = clk.Now
	return e, serve(t, e), clk
}

// newFastEmulator runs on the real clock with a tiny time scale: a cluster takes 0.27 s to
// create and a node 30 ms to join.
func newFastEmulator(t *testing.T) (*Emulator, *client) {
	t.Helper()
	e := New(Options{TimeScale: 0.0001})
	return e, serve(t, e)
}

// serve starts an httptest server for e. Everything a test configures on e (its clock) must be
// set before, as the server's goroutines read it without locks.
func serve(t *testing.T, e *Emulator) *client {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &client{t: t, base: srv.URL, token: e.Token()}
}

// request sends a request. A body that is a string or []byte goes as is, anything else as JSON;
// headers override the defaults (a bearer token, and JSON content when there is a body). A
// header set to "" is removed.
func (c *client) request(method, path string, body any, headers map[string]string) response {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		case []byte:
			rd = bytes.NewReader(b)
		default:
			raw, err := json.Marshal(body)
			if err != nil {
				c.t.Fatalf("marshal: %v", err)
			}
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (c *client) do(method, path string, body any) response {
	c.t.Helper()
	return c.request(method, path, body, nil)
}

// ok does a request that must answer want and decodes the body into out (when not nil).
func (c *client) ok(want int, method, path string, body, out any) response {
	c.t.Helper()
	res := c.do(method, path, body)
	if res.status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.status, want, res.body)
	}
	if out != nil {
		res.decode(c.t, out)
	}
	return res
}

// connectErr does a platform request that must fail with a Connect error.
func (c *client) connectErr(method, path string, body any, wantStatus int, wantCode string) connectError {
	c.t.Helper()
	res := c.do(method, path, body)
	ce := decodePlatformError(c.t, res)
	if res.status != wantStatus || ce.Code != wantCode {
		c.t.Fatalf("%s %s: %d %s, want %d %s: %s", method, path, res.status, ce.Code, wantStatus, wantCode, res.body)
	}
	if ce.Message == "" {
		c.t.Errorf("%s %s: error without a message: %s", method, path, res.body)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return ce
}

// decodePlatformError reads a platform error in either form a client meets: the Connect JSON
// error ({"code": "not_found", "details": [{"type", "value", "debug"}]}) or, on the REST paths,
// google.rpc.Status as the transcoder writes it ({"code": 5, "details": [{"@type", ...}]}),
// normalized to the Connect form (a detail's fields become its debug copy).
func decodePlatformError(t *testing.T, res response) connectError {
	t.Helper()
	var raw struct {
		Code    json.RawMessage              `json:"code"`
		Message string                       `json:"message"`
		Details []map[string]json.RawMessage `json:"details"`
	}
	res.decode(t, &raw)
	var ce connectError
	ce.Message = raw.Message
	var n int
	if err := json.Unmarshal(raw.Code, &n); err == nil {
		ce.Code = connect.Code(n).String()
	} else {
		_ = json.Unmarshal(raw.Code, &ce.Code)
	}
	for _, d := range raw.Details {
		var typ, value string
		debug := d["debug"]
		if at, ok := d["@type"]; ok {
			_ = json.Unmarshal(at, &typ)
			typ = typ[strings.LastIndex(typ, "/")+1:]
			rest := map[string]json.RawMessage{}
			for k, v := range d {
				if k != "@type" {
					rest[k] = v
				}
			}
			debug, _ = json.Marshal(rest)
		} else {
			_ = json.Unmarshal(d["type"], &typ)
			_ = json.Unmarshal(d["value"], &value)
		}
		ce.Details = append(ce.Details, struct {
			Type  string          `json:"type"`
			Value string          `json:"value"`
			Debug json.RawMessage `json:"debug"`
		}{typ, value, debug})
	}
	return ce
}

// kubeStatusErr does a Kubernetes request that must fail with a Status object.
func (c *client) kubeStatusErr(method, path string, body any, headers map[string]string, wantCode int, wantReason string) statusBody {
	c.t.Helper()
	res := c.request(method, path, body, headers)
	var s statusBody
	res.decode(c.t, &s)
	if res.status != wantCode || s.Code != wantCode || s.Reason != wantReason || s.Kind != "Status" ||
		s.APIVersion != "v1" || s.Status != "Failure" {
		c.t.Fatalf("%s %s: %d %+v, want %d %s: %s", method, path, res.status, s, wantCode, wantReason, res.body)
	}
	return s
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

// standardVPC is a CreateVPC body with the prefixes a CKS cluster needs.
func standardVPC(name, zone string) map[string]any {
	return map[string]any{
		"name": name, "zone": zone,
		"vpcPrefixes": []map[string]string{
			{"name": "pod cidr", "value": "10.0.0.0/13"},
			{"name": "service cidr", "value": "10.16.0.0/22"},
			{"name": "internal lb cidr", "value": "10.32.4.0/22"},
		},
	}
}

func standardCluster(name, vpcID, zone string, public bool) map[string]any {
	return map[string]any{
		"name": name, "zone": zone, "vpcId": vpcID, "version": "v1.35", "public": public,
		"network": map[string]any{"podCidrName": "pod cidr", "serviceCidrName": "service cidr",
			"internalLbCidrNames": []string{"internal lb cidr"}},
	}
}

const zone4A = "US-EAST-04A"

// readyVPC creates a VPC and steps the fake clock until it is ready.
func readyVPC(c *client, clk *fakeClock, name string) vpcJSON {
	c.t.Helper()
	var out struct{ VPC vpcJSON }
	c.ok(200, "POST", "/v1beta1/networking/vpcs", standardVPC(name, zone4A), &out)
	clk.Advance(DefaultVPCCreateTime)
	return out.VPC
}

// runningCluster creates a VPC and a cluster and steps the fake clock until the cluster runs.
func runningCluster(c *client, clk *fakeClock, name string, public bool) clusterJSON {
	c.t.Helper()
	v := readyVPC(c, clk, name+"-vpc")
	var out struct{ Cluster clusterJSON }
	c.ok(200, "POST", "/v1beta1/cks/clusters", standardCluster(name, v.ID, zone4A, public), &out)
	clk.Advance(DefaultClusterCreateTime)
	var got struct{ Cluster clusterJSON }
	c.ok(200, "GET", "/v1beta1/cks/clusters/"+out.Cluster.ID, nil, &got)
	if got.Cluster.Status != ClusterStatusRunning {
		c.t.Fatalf("cluster not running after the create time: %+v", got.Cluster)
	}
	return got.Cluster
}

func kpath(clusterID, rest string) string { return "/k8s/" + clusterID + rest }

func poolsPath(clusterID string) string {
	return kpath(clusterID, "/apis/compute.coreweave.com/v1alpha1/nodepools")
}

func poolPath(clusterID, name string) string { return poolsPath(clusterID) + "/" + name }

// ---------------------------------------------------------------------------------------------
// Tests.

func TestAuth(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "auth", false)

	for _, h := range []map[string]string{{"Authorization": ""}, {"Authorization": "Bearer CW-SECRET-wrong"}, {"Authorization": "Basic abc"}} {
		res := c.request("GET", "/v1beta1/cks/clusters", nil, h)
		var ce connectError
		res.decode(t, &ce)
		if res.status != 401 || ce.Code != "unauthenticated" || ce.Message == "" {
			t.Errorf("platform with %v: %d %s", h, res.status, res.body)
		}
		c.kubeStatusErr("GET", poolsPath(cl.ID), nil, h, 401, "Unauthorized")
		c.kubeStatusErr("GET", kpath("no-such-cluster", "/api/v1/nodes"), nil, h, 401, "Unauthorized")
	}
	// The right token works on both APIs; /version needs none.
	c.ok(200, "GET", "/v1beta1/cks/clusters", nil, nil)
	c.ok(200, "GET", poolsPath(cl.ID), nil, nil)
	if res := c.request("GET", kpath(cl.ID, "/version"), nil, map[string]string{"Authorization": ""}); res.status != 200 {
		t.Errorf("/version without a token: %d %s", res.status, res.body)
	}
}

func TestDefaultToken(t *testing.T) {
	if e := New(Options{}); e.Token() != "CW-SECRET-emulator" || DefaultToken != "CW-SECRET-emulator" {
		t.Fatalf("default token %q", e.Token())
	}
	e := New(Options{Token: "CW-SECRET-other"})
	c := serve(t, e)
	c.ok(200, "GET", "/v1beta1/networking/vpcs", nil, nil)
}

func TestErrorDetailsCarryProtobuf(t *testing.T) {
	_, c := newFastEmulator(t)
	// Over the Connect protocol with the JSON codec, the error is Connect's JSON form with each
	// detail's binary value (and a JSON debug copy).
	ce := c.connectErr("POST", "/coreweave.networking.v1beta1.VPCService/CreateVPC", map[string]any{"name": strings.Repeat("a", 31), "zone": zone4A}, 400, "invalid_argument")
	if len(ce.Details) != 1 || ce.Details[0].Type != "google.rpc.BadRequest" {
		t.Fatalf("details: %+v", ce.Details)
	}
	var debug struct {
		FieldViolations []fieldViolation `json:"fieldViolations"`
	}
	if err := json.Unmarshal(ce.Details[0].Debug, &debug); err != nil || len(debug.FieldViolations) != 1 || debug.FieldViolations[0].Field != "name" {
		t.Fatalf("debug: %s", ce.Details[0].Debug)
	}
	// value is unpadded base64 of google.rpc.BadRequest{field_violations: [{field: "name", description: ...}]}.
	raw, err := base64.RawStdEncoding.DecodeString(ce.Details[0].Value)
	if err != nil {
		t.Fatalf("value is not unpadded base64: %v", err)
	}
	desc := debug.FieldViolations[0].Description
	inner := append([]byte{0x0a, 4}, "name"...)
	inner = append(append(inner, 0x12, byte(len(desc))), desc...)
	want := append([]byte{0x0a, byte(len(inner))}, inner...)
	if !bytes.Equal(raw, want) {
		t.Fatalf("protobuf value %x, want %x", raw, want)
	}
}

func TestUnknownRoutes(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	c.connectErr("GET", "/v1beta1/cks/nodes", nil, 404, "unimplemented")
	ce := c.connectErr("PUT", "/v1beta1/cks/clusters/abc", map[string]any{}, 405, "unimplemented")
	_ = ce
	cl := runningCluster(c, clk, "routes", false)
	c.kubeStatusErr("GET", kpath(cl.ID, "/api/v1/namespaces"), nil, nil, 404, "NotFound")
	c.kubeStatusErr("PUT", kpath(cl.ID, "/api/v1/nodes/x"), "{}", nil, 405, "MethodNotAllowed")
	c.kubeStatusErr("POST", poolPath(cl.ID, "x")+"/status", "{}", nil, 405, "MethodNotAllowed")
	// Kubernetes paths of an unknown cluster fail like an unreachable server.
	c.kubeStatusErr("GET", kpath("00000000-0000-4000-8000-000000000000", "/apis"), nil, nil, 503, "ServiceUnavailable")
}

func TestStatsCountByRouteTemplate(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "stats", false)
	c.ok(200, "GET", poolsPath(cl.ID), nil, nil)
	c.do("GET", poolPath(cl.ID, "a"), nil)
	c.do("GET", poolPath(cl.ID, "b"), nil)
	stats := e.Core.Stats.Snapshot()
	for route, want := range map[string]int{
		"POST /v1beta1/networking/vpcs":                                           1,
		"POST /v1beta1/cks/clusters":                                              1,
		"GET /v1beta1/cks/clusters/{id}":                                          1,
		"GET /k8s/{cluster}/apis/compute.coreweave.com/v1alpha1/nodepools":        1,
		"GET /k8s/{cluster}/apis/compute.coreweave.com/v1alpha1/nodepools/{name}": 2,
	} {
		if stats[route] != want {
			t.Errorf("stats[%q] = %d, want %d (all: %v)", route, stats[route], want, stats)
		}
	}
}

func TestInjectedFaultsUseVendorFormats(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "faults", false)
	e.Core.AddFault(emucore.Fault{Route: "GET /v1beta1/cks/clusters", Action: emucore.FaultStatus, Status: 503, Times: 1})
	e.Core.AddFault(emucore.Fault{Route: "GET /k8s/{cluster}/api/v1/nodes", Action: emucore.FaultStatus, Status: 500, Times: 1})
	e.Core.AddFault(emucore.Fault{Route: "GET /k8s/{cluster}/apis", Action: emucore.FaultRateLimit, RetryAfter: 3, Times: 1})
	c.connectErr("GET", "/v1beta1/cks/clusters", nil, 503, "unavailable")
	c.kubeStatusErr("GET", kpath(cl.ID, "/api/v1/nodes"), nil, nil, 500, "InternalError")
	s := c.kubeStatusErr("GET", kpath(cl.ID, "/apis"), nil, nil, 429, "TooManyRequests")
	if s.Details == nil {
		t.Fatal("429 Status without details")
	}
	c.ok(200, "GET", "/v1beta1/cks/clusters", nil, nil)
}

func TestPackageCommentDocumentsDefaultCapacity(t *testing.T) {
	src, err := os.ReadFile("emulator.go")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	inTable := false
	for _, line := range strings.Split(string(src), "\n") {
		rest, ok := strings.CutPrefix(line, "//\t")
		fields := strings.Fields(rest)
		if ok && len(fields) > 1 && strings.Contains(fields[1], "=") {
			if _, known := findInstanceType(fields[0]); known {
				documented = append(documented, strings.Join(fields, " "))
				inTable = true
				continue
			}
		}
		if inTable && !ok {
			break
		}
	}
	var table []string
	for _, line := range strings.Split(strings.TrimSpace(defaultCapacityTable), "\n") {
		table = append(table, strings.Join(strings.Fields(line), " "))
	}
	if strings.Join(documented, "\n") != strings.Join(table, "\n") {
		t.Fatalf("the package comment's capacity table differs from defaultCapacityTable:\ncomment:\n%s\ntable:\n%s",
			strings.Join(documented, "\n"), strings.Join(table, "\n"))
	}
}

func TestCatalog(t *testing.T) {
	types := InstanceTypes()
	prices := map[string]float64{}
	for _, it := range types {
		prices[it.Name] = it.PricePerHour
		if it.PricePerHour <= 0 {
			t.Errorf("%s has no price", it.Name)
		}
	}
	for _, name := range []string{"gd-8xh100ib-i128", "gd-8xh200ib-i128", "gd-8xa100-i128", "gd-8xb200ib-i128", "gd-1xgh200",
		"gd-8xl40-i128", "gd-8xl40s-i128", "rtxp6000-8x", "gb200-4x", "gb300-4x", "cd-gp-a192-genoa"} {
		if _, ok := prices[name]; !ok {
			t.Errorf("catalog lacks %s", name)
		}
	}
	if prices["gd-8xh100ib-i128"] != 49.24 {
		t.Errorf("H100 node price %v, want 49.24", prices["gd-8xh100ib-i128"])
	}
	if got := strings.Join(Zones(), ","); got != "US-EAST-04A,US-EAST-06A,US-WEST-04A,RNO2A,LGA1,US-EAST-01A,US-EAST-02A,US-EAST-08A,US-EAST-13A,US-EAST-14A,"+
		"US-CENTRAL-06A,US-CENTRAL-07A,US-WEST-01A,US-WEST-09B,US-WEST-10A,EU-SOUTH-03B,EU-SOUTH-04A" {
		t.Errorf("zones %s", got)
	}
}
