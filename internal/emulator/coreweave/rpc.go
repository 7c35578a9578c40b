package coreweave

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"buf.build/gen/go/coreweave/cks/connectrpc/go/coreweave/cks/v1beta1/cksv1beta1connect"
	cksv1beta1 "buf.build/gen/go/coreweave/cks/protocolbuffers/go/coreweave/cks/v1beta1"
	"buf.build/gen/go/coreweave/networking/connectrpc/go/coreweave/networking/v1beta1/networkingv1beta1connect"
	networkingv1beta1 "buf.build/gen/go/coreweave/networking/protocolbuffers/go/coreweave/networking/v1beta1"
	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"

	// google.rpc error details (BadRequest, PreconditionFailure, QuotaFailure, ResourceInfo).
	_ "google.golang.org/genproto/googleapis/rpc/errdetails"
)

// The platform API is served by connect-go handlers generated from CoreWeave's own service
// definitions (buf.build/gen/go/coreweave/{cks,networking}): ClusterService and VPCService.
// One vanguard transcoder in front of them answers every protocol a CoreWeave client may speak,
// over the same handlers and the same state:
//
//	Connect (application/proto and application/json), gRPC and gRPC-Web:
//	    POST /coreweave.cks.v1beta1.ClusterService/{ListClusters,GetCluster,CreateCluster,UpdateCluster,DeleteCluster}
//	    POST /coreweave.networking.v1beta1.VPCService/{ListVPCs,GetVPC,CreateVPC,UpdateVPC,DeleteVPC}
//	REST (from the methods' google.api.http annotations):
//	    GET|POST /v1beta1/cks/clusters, GET|PATCH|DELETE /v1beta1/cks/clusters/{id},
//	    GET|POST /v1beta1/networking/vpcs, GET|PATCH|DELETE /v1beta1/networking/vpcs/{id}
//
// Each handler turns the request message into its protobuf JSON form and runs the platform
// logic of clusters.go and vpcs.go (validation, lifecycles, Connect error details), whose JSON
// answer becomes the response message again. emucore counts, authenticates and injects faults
// per route: a Connect or gRPC call's route is "POST /<service>/<method>", a REST call's the
// REST pattern ("GET /v1beta1/cks/clusters/{id}").

// Connect procedures (the route keys of emucore's counters and faults are "POST " + these).
var (
	clusterProcedures = []string{
		cksv1beta1connect.ClusterServiceListClustersProcedure,
		cksv1beta1connect.ClusterServiceGetClusterProcedure,
		cksv1beta1connect.ClusterServiceCreateClusterProcedure,
		cksv1beta1connect.ClusterServiceUpdateClusterProcedure,
		cksv1beta1connect.ClusterServiceDeleteClusterProcedure,
	}
	vpcProcedures = []string{
		networkingv1beta1connect.VPCServiceListVPCsProcedure,
		networkingv1beta1connect.VPCServiceGetVPCProcedure,
		networkingv1beta1connect.VPCServiceCreateVPCProcedure,
		networkingv1beta1connect.VPCServiceUpdateVPCProcedure,
		networkingv1beta1connect.VPCServiceDeleteVPCProcedure,
	}
	restRoutes = []string{
		"GET /v1beta1/cks/clusters", "POST /v1beta1/cks/clusters",
		"GET /v1beta1/cks/clusters/{id}", "PATCH /v1beta1/cks/clusters/{id}", "DELETE /v1beta1/cks/clusters/{id}",
		"GET /v1beta1/networking/vpcs", "POST /v1beta1/networking/vpcs",
		"GET /v1beta1/networking/vpcs/{id}", "PATCH /v1beta1/networking/vpcs/{id}", "DELETE /v1beta1/networking/vpcs/{id}",
	}
)

