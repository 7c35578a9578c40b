package coreweave

// Contract tests of the platform API over every protocol a CoreWeave client speaks, driven by
// CoreWeave's own generated SDK (the Connect client of cksv1beta1connect and
// networkingv1beta1connect) with the protobuf and JSON codecs, over gRPC (HTTP/2 without TLS)
// and gRPC-Web, and by plain HTTP on the REST paths, all against one emulator and its one state.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"buf.build/gen/go/coreweave/cks/connectrpc/go/coreweave/cks/v1beta1/cksv1beta1connect"
	cksv1beta1 "buf.build/gen/go/coreweave/cks/protocolbuffers/go/coreweave/cks/v1beta1"
	"buf.build/gen/go/coreweave/networking/connectrpc/go/coreweave/networking/v1beta1/networkingv1beta1connect"
	networkingv1beta1 "buf.build/gen/go/coreweave/networking/protocolbuffers/go/coreweave/networking/v1beta1"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// bearer adds the Authorization header to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// contractServer serves e over HTTP/1.1 and unencrypted HTTP/2, as the emulator command does.
func contractServer(t *testing.T, e *Emulator) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(e)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

type sdkClients struct {
	clusters cksv1beta1connect.ClusterServiceClient
	vpcs     networkingv1beta1connect.VPCServiceClient
}

// protocols are the ways the SDK's clients can reach the emulator.
var protocols = []struct {
	name string
	h2c  bool
	opts []connect.ClientOption
}{
	{name: "connect+proto"},
	{name: "connect+json", opts: []connect.ClientOption{connect.WithProtoJSON()}},
	{name: "grpc", h2c: true, opts: []connect.ClientOption{connect.WithGRPC()}},
	{name: "grpc-web", opts: []connect.ClientOption{connect.WithGRPCWeb()}},
}

func newSDKClients(srv *httptest.Server, token string, h2c bool, opts ...connect.ClientOption) sdkClients {
	tr := &http.Transport{}
	if h2c {
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	hc := &http.Client{Transport: bearer{token: token, next: tr}, Timeout: 10 * time.Second}
	return sdkClients{
		clusters: cksv1beta1connect.NewClusterServiceClient(hc, srv.URL, opts...),
		vpcs:     networkingv1beta1connect.NewVPCServiceClient(hc, srv.URL, opts...),
	}
}

func standardVPCMessage(name string) *networkingv1beta1.CreateVPCRequest {
	return &networkingv1beta1.CreateVPCRequest{
		Name: name, Zone: zone4A,
		HostPrefixes: []*networkingv1beta1.HostPrefix{{Name: "primary", Type: networkingv1beta1.HostPrefix_PRIMARY, Prefixes: []string{"10.16.192.0/18"}}},
		VpcPrefixes: []*networkingv1beta1.Prefix{
			{Name: "pod cidr", Value: "10.0.0.0/13"},
			{Name: "service cidr", Value: "10.16.0.0/22"},
			{Name: "internal lb cidr", Value: "10.32.4.0/22"},
		},
	}
}

func standardClusterMessage(name, vpcID string) *cksv1beta1.CreateClusterRequest {
	return &cksv1beta1.CreateClusterRequest{
		Name: name, Zone: zone4A, VpcId: vpcID, Version: "v1.35",
		Network: &cksv1beta1.ClusterNetworkConfig{PodCidrName: "pod cidr", ServiceCidrName: "service cidr", InternalLbCidrNames: []string{"internal lb cidr"}},
	}
}

// wantCode checks a call failed with a Connect code, and returns the error.
func wantCode(t *testing.T, what string, err error, code connect.Code) *connect.Error {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
	if ce.Message() == "" {
		t.Errorf("%s: error without a message", what)
	}
	return ce
}

func detailOf[T any](t *testing.T, ce *connect.Error) T {
	t.Helper()
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			continue
		}
		if m, ok := v.(T); ok {
			return m
		}
	}
	var zero T
	t.Fatalf("%v: no %T detail among %d", ce, zero, len(ce.Details()))
	return zero
}

