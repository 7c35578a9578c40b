package coreweave

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"connectrpc.com/connect"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// This file holds the two error dialects the emulator speaks: Connect-style JSON errors on the
// platform API, and Kubernetes Status objects on each cluster's Kubernetes API.

// ---------------------------------------------------------------------------------------------
// Platform API: Connect errors.

// Connect error codes (https://connectrpc.com/docs/protocol#error-codes) the emulator uses.
const (
	codeInvalidArgument    = "invalid_argument"
	codeNotFound           = "not_found"
	codeAlreadyExists      = "already_exists"
	codeFailedPrecondition = "failed_precondition"
	codeResourceExhausted  = "resource_exhausted"
	codeUnauthenticated    = "unauthenticated"
	codePermissionDenied   = "permission_denied"
	codeUnimplemented      = "unimplemented"
	codeInternal           = "internal"
	codeUnavailable        = "unavailable"
	codeDeadlineExceeded   = "deadline_exceeded"
	codeAborted            = "aborted"
	codeUnknown            = "unknown"
)

// connectHTTPStatus is the Connect protocol's code -> HTTP status table. Note that
// failed_precondition is 400 there (not 409), and resource_exhausted is 429.
var connectHTTPStatus = map[string]int{
	codeInvalidArgument:    http.StatusBadRequest,
	codeNotFound:           http.StatusNotFound,
	codeAlreadyExists:      http.StatusConflict,
	codeFailedPrecondition: http.StatusBadRequest,
	codeResourceExhausted:  http.StatusTooManyRequests,
	codeUnauthenticated:    http.StatusUnauthorized,
	codePermissionDenied:   http.StatusForbidden,
	codeUnimplemented:      http.StatusNotImplemented,
	codeInternal:           http.StatusInternalServerError,
	codeUnavailable:        http.StatusServiceUnavailable,
	codeDeadlineExceeded:   http.StatusGatewayTimeout,
	codeAborted:            http.StatusConflict,
	codeUnknown:            http.StatusInternalServerError,
}

