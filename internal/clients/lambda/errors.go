package lambda

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Lambda error codes the adapter acts on (ApiError* models of API 1.8.0).
const (
	CodeInsufficientCapacity    = "instance-operations/launch/insufficient-capacity"
	CodeFileSystemInWrongRegion = "instance-operations/launch/file-system-in-wrong-region"
	CodeQuotaExceeded           = "global/quota-exceeded"
	CodeInvalidAPIKey           = "global/invalid-api-key"
	CodeAccountInactive         = "global/account-inactive"
	CodeInvalidAddress          = "global/invalid-address"
	CodeUnauthorized            = "global/unauthorized"
	CodeObjectDoesNotExist      = "global/object-does-not-exist"
	CodeInvalidParameters       = "global/invalid-parameters"
	CodeDuplicate               = "global/duplicate"
	CodeInternalError           = "global/internal-error"
	CodeFilesystemInUse         = "filesystems/filesystem-in-use"
	CodeFirewallRulesetInUse    = "firewall-rulesets/firewall-ruleset-in-use"
)

// kindForCode classifies a Lambda error code; nil leaves the decision to the HTTP status.
func kindForCode(code string) error {
	switch code {
	case CodeInsufficientCapacity:
		return clients.ErrCapacity
	case CodeQuotaExceeded:
		return clients.ErrQuota
	case CodeInvalidAPIKey, CodeAccountInactive, CodeUnauthorized, "unauthorized":
		return clients.ErrAuth
	case CodeObjectDoesNotExist:
		return clients.ErrNotFound
	case CodeInvalidParameters, CodeFileSystemInWrongRegion:
		return clients.ErrInvalid
	case CodeDuplicate, CodeFilesystemInUse, CodeFirewallRulesetInUse:
		return clients.ErrConflict
	}
	// The document names several not-found models; their codes all end like this, and a future
	// one ("instance-operations/launch/ssh-key-not-found") most likely will too.
	if strings.HasSuffix(code, "not-found") || strings.HasSuffix(code, "does-not-exist") {
		return clients.ErrNotFound
	}
	return nil
}

// decodeError reads Lambda's {"error": {"code", "message", "suggestion"}} answer. A 429 is
// always ErrRateLimited whatever its code says, because it means the server did nothing.
func decodeError(resp *http.Response, body []byte) *clients.APIError {
	b := parseErrorBody(body)
	if b.Error == nil {
		return nil // not Lambda's shape (a proxy's HTML page): classified by status
	}
	e := &clients.APIError{
		Code:       b.Error.Code,
		Message:    b.Error.Message,
		Suggestion: b.Error.Suggestion,
		Kind:       kindForCode(b.Error.Code),
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		e.Kind = clients.ErrRateLimited
	}
	return e
}

// parseErrorBody reads an error body; Error stays nil when the body is not Lambda's shape.
func parseErrorBody(body []byte) apiErrorBody {
	var b apiErrorBody
	if json.Unmarshal(body, &b) != nil {
		return apiErrorBody{}
	}
	return b
}
