// Package apifake is the HTTP test harness of the cloud clients' unit tests: one httptest
// server with a route table, a log of every request with per-route counts, scripted faults
// (status sequences, lost answers, hangs held by a gate until the test opens it) and a
// WaitUntil helper. It lives under internal/clients/internal so that only the clients
// packages' tests can import it; the emulators (internal/emulator) are separate and never use
// it.
//
// A Server knows nothing of any vendor: each package's tests write the vendor's answers
// (Lambda's {"data": ...}, RunPod's problem JSON, CoreWeave's Connect and Kubernetes errors)
// from the vendor's documents, as literal JSON, so that a wrong field name in a client cannot
// be mirrored by its test.
package apifake

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request the server received, as the tests look at it.
type Request struct {
	// Method and Path ("/instances", without the Config.Prefix); RawQuery is the query.
	Method, Path, RawQuery string
	// Auth, UserAgent and ContentType are the request's headers of those names.
	Auth, UserAgent, ContentType string
	Body                         []byte
	// At is when the request arrived.
	At time.Time
}

// Config sets up a Server.
type Config struct {
	// Prefix is the API's base path ("/api/v1"): stripped from every request's path before it
	// is logged and routed, and part of Endpoint.
	Prefix string
	// NotFound answers a request that no route takes (default: a plain 404).
	NotFound http.HandlerFunc
	// Front wraps the whole server, outside the log (a protocol translator: the log and the
	// routes see what it hands on).
	Front func(http.Handler) http.Handler
}

// Server is an httptest server with a route table and a request log.
type Server struct {
	t        testing.TB
	srv      *httptest.Server
	prefix   string
	notFound http.HandlerFunc
	patterns *http.ServeMux

	mu        sync.Mutex
	reqs      []Request
	routes    map[string]http.HandlerFunc
	scripts   map[string][]http.HandlerFunc
	before    func(w http.ResponseWriter, r *http.Request, body []byte) bool
	patterned bool
}

// New starts a server, closed when the test ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := &Server{
		t: t, prefix: cfg.Prefix, notFound: cfg.NotFound, patterns: http.NewServeMux(),
		routes: map[string]http.HandlerFunc{}, scripts: map[string][]http.HandlerFunc{},
	}
	if s.notFound == nil {
		s.notFound = func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no route "+r.Method+" "+r.URL.Path+" in this test", http.StatusNotFound)
		}
	}
	var h http.Handler = http.HandlerFunc(s.serve)
	if cfg.Front != nil {
		h = cfg.Front(h)
	}
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the server's root URL ("http://127.0.0.1:port").
func (s *Server) URL() string { return s.srv.URL }

// Endpoint is the API's base URL: URL and the Prefix.
func (s *Server) Endpoint() string { return s.srv.URL + s.prefix }

// Handle routes "method path" (path without the Prefix, unescaped, matched exactly) to h,
// replacing any earlier handler of that route.
func (s *Server) Handle(method, path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[method+" "+path] = h
}

// HandlePattern routes an http.ServeMux pattern ("GET /clusters/{id}", matched against the
// path without the Prefix) to h, for the requests no exact route takes. A pattern is
// registered once.
func (s *Server) HandlePattern(pattern string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.patterns.HandleFunc(pattern, h)
	s.patterned = true
}

// Script answers the next len(steps) requests to "method path" with steps, in order; the
// requests after them go to the route's handler again. Scripts queue behind one another.
func (s *Server) Script(method, path string, steps ...http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := method + " " + path
	s.scripts[k] = append(s.scripts[k], steps...)
}

