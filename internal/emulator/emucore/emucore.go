// Package emucore holds what every emulated cloud shares: scaled time, per-route call counters,
// vendor-style rate limiting and fault injection. Each vendor emulator (lambda, runpod, coreweave)
// builds its own API on a ServeMux and wraps it with Wrap; the vendor decides how auth, errors and
// 429 answers look, emucore decides when they happen.
//
// emucore must not import internal/clients: the emulators are an independent implementation of
// the vendors' contracts.
package emucore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Clock scales the vendors' real durations (boot times, rate-limit windows) so tests run fast.
// Scale 1 is real time; 0.01 makes a 3-minute boot take 1.8 s.
type Clock struct {
	Scale float64
}

// D returns the scaled form of a real-world duration. It never returns less than a millisecond
// for a positive input, so lifecycles still go through every state in order.
func (c Clock) D(d time.Duration) time.Duration {
	if c.Scale <= 0 || d <= 0 {
		return d
	}
	d = time.Duration(float64(d) * c.Scale)
	if d < time.Millisecond {
		d = time.Millisecond
	}
	return d
}

// Stats counts calls per route template ("GET /api/v1/instances/{id}"), and the answers of each
// route per HTTP status, so that a storm of 429s or 5xx is visible next to the call counts.
type Stats struct {
	mu       sync.Mutex
	counts   map[string]int
	byStatus map[string]map[string]int
}

// StatusDropped is the status key of a request whose connection was closed without an answer
// (the drop faults).
const StatusDropped = "dropped"

// IncStatus adds one answer with an HTTP status to a route; status 0 means the connection was
// dropped without an answer.
func (s *Stats) IncStatus(route string, status int) {
	key := StatusDropped
	if status > 0 {
		key = strconv.Itoa(status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byStatus == nil {
		s.byStatus = map[string]map[string]int{}
	}
	if s.byStatus[route] == nil {
		s.byStatus[route] = map[string]int{}
	}
	s.byStatus[route][key]++
}

// ByStatus returns, per route, how many answers carried each HTTP status ("200", "429", or
// StatusDropped).
func (s *Stats) ByStatus() map[string]map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]map[string]int, len(s.byStatus))
	for route, m := range s.byStatus {
		c := make(map[string]int, len(m))
		for k, v := range m {
			c[k] = v
		}
		out[route] = c
	}
	return out
}

// GetStatus returns how many answers of a route carried a status (0: dropped connections).
func (s *Stats) GetStatus(route string, status int) int {
	key := StatusDropped
	if status > 0 {
		key = strconv.Itoa(status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byStatus[route][key]
}

// Refused returns, per route, how many calls were answered 429 (the emulator's rate limits, an
// injected 429): the "429" column of ByStatus, for routes that had any.
func (s *Stats) Refused() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for route, m := range s.byStatus {
		if n := m[strconv.Itoa(http.StatusTooManyRequests)]; n > 0 {
			out[route] = n
		}
	}
	return out
}

// Inc adds one call to a route.
func (s *Stats) Inc(route string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = map[string]int{}
	}
	s.counts[route]++
}

// Snapshot returns a copy of the counters.
func (s *Stats) Snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Get returns the count for one route.
func (s *Stats) Get(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// Total returns the number of counted calls.
func (s *Stats) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.counts {
		n += v
	}
	return n
}

// Reset clears the counters.
func (s *Stats) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = nil
	s.byStatus = nil
}

// FaultAction is what an injected fault does to a matching request.
type FaultAction string

const (
	// FaultStatus answers with Status (and the vendor's error body) without running the handler.
	FaultStatus FaultAction = "status"
	// FaultDropAfterCommit runs the handler (so a create is committed) and then closes the
	// connection without answering: the client's "lost answer".
	FaultDropAfterCommit FaultAction = "drop_after_commit"
	// FaultDropBeforeCommit closes the connection without running the handler.
	FaultDropBeforeCommit FaultAction = "drop_before_commit"
	// FaultDelay sleeps Delay before running the handler.
	FaultDelay FaultAction = "delay"
	// FaultRateLimit answers with the vendor's 429 without running the handler.
	FaultRateLimit FaultAction = "rate_limit"
	// FaultCommitLate closes the connection at once without an answer, as FaultDropBeforeCommit
	// does, and runs the handler Delay later in the background, on a copy of the request and its
	// body with a fresh context (the answer goes to a recorder nobody reads): a create that the
	// cloud commits long after the client gave up, e.g. beyond the client's adoption window.
	// Core.LateCommits lists the held-back requests, so a test can wait for the commit.
	FaultCommitLate FaultAction = "commit_late"
)

