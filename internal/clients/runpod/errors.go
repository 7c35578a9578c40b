package runpod

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// capacityPhrases are the ways RunPod says "no machine for this request". The API document
// states that capacity exhaustion "carries no machine-readable code of its own — only a
// human-readable detail" on a 400, so the detail text is all there is to go by. Matched
// case-insensitively as substrings.
var capacityPhrases = []string{
	"no longer any instances available",              // createPod, the usual wording
	"does not have the resources to deploy your pod", // a data center or machine without room
	"no instances available",
	"not enough capacity",
	"insufficient capacity",
	"no capacity",
	"could not be placed", // the document's own description of the case
	"out of capacity",
}

// isCapacityDetail reports whether a problem detail reads like a capacity refusal.
func isCapacityDetail(detail string) bool {
	d := strings.ToLower(detail)
	for _, p := range capacityPhrases {
		if strings.Contains(d, p) {
			return true
		}
	}
	return false
}

// decodeError reads RunPod's problem JSON ({title, status, detail, errors}) and classifies it
// by HTTP status, and for 400/409 by the detail text. A body that is not problem JSON (a
// proxy's HTML page) returns nil: httpx then classifies it by status alone.
func decodeError(resp *http.Response, body []byte) *clients.APIError {
	p, ok := parseProblem(body)
	if !ok {
		return nil
	}
	e := &clients.APIError{Code: p.Title, Message: p.Detail}
	if len(p.Errors) > 0 {
		list := strings.Join(p.Errors, "; ")
		if e.Message == "" {
			e.Message = list
		} else {
			e.Message = strings.TrimRight(e.Message, ". ") + ": " + list
		}
	}
	switch status := resp.StatusCode; {
	case status == http.StatusNotFound:
		e.Kind = clients.ErrNotFound
	case (status == http.StatusBadRequest || status == http.StatusConflict) && isCapacityDetail(p.Detail):
		e.Kind = clients.ErrCapacity
		e.Suggestion = "try another data center, GPU type or count, the COMMUNITY cloud, or again later"
	case (status == http.StatusBadRequest || status == http.StatusConflict) && strings.Contains(strings.ToLower(p.Detail), "in use"):
		// The document answers 400 to deleting what something still uses (a template, a
		// registry credential; a network volume likewise): a state that passes, not bad input.
		e.Kind = clients.ErrConflict
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		e.Kind = clients.ErrInvalid
	case status == http.StatusConflict:
		e.Kind = clients.ErrConflict
	case status == http.StatusUnauthorized:
		e.Kind = clients.ErrAuth
		e.Suggestion = "check the RunPod API key (api_key in the provider's runpod block, or " + keyEnv + ")"
	case status == http.StatusForbidden:
		e.Kind = clients.ErrAuth
		e.Suggestion = "the RunPod API key is valid but lacks access to this resource or action; check the key's permissions"
	case status == http.StatusPaymentRequired:
		e.Kind = clients.ErrQuota
		if e.Message == "" {
			e.Message = "insufficient balance"
		}
		e.Suggestion = "the RunPod account balance cannot pay for this; add funds in the RunPod console"
	case status == http.StatusTooManyRequests:
		// A 429 means the server did nothing, whatever the body says.
		e.Kind = clients.ErrRateLimited
	}
	// 5xx keeps a nil Kind: on a create, httpx turns it into ErrOutcomeUnknown, because the
	// server may have acted before failing.
	return e
}

// parseProblem reads a problem JSON body; ok is false when the body is not one.
func parseProblem(body []byte) (ErrorResponse, bool) {
	var p ErrorResponse
	err := json.Unmarshal(body, &p)
	return p, err == nil && (p.Title != "" || p.Detail != "" || len(p.Errors) > 0)
}

// apiStatus is the HTTP status of an API error, or 0 for any other error.
func apiStatus(err error) int {
	var apiErr *clients.APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}