// Before runs fn first for every request (after it is logged); fn returns true when it has
// answered. Nil removes it.
func (s *Server) Before(fn func(w http.ResponseWriter, r *http.Request, body []byte) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.before = fn
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, s.prefix)
	key := r.Method + " " + path
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{
		Method: r.Method, Path: path, RawQuery: r.URL.RawQuery, Auth: r.Header.Get("Authorization"),
		UserAgent: r.Header.Get("User-Agent"), ContentType: r.Header.Get("Content-Type"), Body: body, At: time.Now(),
	})
	before := s.before
	var h http.HandlerFunc
	if steps := s.scripts[key]; len(steps) > 0 {
		h, s.scripts[key] = steps[0], steps[1:]
	} else {
		h = s.routes[key]
	}
	patterned := s.patterned
	s.mu.Unlock()

	r.Body = io.NopCloser(bytes.NewReader(body))
	if before != nil && before(w, r, body) {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if patterned {
		rel := r.Clone(r.Context())
		rel.URL.Path, rel.URL.RawPath = path, ""
		if _, pattern := s.patterns.Handler(rel); pattern != "" {
			if h == nil {
				s.patterns.ServeHTTP(w, rel)
				return
			}
			// A script step or exact route on a patterned path sees the pattern's PathValues.
			one := http.NewServeMux()
			one.HandleFunc(pattern, h)
			one.ServeHTTP(w, rel)
			return
		}
	}
	if h != nil {
		h(w, r)
		return
	}
	s.notFound(w, r)
}

// Log is every request so far, in order.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Requests lists the requests to "method path", in order.
func (s *Server) Requests(method, path string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.reqs {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Count is how many requests "method path" received.
func (s *Server) Count(method, path string) int { return len(s.Requests(method, path)) }

// WantCount fails the test unless "method path" received want requests; what names them in
// the message ("creates").
func (s *Server) WantCount(t testing.TB, method, path string, want int, what string) {
	t.Helper()
	if n := s.Count(method, path); n != want {
		t.Errorf("%d %s, want %d", n, what, want)
	}
}

// Gap is the time between the i-th and the i+1-th request (1-based) to "method path"; the test
// fails when there were fewer. A lower bound on it (a retry came no sooner than the server
// asked) holds however loaded the machine is.
func (s *Server) Gap(t testing.TB, method, path string, i int) time.Duration {
	t.Helper()
	rs := s.Requests(method, path)
	if len(rs) < i+1 {
		t.Fatalf("%d requests %s %s, want at least %d", len(rs), method, path, i+1)
	}
	return rs[i].At.Sub(rs[i-1].At)
}

// Counts is the number of requests per route ("GET /instances").
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, r := range s.reqs {
		out[r.Method+" "+r.Path]++
	}
	return out
}

// Total is how many requests the server received.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// Last is the latest request; the test fails when there was none.
func (s *Server) Last() Request {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		s.t.Fatal("no request was made")
	}
	return s.reqs[len(s.reqs)-1]
}

// Sequence lists "METHOD path" of every request whose path starts with one of prefixes, in
// order.
func (s *Server) Sequence(prefixes ...string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.reqs {
		for _, p := range prefixes {
			if strings.HasPrefix(r.Path, p) {
				out = append(out, r.Method+" "+r.Path)
				break
			}
		}
	}
	return out
}

// Want is what a test expects of one request: its route, credentials and JSON body.
type Want struct {
	Method, Path string
	// Query is compared as parsed values when CheckQuery is set ("" then means none).
	Query      string
	CheckQuery bool
	Auth       string // the whole Authorization header
	UserAgent  string
	// Body is the expected JSON body ("": no body), compared as AssertJSON does after
	// Normalize (if any) on the body sent.
	Body      string
	Normalize func(any) any
}

// Check compares the request with w, stopping the test when it went to another route.
func (r Request) Check(t testing.TB, w Want) {
	t.Helper()
	if r.Method != w.Method || r.Path != w.Path {
		t.Fatalf("sent %s %s, want %s %s", r.Method, r.Path, w.Method, w.Path)
	}
	if w.CheckQuery {
		got, _ := url.ParseQuery(r.RawQuery)
		want, _ := url.ParseQuery(w.Query)
		if got.Encode() != want.Encode() {
			t.Errorf("query %q, want %q", r.RawQuery, w.Query)
		}
	}
	if r.Auth != w.Auth {
		t.Errorf("Authorization = %q", r.Auth)
	}
	if r.UserAgent != w.UserAgent {
		t.Errorf("User-Agent = %q", r.UserAgent)
	}
	if w.Body == "" {
		if len(r.Body) != 0 {
			t.Errorf("unexpected body %s", r.Body)
		}
		return
	}
	if r.ContentType != "application/json" {
		t.Errorf("Content-Type = %q", r.ContentType)
	}
	var normalize []func(any) any
	if w.Normalize != nil {
		normalize = append(normalize, w.Normalize)
	}
	AssertJSON(t, r.Body, w.Body, normalize...)
}