// Fault is one injection rule. Route is a route template as counted in Stats ("POST /api/v1/instance-operations/launch");
// empty matches every route. Times limits how many requests it hits (0 = unlimited);
// Probability (0 < p < 1) hits requests at random, otherwise every matching request is hit.
// Delay is how long FaultDelay holds a request and how long FaultCommitLate holds back its
// commit; it is real time, not scaled by the Clock. Status and RetryAfter (seconds) shape the
// answers of FaultStatus and FaultRateLimit.
type Fault struct {
	Route       string        `json:"route,omitempty"`
	Action      FaultAction   `json:"action"`
	Status      int           `json:"status,omitempty"`
	Message     string        `json:"message,omitempty"`
	Delay       time.Duration `json:"delay,omitempty"`
	Times       int           `json:"times,omitempty"`
	Probability float64       `json:"probability,omitempty"`
	RetryAfter  int           `json:"retry_after_seconds,omitempty"`

	hits int
}

// RateRule is a vendor rate limit: at most one request per Every (real time, scaled by the
// Clock), with Burst requests allowed at once. Route empty means all routes share the bucket.
type RateRule struct {
	Route string
	Every time.Duration
	Burst int
}

// Vendor describes how one cloud answers: its auth check, its error body, its 429.
type Vendor struct {
	// Name is the key in /_emulator/stats ("lambda").
	Name string
	// Authenticate reports whether the request carries valid credentials.
	Authenticate func(r *http.Request) bool
	// WriteError writes the vendor's error body for a status. kind is one of
	// "unauthorized", "rate_limited", "internal", "unavailable", or "fault" (a generic injected status).
	WriteError func(w http.ResponseWriter, r *http.Request, status int, kind, message string)
	// RateLimits are the vendor's published limits; every matching rule must allow the request.
	RateLimits []RateRule
	// OnRateHeaders, when set, is called before every answer with the state of the tightest
	// bucket, so a vendor can publish RateLimit / RateLimit-Policy headers.
	OnRateHeaders func(h http.Header, rule RateRule, remaining int, reset time.Duration)
}

// Core is the shared middleware state for one emulated cloud.
type Core struct {
	Vendor Vendor
	Clock  Clock
	Stats  Stats

	mu           sync.Mutex
	faults       []*Fault
	late         []*LateCommit
	buckets      map[int]*bucket
	rateLimitOff atomic.Bool
}

// LateCommit is one request held back by a FaultCommitLate rule.
type LateCommit struct {
	Route string `json:"route"`
	// Due is when the handler is to run: when the connection was dropped, plus the Delay.
	Due time.Time `json:"due"`
	// Done says the handler has run; Status is the answer it gave (that nobody received) and
	// At when it finished.
	Done   bool      `json:"done"`
	Status int       `json:"status,omitempty"`
	At     time.Time `json:"at,omitempty"`
}

// LateCommits returns every request a FaultCommitLate rule has held back, in the order they
// came, with whether its handler has run yet. ClearFaults does not cancel them: a commit already
// under way at the cloud still lands.
func (c *Core) LateCommits() []LateCommit {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]LateCommit, 0, len(c.late))
	for _, l := range c.late {
		out = append(out, *l)
	}
	return out
}

// PendingLateCommits returns how many held-back requests have not run yet.
func (c *Core) PendingLateCommits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.late {
		if !l.Done {
			n++
		}
	}
	return n
}

// commitLate drops the client's connection and runs the handler on a copy of r after delay.
func (c *Core) commitLate(mux *http.ServeMux, w http.ResponseWriter, r *http.Request, route string, delay time.Duration) {
	// The body must be read before the connection is taken over; a body that cannot be read
	// whole was never a complete request, so nothing is committed.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		dropConnection(w)
		return
	}
	late := r.Clone(context.Background())
	late.Body = io.NopCloser(bytes.NewReader(body))
	late.ContentLength = int64(len(body))
	late.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	rec := &LateCommit{Route: route, Due: time.Now().Add(delay)}
	c.mu.Lock()
	c.late = append(c.late, rec)
	c.mu.Unlock()
	time.AfterFunc(delay, func() {
		out := httptest.NewRecorder()
		mux.ServeHTTP(out, late)
		c.mu.Lock()
		rec.Done, rec.Status, rec.At = true, out.Code, time.Now()
		c.mu.Unlock()
	})
	dropConnection(w)
}

// SetRateLimitEnabled turns the vendor rate limits on or off (off for tests that hammer on
// purpose); safe while serving.
func (c *Core) SetRateLimitEnabled(on bool) { c.rateLimitOff.Store(!on) }