func waitUntil(t *testing.T, what string, done func() (bool, error)) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ok, err := done()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
	}
	t.Fatalf("%s: timed out", what)
}

// TestContractSDK drives the whole VPC and cluster lifecycle, and the errors CoreWeave
// documents, through the SDK's clients over each protocol.
func TestContractSDK(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			e := New(Options{TimeScale: 0.0001})
			srv := contractServer(t, e)
			c := newSDKClients(srv, e.Token(), p.h2c, p.opts...)
			ctx := context.Background()
			name := strings.NewReplacer("+", "-").Replace(p.name)

			// VPC: created, CREATING then READY, listed.
			vr, err := c.vpcs.CreateVPC(ctx, connect.NewRequest(standardVPCMessage("net-"+name)))
			if err != nil {
				t.Fatalf("CreateVPC: %v", err)
			}
			vpc := vr.Msg.GetVpc()
			if vpc.GetId() == "" || vpc.GetStatus() != networkingv1beta1.VPC_STATUS_CREATING || len(vpc.GetVpcPrefixes()) != 3 ||
				vpc.GetHostPrefixes()[0].GetType() != networkingv1beta1.HostPrefix_PRIMARY || vpc.GetCreatedAt() == nil {
				t.Fatalf("created VPC %v", vpc)
			}
			waitUntil(t, "VPC ready", func() (bool, error) {
				g, err := c.vpcs.GetVPC(ctx, connect.NewRequest(&networkingv1beta1.GetVPCRequest{Id: vpc.GetId()}))
				return err == nil && g.Msg.GetVpc().GetStatus() == networkingv1beta1.VPC_STATUS_READY, err
			})
			lv, err := c.vpcs.ListVPCs(ctx, connect.NewRequest(&networkingv1beta1.ListVPCsRequest{}))
			if err != nil || len(lv.Msg.GetItems()) != 1 || lv.Msg.GetItems()[0].GetId() != vpc.GetId() {
				t.Fatalf("ListVPCs: %v %v", lv, err)
			}
			_, err = c.vpcs.CreateVPC(ctx, connect.NewRequest(standardVPCMessage("net-"+name)))
			_ = wantCode(t, "CreateVPC twice", err, connect.CodeAlreadyExists)

			// Cluster: created, CREATING then RUNNING with its API server endpoint, listed.
			cr, err := c.clusters.CreateCluster(ctx, connect.NewRequest(standardClusterMessage("k8s-"+name, vpc.GetId())))
			if err != nil {
				t.Fatalf("CreateCluster: %v", err)
			}
			cl := cr.Msg.GetCluster()
			if cl.GetStatus() != cksv1beta1.Cluster_STATUS_CREATING || cl.GetVpcId() != vpc.GetId() || cl.GetVersion() != "v1.35" ||
				!strings.HasPrefix(cl.GetApiServerEndpoint(), srv.URL+"/k8s/") || cl.GetNetwork().GetPodCidrName() != "pod cidr" {
				t.Fatalf("created cluster %v", cl)
			}
			waitUntil(t, "cluster running", func() (bool, error) {
				g, err := c.clusters.GetCluster(ctx, connect.NewRequest(&cksv1beta1.GetClusterRequest{Id: cl.GetId()}))
				return err == nil && g.Msg.GetCluster().GetStatus() == cksv1beta1.Cluster_STATUS_RUNNING, err
			})
			lc, err := c.clusters.ListClusters(ctx, connect.NewRequest(&cksv1beta1.ListClustersRequest{}))
			if err != nil || len(lc.Msg.GetItems()) != 1 {
				t.Fatalf("ListClusters: %v %v", lc, err)
			}

			// Update with a mask, as CoreWeave's provider sends it (version always set).
			ur, err := c.clusters.UpdateCluster(ctx, connect.NewRequest(&cksv1beta1.UpdateClusterRequest{
				Id: cl.GetId(), Version: "v1.35", Public: true, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"public"}},
			}))
			if err != nil || !ur.Msg.GetCluster().GetPublic() || ur.Msg.GetCluster().GetStatus() != cksv1beta1.Cluster_STATUS_UPDATING {
				t.Fatalf("UpdateCluster: %v %v", ur, err)
			}

			// Errors: codes and google.rpc details.
			_, err = c.clusters.GetCluster(ctx, connect.NewRequest(&cksv1beta1.GetClusterRequest{Id: "00000000-0000-4000-8000-000000000000"}))
			if ri := detailOf[*errdetails.ResourceInfo](t, wantCode(t, "GetCluster unknown", err, connect.CodeNotFound)); ri.GetResourceName() == "" {
				t.Errorf("ResourceInfo %v", ri)
			}
			_, err = c.clusters.CreateCluster(ctx, connect.NewRequest(standardClusterMessage(strings.Repeat("x", 31), vpc.GetId())))
			br := detailOf[*errdetails.BadRequest](t, wantCode(t, "CreateCluster long name", err, connect.CodeInvalidArgument))
			if len(br.GetFieldViolations()) == 0 || br.GetFieldViolations()[0].GetField() != "name" {
				t.Errorf("BadRequest %v", br)
			}
			_, err = c.vpcs.DeleteVPC(ctx, connect.NewRequest(&networkingv1beta1.DeleteVPCRequest{Id: vpc.GetId()}))
			if pf := detailOf[*errdetails.PreconditionFailure](t, wantCode(t, "DeleteVPC in use", err, connect.CodeFailedPrecondition)); len(pf.GetViolations()) == 0 {
				t.Errorf("PreconditionFailure %v", pf)
			}
			e.SetClusterQuota(1)
			_, err = c.clusters.CreateCluster(ctx, connect.NewRequest(standardClusterMessage("k8s-two", vpc.GetId())))
			if qf := detailOf[*errdetails.QuotaFailure](t, wantCode(t, "CreateCluster over quota", err, connect.CodeResourceExhausted)); len(qf.GetViolations()) == 0 {
				t.Errorf("QuotaFailure %v", qf)
			}
			bad := newSDKClients(srv, "CW-SECRET-wrong", p.h2c, p.opts...)
			_, err = bad.clusters.ListClusters(ctx, connect.NewRequest(&cksv1beta1.ListClustersRequest{}))
			_ = wantCode(t, "wrong token", err, connect.CodeUnauthenticated)

			// Faults are injected by the procedure's route.
			e.Core.AddFault(emucore.Fault{Route: "POST " + cksv1beta1connect.ClusterServiceGetClusterProcedure, Action: emucore.FaultStatus, Status: 503, Times: 1})
			_, err = c.clusters.GetCluster(ctx, connect.NewRequest(&cksv1beta1.GetClusterRequest{Id: cl.GetId()}))
			_ = wantCode(t, "injected 503", err, connect.CodeUnavailable)
			if n := e.Core.Stats.Get("POST " + cksv1beta1connect.ClusterServiceGetClusterProcedure); n < 2 {
				t.Errorf("GetCluster counted %d times", n)
			}

			// Every status on demand, ERROR and UPGRADE_FAILED included.
			for _, st := range []cksv1beta1.Cluster_Status{cksv1beta1.Cluster_STATUS_ERROR, cksv1beta1.Cluster_STATUS_UPGRADE_FAILED,
				cksv1beta1.Cluster_STATUS_FAILED, cksv1beta1.Cluster_STATUS_UPGRADING, cksv1beta1.Cluster_STATUS_RUNNING} {
				if err := e.SetClusterStatus(cl.GetId(), st.String()); err != nil {
					t.Fatal(err)
				}
				g, err := c.clusters.GetCluster(ctx, connect.NewRequest(&cksv1beta1.GetClusterRequest{Id: cl.GetId()}))
				if err != nil || g.Msg.GetCluster().GetStatus() != st {
					t.Fatalf("after SetClusterStatus(%s): %v %v", st, g, err)
				}
			}

			// Delete: DELETING, then gone; then the VPC.
			dr, err := c.clusters.DeleteCluster(ctx, connect.NewRequest(&cksv1beta1.DeleteClusterRequest{Id: cl.GetId()}))
			if err != nil || dr.Msg.GetCluster().GetStatus() != cksv1beta1.Cluster_STATUS_DELETING {
				t.Fatalf("DeleteCluster: %v %v", dr, err)
			}
			waitUntil(t, "cluster gone", func() (bool, error) {
				_, err := c.clusters.GetCluster(ctx, connect.NewRequest(&cksv1beta1.GetClusterRequest{Id: cl.GetId()}))
				return connect.CodeOf(err) == connect.CodeNotFound, nil
			})
			if _, err := c.vpcs.DeleteVPC(ctx, connect.NewRequest(&networkingv1beta1.DeleteVPCRequest{Id: vpc.GetId()})); err != nil {
				t.Fatalf("DeleteVPC: %v", err)
			}
			waitUntil(t, "VPC gone", func() (bool, error) {
				_, err := c.vpcs.GetVPC(ctx, connect.NewRequest(&networkingv1beta1.GetVPCRequest{Id: vpc.GetId()}))
				return connect.CodeOf(err) == connect.CodeNotFound, nil
			})
		})
	}
}

