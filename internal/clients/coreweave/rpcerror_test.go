package coreweave

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/httpx"
)

func wireErr(t *testing.T, code connect.Code, msg string, details ...proto.Message) error {
	t.Helper()
	e := connect.NewWireError(code, errors.New(msg))
	for _, d := range details {
		ed, err := connect.NewErrorDetail(d)
		if err != nil {
			t.Fatal(err)
		}
		e.AddDetail(ed)
	}
	return e
}

// Every Connect code CoreWeave answers becomes a neutral kind; the vendor's code, message and
// violations are kept for the diagnostic.
func TestRPCErrorKinds(t *testing.T) {
	read := httpx.Call{Operation: "get CKS cluster"}
	list := httpx.Call{Operation: "list CKS clusters", List: true}
	create := httpx.Call{Operation: "create CKS cluster", NotIdempotent: true}
	cases := []struct {
		name     string
		call     httpx.Call
		err      error
		kind     error // nil: no neutral kind
		contains string
	}{
		{"not found", read, wireErr(t, connect.CodeNotFound, "cluster x not found", &errdetails.ResourceInfo{ResourceType: "cluster", ResourceName: "x"}), clients.ErrNotFound, "not found"},
		{"not found on a list is never gone", list, wireErr(t, connect.CodeNotFound, "route"), nil, "route"},
		{"already exists", create, wireErr(t, connect.CodeAlreadyExists, "cluster pretrain already exists"), clients.ErrConflict, "already exists"},
		{"precondition: VPC not ready", create, wireErr(t, connect.CodeFailedPrecondition, "VPC v is STATUS_CREATING",
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{Type: "VPC_NOT_READY", Subject: "vpcs/v", Description: "VPC v is STATUS_CREATING"}}}), clients.ErrConflict, "STATUS_CREATING"},
		{"precondition: zone mismatch", create, wireErr(t, connect.CodeFailedPrecondition, "bad VPC",
			&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{{Type: "VPC_ZONE_MISMATCH", Description: "VPC v is in zone RNO2A"}}}), clients.ErrInvalid, "RNO2A"},
		{"invalid argument with field violations", create, wireErr(t, connect.CodeInvalidArgument, "invalid request",
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "name", Description: "at most 30 characters"}}}), clients.ErrInvalid, "name: at most 30 characters"},
		{"quota", create, wireErr(t, connect.CodeResourceExhausted, "quota exceeded",
			&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: "organization/clusters", Description: "5 CKS clusters"}}}), clients.ErrQuota, "5 CKS clusters"},
		{"capacity", create, wireErr(t, connect.CodeResourceExhausted, "insufficient capacity for gd-8xh100ib-i128"), clients.ErrCapacity, "capacity"},
		{"rate limit", read, wireErr(t, connect.CodeResourceExhausted, "slow down"), clients.ErrRateLimited, "slow down"},
		{"unauthenticated", read, wireErr(t, connect.CodeUnauthenticated, "bad token"), clients.ErrAuth, "bad token"},
		{"permission denied", read, wireErr(t, connect.CodePermissionDenied, "no"), clients.ErrAuth, "no"},
		{"unimplemented: wrong endpoint", read, wireErr(t, connect.CodeUnimplemented, "404 Not Found"), clients.ErrInvalid, "endpoint"},
		{"unavailable read", read, wireErr(t, connect.CodeUnavailable, "down"), clients.ErrUnavailable, "down"},
		{"deadline exceeded on the server", read, wireErr(t, connect.CodeDeadlineExceeded, "slow"), clients.ErrUnavailable, "slow"},
		{"internal read", read, wireErr(t, connect.CodeInternal, "oops"), nil, "oops"},
		{"unavailable create: the server may have acted", create, wireErr(t, connect.CodeUnavailable, "down"), clients.ErrOutcomeUnknown, "down"},
		{"internal create", create, wireErr(t, connect.CodeInternal, "oops"), clients.ErrOutcomeUnknown, "oops"},
		{"lost connection on create", create, connect.NewError(connect.CodeUnavailable, io.ErrUnexpectedEOF), clients.ErrOutcomeUnknown, "answer was lost"},
		{"lost connection on read", read, connect.NewError(connect.CodeUnavailable, io.ErrUnexpectedEOF), nil, "unexpected EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := rpcError(tc.call, tc.err)
			for _, k := range []error{clients.ErrNotFound, clients.ErrConflict, clients.ErrInvalid, clients.ErrQuota, clients.ErrCapacity,
				clients.ErrRateLimited, clients.ErrAuth, clients.ErrOutcomeUnknown, clients.ErrUnavailable} {
				if got := errors.Is(err, k); got != (k == tc.kind) {
					t.Errorf("errors.Is(%v) = %v: %v", k, got, err)
				}
			}
			if !strings.Contains(err.Error(), tc.contains) || !strings.Contains(err.Error(), tc.call.Operation) {
				t.Errorf("message %q lacks %q or the operation", err, tc.contains)
			}
		})
	}
	// A call the caller gave up on keeps its context error and is no lost answer.
	err := rpcError(create, connect.NewError(connect.CodeCanceled, context.Canceled))
	if !errors.Is(err, context.Canceled) || errors.Is(err, clients.ErrOutcomeUnknown) {
		t.Errorf("canceled create: %v", err)
	}
}