// registerPlatform mounts the transcoder on every Connect procedure and REST route.
func (e *Emulator) registerPlatform(mux *http.ServeMux) {
	clusterPath, clusterHandler := cksv1beta1connect.NewClusterServiceHandler(clusterService{e})
	vpcPath, vpcHandler := networkingv1beta1connect.NewVPCServiceHandler(vpcService{e})
	transcoder, err := vanguard.NewTranscoder([]*vanguard.Service{
		vanguard.NewService(clusterPath, clusterHandler),
		vanguard.NewService(vpcPath, vpcHandler),
	}, vanguard.WithUnknownHandler(http.HandlerFunc(e.platformFallback)))
	if err != nil {
		panic(fmt.Sprintf("coreweave emulator: building the transcoder: %v", err))
	}
	h := withRequestBase(transcoder)
	for _, p := range append(append([]string{}, clusterProcedures...), vpcProcedures...) {
		mux.Handle("POST "+p, h)
	}
	// Anything else under the services' paths (GET, unknown methods) gets the Connect answer.
	mux.Handle("/"+cksv1beta1connect.ClusterServiceName+"/", h)
	mux.Handle("/"+networkingv1beta1connect.VPCServiceName+"/", h)
	for _, r := range restRoutes {
		mux.Handle(r, h)
	}
}

type requestBaseKey struct{}

// withRequestBase (which also completes lenient Connect calls, see below) keeps the scheme and host the client used, for the apiServerEndpoint URLs the
// handlers hand out (a connect.Request does not carry the Host).
func withRequestBase(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// connect-go servers take a unary Connect call without Connect-Protocol-Version; the
		// transcoder needs it to tell such a POST from a REST one.
		if ct := r.Header.Get("Content-Type"); r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/coreweave.") &&
			r.Header.Get("Connect-Protocol-Version") == "" && (strings.HasPrefix(ct, "application/json") || strings.HasPrefix(ct, "application/proto")) {
			r.Header.Set("Connect-Protocol-Version", "1")
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestBaseKey{}, r)))
	})
}

// runPlatform runs one of the JSON platform handlers (clusters.go, vpcs.go) on a request message
// and reads its answer: a 200's body (the response message's JSON) into out, or the Connect
// error it wrote.
func runPlatform(ctx context.Context, handler http.HandlerFunc, method, id string, in proto.Message, out proto.Message) error {
	var body []byte
	if in != nil {
		b, err := protojson.Marshal(in)
		if err != nil {
			return connect.NewError(connect.CodeInvalidArgument, err)
		}
		body = b
	}
	req := httptest.NewRequestWithContext(ctx, method, "/", bytes.NewReader(body))
	if orig, ok := ctx.Value(requestBaseKey{}).(*http.Request); ok {
		req.Host = orig.Host
		req.TLS = orig.TLS
		if v := orig.Header.Get("X-Forwarded-Proto"); v != "" {
			req.Header.Set("X-Forwarded-Proto", v)
		}
	}
	if id != "" {
		req.SetPathValue("id", id)
	}
	rec := httptest.NewRecorder()
	handler(rec, req)
	if rec.Code != http.StatusOK {
		return rpcError(rec.Code, rec.Body.Bytes())
	}
	if out == nil {
		return nil
	}
	raw := rec.Body.Bytes()
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, out); err != nil {
		return connect.NewError(connect.CodeInternal, fmt.Errorf("emulator answer does not fit the message: %w", err))
	}
	return nil
}

// rpcError turns a Connect JSON error body written by writeAPIError into a *connect.Error
// with the same code, message and details.
func rpcError(status int, body []byte) error {
	var ae apiError
	if err := json.Unmarshal(body, &ae); err != nil || ae.Code == "" {
		return connect.NewError(connect.CodeInternal, fmt.Errorf("HTTP %d: %s", status, strings.TrimSpace(string(body))))
	}
	var code connect.Code
	if err := code.UnmarshalText([]byte(ae.Code)); err != nil {
		code = connect.CodeUnknown
	}
	ce := connect.NewError(code, errors.New(ae.Message))
	for _, d := range ae.Details {
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(d.Value, "="))
		if err != nil {
			continue
		}
		// The concrete google.rpc message (registered by errdetails) lets Connect add its JSON
		// "debug" copy and the REST transcoder print it.
		var msg proto.Message = &anypb.Any{TypeUrl: "type.googleapis.com/" + d.Type, Value: raw}
		if mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(d.Type)); err == nil {
			m := mt.New().Interface()
			if proto.Unmarshal(raw, m) == nil {
				msg = m
			}
		}
		detail, err := connect.NewErrorDetail(msg)
		if err == nil {
			ce.AddDetail(detail)
		}
	}
	return ce
}

// clusterService implements cksv1beta1connect.ClusterServiceHandler.
type clusterService struct{ e *Emulator }

var _ cksv1beta1connect.ClusterServiceHandler = clusterService{}

