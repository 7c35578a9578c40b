package coreweave

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// pbViolations encodes a google.rpc message whose field 1 repeats a message of string fields,
// as the server would put it in a detail's "value" (unpadded base64).
func pbViolations(vs ...[]string) string {
	var msg []byte
	for _, v := range vs {
		var inner []byte
		for i, s := range v {
			inner = protowire.AppendTag(inner, protowire.Number(i+1), protowire.BytesType)
			inner = protowire.AppendString(inner, s)
		}
		msg = protowire.AppendTag(msg, 1, protowire.BytesType)
		msg = protowire.AppendBytes(msg, inner)
	}
	return base64.RawStdEncoding.EncodeToString(msg)
}

func TestDecodeError(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		kind       error
		contains   string
	}{
		{"not found", `{"code":"not_found","message":"cluster \"x\" not found"}`, 404, clients.ErrNotFound, "not found"},
		{"already exists", `{"code":"already_exists","message":"cluster \"x\" already exists"}`, 409, clients.ErrConflict, "already exists"},
		{"invalid with field violations (binary detail)", `{"code":"invalid_argument","message":"invalid request",
			"details":[{"type":"google.rpc.BadRequest","value":"` + pbViolations([]string{"name", "must be at most 30 characters"}) + `"}]}`,
			400, clients.ErrInvalid, "name: must be at most 30 characters"},
		{"invalid with field violations (debug only)", `{"code":"invalid_argument","message":"invalid request",
			"details":[{"type":"google.rpc.BadRequest","value":"%%%","debug":{"fieldViolations":[{"field":"zone","description":"unknown zone"}]}}]}`,
			400, clients.ErrInvalid, "zone: unknown zone"},
		{"precondition: VPC not ready", `{"code":"failed_precondition","message":"VPC v is STATUS_CREATING; create the cluster once it is STATUS_READY",
			"details":[{"type":"google.rpc.PreconditionFailure","value":"` + pbViolations([]string{"VPC_NOT_READY", "vpcs/v", "VPC v is STATUS_CREATING"}) + `"}]}`,
			400, clients.ErrConflict, "STATUS_CREATING"},
		{"precondition: VPC in use", `{"code":"failed_precondition","message":"VPC v is in use by cluster c; delete the cluster first"}`,
			400, clients.ErrConflict, "in use"},
		{"precondition: wrong zone", `{"code":"failed_precondition","message":"VPC v is in zone RNO2A, not LGA1",
			"details":[{"type":"google.rpc.PreconditionFailure","value":"` + pbViolations([]string{"VPC_ZONE_MISMATCH", "vpcs/v", "VPC v is in zone RNO2A, not LGA1"}) + `"}]}`,
			400, clients.ErrInvalid, "RNO2A"},
		{"quota", `{"code":"resource_exhausted","message":"quota exceeded: 5 clusters",
			"details":[{"type":"google.rpc.QuotaFailure","value":"` + pbViolations([]string{"organization/clusters", "at most 5 CKS clusters"}) + `"}]}`,
			429, clients.ErrQuota, "at most 5 CKS clusters"},
		{"capacity", `{"code":"resource_exhausted","message":"insufficient capacity for gd-8xh100ib-i128 in LGA1"}`, 429, clients.ErrCapacity, "capacity"},
		{"rate limit", `{"code":"resource_exhausted","message":"rate limit exceeded"}`, 429, clients.ErrRateLimited, "rate limit"},
		{"unauthenticated", `{"code":"unauthenticated","message":"missing or invalid API access token"}`, 401, clients.ErrAuth, keyEnv},
		{"permission denied", `{"code":"permission_denied","message":"no"}`, 403, clients.ErrAuth, "permissions"},
		{"unimplemented path is not not-found", `{"code":"unimplemented","message":"no such endpoint"}`, 404, clients.ErrInvalid, endpointEnv},
		{"HTML 404 is not not-found", `<html>nginx</html>`, 404, clients.ErrInvalid, endpointEnv},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := decodeError(&http.Response{StatusCode: tc.status, Header: http.Header{}}, []byte(tc.body))
			if e == nil {
				t.Fatal("nil error")
			}
			e.Cloud = cloudName
			if !errors.Is(e, tc.kind) {
				t.Errorf("kind %v, want %v", e.Kind, tc.kind)
			}
			if !strings.Contains(e.Error(), tc.contains) {
				t.Errorf("%q lacks %q", e.Error(), tc.contains)
			}
		})
	}
	// 5xx keeps no kind: httpx decides (retry a read, unknown outcome for a create).
	if e := decodeError(&http.Response{StatusCode: 503}, []byte(`{"code":"unavailable","message":"x"}`)); e.Kind != nil {
		t.Errorf("unavailable: %v", e.Kind)
	}
	if e := decodeError(&http.Response{StatusCode: 502}, []byte(`bad gateway`)); e != nil {
		t.Errorf("non-Connect 502: %+v", e)
	}
}

