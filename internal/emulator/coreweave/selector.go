package coreweave

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Label selectors, field selectors and the label syntax rules, as k8s.io/apimachinery has them.

// requirement is one term of a label selector.
type requirement struct {
	key    string
	op     string // exists, !exists, =, !=, in, notin, gt, lt
	values []string
}

// labelSelector is a conjunction of requirements; the empty selector matches everything.
type labelSelector []requirement

var setRequirementRE = regexp.MustCompile(`^(\S+?)\s+(in|notin)\s*\((.*)\)$`)

// parseLabelSelector parses the labelSelector query parameter: "a=b,c!=d,e in (x,y),f notin (z),g,!h".
func parseLabelSelector(s string) (labelSelector, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var terms []string
	depth, start := 0, 0
	for i, ch := range s {
		switch ch {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				terms = append(terms, s[start:i])
				start = i + 1
			}
		}
	}
	terms = append(terms, s[start:])
	var sel labelSelector
	for _, t := range terms {
		t = strings.TrimSpace(t)
		if t == "" {
			return nil, fmt.Errorf("found '', expected: identifier in %q", s)
		}
		req, err := parseRequirement(t)
		if err != nil {
			return nil, err
		}
		sel = append(sel, req)
	}
	return sel, nil
}

func parseRequirement(t string) (requirement, error) {
	var req requirement
	switch {
	case strings.HasPrefix(t, "!"):
		req = requirement{key: strings.TrimSpace(t[1:]), op: "!exists"}
	case setRequirementRE.MatchString(t):
		m := setRequirementRE.FindStringSubmatch(t)
		req = requirement{key: m[1], op: m[2]}
		for _, v := range strings.Split(m[3], ",") {
			req.values = append(req.values, strings.TrimSpace(v))
		}
	case strings.Contains(t, "!="):
		k, v, _ := strings.Cut(t, "!=")
		req = requirement{key: strings.TrimSpace(k), op: "!=", values: []string{strings.TrimSpace(v)}}
	case strings.Contains(t, "=="):
		k, v, _ := strings.Cut(t, "==")
		req = requirement{key: strings.TrimSpace(k), op: "=", values: []string{strings.TrimSpace(v)}}
	case strings.Contains(t, "="):
		k, v, _ := strings.Cut(t, "=")
		req = requirement{key: strings.TrimSpace(k), op: "=", values: []string{strings.TrimSpace(v)}}
	case strings.Contains(t, ">"), strings.Contains(t, "<"):
		sep, op := ">", "gt"
		if strings.Contains(t, "<") {
			sep, op = "<", "lt"
		}
		k, v, _ := strings.Cut(t, sep)
		v = strings.TrimSpace(v)
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return requirement{}, fmt.Errorf("for 'Gt', 'Lt' operators, the value must be an integer: %q", t)
		}
		req = requirement{key: strings.TrimSpace(k), op: op, values: []string{v}}
	default:
		if strings.ContainsAny(t, " ()") {
			return requirement{}, fmt.Errorf("unable to parse %q", t)
		}
		req = requirement{key: t, op: "exists"}
	}
	if msgs := validateLabelKey(req.key); len(msgs) > 0 {
		return requirement{}, fmt.Errorf("key: Invalid value: %q: %s", req.key, strings.Join(msgs, "; "))
	}
	if req.op == "in" || req.op == "notin" || req.op == "=" || req.op == "!=" {
		for _, v := range req.values {
			if msgs := validateLabelValue(v); len(msgs) > 0 {
				return requirement{}, fmt.Errorf("values[0][%s]: Invalid value: %q: %s", req.key, v, strings.Join(msgs, "; "))
			}
		}
	}
	return req, nil
}

func (s labelSelector) matches(labels map[string]string) bool {
	for _, req := range s {
		v, has := labels[req.key]
		switch req.op {
		case "exists":
			if !has {
				return false
			}
		case "!exists":
			if has {
				return false
			}
		case "=", "in":
			if !has || !contains(req.values, v) {
				return false
			}
		case "!=", "notin":
			if has && contains(req.values, v) {
				return false
			}
		case "gt", "lt":
			if !has {
				return false
			}
			got, err1 := strconv.ParseInt(v, 10, 64)
			want, err2 := strconv.ParseInt(req.values[0], 10, 64)
			if err1 != nil || err2 != nil || (req.op == "gt" && got <= want) || (req.op == "lt" && got >= want) {
				return false
			}
		}
	}
	return true
}