// TestContractOneState: what one protocol creates, the others (REST included) see and change.
func TestContractOneState(t *testing.T) {
	// Real time: the VPC must still be DELETING when gRPC reads it, however loaded the machine.
	e := New(Options{TimeScale: 1})
	srv := contractServer(t, e)
	ctx := context.Background()
	grpc := newSDKClients(srv, e.Token(), true, connect.WithGRPC())
	vr, err := grpc.vpcs.CreateVPC(ctx, connect.NewRequest(standardVPCMessage("shared")))
	if err != nil {
		t.Fatal(err)
	}
	id := vr.Msg.GetVpc().GetId()

	// REST: plain HTTP and JSON sees it, with protobuf JSON names and enum spellings.
	rest := &client{t: t, base: srv.URL, token: e.Token()}
	var got struct{ VPC map[string]any }
	rest.ok(200, "GET", "/v1beta1/networking/vpcs/"+id, nil, &got)
	if got.VPC["name"] != "shared" || got.VPC["status"] == nil || got.VPC["vpcPrefixes"] == nil {
		t.Fatalf("REST view %v", got.VPC)
	}
	// A REST error is google.rpc.Status: a numeric code and typed details.
	res := rest.do("GET", "/v1beta1/networking/vpcs/00000000-0000-4000-8000-000000000000", nil)
	var st struct {
		Code    int              `json:"code"`
		Message string           `json:"message"`
		Details []map[string]any `json:"details"`
	}
	if err := json.Unmarshal(res.body, &st); err != nil || res.status != 404 || st.Code != int(connect.CodeNotFound) ||
		len(st.Details) != 1 || st.Details[0]["@type"] != "type.googleapis.com/google.rpc.ResourceInfo" {
		t.Fatalf("REST not found: %d %s", res.status, res.body)
	}

	// Connect JSON deletes it; gRPC sees it deleting.
	cj := newSDKClients(srv, e.Token(), false, connect.WithProtoJSON())
	if _, err := cj.vpcs.DeleteVPC(ctx, connect.NewRequest(&networkingv1beta1.DeleteVPCRequest{Id: id})); err != nil {
		t.Fatal(err)
	}
	g, err := grpc.vpcs.GetVPC(ctx, connect.NewRequest(&networkingv1beta1.GetVPCRequest{Id: id}))
	if err != nil || g.Msg.GetVpc().GetStatus() != networkingv1beta1.VPC_STATUS_DELETING {
		t.Fatalf("gRPC after Connect delete: %v %v", g, err)
	}
	stats := e.Core.Stats.Snapshot()
	for _, route := range []string{"POST " + networkingv1beta1connect.VPCServiceCreateVPCProcedure, "GET /v1beta1/networking/vpcs/{id}",
		"POST " + networkingv1beta1connect.VPCServiceDeleteVPCProcedure, "POST " + networkingv1beta1connect.VPCServiceGetVPCProcedure} {
		if stats[route] == 0 {
			t.Errorf("route %q not counted: %v", route, stats)
		}
	}
}
