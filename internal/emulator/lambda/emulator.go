// Package lambda is an in-memory emulator of the Lambda Cloud API 1.8.0
// (https://cloud.lambda.ai/api/v1), written from the vendor's published contract
// (Lambda Cloud API 1.8, its published models), not from our client. The provider's tests and
// the quickstart demo run against it instead of the real API.
//
// # Wire format
//
// Every route lives under /api/v1 exactly as on the real API. Success bodies are
// {"data": PAYLOAD}; failures are {"error": {"code", "message", "suggestion"}} with Lambda's
// codes and statuses:
//
//	401 global/invalid-api-key                                missing or wrong API key
//	400 global/invalid-parameters                             malformed or invalid request
//	404 global/object-does-not-exist                          unknown instance, key, filesystem, ruleset, type, image, or path
//	405 global/invalid-parameters                             a method the path does not take (with Allow)
//	400 instance-operations/launch/insufficient-capacity      no machine of that type left in that region
//	400 global/quota-exceeded                                 launch would pass the account's GPU quota
//	400 instance-operations/launch/file-system-in-wrong-region filesystem not in the launch region
//	400 filesystems/filesystem-in-use                         deleting a filesystem an instance mounts
//	400 firewall-rulesets/firewall-ruleset-in-use             deleting a ruleset an instance uses
//	409 global/duplicate                                      name already taken (SSH key, filesystem, ruleset)
//	429 global/rate-limited                                   over the rate limit, with Retry-After (seconds)
//	500 global/internal-error, 502/503/504 provider/internal-unavailable   injected faults only
//
// Auth is Lambda's: "Authorization: Bearer KEY", or HTTP Basic with KEY as the user name and an
// empty password.
//
// Rate limits are Lambda's published ones: about one request per second overall (a bucket of
// burst 2 refilled once a second) and one launch per 12 seconds (burst 1). Both windows are
// scaled by the time scale; call Core.SetRateLimitEnabled(false) to turn them off.
//
// # Lifecycle
//
// Instance state is computed lazily from timestamps, so the emulator runs no goroutines:
// launched instances are "booting" (no ip yet) for BootTime, then "active" with ip, private_ip,
// a default IP-based hostname and a Jupyter URL. A terminate makes them "terminating" for
// TerminateTime, then "terminated"; a terminated (or preempted) instance stays listed for a
// further 60 s (real time, scaled) and then vanishes: GET answers 404. A restart puts an instance
// back in "booting" (keeping its ip) for a third of BootTime. "unhealthy" and "preempted" are
// set through the admin API. All durations are real-world ones scaled by Options.TimeScale.
//
// A launch takes one machine from the capacity table and its GPUs from the quota; terminate,
// preemption and out-of-band deletion give both back at once.
//
// # Default capacity
//
// Machines free per instance type and region after New or a reset (tests and docs rely on it;
// a test keeps this comment and the table in catalog.go equal). Regions not listed for a type
// have none. Change it with SetCapacity or PUT /_emulator/lambda/capacity.
//
//	gpu_1x_a10              us-east-1=8 us-west-1=6 us-south-1=4
//	gpu_1x_a6000            us-south-1=6 us-west-1=2
//	gpu_2x_a6000            us-south-1=3
//	gpu_4x_a6000            us-south-1=2
//	gpu_1x_a100             us-south-1=4 us-west-2=2
//	gpu_1x_a100_sxm4        us-east-1=4 us-west-2=4 asia-south-1=2
//	gpu_2x_a100             us-south-1=2
//	gpu_4x_a100             us-south-1=1
//	gpu_8x_a100             us-east-1=2 us-west-1=1 europe-central-1=1 asia-northeast-1=1 me-west-1=1
//	gpu_8x_a100_80gb_sxm4   us-midwest-1=2 us-east-1=1
//	gpu_1x_h100_pcie        us-west-3=4 us-east-1=2 europe-central-1=2
//	gpu_1x_h100_sxm5        us-east-1=6 us-west-1=4 us-south-2=4
//	gpu_2x_h100_sxm5        us-east-1=2 us-south-2=2
//	gpu_4x_h100_sxm5        us-east-1=2 us-south-2=1
//	gpu_8x_h100_sxm5        us-east-1=4 us-west-1=2 us-south-1=2
//	gpu_1x_gh200            us-east-3=4 us-east-1=2
//	gpu_1x_b200_sxm6        us-south-3=2
//	gpu_8x_b200_sxm6        us-south-3=2 us-east-1=1
//	gpu_8x_v100             us-south-1=1
//
// The default GPU quota is 64 concurrent GPUs (Options.Quota, SetQuota, PUT /quota).
//
// # Admin API
//
// AdminHandler serves, relative to its own root (the combined server mounts it under
// /_emulator/lambda): emucore's /stats (calls per route; /stats?by=status the answers per route
// and HTTP status, where a 429 storm shows) and /faults, and
//
//	GET    /instances                  every instance launched since the last reset, with times
//	GET    /capacity                   the capacity table
//	PUT    /capacity                   {"instance_type","region","available"}
//	POST   /instances/{id}/preempt     the instance becomes "preempted"
//	POST   /instances/{id}/unhealthy   the instance becomes "unhealthy" until restarted
//	DELETE /instances/{id}             out-of-band deletion: it vanishes from the API at once
//	GET    /quota, PUT /quota          {"gpus": N}
//	POST   /reset                      back to the state New gave, counters and faults cleared
//
// The same operations are Go methods for in-process tests (SetCapacity, Preempt, ...).
package lambda

