package lambda

// These tests read the emulator as a user of the real API would: through HTTP with plain
// net/http and encoding/json, checking statuses, codes and shapes from the 1.8.0 document.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// testKey is a valid ed25519 authorized_keys line.
const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILOleprsicI9kxIgcPkZPT+Mm4lEmKlrqZRXisV58dIH test@example"

// client talks to an emulator over HTTP the way an API user would.
type client struct {
	t    *testing.T
	base string
	key  string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody is Lambda's {"error": {...}}.
type errorBody struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	Suggestion string `json:"suggestion"`
}

// newTestEmulator starts an emulator on an httptest server with rate limits off (tests that
// exercise them use newRateLimitedEmulator) and a fast clock unless opts says otherwise.
func newTestEmulator(t *testing.T, opts Options) (*Emulator, *client) {
	t.Helper()
	if opts.TimeScale == 0 {
		opts.TimeScale = 0.001
	}
	e := New(opts)
	e.Core.SetRateLimitEnabled(false)
	return e, serve(t, e)
}

// newRateLimitedEmulator is an emulator at real-time scale with Lambda's rate limits on.
func newRateLimitedEmulator(t *testing.T) (*Emulator, *client) {
	t.Helper()
	e := New(Options{TimeScale: 1})
	return e, serve(t, e)
}

// serve starts an httptest server for e. Everything a test configures on e must be set before,
// as the server's goroutines read it without locks.
func serve(t *testing.T, e *Emulator) *client {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &client{t: t, base: srv.URL, key: e.opts.APIKey}
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

// newClockedEmulator is an emulator at real-time scale on a fake clock: durations are Lambda's
// real ones, and only Advance moves time.
func newClockedEmulator(t *testing.T) (*Emulator, *client, *fakeClock) {
	t.Helper()
	e := New(Options{TimeScale: 1})
	e.Core.SetRateLimitEnabled(false)
	clk := &fakeClock{now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	e.now = clk.Now
	return e, serve(t, e), clk
}

func (c *client) request(method, path string, body any, auth func(*http.Request)) response {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	auth(req)
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
	return c.request(method, path, body, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+c.key) })
}

// ok does a request that must succeed and decodes its "data" into out (when not nil).
func (c *client) ok(method, path string, body, out any) {
	c.t.Helper()
	res := c.do(method, path, body)
	if res.status != http.StatusOK {
		c.t.Fatalf("%s %s: status %d, body %s", method, path, res.status, res.body)
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(res.body, &env); err != nil || env.Data == nil {
		c.t.Fatalf("%s %s: body is not {\"data\": ...}: %s", method, path, res.body)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			c.t.Fatalf("%s %s: decode data: %v in %s", method, path, err, env.Data)
		}
	}
}

// fail does a request that must fail with status and code, and returns the error object.
func (c *client) fail(method, path string, body any, status int, code string) errorBody {
	c.t.Helper()
	return decodeError(c.t, c.do(method, path, body), status, code)
}

func decodeError(t *testing.T, res response, status int, code string) errorBody {
	t.Helper()
	var env struct {
		Error *errorBody `json:"error"`
	}
	if err := json.Unmarshal(res.body, &env); err != nil || env.Error == nil {
		t.Fatalf("body is not {\"error\": ...} (status %d): %s", res.status, res.body)
	}
	if res.status != status || env.Error.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", res.status, env.Error.Code, env.Error.Message, status, code)
	}
	if env.Error.Message == "" {
		t.Fatalf("error %s has no message", code)
	}
	return *env.Error
}

// addKey imports testKey under a name through the API.
func (c *client) addKey(name string) {
	c.t.Helper()
	c.ok("POST", "/api/v1/ssh-keys", map[string]string{"name": name, "public_key": testKey}, nil)
}

// launch launches one instance and returns its id.
func (c *client) launch(req map[string]any) string {
	c.t.Helper()
	var out struct {
		InstanceIDs []string `json:"instance_ids"`
	}
	c.ok("POST", "/api/v1/instance-operations/launch", req, &out)
	if len(out.InstanceIDs) != 1 {
		c.t.Fatalf("launch answered %d ids, want 1", len(out.InstanceIDs))
	}
	return out.InstanceIDs[0]
}

func launchReq(typ, region string, extra ...any) map[string]any {
	req := map[string]any{"instance_type_name": typ, "region_name": region, "ssh_key_names": []string{"k"}}
	for i := 0; i+1 < len(extra); i += 2 {
		key, ok := extra[i].(string)
		if !ok {
			panic("launchReq: extra must be key, value pairs")
		}
		req[key] = extra[i+1]
	}
	return req
}