// apiError is a Connect error: {"code", "message", "details"}. status overrides the table's
// HTTP status when set (only the catch-all routes use it).
type apiError struct {
	status  int
	Code    string        `json:"code"`
	Message string        `json:"message,omitempty"`
	Details []errorDetail `json:"details,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func (e *apiError) httpStatus() int {
	if e.status != 0 {
		return e.status
	}
	if s, ok := connectHTTPStatus[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorDetail is one Connect error detail: the google.rpc message's full name, its binary
// protobuf encoding (unpadded base64, as the protocol requires) and, for people and for clients
// without protobuf, the same message as JSON under "debug".
type errorDetail struct {
	Type  string `json:"type"`
	Value string `json:"value"`
	Debug any    `json:"debug,omitempty"`
}

// fieldViolation is google.rpc.BadRequest.FieldViolation.
type fieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// preconditionViolation is google.rpc.PreconditionFailure.Violation.
type preconditionViolation struct {
	Type        string `json:"type"`
	Subject     string `json:"subject"`
	Description string `json:"description"`
}

// quotaViolation is google.rpc.QuotaFailure.Violation.
type quotaViolation struct {
	Subject     string `json:"subject"`
	Description string `json:"description"`
}

// resourceInfo is google.rpc.ResourceInfo.
type resourceInfo struct {
	ResourceType string `json:"resourceType"`
	ResourceName string `json:"resourceName"`
	Description  string `json:"description,omitempty"`
}

func badRequestDetail(vs []fieldViolation) errorDetail {
	var msg []byte
	for _, v := range vs {
		msg = pbBytes(msg, 1, pbString(pbString(nil, 1, v.Field), 2, v.Description))
	}
	return errorDetail{Type: "google.rpc.BadRequest", Value: b64(msg),
		Debug: map[string]any{"fieldViolations": vs}}
}

func preconditionDetail(vs []preconditionViolation) errorDetail {
	var msg []byte
	for _, v := range vs {
		msg = pbBytes(msg, 1, pbString(pbString(pbString(nil, 1, v.Type), 2, v.Subject), 3, v.Description))
	}
	return errorDetail{Type: "google.rpc.PreconditionFailure", Value: b64(msg),
		Debug: map[string]any{"violations": vs}}
}

func quotaDetail(vs []quotaViolation) errorDetail {
	var msg []byte
	for _, v := range vs {
		msg = pbBytes(msg, 1, pbString(pbString(nil, 1, v.Subject), 2, v.Description))
	}
	return errorDetail{Type: "google.rpc.QuotaFailure", Value: b64(msg),
		Debug: map[string]any{"violations": vs}}
}

func resourceInfoDetail(ri resourceInfo) errorDetail {
	msg := pbString(pbString(nil, 1, ri.ResourceType), 2, ri.ResourceName)
	msg = pbString(msg, 4, ri.Description)
	return errorDetail{Type: "google.rpc.ResourceInfo", Value: b64(msg), Debug: ri}
}

// pbString appends a protobuf length-delimited string field (omitted when empty, as proto3 does).
func pbString(b []byte, field int, s string) []byte {
	if s == "" {
		return b
	}
	return pbBytes(b, field, []byte(s))
}

// pbBytes appends a protobuf length-delimited field (wire type 2).
func pbBytes(b []byte, field int, v []byte) []byte {
	b = pbVarint(b, uint64(field)<<3|2)
	b = pbVarint(b, uint64(len(v)))
	return append(b, v...)
}

func pbVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func b64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

// errInvalidArgument is invalid_argument with one BadRequest detail listing every violation.
func errInvalidArgument(vs ...fieldViolation) *apiError {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Field + ": " + v.Description
	}
	return &apiError{Code: codeInvalidArgument, Message: "invalid request: " + strings.Join(parts, "; "),
		Details: []errorDetail{badRequestDetail(vs)}}
}

// errMalformed is invalid_argument for a body that cannot be read at all.
func errMalformed(format string, args ...any) *apiError {
	return &apiError{Code: codeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

func errNotFound(resourceType, id string) *apiError {
	return &apiError{Code: codeNotFound, Message: fmt.Sprintf("%s %q not found", resourceType, id),
		Details: []errorDetail{resourceInfoDetail(resourceInfo{ResourceType: resourceType, ResourceName: id,
			Description: "no " + resourceType + " with this id in the organization"})}}
}

func errAlreadyExists(resourceType, name, description string) *apiError {
	return &apiError{Code: codeAlreadyExists, Message: fmt.Sprintf("%s %q already exists", resourceType, name),
		Details: []errorDetail{resourceInfoDetail(resourceInfo{ResourceType: resourceType, ResourceName: name, Description: description})}}
}

func errFailedPrecondition(vs ...preconditionViolation) *apiError {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Description
	}
	return &apiError{Code: codeFailedPrecondition, Message: strings.Join(parts, "; "),
		Details: []errorDetail{preconditionDetail(vs)}}
}

func errQuota(subject, description string) *apiError {
	return &apiError{Code: codeResourceExhausted, Message: "quota exceeded: " + description,
		Details: []errorDetail{quotaDetail([]quotaViolation{{Subject: subject, Description: description}})}}
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	emucore.WriteJSON(w, e.httpStatus(), e)
}

// ---------------------------------------------------------------------------------------------
// Kubernetes API: metav1.Status.

// Status reasons (metav1.StatusReason values).
const (
	reasonNotFound           = "NotFound"
	reasonAlreadyExists      = "AlreadyExists"
	reasonConflict           = "Conflict"
	reasonInvalid            = "Invalid"
	reasonBadRequest         = "BadRequest"
	reasonUnauthorized       = "Unauthorized"
	reasonForbidden          = "Forbidden"
	reasonMethodNotAllowed   = "MethodNotAllowed"
	reasonNotAcceptable      = "NotAcceptable"
	reasonUnsupportedMedia   = "UnsupportedMediaType"
	reasonServiceUnavailable = "ServiceUnavailable"
	reasonTooManyRequests    = "TooManyRequests"
	reasonInternalError      = "InternalError"
	reasonExpired            = "Expired"
	reasonTimeout            = "Timeout"
	reasonEntityTooLarge     = "RequestEntityTooLarge"
)

// kubeStatus is metav1.Status, the body of every Kubernetes API failure (and of a DELETE that
// removed an object at once).
type kubeStatus struct {
	Kind       string         `json:"kind"`
	APIVersion string         `json:"apiVersion"`
	Metadata   struct{}       `json:"metadata"`
	Status     string         `json:"status"`
	Message    string         `json:"message,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	Details    *statusDetails `json:"details,omitempty"`
	Code       int            `json:"code,omitempty"`
}

