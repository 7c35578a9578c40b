// Package runpod is an in-memory emulator of RunPod's REST API v2 (https://api.runpod.io/v2),
// built from RunPod's OpenAPI 3.1 document for REST 2.0.0 (RunPod's public REST API v2 reference). It serves pods,
// Instant Clusters, network volumes, account SSH keys, templates (the account's under
// /v2/templates, the public catalog under /v2/catalog/templates), container registry
// credentials (/v2/registries) and the GPU / data-center catalog with the document's field
// names, list wrappers, status codes and RFC 9457 problem bodies, so the provider's tests and
// demo can run against it instead of the real cloud. Serverless endpoints, billing and ECR
// delegations are not emulated.
//
// A pod created with templateId takes the template's container settings where the body leaves
// them out (env merged per key, the body winning) and keeps no link to it; a pod names a
// registry credential in the ContainerConfig field registry, which PATCH changes or clears.
//
// Lifecycles are derived lazily from timestamps (no goroutines): a pod is PROVISIONING for
// Options.ProvisionTime, STARTING for Options.StartTime, then RUNNING; its public IP, port
// mappings and direct SSH endpoint appear only Options.PortsDelay after it became RUNNING, so a
// client always sees a RUNNING pod without ports first. All durations are real-world durations
// scaled by Options.TimeScale.
//
// Capacity is a count of free GPUs per (GPU type, data center, cloud type). Creating or
// starting a pod takes GPUs from its pool, stopping or terminating it gives them back. A fresh
// emulator (and POST /reset) starts from this table of free GPUs; a pool without an entry is not
// offered in that data center at all:
//
//	GPU type                        SECURE                                                       COMMUNITY
//	NVIDIA B200                     US-TX-3 16, EU-RO-1 8                                        -
//	NVIDIA H200                     US-TX-3 16, US-GA-1 8, EUR-IS-1 16                           -
//	NVIDIA H100 80GB HBM3           US-TX-3 32, US-KS-2 16, EU-RO-1 16, EUR-IS-1 16, CA-MTL-1 8  EU-NL-1 8
//	NVIDIA H100 NVL                 US-TX-3 8, EU-SE-1 8                                         -
//	NVIDIA H100 PCIe                US-KS-2 8, EU-RO-1 8, CA-MTL-1 4                             US-IL-1 4
//	NVIDIA A100-SXM4-80GB           US-KS-2 16, EU-RO-1 16, CA-MTL-1 8                           EU-CZ-1 8
//	NVIDIA A100 80GB PCIe           US-GA-1 8, EU-SE-1 8, EU-CZ-1 8                              EU-NL-1 4, AP-JP-1 4
//	NVIDIA L40S                     US-TX-3 16, US-GA-1 8, US-CA-2 8, EU-RO-1 16, EU-NL-1 8      US-IL-1 4
//	NVIDIA L40                      US-KS-2 8, EU-SE-1 8                                         EU-NL-1 4
//	NVIDIA RTX 6000 Ada Generation  US-GA-1 8, EU-RO-1 8, EU-SE-1 8                              EU-CZ-1 4
//	NVIDIA RTX A6000                US-KS-2 16, EU-SE-1 8, CA-MTL-1 8                            US-IL-1 8, EU-CZ-1 4
//	NVIDIA A40                      US-KS-2 8, EU-SE-1 16                                        EUR-NO-1 4
//	NVIDIA GeForce RTX 5090         US-TX-3 8, EU-RO-1 16, EU-NL-1 8                             EU-CZ-1 4, US-IL-1 4
//	NVIDIA GeForce RTX 4090         US-TX-3 16, EU-RO-1 24, EUR-IS-1 16, US-IL-1 8               EU-CZ-1 8, US-IL-1 8, EUR-NO-1 8, AP-JP-1 4, OC-AU-1 4
//	AMD Instinct MI300X OAM         US-TX-3 8, EU-RO-1 8                                         -
//
// Data centers: US-TX-3, US-KS-2, US-GA-1, US-CA-2, US-IL-1, CA-MTL-1 (NORTH_AMERICA), EU-RO-1,
// EU-SE-1, EU-CZ-1, EU-NL-1, EUR-IS-1, EUR-NO-1 (EUROPE), AP-JP-1 (ASIA), OC-AU-1 (OCEANIA).
// AddDataCenter (POST /datacenters of the admin API) opens another one, as RunPod does from
// time to time; SetCapacity then gives it GPUs.
// CPU pods (flavors cpu3c/g/m, cpu5c/g/m) are not capacity-limited.
//
// The admin API (AdminHandler, mounted by the server under /_emulator/runpod) and the
// equivalent Go methods let tests shape capacity, fail or delete pods behind the client's back,
// and inspect state.
package runpod