func (s clusterService) ListClusters(ctx context.Context, _ *connect.Request[cksv1beta1.ListClustersRequest]) (*connect.Response[cksv1beta1.ListClustersResponse], error) {
	out := &cksv1beta1.ListClustersResponse{}
	if err := runPlatform(ctx, s.e.listClusters, http.MethodGet, "", nil, out); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

func (s clusterService) GetCluster(ctx context.Context, req *connect.Request[cksv1beta1.GetClusterRequest]) (*connect.Response[cksv1beta1.GetClusterResponse], error) {
	out := &cksv1beta1.GetClusterResponse{}
	if err := runPlatform(ctx, s.e.getCluster, http.MethodGet, req.Msg.GetId(), nil, out); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

func (s clusterService) CreateCluster(ctx context.Context, req *connect.Request[cksv1beta1.CreateClusterRequest]) (*connect.Response[cksv1beta1.CreateClusterResponse], error) {
	out := &cksv1beta1.CreateClusterResponse{}
	if err := runPlatform(ctx, s.e.createCluster, http.MethodPost, "", req.Msg, out); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

func (s clusterService) UpdateCluster(ctx context.Context, req *connect.Request[cksv1beta1.UpdateClusterRequest]) (*connect.Response[cksv1beta1.UpdateClusterResponse], error) {
	out := &cksv1beta1.UpdateClusterResponse{}
	if err := runPlatform(ctx, s.e.updateCluster, http.MethodPatch, req.Msg.GetId(), req.Msg, out); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

func (s clusterService) DeleteCluster(ctx context.Context, req *connect.Request[cksv1beta1.DeleteClusterRequest]) (*connect.Response[cksv1beta1.DeleteClusterResponse], error) {
	out := &cksv1beta1.DeleteClusterResponse{}
	if err := runPlatform(ctx, s.e.deleteCluster, http.MethodDelete, req.Msg.GetId(), nil, out); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

// vpcService implements networkingv1beta1connect.VPCServiceHandler.
type vpcService struct{ e *Emulator }

var _ networkingv1beta1connect.VPCServiceHandler = vpcService{}

func (s vpcService) ListVPCs(ctx context.Context, _ *connect.Request[networkingv1beta1.ListVPCsRequest]) (*connect.Response[networkingv1beta1.ListVPCsResponse], error) {
	out := &networkingv1beta1.ListVPCsResponse{}
	if err := runPlatform(ctx, s.e.listVPCs, http.MethodGet, "", nil, out); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

func (s vpcService) GetVPC(ctx context.Context, req *connect.Request[networkingv1beta1.GetVPCRequest]) (*connect.Response[networkingv1beta1.GetVPCResponse], error) {
	out := &networkingv1beta1.GetVPCResponse{}
	if err := runPlatform(ctx, s.e.getVPC, http.MethodGet, req.Msg.GetId(), nil, out); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

func (s vpcService) CreateVPC(ctx context.Context, req *connect.Request[networkingv1beta1.CreateVPCRequest]) (*connect.Response[networkingv1beta1.CreateVPCResponse], error) {
	out := &networkingv1beta1.CreateVPCResponse{}
	if err := runPlatform(ctx, s.e.createVPC, http.MethodPost, "", req.Msg, out); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

func (s vpcService) UpdateVPC(ctx context.Context, req *connect.Request[networkingv1beta1.UpdateVPCRequest]) (*connect.Response[networkingv1beta1.UpdateVPCResponse], error) {
	out := &networkingv1beta1.UpdateVPCResponse{}
	if err := runPlatform(ctx, s.e.updateVPC, http.MethodPatch, req.Msg.GetId(), req.Msg, out); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

func (s vpcService) DeleteVPC(ctx context.Context, req *connect.Request[networkingv1beta1.DeleteVPCRequest]) (*connect.Response[networkingv1beta1.DeleteVPCResponse], error) {
	out := &networkingv1beta1.DeleteVPCResponse{}
	if err := runPlatform(ctx, s.e.deleteVPC, http.MethodDelete, req.Msg.GetId(), nil, out); err != nil {
		return nil, err
	}
	return connect.NewResponse(out), nil
}

// RPCPathPrefixes are the path prefixes of the Connect and gRPC services, for a server that
// mounts the emulator next to others.
func RPCPathPrefixes() []string {
	return []string{"/" + cksv1beta1connect.ClusterServiceName + "/", "/" + networkingv1beta1connect.VPCServiceName + "/"}
}