// statusDetails is metav1.StatusDetails. Kind carries the resource ("nodepools") for most
// reasons and the kind ("NodePool") for Invalid, exactly as the apiserver does.
type statusDetails struct {
	Name              string        `json:"name,omitempty"`
	Group             string        `json:"group,omitempty"`
	Kind              string        `json:"kind,omitempty"`
	UID               string        `json:"uid,omitempty"`
	Causes            []statusCause `json:"causes,omitempty"`
	RetryAfterSeconds int           `json:"retryAfterSeconds,omitempty"`
}

// statusCause is metav1.StatusCause (its Type is "reason" on the wire).
type statusCause struct {
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
}

func (s *kubeStatus) Error() string { return s.Message }

func failure(code int, reason, message string, details *statusDetails) *kubeStatus {
	return &kubeStatus{Kind: "Status", APIVersion: "v1", Status: "Failure", Message: message, Reason: reason,
		Details: details, Code: code}
}

// groupResource names a resource the way the apiserver prints it: "nodepools.compute.coreweave.com", "nodes".
type groupResource struct{ group, resource string }

func (gr groupResource) String() string {
	if gr.group == "" {
		return gr.resource
	}
	return gr.resource + "." + gr.group
}

var (
	grNodePools = groupResource{group: computeGroup, resource: "nodepools"}
	grNodes     = groupResource{resource: "nodes"}
)

func statusNotFound(gr groupResource, name string) *kubeStatus {
	return failure(http.StatusNotFound, reasonNotFound, fmt.Sprintf("%s %q not found", gr, name),
		&statusDetails{Name: name, Group: gr.group, Kind: gr.resource})
}

// statusPathNotFound is the apiserver's answer for a path it does not serve at all.
func statusPathNotFound() *kubeStatus {
	return failure(http.StatusNotFound, reasonNotFound, "the server could not find the requested resource", &statusDetails{})
}

func statusAlreadyExists(gr groupResource, name string) *kubeStatus {
	return failure(http.StatusConflict, reasonAlreadyExists, fmt.Sprintf("%s %q already exists", gr, name),
		&statusDetails{Name: name, Group: gr.group, Kind: gr.resource})
}

func statusConflict(gr groupResource, name, why string) *kubeStatus {
	return failure(http.StatusConflict, reasonConflict,
		fmt.Sprintf("Operation cannot be fulfilled on %s %q: %s", gr, name, why),
		&statusDetails{Name: name, Group: gr.group, Kind: gr.resource})
}

// staleObject is the apiserver's optimistic-concurrency message.
const staleObject = "the object has been modified; please apply your changes to the latest version and try again"

func statusBadRequest(format string, args ...any) *kubeStatus {
	return failure(http.StatusBadRequest, reasonBadRequest, fmt.Sprintf(format, args...), nil)
}

func statusMethodNotAllowed() *kubeStatus {
	return failure(http.StatusMethodNotAllowed, reasonMethodNotAllowed,
		"the server does not allow this method on the requested resource", &statusDetails{})
}

func statusUnsupportedMediaType(contentType string, accepted ...string) *kubeStatus {
	return failure(http.StatusUnsupportedMediaType, reasonUnsupportedMedia,
		fmt.Sprintf("the body of the request was in an unknown format %s- accepted media types include: %s",
			quoteIfSet(contentType), strings.Join(accepted, ", ")), nil)
}

func quoteIfSet(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("%q ", s)
}

func statusNotAcceptable() *kubeStatus {
	return failure(http.StatusNotAcceptable, reasonNotAcceptable,
		"only the following media types are accepted: application/json", nil)
}

