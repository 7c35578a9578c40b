package apifake

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Patience bounds how long a test waits for something that happens at once when the code is
// right (a goroutine reaching a gate, a call returning): it only turns a hang into a failure
// with a message, and is far above what any loaded machine needs, so it is not a timing
// assertion.
const Patience = time.Minute

// UserAgent is the user agent the tests' clients send.
const UserAgent = "neocloud-test/1.0"

// WriteRaw answers status with a raw JSON body.
func WriteRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// WriteJSON answers status with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) { WriteRaw(w, status, MustJSON(v)) }

// MustJSON is v as JSON.
func MustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Status is a handler answering status with a raw JSON body.
func Status(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { WriteRaw(w, status, body) }
}

// Under is a handler answering 200 with the raw JSON body computes while holding mu: a list
// route of a stateful fake.
func Under(mu *sync.Mutex, body func() string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		WriteRaw(w, http.StatusOK, body())
	}
}

// Drop closes the connection without an answer: the server acted (or not), the client never
// hears of it.
func Drop(w http.ResponseWriter, _ *http.Request) { HangUp(w) }

// Lost is h acting on the request with its answer lost: the connection drops instead.
func Lost(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h(httptest.NewRecorder(), r)
		HangUp(w)
	}
}

// HangUp is Drop for code that has no request at hand.
func HangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("the test server cannot hijack connections")
	}
	if conn, _, err := hj.Hijack(); err == nil {
		_ = conn.Close()
	}
}

// Gate holds requests (a server that hangs) until the test opens it: the test learns when
// they have arrived from Wait, without sleeping.
type Gate struct {
	open    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	cond    *sync.Cond
	arrived int
}

// NewGate returns a closed gate, opened when the test ends at the latest so that no handler
// outlives it.
func NewGate(t testing.TB) *Gate {
	g := &Gate{open: make(chan struct{})}
	g.cond = sync.NewCond(&g.mu)
	t.Cleanup(g.Open)
	return g
}

// Hold is h behind the gate: the request counts as arrived, then waits until the gate opens
// (or the client hangs up) before h answers it. A nil h answers nothing (an empty 200).
func (g *Gate) Hold(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g.Arrive()
		select {
		case <-g.open:
		case <-r.Context().Done():
			return
		}
		if h != nil {
			h(w, r)
		}
	}
}

// Arrive counts one arrival and waits for the gate (for code that is not a handler).
func (g *Gate) Arrive() {
	g.mu.Lock()
	g.arrived++
	g.cond.Broadcast()
	g.mu.Unlock()
}

// Pass waits until the gate opens.
func (g *Gate) Pass() { <-g.open }

// Wait blocks until n arrivals have been counted (or fails the test after Patience).
func (g *Gate) Wait(t testing.TB, n int) {
	t.Helper()
	WaitUntil(t, Patience, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.arrived >= n
	})
}

// Await blocks until n arrivals have been counted, for a goroutine that is not the test's
// (it cannot fail the test: the test's own wait, such as Returns, bounds it).
func (g *Gate) Await(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.arrived < n {
		g.cond.Wait()
	}
}

// Arrived is how many arrivals have been counted.
func (g *Gate) Arrived() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.arrived
}

// Open lets every held request, and every later one, through.
func (g *Gate) Open() { g.once.Do(func() { close(g.open) }) }

// WaitUntil polls cond until it holds and fails the test if it still does not after timeout.
// The timeout only ends a wait for something that, with correct code, comes: it asserts
// nothing about how fast.
func WaitUntil(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for pause := 50 * time.Microsecond; !cond(); pause = min(2*pause, 10*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("condition still false after %s", timeout)
		}
		time.Sleep(pause)
	}
}

// Returns runs fn and fails the test if fn has not returned after Patience: for a call that
// must return without waiting on anything the test controls (a wait it must not start).
func Returns(t testing.TB, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(Patience):
		t.Fatalf("%s: still running after %s", what, Patience)
	}
}

// AssertJSON compares a request body with the expected JSON, ignoring formatting and key
// order; normalize (if any) adjusts the decoded body first.
func AssertJSON(t testing.TB, got []byte, want string, normalize ...func(any) any) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	for _, n := range normalize {
		g = n(g)
	}
	if gb, wb := MustJSON(g), MustJSON(w); gb != wb {
		t.Errorf("request body\n got: %s\nwant: %s", gb, wb)
	}
}

// DecodeObject is a request body that must be a JSON object.
func DecodeObject(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("request body is not a JSON object: %v: %s", err, b)
	}
	return m
}

// Expiring is a context whose deadline passes when the test says so (Expire), not at a time:
// a test can let a deadline pass at the moment it means (while the server holds the request),
// however slow the machine. Deadline reports deadline; Err is context.DeadlineExceeded once
// expired.
type Expiring struct {
	parent   context.Context
	deadline time.Time
	done     chan struct{}
	once     sync.Once
}

// NewExpiring returns a context with values from parent that claims deadline and ends only
// at Expire (or when the test ends).
func NewExpiring(t testing.TB, parent context.Context, deadline time.Time) *Expiring {
	c := &Expiring{parent: parent, deadline: deadline, done: make(chan struct{})}
	t.Cleanup(c.Expire)
	return c
}

// Expire lets the deadline pass.
func (c *Expiring) Expire() { c.once.Do(func() { close(c.done) }) }

// Deadline implements context.Context.
func (c *Expiring) Deadline() (time.Time, bool) { return c.deadline, true }

// Done implements context.Context.
func (c *Expiring) Done() <-chan struct{} { return c.done }

// Err implements context.Context.
func (c *Expiring) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// Value implements context.Context.
func (c *Expiring) Value(key any) any { return c.parent.Value(key) }

// Watched is a context that tells the test when the code under test first waits on it (asks
// for its Done channel): a reader parked on a shared fetch, a call held by a limiter. Contexts
// derived with a cancel (context.WithCancel and the like) ask at once, so watch the context
// the code waits on itself.
type Watched struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

// Watch wraps ctx.
func Watch(ctx context.Context) *Watched {
	return &Watched{Context: ctx, waiting: make(chan struct{})}
}

// Done implements context.Context, and marks the context as waited on.
func (w *Watched) Done() <-chan struct{} {
	w.once.Do(func() { close(w.waiting) })
	return w.Context.Done()
}

// WaitWaiting blocks until every one of ws has been waited on (or fails the test after
// Patience).
func WaitWaiting(t testing.TB, ws ...*Watched) {
	t.Helper()
	timeout := time.After(Patience)
	for i, w := range ws {
		select {
		case <-w.waiting:
		case <-timeout:
			t.Fatalf("context %d of %d was never waited on", i+1, len(ws))
		}
	}
}

// HighWater keeps the largest count a hook of the code under test reports (the ids waiting in
// a batch) and lets a test wait until it reaches a number.
type HighWater struct {
	mu   sync.Mutex
	cond *sync.Cond
	n    int
}

// NewHighWater returns a mark at 0.
func NewHighWater() *HighWater {
	h := &HighWater{}
	h.cond = sync.NewCond(&h.mu)
	return h
}

// Report is the hook: it raises the mark to n.
func (h *HighWater) Report(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n = max(h.n, n)
	h.cond.Broadcast()
}

// Wait blocks until the mark reaches n.
func (h *HighWater) Wait(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.n < n {
		h.cond.Wait()
	}
}