import (
	"crypto/subtle"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// DefaultAPIKey is the bearer token the emulator accepts when Options.APIKey is empty.
const DefaultAPIKey = "runpod-emulator-key"

// Options configures an Emulator. Zero values take the defaults noted on each field.
type Options struct {
	// APIKey is the only accepted bearer token (default DefaultAPIKey).
	APIKey string
	// TimeScale multiplies every real-world duration below and the rate-limit windows
	// (default 1 = real time; 0.001 makes a 20 s boot take 20 ms).
	TimeScale float64
	// ProvisionTime is how long a pod stays PROVISIONING (default 20 s, real time;
	// negative skips the phase, as for StartTime).
	ProvisionTime time.Duration
	// StartTime is how long a pod stays STARTING (default 20 s, real time).
	StartTime time.Duration
	// PortsDelay is how long after becoming RUNNING a pod's public IP, port mappings and
	// direct SSH endpoint appear (default 10 s, real time; negative means at once).
	PortsDelay time.Duration
}

// terminatedRetention is how long a terminated pod still answers GET with status TERMINATED
// before it is gone (404), in real time before scaling.
const terminatedRetention = 10 * time.Second

// rateWindow is one of RunPod's published per-user quota windows.
type rateWindow struct {
	name   string
	quota  int
	length time.Duration
}

// rateWindows are the quotas the document's RateLimit-Policy example states:
// "minute";q=60;w=60, "hour";q=3000;w=3600, "day";q=50000;w=86400.
var rateWindows = []rateWindow{
	{"minute", 60, time.Minute},
	{"hour", 3000, time.Hour},
	{"day", 50000, 24 * time.Hour},
}

// Emulator is an in-memory RunPod REST v2 API. It is an http.Handler for the full /v2/... paths.
type Emulator struct {
	// Core does the shared counting, auth, rate limiting and fault injection.
	Core *emucore.Core

	opts    Options
	handler http.Handler
	mux     *http.ServeMux

	// Lifecycle durations, already scaled.
	provisionDur, startDur, portsDur, retention time.Duration

	mu       sync.Mutex
	pods     map[string]*pod
	gone     []*pod // pods swept or deleted out of band, kept for the admin view only
	clusters map[string]*cluster
	volumes  map[string]*volume
	// dcs are the data centers, in catalog order (defaultDataCenters, then those added).
	dcs []*dataCenter
	// templates are the account's own templates; the public catalog is catalogTemplates.
	templates map[string]*template
	// registries are the account's container registry credentials.
	registries map[string]*registry
	sshKeys    []string
	capacity   map[capKey]int
	// balance is the account balance in USD; +Inf (the default) means unlimited.
	balance float64
	nextVX  int // next VXLAN id handed to a cluster

	rl rateMirror
}

// New returns an emulator with default capacity and no resources.
func New(opts Options) *Emulator {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.TimeScale <= 0 {
		opts.TimeScale = 1
	}
	if opts.ProvisionTime == 0 {
		opts.ProvisionTime = 20 * time.Second
	}
	if opts.StartTime == 0 {
		opts.StartTime = 20 * time.Second
	}
	if opts.PortsDelay == 0 {
		opts.PortsDelay = 10 * time.Second
	}
	e := &Emulator{opts: opts}
	clock := emucore.Clock{Scale: opts.TimeScale}
	// Negative durations skip the phase.
	e.provisionDur = clock.D(max(opts.ProvisionTime, 0))
	e.startDur = clock.D(max(opts.StartTime, 0))
	e.portsDur = clock.D(max(opts.PortsDelay, 0))
	e.retention = clock.D(terminatedRetention)

	var rules []emucore.RateRule
	for _, w := range rateWindows {
		// A token bucket of quota tokens refilled over the window length is the closest
		// emucore shape to RunPod's per-window quotas.
		rules = append(rules, emucore.RateRule{Every: w.length / time.Duration(w.quota), Burst: w.quota})
	}
	e.Core = emucore.NewCore(emucore.Vendor{
		Name:          "runpod",
		Authenticate:  e.authenticate,
		WriteError:    e.writeVendorError,
		RateLimits:    rules,
		OnRateHeaders: e.onRateHeaders,
	}, clock)
	e.rl.init(clock)
	e.resetState()

	e.mux = http.NewServeMux()
	e.routes(e.mux)
	e.handler = e.Core.Wrap(e.mux)
	return e
}

func (e *Emulator) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v2/pods", e.listPods)
	mux.HandleFunc("POST /v2/pods", e.createPod)
	mux.HandleFunc("GET /v2/pods/{id}", e.getPod)
	mux.HandleFunc("PATCH /v2/pods/{id}", e.updatePod)
	mux.HandleFunc("DELETE /v2/pods/{id}", e.deletePod)
	mux.HandleFunc("POST /v2/pods/{id}/action", e.podAction)

	mux.HandleFunc("GET /v2/clusters", e.listClusters)
	mux.HandleFunc("POST /v2/clusters", e.createCluster)
	mux.HandleFunc("GET /v2/clusters/{id}", e.getCluster)
	mux.HandleFunc("PATCH /v2/clusters/{id}", e.updateCluster)
	mux.HandleFunc("DELETE /v2/clusters/{id}", e.deleteCluster)
	mux.HandleFunc("GET /v2/clusters/{id}/pods", e.listClusterPods)

	mux.HandleFunc("GET /v2/network-volumes", e.listVolumes)
	mux.HandleFunc("POST /v2/network-volumes", e.createVolume)
	mux.HandleFunc("GET /v2/network-volumes/{id}", e.getVolume)
	mux.HandleFunc("PATCH /v2/network-volumes/{id}", e.updateVolume)
	mux.HandleFunc("DELETE /v2/network-volumes/{id}", e.deleteVolume)

	mux.HandleFunc("GET /v2/templates", e.listTemplates)
	mux.HandleFunc("POST /v2/templates", e.createTemplate)
	mux.HandleFunc("GET /v2/templates/{id}", e.getTemplate)
	mux.HandleFunc("PATCH /v2/templates/{id}", e.updateTemplate)
	mux.HandleFunc("DELETE /v2/templates/{id}", e.deleteTemplate)

	mux.HandleFunc("GET /v2/registries", e.listRegistries)
	mux.HandleFunc("POST /v2/registries", e.createRegistry)
	mux.HandleFunc("GET /v2/registries/{id}", e.getRegistry)
	mux.HandleFunc("DELETE /v2/registries/{id}", e.deleteRegistry)

	mux.HandleFunc("GET /v2/account/ssh-keys", e.getSSHKeys)
	mux.HandleFunc("PUT /v2/account/ssh-keys", e.putSSHKeys)

	mux.HandleFunc("GET /v2/catalog/gpus", e.listGPUTypes)
	mux.HandleFunc("GET /v2/catalog/gpus/{id}", e.getGPUType)
	mux.HandleFunc("GET /v2/catalog/datacenters", e.listDataCenters)
	mux.HandleFunc("GET /v2/catalog/datacenters/{id}", e.getDataCenter)
	mux.HandleFunc("GET /v2/catalog/templates", e.listPublicTemplates)
}