// fieldRequirement is one term of a field selector.
type fieldRequirement struct {
	field, value string
	negate       bool
}

// parseFieldSelector parses "metadata.name=x,spec.unschedulable!=true" for the fields a resource supports.
func parseFieldSelector(s string, allowed []string) ([]fieldRequirement, *kubeStatus) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []fieldRequirement
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		var req fieldRequirement
		switch {
		case strings.Contains(t, "!="):
			k, v, _ := strings.Cut(t, "!=")
			req = fieldRequirement{field: k, value: v, negate: true}
		case strings.Contains(t, "=="):
			k, v, _ := strings.Cut(t, "==")
			req = fieldRequirement{field: k, value: v}
		case strings.Contains(t, "="):
			k, v, _ := strings.Cut(t, "=")
			req = fieldRequirement{field: k, value: v}
		default:
			return nil, statusBadRequest("invalid selector: '%s'; can't understand '%s'", s, t)
		}
		req.field, req.value = strings.TrimSpace(req.field), strings.TrimSpace(req.value)
		if !contains(allowed, req.field) {
			quoted := make([]string, len(allowed))
			for i, a := range allowed {
				quoted[i] = fmt.Sprintf("%q", a)
			}
			return nil, statusBadRequest("%q is not a known field selector: only %s", req.field, strings.Join(quoted, ", "))
		}
		out = append(out, req)
	}
	return out, nil
}

func matchFields(reqs []fieldRequirement, fields map[string]string) bool {
	for _, req := range reqs {
		if (fields[req.field] == req.value) == req.negate {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------------------------
// Name and label syntax (k8s.io/apimachinery/pkg/util/validation).

var (
	qualifiedNameRE = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	labelValueRE    = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)
	dns1123LabelRE  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123SubRE    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

const (
	qualifiedNameMsg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
	labelValueMsg    = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
	dns1123LabelMsg  = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
	dns1123SubMsg    = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)

// validateLabelKey checks a qualified name: an optional DNS subdomain prefix and "/", then a name.
func validateLabelKey(key string) []string {
	var msgs []string
	name := key
	if prefix, rest, hasPrefix := strings.Cut(key, "/"); hasPrefix {
		name = rest
		switch {
		case prefix == "":
			msgs = append(msgs, "prefix part must be non-empty")
		case len(prefix) > 253 || !dns1123SubRE.MatchString(prefix):
			msgs = append(msgs, "prefix part "+dns1123SubMsg)
		}
	}
	switch {
	case name == "":
		msgs = append(msgs, "name part must be non-empty")
	case len(name) > 63:
		msgs = append(msgs, "name part must be no more than 63 characters")
	case !qualifiedNameRE.MatchString(name):
		msgs = append(msgs, qualifiedNameMsg)
	}
	if strings.Count(key, "/") > 1 {
		msgs = append(msgs, "a qualified name must consist of alphanumeric characters, '-', '_' or '.', with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")
	}
	return msgs
}

func validateLabelValue(v string) []string {
	var msgs []string
	if len(v) > 63 {
		msgs = append(msgs, "must be no more than 63 characters")
	}
	if !labelValueRE.MatchString(v) {
		msgs = append(msgs, labelValueMsg)
	}
	return msgs
}

// validateLabels checks a label map at a field path.
func validateLabels(path string, labels map[string]string) []fieldError {
	var errs []fieldError
	for k, v := range labels {
		for _, m := range validateLabelKey(k) {
			errs = append(errs, fieldError{Type: fieldInvalid, Field: path, Value: k, Detail: m})
		}
		for _, m := range validateLabelValue(v) {
			errs = append(errs, fieldError{Type: fieldInvalid, Field: path, Value: v, Detail: m})
		}
	}
	return errs
}

// validateAnnotations checks annotation keys (values are free-form; total size is bounded).
func validateAnnotations(path string, annotations map[string]string) []fieldError {
	var errs []fieldError
	total := 0
	for k, v := range annotations {
		total += len(k) + len(v)
		for _, m := range validateLabelKey(strings.ToLower(k)) {
			errs = append(errs, fieldError{Type: fieldInvalid, Field: path, Value: k, Detail: m})
		}
	}
	if total > 256*1024 {
		errs = append(errs, fieldError{Type: fieldForbidden, Field: path, Detail: "may not be more than 262144 bytes in total"})
	}
	return errs
}

// nameFromPath is a tiny helper for handlers: the {name} path value.
func nameFromPath(r *http.Request) string { return r.PathValue("name") }
