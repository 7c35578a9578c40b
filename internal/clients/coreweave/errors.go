package coreweave

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// The platform API answers failures as Connect errors: {"code", "message", "details"}, with
// the Connect protocol's HTTP statuses. The code decides the kind, not the status: Connect
// sends failed_precondition as 400 (not 409) and resource_exhausted (quota, and rate limits
// alike) as 429.

// Error detail messages (google.rpc) the decoder reads.
const (
	detailBadRequest          = "google.rpc.BadRequest"
	detailPreconditionFailure = "google.rpc.PreconditionFailure"
	detailQuotaFailure        = "google.rpc.QuotaFailure"
	detailResourceInfo        = "google.rpc.ResourceInfo"
	detailErrorInfo           = "google.rpc.ErrorInfo"
)

// violation is one entry of a BadRequest, PreconditionFailure or QuotaFailure detail.
type violation struct {
	Type        string `json:"type"`
	Subject     string `json:"subject"`
	Field       string `json:"field"`
	Description string `json:"description"`
}

// details are what the decoder understood of an error's details.
type details struct {
	fieldViolations        []violation
	preconditionViolations []violation
	quotaViolations        []violation
	reason                 string // ErrorInfo.reason
}

// decodeError reads a Connect error body and classifies it by its code. A body that is not a
// Connect error (a proxy's HTML page) keeps the HTTP status as the only clue, except that a 404
// without a Connect body is a wrong endpoint or path, never a "the object is gone" answer:
// taking it for one would make the provider forget machines that exist. (The client reads
// errors through connect-go, rpcError; this JSON form is what its tests pin classify with.)
func decodeError(resp *http.Response, body []byte) *clients.APIError {
	var b ErrorBody
	if json.Unmarshal(body, &b) != nil || b.Code == "" {
		if resp.StatusCode == http.StatusNotFound {
			return &clients.APIError{Kind: clients.ErrInvalid, Message: strings.TrimSpace(truncate(string(body), 256)),
				Suggestion: "the endpoint answered 404 without a CoreWeave error: check the coreweave endpoint setting (" + endpointEnv + ")"}
		}
		return nil
	}
	return classify(b)
}

// classify turns a Connect error (code, message, details) into a typed error.
func classify(b ErrorBody) *clients.APIError {
	d := parseDetails(b.Details)
	e := &clients.APIError{Code: b.Code, Message: b.Message}
	switch b.Code {
	case CodeNotFound:
		e.Kind = clients.ErrNotFound
	case CodeAlreadyExists:
		e.Kind = clients.ErrConflict
	case CodeFailedPrecondition:
		e.Kind = preconditionKind(d.preconditionViolations, b.Message)
		e.Message = withViolations(b.Message, d.preconditionViolations)
	case CodeInvalidArgument, CodeOutOfRange:
		e.Kind = clients.ErrInvalid
		e.Message = withViolations(b.Message, d.fieldViolations)
	case CodeResourceExhausted:
		switch {
		case isCapacityText(b.Message) || anyCapacity(d.quotaViolations):
			e.Kind = clients.ErrCapacity
			e.Suggestion = "try another zone or instance type, or ask CoreWeave for capacity"
		case len(d.quotaViolations) > 0 || strings.Contains(strings.ToLower(b.Message), "quota"):
			e.Kind = clients.ErrQuota
			e.Message = withViolations(b.Message, d.quotaViolations)
			e.Suggestion = "delete unused CoreWeave resources or ask CoreWeave to raise the organization's quota"
		default:
			// Without a quota detail, resource_exhausted on a 429 is a rate limit.
			e.Kind = clients.ErrRateLimited
		}
	case CodeUnauthenticated:
		e.Kind = clients.ErrAuth
		e.Suggestion = "check the CoreWeave API access token (api_token in the provider's coreweave block, or " + keyEnv + "); it looks like CW-SECRET-..."
	case CodePermissionDenied:
		e.Kind = clients.ErrAuth
		e.Suggestion = "the CoreWeave token is valid but may not do this; check its permissions in the CoreWeave console"
	case CodeUnimplemented:
		// The server does not serve this path or method: a wrong endpoint, not a missing object.
		e.Kind = clients.ErrInvalid
		e.Suggestion = "check the coreweave endpoint setting (" + endpointEnv + ")"
	}
	// unavailable, deadline_exceeded, internal, unknown, aborted keep a nil kind: httpx retries
	// them for reads and reports a create's as ErrOutcomeUnknown, since the server may have acted.
	return e
}