// ServeHTTP serves the RunPod API at its full paths (/v2/...).
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := e.mux.Handler(r); pattern == "" {
		// Unknown path or method: the mux answers in plain text, RunPod in problem JSON.
		w = &problemWriter{ResponseWriter: w}
	}
	e.handler.ServeHTTP(w, r)
}

// resetState puts the emulator back to its initial state. Rate-limit buckets live in emucore
// and cannot be reset from here.
func (e *Emulator) resetState() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pods = map[string]*pod{}
	e.gone = nil
	e.clusters = map[string]*cluster{}
	e.volumes = map[string]*volume{}
	e.dcs = newDataCenters()
	e.templates = map[string]*template{}
	e.registries = map[string]*registry{}
	e.sshKeys = []string{}
	e.capacity = defaultCapacity()
	e.balance = math.Inf(1)
	e.nextVX = 100
}

// APIKey returns the bearer token the emulator accepts.
func (e *Emulator) APIKey() string { return e.opts.APIKey }

// authenticate accepts exactly "Authorization: Bearer <key>" (constant-time, like a real API).
func (e *Emulator) authenticate(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(token), []byte(e.opts.APIKey)) == 1
}

// writeVendorError writes RunPod's problem JSON for the errors emucore decides on.
func (e *Emulator) writeVendorError(w http.ResponseWriter, r *http.Request, status int, kind, message string) {
	detail := message
	switch kind {
	case "unauthorized":
		if detail == "" {
			detail = authFailure(r)
		}
		// 401s carry no RateLimit headers: the document returns them to authenticated callers.
	case "rate_limited":
		window := e.rl.exhaustedWindow(w.Header())
		if detail == "" {
			detail = "rate limit exceeded for the " + window + " window"
		}
	case "internal":
		if detail == "" {
			detail = "internal server error"
		}
	case "unavailable":
		if detail == "" {
			detail = "upstream service unavailable, please retry"
		}
	default:
		if detail == "" {
			detail = strings.ToLower(http.StatusText(status))
		}
	}
	writeProblem(w, status, detail)
}

// authFailure explains a failed bearer check the way the document's 401 example does.
func authFailure(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "missing bearer token"
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "malformed authorization header, expected 'Bearer <api_key>'"
	}
	return "invalid API key"
}

