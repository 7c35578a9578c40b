package runpod

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// problem is RunPod's error body: RFC 9457 problem JSON as the document's ErrorResponse schema
// spells it (title, status, detail, and errors for request-validation failures). RunPod does not
// send "type", so neither do we; RFC 9457 then reads it as about:blank.
type problem struct {
	Title  string   `json:"title"`
	Status int      `json:"status"`
	Detail string   `json:"detail"`
	Errors []string `json:"errors,omitempty"`
}

// writeProblem answers with a problem JSON body. The title is always the status's reason
// phrase, as in every example of the document ("Not Found", "Unprocessable Entity").
func writeProblem(w http.ResponseWriter, status int, detail string, errs ...string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Del("Content-Length")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs})
}

// writeJSON answers with an application/json body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// validationDetail is the detail RunPod sends with every 422 (from the document's example);
// the individual violations go into errors.
const validationDetail = "Request validation failed."

// capacityDetail is the text RunPod really answers a create with when the requested GPU
// cannot be placed. Clients match on it, so it must stay byte-for-byte identical.
const capacityDetail = "There are no longer any instances available with the requested specifications. Please refresh and try again."

// hostCapacityDetail is RunPod's answer to starting a stopped pod whose host has given its
// GPUs to someone else in the meantime (a stopped pod resumes onto the same machine).
const hostCapacityDetail = "There are not enough free GPUs on the host machine to start this pod."

// httpError carries a status and a problem detail out of the state functions, so handlers can
// keep their lock scopes short and answer in one place.
type httpError struct {
	status int
	detail string
	errs   []string
}

func (e *httpError) Error() string { return fmt.Sprintf("%d %s", e.status, e.detail) }

func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, detail: fmt.Sprintf(format, args...)}
}

// writeErr answers with err, which is normally an *httpError; anything else is a bug and
// answers 500 rather than panicking the server.
func writeErr(w http.ResponseWriter, err error) {
	var he *httpError
	if errors.As(err, &he) {
		writeProblem(w, he.status, he.detail, he.errs...)
		return
	}
	writeProblem(w, http.StatusInternalServerError, err.Error())
}

// maxBody bounds request bodies; RunPod bodies are small and this keeps a misbehaving client
// from exhausting the test process.
const maxBody = 1 << 20

// decodeBody reads a JSON object body, validates it against s and unmarshals it into dst.
// It returns the raw top-level object too, because PATCH handlers need to tell an absent field
// from an explicit null. Malformed JSON is a 400 (BadRequestError: "malformed"); a well-formed
// body that breaks the schema is a 422 carrying every violation in errors.
func decodeBody(r *http.Request, s *schema, dst any) (map[string]any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "could not read request body: %v", err)
	}
	if len(body) > maxBody {
		return nil, errorf(http.StatusBadRequest, "request body exceeds %d bytes", maxBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errorf(http.StatusBadRequest, "request body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf(http.StatusBadRequest, "request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, errorf(http.StatusBadRequest, "request body is not valid JSON: trailing data after the top-level value")
	}
	if errs := s.validate("$", v); len(errs) > 0 {
		return nil, &httpError{status: http.StatusUnprocessableEntity, detail: validationDetail, errs: errs}
	}
	raw, _ := v.(map[string]any)
	if dst != nil {
		if err := json.Unmarshal(body, dst); err != nil {
			// The schema accepted it, so this is a mismatch between schema and Go type: a bug.
			return nil, &httpError{status: http.StatusUnprocessableEntity, detail: validationDetail, errs: []string{"$: " + err.Error()}}
		}
	}
	return raw, nil
}

// schema is the small subset of JSON Schema the RunPod request bodies use. Request bodies are
// validated against it before anything else so that contract violations come back as one 422
// listing all of them, in the style of RunPod's validator ("$: additional properties 'bogus'
// not allowed"), instead of failing on the first bad field.
type schema struct {
	typ      string // "object", "string", "integer", "number", "boolean", "array", "map"
	nullable bool

	// object
	props    map[string]*schema
	required []string
	minProps int
	// requireUnless makes a property required unless another one is present
	// (CreatePodRequest: image is required unless templateId is set).
	requireUnless [2]string

	// array
	items    *schema
	maxItems int

	// map: an object whose values all follow values (additionalProperties: {schema})
	values *schema

	// string
	enum    []string
	minLen  int
	pattern *regexp.Regexp

	// integer / number
	hasMin, hasMax bool
	min, max       int64
}

func object(props map[string]*schema, required ...string) *schema {
	return &schema{typ: "object", props: props, required: required}
}
func str() *schema                  { return &schema{typ: "string"} }
func nonEmpty() *schema             { return &schema{typ: "string", minLen: 1} }
func boolean() *schema              { return &schema{typ: "boolean"} }
func arrayOf(items *schema) *schema { return &schema{typ: "array", items: items} }
func mapOf(values *schema) *schema  { return &schema{typ: "map", values: values} }
func enum(values ...string) *schema { return &schema{typ: "string", enum: values} }
func matching(re string) *schema {
	return &schema{typ: "string", pattern: regexp.MustCompile(re)}
}
func integer(lo int64) *schema { return &schema{typ: "integer", hasMin: true, min: lo} }
func intRange(lo, hi int64) *schema {
	return &schema{typ: "integer", hasMin: true, min: lo, hasMax: true, max: hi}
}
func (s *schema) orNull() *schema { c := *s; c.nullable = true; return &c }

// jsonType names the JSON type of a decoded value (decoded with UseNumber).
func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// validate returns every violation of s by v, each prefixed with its JSON path.
func (s *schema) validate(path string, v any) []string {
	got := jsonType(v)
	if got == "null" {
		if s.nullable {
			return nil
		}
		return []string{fmt.Sprintf("%s: got null, want %s", path, s.wantType())}
	}
	switch s.typ {
	case "object", "map":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %s, want object", path, got)}
		}
		if s.typ == "map" {
			var errs []string
			for _, k := range sortedKeys(m) {
				errs = append(errs, s.values.validate(path+"."+k, m[k])...)
			}
			return errs
		}
		return s.validateObject(path, m)
	case "array":
		a, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: got %s, want array", path, got)}
		}
		var errs []string
		if s.maxItems > 0 && len(a) > s.maxItems {
			errs = append(errs, fmt.Sprintf("%s: maximum %d items allowed, but got %d", path, s.maxItems, len(a)))
		}
		for i, item := range a {
			errs = append(errs, s.items.validate(fmt.Sprintf("%s[%d]", path, i), item)...)
		}
		return errs
	case "string":
		x, ok := v.(string)
		if !ok {
			return []string{fmt.Sprintf("%s: got %s, want string", path, got)}
		}
		if len(s.enum) > 0 && !slices.Contains(s.enum, x) {
			return []string{fmt.Sprintf("%s: value must be one of %s", path, quoteList(s.enum))}
		}
		if len([]rune(x)) < s.minLen {
			return []string{fmt.Sprintf("%s: length must be >= %d, but got %d", path, s.minLen, len([]rune(x)))}
		}
		if s.pattern != nil && !s.pattern.MatchString(x) {
			return []string{fmt.Sprintf("%s: '%s' does not match pattern '%s'", path, x, s.pattern.String())}
		}
	case "integer", "number":
		n, ok := v.(json.Number)
		if !ok || (s.typ == "integer" && got != "integer") {
			return []string{fmt.Sprintf("%s: got %s, want %s", path, got, s.typ)}
		}
		f, _ := n.Float64()
		if s.hasMin && f < float64(s.min) {
			return []string{fmt.Sprintf("%s: must be >= %d but found %s", path, s.min, n)}
		}
		if s.hasMax && f > float64(s.max) {
			return []string{fmt.Sprintf("%s: must be <= %d but found %s", path, s.max, n)}
		}
	case "boolean":
		if got != "boolean" {
			return []string{fmt.Sprintf("%s: got %s, want boolean", path, got)}
		}
	}
	return nil
}