import (
	"bufio"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// Options configures an Emulator. Zero values take the defaults below.
type Options struct {
	// APIKey is the only key the emulator accepts (default DefaultAPIKey).
	APIKey string
	// TimeScale scales every real-world duration: boot, termination, linger and rate-limit
	// windows (default 1, real time; tests use 0.001 or so).
	TimeScale float64
	// BootTime is how long (real time, before scaling) a launched instance stays "booting".
	BootTime time.Duration
	// TerminateTime is how long (real time, before scaling) a terminated instance stays "terminating".
	TerminateTime time.Duration
	// Quota is the maximum number of GPUs in instances that are not terminating or gone
	// (0 = DefaultQuota).
	Quota int
}

// Defaults for Options.
const (
	DefaultAPIKey        = "lambda-emulator-key"
	DefaultBootTime      = 90 * time.Second
	DefaultTerminateTime = 20 * time.Second
	DefaultQuota         = 64
)

// terminatedLinger is how long (real time) a terminated or preempted instance stays listed
// before the API forgets it, as Lambda's listing keeps them for a short while.
const terminatedLinger = 60 * time.Second

// maxBodyBytes bounds request bodies: user_data may be 1 MB, and JSON escaping can grow it.
const maxBodyBytes = 4 << 20

// Emulator is one emulated Lambda Cloud account. It is an http.Handler serving /api/v1/...
type Emulator struct {
	// Core holds the shared middleware: call counters (Core.Stats), fault injection
	// (Core.AddFault) and rate limiting (Core.SetRateLimitEnabled).
	Core *emucore.Core

	opts    Options
	handler http.Handler
	mux     *http.ServeMux
	// now is the emulator's clock; a field so a test could pin it.
	now func() time.Time

	// mu guards everything below; every handler holds it while it reads or changes state.
	mu    sync.Mutex
	state *state
}

// state is everything a reset throws away.
type state struct {
	instances   map[string]*instance // every instance launched since the last reset, gone ones included
	sshKeys     map[string]*sshKey
	fileSystems map[string]*fileSystem
	rulesets    map[string]*firewallRuleset
	globalRules []firewallRule
	capacity    map[capacityKey]int
	quotaGPUs   int
	// ipSeq numbers the addresses handed out, so no two instances share one.
	ipSeq int
}

// New returns an emulator with the default catalog, capacity and quota and no instances,
// SSH keys, filesystems or firewall rulesets.
func New(opts Options) *Emulator {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.TimeScale <= 0 {
		opts.TimeScale = 1
	}
	if opts.BootTime <= 0 {
		opts.BootTime = DefaultBootTime
	}
	if opts.TerminateTime <= 0 {
		opts.TerminateTime = DefaultTerminateTime
	}
	if opts.Quota <= 0 {
		opts.Quota = DefaultQuota
	}
	e := &Emulator{opts: opts, now: time.Now}
	e.Core = emucore.NewCore(emucore.Vendor{
		Name:         "lambda",
		Authenticate: e.authenticate,
		WriteError:   writeVendorError,
		RateLimits: []emucore.RateRule{
			// "Requests to the API are generally limited to one request per second."
			// A burst of 2 lets a client follow a create with its read-back.
			{Every: time.Second, Burst: 2},
			// "Requests to /instance-operations/launch are limited to one request per 12 seconds."
			{Route: routeLaunch, Every: 12 * time.Second, Burst: 1},
		},
	}, emucore.Clock{Scale: opts.TimeScale})
	e.state = e.initialState()

	mux := http.NewServeMux()
	e.registerCatalog(mux)
	e.registerInstances(mux)
	e.registerSSHKeys(mux)
	e.registerFileSystems(mux)
	e.registerFirewall(mux)
	e.mux = mux
	e.handler = e.Core.Wrap(mux)
	return e
}

// APIKey returns the key the emulator accepts, for servers that print it or clients they build.
func (e *Emulator) APIKey() string { return e.opts.APIKey }

// ServeHTTP serves the Lambda API at /api/v1/...
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := e.mux.Handler(r); pattern == "" {
		// Unknown path or method: the mux answers in plain text, Lambda in its JSON error.
		w = &jsonErrorWriter{ResponseWriter: w, method: r.Method, path: r.URL.Path}
	}
	e.handler.ServeHTTP(w, r)
}