// ResetRateLimits refills every bucket.
func (c *Core) ResetRateLimits() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buckets = map[int]*bucket{}
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewCore returns a Core for a vendor at a time scale.
func NewCore(v Vendor, clock Clock) *Core {
	return &Core{Vendor: v, Clock: clock, buckets: map[int]*bucket{}}
}

// AddFault installs a fault rule.
func (c *Core) AddFault(f Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ff := f
	c.faults = append(c.faults, &ff)
}

// ClearFaults removes every fault rule.
func (c *Core) ClearFaults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = nil
}

// Faults returns the installed rules with how often each has hit.
func (c *Core) Faults() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []map[string]any{}
	for _, f := range c.faults {
		out = append(out, map[string]any{"route": f.Route, "action": f.Action, "times": f.Times, "hits": f.hits})
	}
	return out
}

func (c *Core) pickFault(route string) *Fault {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.faults {
		if f.Route != "" && f.Route != route {
			continue
		}
		if f.Times > 0 && f.hits >= f.Times {
			continue
		}
		if f.Probability > 0 && f.Probability < 1 && rand.Float64() >= f.Probability {
			continue
		}
		f.hits++
		ff := *f
		return &ff
	}
	return nil
}

// allow takes a token from every bucket the route falls under. It returns false and the wait
// until the next token when any bucket is empty (and then takes nothing).
func (c *Core) allow(route string, h http.Header) (bool, time.Duration) {
	if c.rateLimitOff.Load() || len(c.Vendor.RateLimits) == 0 {
		return true, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	var matched []int
	for i, rule := range c.Vendor.RateLimits {
		if rule.Route != "" && rule.Route != route {
			continue
		}
		matched = append(matched, i)
	}
	var wait time.Duration
	tightest, tightRemaining, tightReset := -1, 0, time.Duration(0)
	for _, i := range matched {
		rule := c.Vendor.RateLimits[i]
		every := c.Clock.D(rule.Every)
		b := c.buckets[i]
		if b == nil {
			b = &bucket{tokens: float64(max(rule.Burst, 1)), last: now}
			c.buckets[i] = b
		}
		b.tokens = min(float64(max(rule.Burst, 1)), b.tokens+float64(now.Sub(b.last))/float64(every))
		b.last = now
		if b.tokens < 1 {
			if w := time.Duration((1 - b.tokens) * float64(every)); w > wait {
				wait = w
			}
		}
		rem := int(b.tokens) - 1
		if tightest < 0 || rem < tightRemaining {
			tightest, tightRemaining = i, rem
			tightReset = time.Duration((float64(max(rule.Burst, 1)) - b.tokens + 1) * float64(every))
		}
	}
	if wait > 0 {
		if tightest >= 0 && c.Vendor.OnRateHeaders != nil {
			c.Vendor.OnRateHeaders(h, c.Vendor.RateLimits[tightest], 0, wait)
		}
		return false, wait
	}
	for _, i := range matched {
		c.buckets[i].tokens--
	}
	if tightest >= 0 && c.Vendor.OnRateHeaders != nil {
		c.Vendor.OnRateHeaders(h, c.Vendor.RateLimits[tightest], max(tightRemaining, 0), tightReset)
	}
	return true, 0
}

// Wrap puts counting, auth, rate limits and faults in front of a vendor's mux. Requests that
// match no route are passed to the mux as they are (it answers 404/405) and counted as "unmatched".
// Every answer is also counted by its HTTP status (Stats.ByStatus).
func (c *Core) Wrap(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		route := pattern
		if route == "" {
			route = "unmatched " + r.Method + " " + r.URL.Path
		}
		c.Stats.Inc(route)
		// A dropped connection is counted as the connection is taken over, before the client
		// can see it close; every other answer when the handler returns.
		w := &statusRecorder{ResponseWriter: rw, onHijack: func() { c.Stats.IncStatus(route, 0) }}
		defer func() {
			if p := recover(); p != nil {
				if !w.hijacked {
					// An aborted answer (a drop fault over HTTP/2) never reached the client.
					c.Stats.IncStatus(route, 0)
				}
				panic(p)
			}
			if !w.hijacked {
				c.Stats.IncStatus(route, w.answered())
			}
		}()

		if c.Vendor.Authenticate != nil && !c.Vendor.Authenticate(r) {
			c.Vendor.WriteError(w, r, http.StatusUnauthorized, "unauthorized", "")
			return
		}
		if ok, wait := c.allow(route, w.Header()); !ok {
			secs := int(wait/time.Second) + 1
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			c.Vendor.WriteError(w, r, http.StatusTooManyRequests, "rate_limited", "")
			return
		}
		if f := c.pickFault(route); f != nil {
			switch f.Action {
			case FaultDelay:
				select {
				case <-time.After(f.Delay):
				case <-r.Context().Done():
					return
				}
			case FaultRateLimit:
				w.Header().Set("Retry-After", strconv.Itoa(max(f.RetryAfter, 1)))
				c.Vendor.WriteError(w, r, http.StatusTooManyRequests, "rate_limited", f.Message)
				return
			case FaultStatus:
				kind := "fault"
				switch f.Status {
				case http.StatusInternalServerError:
					kind = "internal"
				case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
					kind = "unavailable"
				}
				if f.RetryAfter > 0 {
					w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
				}
				c.Vendor.WriteError(w, r, f.Status, kind, f.Message)
				return
			case FaultDropBeforeCommit:
				dropConnection(w)
				return
			case FaultDropAfterCommit:
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, r)
				dropConnection(w)
				return
			case FaultCommitLate:
				c.commitLate(mux, w, r, route, f.Delay)
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status of an answer for Stats.IncStatus.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	hijacked bool
	onHijack func()
}

func (s *statusRecorder) WriteHeader(status int) {
	if s.status == 0 {
		s.status = status
	}
	s.ResponseWriter.WriteHeader(status)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush passes streaming answers through (the Kubernetes watches of the CoreWeave emulator).
func (s *statusRecorder) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack lets dropConnection close the connection; such a request had no answer.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("emucore: response writer cannot be hijacked")
	}
	if !s.hijacked {
		s.hijacked = true
		s.onHijack()
	}
	return hj.Hijack()
}

// answered is the status the client received; 200 when the handler wrote nothing (net/http then
// answers 200).
func (s *statusRecorder) answered() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		// HTTP/2 or a recorder: abort the handler, which resets the stream.
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// AdminHandler serves the per-cloud admin API under a prefix stripped by the caller:
//
//	GET    /stats             counters per route: {"GET /api/v1/instances": 12, ...}
//	GET    /stats?by=status   answers per route and HTTP status: {"GET /api/v1/instances": {"200": 9, "429": 3}}
//	GET    /stats/429         per route, the calls answered 429 (rate limited or injected): {"GET /api/v1/instances": 3}
//	DELETE /stats             reset counters
//	GET    /faults  installed faults
//	POST   /faults  add a fault (JSON Fault; delay as a Go duration string in "delay"); action is
//	                one of status, drop_after_commit, drop_before_commit, delay, rate_limit,
//	                commit_late (drop the connection now, run the request "delay" later)
//	DELETE /faults  clear faults (requests already held back by commit_late still run)
//	GET    /late-commits  the requests commit_late has held back, with "done" once they ran
//
// Vendors add their own state routes to the returned mux.
func (c *Core) AdminHandler() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		byStatus, err := StatsByStatus(r)
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
		case byStatus:
			WriteJSON(w, http.StatusOK, c.Stats.ByStatus())
		default:
			WriteJSON(w, http.StatusOK, c.Stats.Snapshot())
		}
	})
	mux.HandleFunc("GET /stats/429", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, c.Stats.Refused())
	})
	mux.HandleFunc("DELETE /stats", func(w http.ResponseWriter, _ *http.Request) {
		c.Stats.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, c.Faults())
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Fault
			Delay string `json:"delay"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f := in.Fault
		if in.Delay != "" {
			d, err := time.ParseDuration(in.Delay)
			if err != nil {
				http.Error(w, fmt.Sprintf("delay: %v", err), http.StatusBadRequest)
				return
			}
			f.Delay = d
		}
		switch f.Action {
		case FaultStatus, FaultDropAfterCommit, FaultDropBeforeCommit, FaultDelay, FaultRateLimit, FaultCommitLate:
		default:
			http.Error(w, "unknown action "+string(f.Action), http.StatusBadRequest)
			return
		}
		c.AddFault(f)
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, _ *http.Request) {
		c.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /late-commits", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, c.LateCommits())
	})
	return mux
}

// StatsByStatus reads the by query parameter of a stats request: absent for the call counts per
// route (the original shape, unchanged), "status" for the answers per route and HTTP status.
func StatsByStatus(r *http.Request) (bool, error) {
	switch by := r.URL.Query().Get("by"); by {
	case "":
		return false, nil
	case "status":
		return true, nil
	default:
		return false, fmt.Errorf("unknown by=%q: leave it out for call counts per route, or by=status for answers per route and HTTP status", by)
	}
}

// WriteJSON writes v as JSON with a status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// SortedKeys returns a map's keys in order, for deterministic listings.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// NewID returns a random lowercase hex id of n bytes.
func NewID(n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 2*n)
	for i := range b {
		b[i] = hex[rand.IntN(16)]
	}
	return string(b)
}