// preconditionKind decides whether a failed_precondition is a state that passes (a VPC still
// creating or still used by a cluster: ErrConflict, worth retrying) or a mistake in the
// request (the VPC is in another zone, lacks a named prefix, a version skips a minor:
// ErrInvalid). CoreWeave does not publish its violation types, so the type and text are read.
func preconditionKind(vs []violation, message string) error {
	texts := []string{message}
	for _, v := range vs {
		texts = append(texts, v.Type, v.Description)
	}
	all := strings.ToLower(strings.Join(texts, " "))
	for _, transient := range []string{"not_ready", "not ready", "in_use", "in use", "state", "creating", "updating", "deleting", "once it is"} {
		if strings.Contains(all, transient) {
			return clients.ErrConflict
		}
	}
	for _, input := range []string{"not_found", "does not exist", "mismatch", "zone", "downgrade", "skew", "has no"} {
		if strings.Contains(all, input) {
			return clients.ErrInvalid
		}
	}
	return clients.ErrConflict
}

// capacityWords mark a resource_exhausted answer that is about machines, not quota.
var capacityWords = []string{"capacity", "no available", "not enough nodes", "insufficient"}

func isCapacityText(s string) bool {
	s = strings.ToLower(s)
	for _, w := range capacityWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

func anyCapacity(vs []violation) bool {
	for _, v := range vs {
		if isCapacityText(v.Description) || isCapacityText(v.Subject) {
			return true
		}
	}
	return false
}

// withViolations appends the violations to the message unless it already says them.
func withViolations(message string, vs []violation) string {
	var parts []string
	for _, v := range vs {
		text := v.Description
		if v.Field != "" {
			text = v.Field + ": " + text
		}
		if text != "" && !strings.Contains(message, text) {
			parts = append(parts, text)
		}
	}
	if len(parts) == 0 {
		return message
	}
	if message == "" {
		return strings.Join(parts, "; ")
	}
	return strings.TrimRight(message, ". ") + ": " + strings.Join(parts, "; ")
}

// violationShape is how one google.rpc detail type spells its violations.
type violationShape struct {
	fields    []string // the violation field each protobuf field number (from 1) fills
	debugList string   // the violations' list in the JSON debug copy
}

// violationShapes are the violation messages of BadRequest (FieldViolation), PreconditionFailure
// (Violation) and QuotaFailure (Violation), as google/rpc/error_details.proto numbers them.
var violationShapes = map[string]violationShape{
	detailBadRequest:          {[]string{"field", "description"}, "fieldViolations"},
	detailPreconditionFailure: {[]string{"type", "subject", "description"}, "violations"},
	detailQuotaFailure:        {[]string{"subject", "description"}, "violations"},
}

// set fills the violation field called name.
func (v *violation) set(name, s string) {
	switch name {
	case "type":
		v.Type = s
	case "subject":
		v.Subject = s
	case "field":
		v.Field = s
	case "description":
		v.Description = s
	}
}

// parseDetails reads the details the decoder understands. Each detail's binary value is the
// canonical form; the optional JSON "debug" copy is the fallback when the value cannot be read.
func parseDetails(ds []ErrorDetail) details {
	var out details
	for _, d := range ds {
		typ := d.Type
		if i := strings.LastIndex(typ, "/"); i >= 0 {
			typ = typ[i+1:] // type.googleapis.com/google.rpc.BadRequest
		}
		raw, err := decodeBase64(d.Value)
		if shape, ok := violationShapes[typ]; ok {
			vs, ok := protoViolations(raw, err, func(v *violation, n protowire.Number, s string) {
				if n >= 1 && int(n) <= len(shape.fields) {
					v.set(shape.fields[n-1], s)
				}
			})
			if !ok {
				vs = debugViolations(d.Debug, shape.debugList)
			}
			switch typ {
			case detailBadRequest:
				out.fieldViolations = append(out.fieldViolations, vs...)
			case detailPreconditionFailure:
				out.preconditionViolations = append(out.preconditionViolations, vs...)
			case detailQuotaFailure:
				if len(vs) == 0 {
					vs = []violation{{}} // a QuotaFailure without readable violations still says "quota"
				}
				out.quotaViolations = append(out.quotaViolations, vs...)
			}
			continue
		}
		if typ == detailErrorInfo && err == nil {
			out.reason = protoString(raw, 1)
		}
	}
	return out
}

// decodeBase64 reads a detail value: Connect sends standard base64 without padding; padded
// input is accepted too.
func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err == nil {
		return b, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// protoViolations reads a google.rpc message whose field 1 repeats a violation message of
// string fields. ok is false when the bytes are not such a message.
func protoViolations(b []byte, decodeErr error, set func(*violation, protowire.Number, string)) ([]violation, bool) {
	if decodeErr != nil || len(b) == 0 {
		return nil, false
	}
	var out []violation
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType {
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return nil, false
			}
			b = b[m:]
			continue
		}
		msg, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return nil, false
		}
		b = b[m:]
		var v violation
		for len(msg) > 0 {
			fnum, ftyp, k := protowire.ConsumeTag(msg)
			if k < 0 {
				return nil, false
			}
			msg = msg[k:]
			if ftyp != protowire.BytesType {
				k = protowire.ConsumeFieldValue(fnum, ftyp, msg)
				if k < 0 {
					return nil, false
				}
				msg = msg[k:]
				continue
			}
			s, k := protowire.ConsumeString(msg)
			if k < 0 {
				return nil, false
			}
			msg = msg[k:]
			set(&v, fnum, s)
		}
		out = append(out, v)
	}
	return out, true
}

