package coreweave

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
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

// parseDetails reads the details the decoder understands (google.rpc's error details, decoded
// with their published Go types). Each detail's binary value is the canonical form; the optional JSON "debug" copy is the fallback when the value cannot be read.
func parseDetails(ds []ErrorDetail) details {
	var out details
	for _, d := range ds {
		typ := d.Type
		if i := strings.LastIndex(typ, "/"); i >= 0 {
			typ = typ[i+1:] // type.googleapis.com/google.rpc.BadRequest
		}
		raw, err := decodeBase64(d.Value)
		readable := err == nil && len(raw) > 0
		switch typ {
		case detailBadRequest:
			var m errdetails.BadRequest
			if !readable || proto.Unmarshal(raw, &m) != nil {
				out.fieldViolations = append(out.fieldViolations, debugViolations(d.Debug, "fieldViolations")...)
				continue
			}
			for _, v := range m.GetFieldViolations() {
				out.fieldViolations = append(out.fieldViolations, violation{Field: v.GetField(), Description: v.GetDescription()})
			}
		case detailPreconditionFailure:
			var m errdetails.PreconditionFailure
			if !readable || proto.Unmarshal(raw, &m) != nil {
				out.preconditionViolations = append(out.preconditionViolations, debugViolations(d.Debug, "violations")...)
				continue
			}
			for _, v := range m.GetViolations() {
				out.preconditionViolations = append(out.preconditionViolations, violation{Type: v.GetType(), Subject: v.GetSubject(), Description: v.GetDescription()})
			}
		case detailQuotaFailure:
			var m errdetails.QuotaFailure
			var vs []violation
			if readable && proto.Unmarshal(raw, &m) == nil {
				for _, v := range m.GetViolations() {
					vs = append(vs, violation{Subject: v.GetSubject(), Description: v.GetDescription()})
				}
			} else {
				vs = debugViolations(d.Debug, "violations")
			}
			if len(vs) == 0 {
				vs = []violation{{}} // a QuotaFailure without readable violations still says "quota"
			}
			out.quotaViolations = append(out.quotaViolations, vs...)
		case detailErrorInfo:
			var m errdetails.ErrorInfo
			if readable && proto.Unmarshal(raw, &m) == nil {
				out.reason = m.GetReason()
			}
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