func statusUnavailable(message string) *kubeStatus {
	return failure(http.StatusServiceUnavailable, reasonServiceUnavailable, message, nil)
}

func statusExpired(message string) *kubeStatus {
	return failure(http.StatusGone, reasonExpired, message, nil)
}

// Field error types (metav1.CauseType values) used in Invalid causes.
const (
	fieldRequired     = "FieldValueRequired"
	fieldInvalid      = "FieldValueInvalid"
	fieldNotSupported = "FieldValueNotSupported"
	fieldForbidden    = "FieldValueForbidden"
	fieldDuplicate    = "FieldValueDuplicate"
	fieldTypeInvalid  = "FieldValueTypeInvalid"
)

// fieldError is field.Error: what went wrong at one path of an object.
type fieldError struct {
	Type      string
	Field     string
	Value     any
	Detail    string
	Supported []string
}

// body renders the part after "field: ", as field.Error.ErrorBody does.
func (fe fieldError) body() string {
	switch fe.Type {
	case fieldRequired:
		if fe.Detail != "" {
			return "Required value: " + fe.Detail
		}
		return "Required value"
	case fieldForbidden:
		return "Forbidden: " + fe.Detail
	case fieldDuplicate:
		return "Duplicate value: " + formatValue(fe.Value)
	case fieldNotSupported:
		quoted := make([]string, len(fe.Supported))
		for i, s := range fe.Supported {
			quoted[i] = fmt.Sprintf("%q", s)
		}
		return fmt.Sprintf("Unsupported value: %s: supported values: %s", formatValue(fe.Value), strings.Join(quoted, ", "))
	default: // FieldValueInvalid, FieldValueTypeInvalid
		return fmt.Sprintf("Invalid value: %s: %s", formatValue(fe.Value), fe.Detail)
	}
}

func (fe fieldError) String() string { return fe.Field + ": " + fe.body() }

// formatValue prints a bad value the way field errors do: strings quoted, numbers bare.
func formatValue(v any) string {
	switch x := v.(type) {
	case rawValue:
		return string(x)
	case string:
		return fmt.Sprintf("%q", x)
	case nil:
		return "null"
	case map[string]any:
		return `"object"`
	case []any:
		return `"array"`
	default:
		return fmt.Sprint(x)
	}
}

// statusInvalid is the 422 answer for an object that failed validation, e.g.
// `NodePool.compute.coreweave.com "x" is invalid: spec.instanceType: Invalid value: ...`.
func statusInvalid(kind, group, name string, errs []fieldError) *kubeStatus {
	causes := make([]statusCause, len(errs))
	msgs := make([]string, len(errs))
	for i, fe := range errs {
		causes[i] = statusCause{Reason: fe.Type, Message: fe.body(), Field: fe.Field}
		msgs[i] = fe.String()
	}
	qualified := kind
	if group != "" {
		qualified += "." + group
	}
	msg := fmt.Sprintf("%s %q is invalid", qualified, name)
	switch len(msgs) {
	case 0:
	case 1:
		msg += ": " + msgs[0]
	default:
		msg += ": [" + strings.Join(msgs, ", ") + "]"
	}
	return failure(http.StatusUnprocessableEntity, reasonInvalid, msg,
		&statusDetails{Name: name, Group: group, Kind: kind, Causes: causes})
}

func writeStatus(w http.ResponseWriter, s *kubeStatus) {
	emucore.WriteJSON(w, s.Code, s)
}

// sortedFieldErrors orders errors by field path so messages are stable.
func sortedFieldErrors(errs []fieldError) []fieldError {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}

// ---------------------------------------------------------------------------------------------
// emucore hook.