// protoString reads one top-level string field of a protobuf message ("" when absent).
func protoString(b []byte, field protowire.Number) string {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if num == field && typ == protowire.BytesType {
			s, m := protowire.ConsumeString(b)
			if m < 0 {
				return ""
			}
			return s
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return ""
		}
		b = b[m:]
	}
	return ""
}

// debugViolations reads violations from a detail's JSON debug copy, under key.
func debugViolations(raw json.RawMessage, key string) []violation {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var m map[string][]violation
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m[key]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// quotaFinalTransport sits below the shared HTTP stack and marks a quota refusal as final.
// Connect sends resource_exhausted as HTTP 429, which every HTTP stack (httpx included) reads
// as "slow down and retry"; a quota does not free itself in seconds, so retrying it six times
// only delays the error by a minute. A 429 whose Connect body carries a QuotaFailure detail (or
// reads like a capacity refusal) and no Retry-After gets a Retry-After far beyond what httpx is
// willing to wait, which stops its retries at once; rpcError then leaves out the RetryAfter the
// error would otherwise carry. Rate-limit 429s (no quota detail) pass untouched.
type quotaFinalTransport struct{ next http.RoundTripper }

// finalRetryAfter is the Retry-After (seconds) that makes httpx give up at once: a year.
const finalRetryAfter = "31536000"

func (t quotaFinalTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "" {
		return resp, err
	}
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if readErr == nil && isFinalExhaustion(body) {
		resp.Header = resp.Header.Clone()
		resp.Header.Set("Retry-After", finalRetryAfter)
	}
	return resp, nil
}

// isFinalExhaustion reports a resource_exhausted body that is about quota or capacity, not
// about the request rate.
func isFinalExhaustion(body []byte) bool {
	var b ErrorBody
	if json.Unmarshal(body, &b) != nil || b.Code != CodeResourceExhausted {
		return false
	}
	return len(parseDetails(b.Details).quotaViolations) > 0 || isCapacityText(b.Message)
}

// isAlreadyExists reports a platform API already_exists answer (a name taken).
func isAlreadyExists(err error) bool {
	var apiErr *clients.APIError
	return errors.As(err, &apiErr) && apiErr.Code == CodeAlreadyExists
}