func (e *Emulator) initialState() *state {
	return &state{
		instances:   map[string]*instance{},
		sshKeys:     map[string]*sshKey{},
		fileSystems: map[string]*fileSystem{},
		rulesets:    map[string]*firewallRuleset{},
		globalRules: defaultGlobalRules(),
		capacity:    defaultCapacity(),
		quotaGPUs:   e.opts.Quota,
	}
}

// scaled turns a real-world duration into emulator time.
func (e *Emulator) scaled(d time.Duration) time.Duration {
	return e.Core.Clock.D(d)
}

// authenticate accepts Lambda's two forms: a bearer token, or Basic auth with the key as the user
// name and an empty password. The comparison is constant-time out of habit, not need.
func (e *Emulator) authenticate(r *http.Request) bool {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok {
		return false
	}
	switch strings.ToLower(scheme) {
	case "bearer":
		return sameKey(strings.TrimSpace(cred), e.opts.APIKey)
	case "basic":
		user, pass, ok := r.BasicAuth()
		return ok && pass == "" && sameKey(user, e.opts.APIKey)
	}
	return false
}

func sameKey(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// jsonErrorWriter turns the ServeMux's plain-text 404 and 405 answers (unknown path, or a method
// the path does not take) into Lambda's {"error": {...}} body, so a client reads a Lambda error
// whatever it called. The mux's Allow header of a 405 is kept. Other answers pass through
// (emucore's 401 and 429 are already Lambda's).
type jsonErrorWriter struct {
	http.ResponseWriter
	method, path     string
	swallow, started bool
}

func (j *jsonErrorWriter) WriteHeader(status int) {
	if j.started {
		return
	}
	j.started = true
	switch status {
	case http.StatusNotFound:
		j.swallow = true
		j.Header().Del("X-Content-Type-Options")
		writeError(j.ResponseWriter, &apiError{Status: status, Code: codeNotFound,
			Message:    fmt.Sprintf("There is no API endpoint at %s.", j.path),
			Suggestion: "Check the URL against the API reference: every endpoint is under /api/v1."})
	case http.StatusMethodNotAllowed:
		j.swallow = true
		j.Header().Del("X-Content-Type-Options")
		// The document has no code of its own for this: the request's method is an invalid parameter.
		writeError(j.ResponseWriter, &apiError{Status: status, Code: codeInvalidParameters,
			Message:    fmt.Sprintf("%s is not allowed for %s.", j.method, j.path),
			Suggestion: "Use one of the methods in the Allow header: " + j.Header().Get("Allow") + "."})
	default:
		j.ResponseWriter.WriteHeader(status)
	}
}

func (j *jsonErrorWriter) Write(b []byte) (int, error) {
	if !j.started {
		j.WriteHeader(http.StatusOK)
	}
	if j.swallow {
		return len(b), nil // the mux's plain-text body, already replaced
	}
	return j.ResponseWriter.Write(b)
}

// Hijack lets emucore's connection-drop faults work on unmatched routes too.
func (j *jsonErrorWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := j.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("lambda emulator: response writer cannot be hijacked")
	}
	return hj.Hijack()
}

// apiError is Lambda's error object; Status is the HTTP status it is sent with.
type apiError struct {
	Status     int    `json:"-"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	Suggestion string `json:"suggestion,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// Error codes from the 1.8.0 document (the 429 one is ours: the document defines none).
const (
	codeInvalidAPIKey        = "global/invalid-api-key"
	codeInvalidParameters    = "global/invalid-parameters"
	codeNotFound             = "global/object-does-not-exist"
	codeDuplicate            = "global/duplicate"
	codeQuotaExceeded        = "global/quota-exceeded"
	codeAccountInactive      = "global/account-inactive"
	codeInternal             = "global/internal-error"
	codeRateLimited          = "global/rate-limited"
	codeProviderUnavailable  = "provider/internal-unavailable"
	codeInsufficientCapacity = "instance-operations/launch/insufficient-capacity"
	codeFileSystemWrongRgn   = "instance-operations/launch/file-system-in-wrong-region"
	codeFileSystemInUse      = "filesystems/filesystem-in-use"
	codeRulesetInUse         = "firewall-rulesets/firewall-ruleset-in-use"
)

func errInvalidParameters(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalidParameters, Message: fmt.Sprintf(format, args...),
		Suggestion: "Check the request body against the API reference and try again."}
}