// wireInstance is the Instance model as a client decodes it.
type wireInstance struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	IP              string   `json:"ip"`
	PrivateIP       string   `json:"private_ip"`
	Status          string   `json:"status"`
	SSHKeyNames     []string `json:"ssh_key_names"`
	FileSystemNames []string `json:"file_system_names"`
	Region          struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"region"`
	InstanceType struct {
		Name              string `json:"name"`
		Description       string `json:"description"`
		GPUDescription    string `json:"gpu_description"`
		PriceCentsPerHour int    `json:"price_cents_per_hour"`
		Specs             struct {
			VCPUs      int `json:"vcpus"`
			MemoryGiB  int `json:"memory_gib"`
			StorageGiB int `json:"storage_gib"`
			GPUs       int `json:"gpus"`
		} `json:"specs"`
	} `json:"instance_type"`
	Hostname     string `json:"hostname"`
	JupyterToken string `json:"jupyter_token"`
	JupyterURL   string `json:"jupyter_url"`
	Actions      map[string]struct {
		Available  bool   `json:"available"`
		ReasonCode string `json:"reason_code"`
	} `json:"actions"`
	Tags             []tagEntry     `json:"tags"`
	FirewallRulesets []rulesetEntry `json:"firewall_rulesets"`
}

func (c *client) instance(id string) wireInstance {
	c.t.Helper()
	var in wireInstance
	c.ok("GET", "/api/v1/instances/"+id, nil, &in)
	return in
}

func TestAuth(t *testing.T) {
	_, c := newTestEmulator(t, Options{APIKey: "secret"})
	bearer := func(key string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }
	}
	basic := func(user, pass string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, pass) }
	}
	for name, auth := range map[string]func(*http.Request){
		"bearer":             bearer("secret"),
		"basic, key as user": basic("secret", ""),
	} {
		if res := c.request("GET", "/api/v1/instances", nil, auth); res.status != http.StatusOK {
			t.Errorf("%s: status %d, body %s", name, res.status, res.body)
		}
	}
	for name, auth := range map[string]func(*http.Request){
		"no header":            func(*http.Request) {},
		"wrong bearer":         bearer("nope"),
		"basic with password":  basic("secret", "x"),
		"basic with wrong key": basic("nope", ""),
		"key without scheme":   func(r *http.Request) { r.Header.Set("Authorization", "secret") },
	} {
		e := decodeError(t, c.request("GET", "/api/v1/instances", nil, auth), http.StatusUnauthorized, "global/invalid-api-key")
		if e.Message != "API key was invalid, expired, or deleted." || e.Suggestion == "" {
			t.Errorf("%s: unexpected error body %+v", name, e)
		}
	}
}

func TestDefaultAPIKey(t *testing.T) {
	e := New(Options{})
	if e.opts.APIKey != "lambda-emulator-key" || e.Quota() != 64 {
		t.Fatalf("defaults: key %q quota %d", e.opts.APIKey, e.Quota())
	}
	if got := e.scaled(e.opts.BootTime); got != 90*time.Second {
		t.Fatalf("default boot time %v", got)
	}
	if got := New(Options{TimeScale: 0.02}).scaled(DefaultBootTime); got != 1800*time.Millisecond {
		t.Fatalf("scaled boot time %v, want 1.8s", got)
	}
}

func TestRateLimitOnQuickLaunches(t *testing.T) {
	// Real-time windows: the second launch must wait about 12 s.
	e, c := newRateLimitedEmulator(t)
	if _, err := e.AddSSHKey("k", testKey); err != nil {
		t.Fatal(err)
	}
	c.launch(launchReq("gpu_1x_a10", "us-east-1"))
	res := c.do("POST", "/api/v1/instance-operations/launch", launchReq("gpu_1x_a10", "us-east-1"))
	e429 := decodeError(t, res, http.StatusTooManyRequests, "global/rate-limited")
	if e429.Suggestion == "" {
		t.Error("429 has no suggestion")
	}
	secs, err := strconv.Atoi(res.header.Get("Retry-After"))
	if err != nil || secs < 10 || secs > 13 {
		t.Fatalf("Retry-After %q, want about 12 seconds", res.header.Get("Retry-After"))
	}
	if n := len(e.LiveInstances()); n != 1 {
		t.Fatalf("%d live instances after a refused launch, want 1", n)
	}
}

func TestRateLimitOverall(t *testing.T) {
	_, c := newRateLimitedEmulator(t)
	// A burst of two, then about one a second.
	for i := 0; i < 2; i++ {
		c.ok("GET", "/api/v1/instances", nil, nil)
	}
	res := c.do("GET", "/api/v1/instance-types", nil)
	decodeError(t, res, http.StatusTooManyRequests, "global/rate-limited")
	if res.header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q, want 1", res.header.Get("Retry-After"))
	}
}

func TestDropAfterCommitLeavesOneInstance(t *testing.T) {
	e, c := newTestEmulator(t, Options{})
	c.addKey("k")
	e.Core.AddFault(emucore.Fault{Route: "POST /api/v1/instance-operations/launch", Action: emucore.FaultDropAfterCommit, Times: 1})

	body, _ := json.Marshal(launchReq("gpu_1x_a10", "us-east-1"))
	req, _ := http.NewRequest("POST", c.base+"/api/v1/instance-operations/launch", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.key)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("launch answered %d; the fault should have dropped the connection", res.StatusCode)
	}

	var list []wireInstance
	c.ok("GET", "/api/v1/instances", nil, &list)
	if len(list) != 1 || list[0].InstanceType.Name != "gpu_1x_a10" {
		t.Fatalf("after a dropped launch the list has %d instances, want the 1 committed", len(list))
	}
	if got := e.Core.Stats.Get("POST /api/v1/instance-operations/launch"); got != 1 {
		t.Fatalf("launch counted %d times, want 1", got)
	}
	if e.Capacity("gpu_1x_a10", "us-east-1") != 7 {
		t.Fatalf("the committed launch did not take a machine")
	}
}

func TestInjectedStatusFaultsUseLambdaErrors(t *testing.T) {
	e, c := newTestEmulator(t, Options{})
	e.Core.AddFault(emucore.Fault{Route: "GET /api/v1/instances", Action: emucore.FaultStatus, Status: 503, Times: 1})
	e.Core.AddFault(emucore.Fault{Route: "GET /api/v1/instances", Action: emucore.FaultStatus, Status: 500, Times: 1})
	e.Core.AddFault(emucore.Fault{Route: "GET /api/v1/instances", Action: emucore.FaultRateLimit, RetryAfter: 3, Times: 1})
	decodeError(t, c.do("GET", "/api/v1/instances", nil), 503, "provider/internal-unavailable")
	decodeError(t, c.do("GET", "/api/v1/instances", nil), 500, "global/internal-error")
	res := c.do("GET", "/api/v1/instances", nil)
	decodeError(t, res, 429, "global/rate-limited")
	if res.header.Get("Retry-After") != "3" {
		t.Fatalf("Retry-After %q", res.header.Get("Retry-After"))
	}
	c.ok("GET", "/api/v1/instances", nil, nil)
}

func TestStatsCountByRouteTemplate(t *testing.T) {
	e, c := newTestEmulator(t, Options{})
	c.addKey("k")
	id := c.launch(launchReq("gpu_1x_a10", "us-east-1"))
	c.instance(id)
	c.instance(id)
	c.fail("GET", "/api/v1/instances/nope", nil, 404, "global/object-does-not-exist")
	c.request("GET", "/api/v1/instances", nil, func(*http.Request) {}) // 401s are counted too
	want := map[string]int{
		"POST /api/v1/ssh-keys":                   1,
		"POST /api/v1/instance-operations/launch": 1,
		"GET /api/v1/instances/{id}":              3,
		"GET /api/v1/instances":                   1,
	}
	for route, n := range want {
		if got := e.Core.Stats.Get(route); got != n {
			t.Errorf("%s counted %d, want %d", route, got, n)
		}
	}
}

func TestEveryDocumentedEndpointIsServed(t *testing.T) {
	// The endpoint table of the 1.8.0 document: none may fall through to the mux's 404/405.
	e, c := newTestEmulator(t, Options{})
	endpoints := []string{
		"POST /api/v1/filesystems", "DELETE /api/v1/filesystems/x", "GET /api/v1/file-systems",
		"POST /api/v1/firewall-rulesets", "DELETE /api/v1/firewall-rulesets/x", "GET /api/v1/firewall-rules",
		"PUT /api/v1/firewall-rules", "GET /api/v1/firewall-rulesets", "GET /api/v1/firewall-rulesets/x",
		"GET /api/v1/firewall-rulesets/global", "PATCH /api/v1/firewall-rulesets/x", "PATCH /api/v1/firewall-rulesets/global",
		"GET /api/v1/images", "GET /api/v1/instances/x", "POST /api/v1/instance-operations/launch",
		"GET /api/v1/instance-types", "GET /api/v1/instances", "POST /api/v1/instances/x",
		"POST /api/v1/instance-operations/restart", "POST /api/v1/instance-operations/terminate",
		"POST /api/v1/ssh-keys", "DELETE /api/v1/ssh-keys/x", "GET /api/v1/ssh-keys",
	}
	for _, ep := range endpoints {
		method, path, _ := strings.Cut(ep, " ")
		var body any
		if method != "GET" && method != "DELETE" {
			body = map[string]any{}
		}
		res := c.do(method, path, body)
		var env map[string]json.RawMessage
		if err := json.Unmarshal(res.body, &env); err != nil || (env["data"] == nil && env["error"] == nil) {
			t.Errorf("%s: status %d with a non-Lambda body %q", ep, res.status, res.body)
		}
	}
	for route := range e.Core.Stats.Snapshot() {
		if strings.HasPrefix(route, "unmatched") {
			t.Errorf("route not served: %s", route)
		}
	}
}

func TestPackageCommentDocumentsDefaultCapacity(t *testing.T) {
	src, err := os.ReadFile("emulator.go")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, line := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(line, "//\tgpu_"); ok {
			documented = append(documented, strings.Join(strings.Fields("gpu_"+rest), " "))
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