// writeVendorError is emucore's hook for the answers it decides on (401, 429, injected faults):
// a Status object under /k8s/, a Connect error everywhere else.
func writeVendorError(w http.ResponseWriter, r *http.Request, status int, kind, message string) {
	if isKubePath(r.URL.Path) {
		writeStatus(w, kubeFault(status, kind, message, w.Header().Get("Retry-After")))
		return
	}
	e := &apiError{status: status}
	switch kind {
	case "unauthorized":
		e.Code, e.Message = codeUnauthenticated, "missing or invalid API access token: send Authorization: Bearer CW-SECRET-..."
	case "rate_limited":
		e.Code, e.Message = codeResourceExhausted, "rate limit exceeded; retry after the number of seconds in Retry-After"
	case "unavailable":
		e.Code, e.Message = codeUnavailable, "service unavailable"
	case "internal":
		e.Code, e.Message = codeInternal, "internal error"
	default:
		e.Code, e.Message = codeForStatus(status), http.StatusText(status)
	}
	if message != "" {
		e.Message = message
	}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/grpc") {
		writeGRPCError(w, ct, e)
		return
	}
	writeAPIError(w, e)
}

// writeGRPCError answers a gRPC or gRPC-Web call with a trailers-only error: HTTP 200 and the
// status in grpc-status / grpc-message headers, as gRPC servers answer a call they refuse.
func writeGRPCError(w http.ResponseWriter, contentType string, e *apiError) {
	var code connect.Code
	if err := code.UnmarshalText([]byte(e.Code)); err != nil {
		code = connect.CodeUnknown
	}
	h := w.Header()
	ct, _, _ := strings.Cut(contentType, ";")
	h.Set("Content-Type", ct)
	h.Set("Grpc-Status", strconv.Itoa(int(code)))
	h.Set("Grpc-Message", url.PathEscape(e.Message))
	w.WriteHeader(http.StatusOK)
}

// codeForStatus picks the Connect code an injected HTTP status would carry (the protocol's
// HTTP -> code inference, refined for the codes the table maps one to one).
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return codeInvalidArgument
	case http.StatusUnauthorized:
		return codeUnauthenticated
	case http.StatusForbidden:
		return codePermissionDenied
	case http.StatusNotFound:
		return codeNotFound
	case http.StatusConflict:
		return codeAborted
	case http.StatusTooManyRequests:
		return codeResourceExhausted
	case http.StatusNotImplemented:
		return codeUnimplemented
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return codeUnavailable
	case http.StatusGatewayTimeout:
		return codeDeadlineExceeded
	case http.StatusInternalServerError:
		return codeInternal
	default:
		return codeUnknown
	}
}

// kubeFault builds the Status an apiserver (or the proxy in front of it) would send for a status.
func kubeFault(status int, kind, message, retryAfter string) *kubeStatus {
	var s *kubeStatus
	switch {
	case kind == "unauthorized" || status == http.StatusUnauthorized:
		s = failure(http.StatusUnauthorized, reasonUnauthorized, "Unauthorized", nil)
	case kind == "rate_limited" || status == http.StatusTooManyRequests:
		s = failure(http.StatusTooManyRequests, reasonTooManyRequests,
			"Too many requests, please try again later.", &statusDetails{RetryAfterSeconds: atoiOr(retryAfter, 1)})
	case status == http.StatusServiceUnavailable || status == http.StatusBadGateway:
		s = failure(status, reasonServiceUnavailable, "the server is currently unable to handle the request", nil)
	case status == http.StatusGatewayTimeout:
		s = failure(status, reasonTimeout, "the server was unable to return a response in the time allotted, but may still be processing the request", nil)
	case status == http.StatusNotFound:
		s = statusPathNotFound()
	case status == http.StatusConflict:
		s = failure(status, reasonConflict, "the server reported a conflict", nil)
	case status == http.StatusForbidden:
		s = failure(status, reasonForbidden, "forbidden", nil)
	case status == http.StatusBadRequest:
		s = statusBadRequest("the server rejected our request for an unknown reason")
	case status == http.StatusUnprocessableEntity:
		s = failure(status, reasonInvalid, "the server rejected our request due to an error in our request", nil)
	case status >= 500:
		s = failure(status, reasonInternalError, "Internal error occurred: injected fault", nil)
	default:
		s = failure(status, "", http.StatusText(status), nil)
	}
	s.Code = status
	if message != "" {
		s.Message = message
	}
	return s
}