func TestRateLimitIsRetriedQuotaIsNot(t *testing.T) {
	f := newFake(t)
	limited := 2
	f.before = func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if r.URL.Path == "/v1beta1/cks/clusters" && limited > 0 {
			limited--
			w.Header().Set("Retry-After", "0")
			connectErr(w, http.StatusTooManyRequests, "resource_exhausted", "rate limit exceeded", nil)
			return true
		}
		return false
	}
	c := newTestCloud(t, f)
	if _, err := c.API().ListClusters(t.Context()); err != nil {
		t.Fatalf("rate limited list: %v", err)
	}
	f.WantCount(t, "GET", "/v1beta1/cks/clusters", 3, "list calls")
}

func TestAuthFailure(t *testing.T) {
	f := newFake(t)
	c, err := NewWithOptions(clients.Settings{APIKey: "CW-SECRET-wrong", Endpoint: f.URL()}, withHTTP(nil, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	_, err = settledGet(t, c, "cl-1")
	if !errors.Is(err, clients.ErrAuth) || strings.Contains(err.Error(), "CW-SECRET-wrong") {
		t.Errorf("got %v", err)
	}
	if _, err := New(clients.Settings{}); !errors.Is(err, clients.ErrAuth) || !strings.Contains(err.Error(), keyEnv) {
		t.Errorf("no token: %v", err)
	}
}

func TestKubeErrors(t *testing.T) {
	f, c := newRunningCloud(t)
	kc, err := c.Kubernetes(f.URL() + "/k8s/cl-1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		status int
		reason string
		kind   error
	}{
		{"invalid", http.StatusUnprocessableEntity, "Invalid", clients.ErrInvalid},
		{"conflict", http.StatusConflict, "Conflict", clients.ErrConflict},
		{"forbidden", http.StatusForbidden, "Forbidden", clients.ErrAuth},
		{"unauthorized", http.StatusUnauthorized, "Unauthorized", clients.ErrAuth},
		{"too many requests", http.StatusTooManyRequests, "TooManyRequests", clients.ErrRateLimited},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.before = func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
				if tc.status == http.StatusTooManyRequests {
					w.Header().Set("Retry-After", "0")
				}
				kubeStatus(w, tc.status, tc.reason, "NodePool.compute.coreweave.com \"p\" is refused: "+tc.reason, map[string]any{"name": "p"})
				return true
			}
			_, err := kc.ScaleNodePool(t.Context(), "p", 3)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), "refused") {
				t.Errorf("got %v", err)
			}
		})
	}
	f.before = nil
	f.setClusterStatus("cl-1", "STATUS_CREATING")
	// Reads are retried while the operation's time lasts; what remains then is the last answer.
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	if _, err := kc.GetNodePool(short(), "p"); !IsAPIServerUnavailable(err) || clients.IsNotFound(err) {
		t.Errorf("503: %v", err)
	}
	// Nothing listens: unreachable, not "gone".
	dead, err := c.Kubernetes("http://127.0.0.1:1/k8s/x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dead.GetNodePool(short(), "p"); !IsAPIServerUnavailable(err) || clients.IsNotFound(err) {
		t.Errorf("refused connection: %v", err)
	}
	if _, err := c.Kubernetes(""); !IsAPIServerUnavailable(err) {
		t.Errorf("no endpoint: %v", err)
	}
}