func errDuplicate(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusConflict, Code: codeDuplicate, Message: fmt.Sprintf(format, args...),
		Suggestion: "Choose a different name."}
}

func errInstanceNotFound() *apiError {
	return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "Specified instance does not exist."}
}

// errLaunchResourceNotFound is ApiErrorLaunchResourceNotFound: a launch names something that
// does not exist (an SSH key, a filesystem, an instance type, an image, a firewall ruleset).
func errLaunchResourceNotFound(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: fmt.Sprintf(format, args...),
		Suggestion: "Check the names and IDs in your launch request, then try again."}
}

// writeVendorError is emucore's hook: the 401s, 429s and injected faults, in Lambda's format.
func writeVendorError(w http.ResponseWriter, _ *http.Request, status int, kind, message string) {
	var e *apiError
	switch kind {
	case "unauthorized":
		e = &apiError{Code: codeInvalidAPIKey, Message: "API key was invalid, expired, or deleted.",
			Suggestion: "Check your API key or create a new one, then try again."}
	case "rate_limited":
		e = &apiError{Code: codeRateLimited,
			Message:    "Too many requests. The API allows about one request per second, and one launch request every 12 seconds.",
			Suggestion: "Wait for the number of seconds in the Retry-After header, then try again."}
	case "unavailable":
		// The document's own example of an upstream failure.
		e = &apiError{Code: codeProviderUnavailable, Message: "Provider unavailable", Suggestion: "Try again shortly"}
	default:
		e = errorForStatus(status)
	}
	e.Status = status
	if message != "" {
		e.Message = message
	}
	writeError(w, e)
}

// errorForStatus picks the documented error a generic injected status would carry.
func errorForStatus(status int) *apiError {
	switch status {
	case http.StatusBadRequest:
		return &apiError{Code: codeInvalidParameters, Message: "Invalid request data."}
	case http.StatusUnauthorized:
		return &apiError{Code: codeInvalidAPIKey, Message: "API key was invalid, expired, or deleted.",
			Suggestion: "Check your API key or create a new one, then try again."}
	case http.StatusForbidden:
		return &apiError{Code: codeAccountInactive, Message: "Your account is inactive.",
			Suggestion: "Make sure you have verified your email address and have a valid payment method. Contact Support if problems continue."}
	case http.StatusNotFound:
		return &apiError{Code: codeNotFound, Message: "The requested object does not exist."}
	case http.StatusConflict:
		return &apiError{Code: codeDuplicate, Message: "The object already exists."}
	case http.StatusTooManyRequests:
		return &apiError{Code: codeRateLimited, Message: "Too many requests.", Suggestion: "Try again later."}
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return &apiError{Code: codeProviderUnavailable, Message: "Provider unavailable", Suggestion: "Try again shortly"}
	default:
		return &apiError{Code: codeInternal, Message: "An internal server error occurred.",
			Suggestion: "Try again later. Contact Support if the problem persists."}
	}
}

func writeError(w http.ResponseWriter, e *apiError) {
	emucore.WriteJSON(w, e.Status, map[string]any{"error": e})
}

// respond writes {"data": data}, or the error when there is one.
func respond(w http.ResponseWriter, data any, err *apiError) {
	if err != nil {
		writeError(w, err)
		return
	}
	emucore.WriteJSON(w, http.StatusOK, map[string]any{"data": data})
}

// decodeJSON reads a JSON object body into v. Unknown fields are ignored, as a tolerant API
// does; wrong types, trailing garbage and oversized bodies are invalid parameters.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) *apiError {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return errInvalidParameters("The request body is empty; a JSON object is required.")
		case errors.As(err, &tooBig):
			return errInvalidParameters("The request body is larger than %d bytes.", tooBig.Limit)
		default:
			return errInvalidParameters("The request body is not valid JSON for this request: %v", err)
		}
	}
	if dec.More() {
		return errInvalidParameters("The request body has data after its JSON object.")
	}
	return nil
}

// nonNil makes a nil slice encode as [] rather than null, as Lambda's lists default to [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