func (s *schema) validateObject(path string, m map[string]any) []string {
	var errs []string
	var missing []string
	for _, r := range s.required {
		if _, ok := m[r]; !ok {
			missing = append(missing, r)
		}
	}
	if need, unless := s.requireUnless[0], s.requireUnless[1]; need != "" {
		_, hasNeed := m[need]
		_, hasUnless := m[unless]
		if !hasNeed && !hasUnless {
			missing = append(missing, need)
		}
	}
	if len(missing) == 1 {
		errs = append(errs, fmt.Sprintf("%s: missing property '%s'", path, missing[0]))
	} else if len(missing) > 1 {
		errs = append(errs, fmt.Sprintf("%s: missing properties %s", path, quoteList(missing)))
	}
	var extra []string
	for _, k := range sortedKeys(m) {
		if _, ok := s.props[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		errs = append(errs, fmt.Sprintf("%s: additional properties %s not allowed", path, quoteList(extra)))
	}
	if len(m) < s.minProps {
		errs = append(errs, fmt.Sprintf("%s: minimum %d properties required, but got %d", path, s.minProps, len(m)))
	}
	for _, k := range sortedKeys(m) {
		if ps, ok := s.props[k]; ok {
			errs = append(errs, ps.validate(path+"."+k, m[k])...)
		}
	}
	return errs
}

func (s *schema) wantType() string {
	if s.typ == "map" {
		return "object"
	}
	return s.typ
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + x + "'"
	}
	return strings.Join(q, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// problemWriter turns the ServeMux's own plain-text 404 / 405 answers for unknown paths and
// methods into problem JSON, as the document's NotFoundError / MethodNotAllowedError responses
// require. The mux sets Allow on a 405 before writing the header, so it is kept. Everything
// else (the vendor's own 401 / 429 answers) passes through untouched.
type problemWriter struct {
	http.ResponseWriter
	swallow, started bool
}

func (p *problemWriter) WriteHeader(status int) {
	if p.started {
		return
	}
	p.started = true
	switch status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		p.swallow = true
		p.ResponseWriter.Header().Del("X-Content-Type-Options")
		detail := "resource not found"
		if status == http.StatusMethodNotAllowed {
			detail = "The requested method is not allowed for this path."
		}
		writeProblem(p.ResponseWriter, status, detail)
	default:
		p.ResponseWriter.WriteHeader(status)
	}
}

func (p *problemWriter) Write(b []byte) (int, error) {
	if !p.started {
		p.WriteHeader(http.StatusOK)
	}
	if p.swallow {
		return len(b), nil // the mux's plain-text body, already replaced
	}
	return p.ResponseWriter.Write(b)
}

// Hijack lets emucore's connection-drop faults work on unmatched routes too.
func (p *problemWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := p.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("runpod emulator: response writer cannot be hijacked")
	}
	return hj.Hijack()
}