// onRateHeaders publishes RateLimit and RateLimit-Policy on every rate-limited (authenticated)
// response. emucore reports only its tightest bucket, while RunPod's headers list all three
// windows, so the emulator mirrors the buckets itself (see rateMirror).
func (e *Emulator) onRateHeaders(h http.Header, rule emucore.RateRule, remaining int, reset time.Duration) {
	e.rl.record(h, rule, remaining, reset)
}

// rateMirror follows emucore's token buckets (one per window, same arithmetic) so the emulator
// can publish the state of every window, which emucore's OnRateHeaders hook does not expose.
// The hook runs under emucore's lock once per rate-limited request, so calls are already
// serialized; the mirror keeps its own lock so it does not depend on that detail.
type rateMirror struct {
	mu     sync.Mutex
	clock  emucore.Clock
	tokens []float64
	last   time.Time
}

func (m *rateMirror) init(clock emucore.Clock) {
	m.clock = clock
	m.tokens = make([]float64, len(rateWindows))
	for i, w := range rateWindows {
		m.tokens[i] = float64(w.quota)
	}
}

func (m *rateMirror) every(i int) time.Duration {
	w := rateWindows[i]
	return m.clock.D(w.length / time.Duration(w.quota))
}

// record updates the mirror for one request and writes both headers.
func (m *rateMirror) record(h http.Header, rule emucore.RateRule, remaining int, reset time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if m.last.IsZero() {
		m.last = now
	}
	elapsed := now.Sub(m.last)
	m.last = now
	for i, w := range rateWindows {
		m.tokens[i] = min(float64(w.quota), m.tokens[i]+float64(elapsed)/float64(m.every(i)))
	}
	// emucore reports a refusal as remaining 0 with reset = the wait for one token, which is
	// at most one refill period of the slowest window; an admitted request's reset is
	// (quota-tokens+1) periods, i.e. at least 59 minute-periods when remaining is 0.
	tight := 0
	var slowest time.Duration
	for i, w := range rateWindows {
		if w.quota == rule.Burst {
			tight = i
		}
		slowest = max(slowest, m.every(i))
	}
	denied := remaining == 0 && reset <= slowest
	if !denied {
		for i := range m.tokens {
			m.tokens[i] = max(m.tokens[i]-1, 0)
		}
		// emucore's reset for an admitted request is (burst-tokens+1)*every with tokens taken
		// before the decrement, so the tightest bucket can be resynchronized exactly.
		m.tokens[tight] = float64(rateWindows[tight].quota) - float64(reset)/float64(m.every(tight))
	} else {
		m.tokens[tight] = min(m.tokens[tight], 0.999)
	}
	var state, policy []string
	for i, w := range rateWindows {
		r := int(math.Floor(m.tokens[i]))
		var t time.Duration
		if r == 0 {
			// Exhausted: the window "resets" for the caller when the next request fits.
			t = time.Duration((1 - m.tokens[i]) * float64(m.every(i)))
		} else {
			t = time.Duration((float64(w.quota) - m.tokens[i]) * float64(m.every(i)))
		}
		state = append(state, fmt.Sprintf("%q;r=%d;t=%d", w.name, r, ceilSeconds(t)))
		policy = append(policy, fmt.Sprintf("%q;q=%d;w=%d", w.name, w.quota, int(w.length/time.Second)))
	}
	h.Set("RateLimit", strings.Join(state, ", "))
	h.Set("RateLimit-Policy", strings.Join(policy, ", "))
}

// exhaustedWindow names the window a 429 is about, from the RateLimit header just written. An
// injected 429 (emucore fault) finds no exhausted window; then the minute window is blamed and
// the header is rewritten to agree with Retry-After, so clients see one consistent story.
func (m *rateMirror) exhaustedWindow(h http.Header) string {
	members := strings.Split(h.Get("RateLimit"), ", ")
	for _, mem := range members {
		name, rest, _ := strings.Cut(mem, ";")
		if strings.HasPrefix(rest, "r=0;") {
			return strings.Trim(name, `"`)
		}
	}
	if len(members) > 0 && strings.HasPrefix(members[0], `"minute"`) {
		retry := h.Get("Retry-After")
		if retry == "" {
			retry = "1"
		}
		members[0] = `"minute";r=0;t=` + retry
		h.Set("RateLimit", strings.Join(members, ", "))
	}
	return "minute"
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}

// ids are lowercase base-36 like RunPod's ("7h9k2m4n6p", "gfj8b292vyg08g").
func newID(n int) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// SetBalance sets the account balance in USD that creates and starts are checked against
// (402 when a pod's hourly cost exceeds it). math.Inf(1), the default, means unlimited.
func (e *Emulator) SetBalance(usd float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.balance = usd
}

// Reset clears every resource, restores the default capacity, balance, counters and faults.
func (e *Emulator) Reset() {
	e.resetState()
	e.Core.Stats.Reset()
	e.Core.ClearFaults()
	e.Core.ResetRateLimits()
}
