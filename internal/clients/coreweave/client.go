// Package coreweave is the CoreWeave adapter. It speaks two APIs:
//
//   - the platform API (client.go, convert.go): CKS clusters and VPCs through CoreWeave's own
//     generated Go SDK (buf.build/gen/go/coreweave/{cks,networking}, Connect-RPC with protobuf
//     bodies, as CoreWeave's official provider speaks it), over the shared httpx stack (retries,
//     pacing, masked logging); Connect codes become typed errors (errors.go);
//   - the Kubernetes API of each CKS cluster (kube.go, kubewire.go): the cluster-scoped
//     NodePool custom resource (compute.coreweave.com/v1alpha1) and the Nodes it brings, through
//     client-go's dynamic client with the same bearer token.
//
// Cloud (adapter.go) implements clients.Cloud (a gpu_instance is a one-node NodePool in an
// existing CKS cluster: instances.go) and clients.ClusterCloud (a gpu_cluster is a VPC, a CKS
// cluster and one NodePool of an InfiniBand GPU type: clusters.go). It registers itself as the
// cloud "coreweave".
package coreweave

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"buf.build/gen/go/coreweave/cks/connectrpc/go/coreweave/cks/v1beta1/cksv1beta1connect"
	cksv1beta1 "buf.build/gen/go/coreweave/cks/protocolbuffers/go/coreweave/cks/v1beta1"
	"buf.build/gen/go/coreweave/networking/connectrpc/go/coreweave/networking/v1beta1/networkingv1beta1connect"
	networkingv1beta1 "buf.build/gen/go/coreweave/networking/protocolbuffers/go/coreweave/networking/v1beta1"
	"connectrpc.com/connect"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/httpx"
)

// DefaultEndpoint is CoreWeave's platform API base URL; the Connect procedures
// (/coreweave.cks.v1beta1.ClusterService/...) are relative to it.
const DefaultEndpoint = "https://api.coreweave.com"

// cloudName is the cloud's key in configuration, in errors and in the tflog subsystem.
const cloudName = "coreweave"

// DefaultLimiter paces platform API requests. CoreWeave publishes no rate limit for it; five
// requests a second with a burst of ten keeps a plan with many clusters well clear of any
// plausible one.
func DefaultLimiter() *rate.Limiter { return rate.NewLimiter(rate.Every(200*time.Millisecond), 10) }

// ClientConfig configures a Client.
type ClientConfig struct {
	// Endpoint is the platform API base URL; DefaultEndpoint when empty.
	Endpoint string
	// AllowInsecure lets Endpoint be plain http to a host that is not loopback (httpx.Config).
	AllowInsecure bool
	// Token is the API access token, "CW-SECRET-...", sent as a bearer token.
	Token     string
	UserAgent string
	// Limiter paces every request; DefaultLimiter when nil.
	Limiter *rate.Limiter
	// Tuning is passed to httpx as given (its defaults where zero).
	httpx.Tuning
}

// Client is a typed client of CoreWeave's platform API (CKS clusters and VPCs) on CoreWeave's
// SDK. Every method returns errors wrapping the clients sentinels, usually as *clients.APIError
// with the Connect code and message kept.
type Client struct {
	clusters cksv1beta1connect.ClusterServiceClient
	vpcs     networkingv1beta1connect.VPCServiceClient
}

// NewClient builds a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.Limiter == nil {
		cfg.Limiter = DefaultLimiter()
	}
	tuning := cfg.Tuning
	if tuning.Transport == nil {
		tuning.Transport = http.DefaultTransport
	}
	tuning.Transport = quotaFinalTransport{next: tuning.Transport}
	h, err := httpx.New(httpx.Config{
		Cloud:         cloudName,
		BaseURL:       cfg.Endpoint,
		AllowInsecure: cfg.AllowInsecure,
		UserAgent:     cfg.UserAgent,
		BearerToken:   cfg.Token,
		Limiter:       cfg.Limiter,
		Tuning:        tuning,
	})
	if err != nil {
		return nil, err
	}
	hc := h.HTTPClient()
	endpoint := strings.TrimRight(cfg.Endpoint, "/")
	return &Client{
		clusters: cksv1beta1connect.NewClusterServiceClient(hc, endpoint),
		vpcs:     networkingv1beta1connect.NewVPCServiceClient(hc, endpoint),
	}, nil
}

// validID accepts the ids CoreWeave hands out (UUIDs) and other plain tokens. The REST form of
// the API puts ids into URL paths, so anything else is refused before it is sent.
var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func checkID(kind, id string) error {
	if !validID.MatchString(id) {
		return clients.Errorf(clients.ErrInvalid, "%q is not a valid CoreWeave %s id", id, kind)
	}
	return nil
}

// call runs one RPC through the httpx stack and turns its failure into a typed error.
func call[Req, Res any](ctx context.Context, c httpx.Call, fn func(context.Context, *connect.Request[Req]) (*connect.Response[Res], error), msg *Req) (*Res, error) {
	resp, err := fn(httpx.WithCall(ctx, c), connect.NewRequest(msg))
	if err != nil {
		return nil, rpcError(c, err)
	}
	return resp.Msg, nil
}

// rpcError classifies a failed call: a Connect error the server sent by its code and details
// (errors.go), a lost answer of a create as clients.ErrOutcomeUnknown, anything else (the
// context ended, the server could not be reached) as it is, with the operation named.
func rpcError(c httpx.Call, err error) error {
	if errors.Is(err, clients.ErrOutcomeUnknown) {
		return err
	}
	var ce *connect.Error
	if !errors.As(err, &ce) || !connect.IsWireError(ce) {
		if c.NotIdempotent && !errors.Is(err, context.Canceled) {
			return &clients.APIError{Kind: clients.ErrOutcomeUnknown, Cloud: cloudName, Operation: c.Operation,
				Message: "the request may have been sent but its answer was lost (" + err.Error() + ")"}
		}
		return fmt.Errorf("%s: %s API: %w", c.Operation, cloudName, err)
	}
	body := ErrorBody{Code: ce.Code().String(), Message: ce.Message()}
	for _, d := range ce.Details() {
		body.Details = append(body.Details, ErrorDetail{Type: d.Type(), Value: base64.RawStdEncoding.EncodeToString(d.Bytes())})
	}
	e := classify(body)
	e.Cloud, e.Operation = cloudName, c.Operation
	e.StatusCode = httpStatus(ce.Code())
	if e.Kind == nil {
		e.Kind = httpx.KindForStatus(e.StatusCode)
	}
	if c.List && errors.Is(e.Kind, clients.ErrNotFound) {
		// A list is never "gone": only its route failed.
		e.Kind = nil
	}
	if e.Kind == nil && serverSide(ce.Code()) {
		if c.NotIdempotent {
			e.Kind = clients.ErrOutcomeUnknown
		} else if ce.Code() == connect.CodeUnavailable || ce.Code() == connect.CodeDeadlineExceeded {
			e.Kind = clients.ErrUnavailable
		}
	}
	if !errors.Is(e.Kind, clients.ErrQuota) && !errors.Is(e.Kind, clients.ErrCapacity) {
		if d, ok := httpx.RetryAfter(ce.Meta(), time.Now()); ok {
			e.RetryAfter = d
		}
	}
	return e
}

// serverSide reports the codes of a failure the server may have acted before: a create that
// ends so must be looked for before it is sent again.
func serverSide(code connect.Code) bool {
	switch code {
	case connect.CodeUnknown, connect.CodeInternal, connect.CodeUnavailable, connect.CodeDeadlineExceeded,
		connect.CodeDataLoss, connect.CodeAborted:
		return true
	}
	return false
}

// httpStatus is the Connect protocol's HTTP status for a code.
func httpStatus(code connect.Code) int {
	switch code {
	case connect.CodeCanceled:
		return 499
	case connect.CodeInvalidArgument, connect.CodeFailedPrecondition, connect.CodeOutOfRange:
		return http.StatusBadRequest
	case connect.CodeDeadlineExceeded:
		return http.StatusGatewayTimeout
	case connect.CodeNotFound:
		return http.StatusNotFound
	case connect.CodeAlreadyExists, connect.CodeAborted:
		return http.StatusConflict
	case connect.CodePermissionDenied:
		return http.StatusForbidden
	case connect.CodeResourceExhausted:
		return http.StatusTooManyRequests
	case connect.CodeUnimplemented:
		return http.StatusNotImplemented
	case connect.CodeUnavailable:
		return http.StatusServiceUnavailable
	case connect.CodeUnauthenticated:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// ListClusters calls ClusterService.ListClusters.
func (c *Client) ListClusters(ctx context.Context) ([]Cluster, error) {
	out, err := call(ctx, httpx.Call{Operation: "list CKS clusters", List: true}, c.clusters.ListClusters, &cksv1beta1.ListClustersRequest{})
	if err != nil {
		return nil, err
	}
	items := make([]Cluster, 0, len(out.GetItems()))
	for _, cl := range out.GetItems() {
		items = append(items, clusterFromProto(cl))
	}
	return items, nil
}

// GetCluster calls ClusterService.GetCluster.
func (c *Client) GetCluster(ctx context.Context, id string) (*Cluster, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	out, err := call(ctx, httpx.Call{Operation: "get CKS cluster"}, c.clusters.GetCluster, &cksv1beta1.GetClusterRequest{Id: id})
	if err != nil {
		return nil, err
	}
	cl := clusterFromProto(out.GetCluster())
	return &cl, nil
}

// CreateCluster calls ClusterService.CreateCluster. The API takes no idempotency key, so the
// request is never repeated once it may have reached the server: a lost answer comes back as
// clients.ErrOutcomeUnknown and the caller must look for the cluster (by its name, unique in
// the organization) before creating another.
func (c *Client) CreateCluster(ctx context.Context, req CreateClusterRequest) (*Cluster, error) {
	msg, err := req.proto()
	if err != nil {
		return nil, err
	}
	out, err := call(ctx, httpx.Call{Operation: "create CKS cluster", NotIdempotent: true}, c.clusters.CreateCluster, msg)
	if err != nil {
		return nil, err
	}
	cl := clusterFromProto(out.GetCluster())
	return &cl, nil
}

// UpdateCluster calls ClusterService.UpdateCluster with an update mask naming the fields req
// sets (the API requires version, so the cluster's current one is sent when req leaves it
// alone). Setting values twice ends the same, so it may be retried.
func (c *Client) UpdateCluster(ctx context.Context, id string, req UpdateClusterRequest) (*Cluster, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	msg := &cksv1beta1.UpdateClusterRequest{Id: id, UpdateMask: &fieldmaskpb.FieldMask{}}
	if req.Version != nil {
		msg.Version = *req.Version
		msg.UpdateMask.Paths = append(msg.UpdateMask.Paths, "version")
	} else {
		cur, err := c.GetCluster(ctx, id)
		if err != nil {
			return nil, err
		}
		msg.Version = cur.Version
	}
	if req.Public != nil {
		msg.Public = *req.Public
		msg.UpdateMask.Paths = append(msg.UpdateMask.Paths, "public")
	}
	if req.AuditPolicy != nil {
		msg.AuditPolicy = *req.AuditPolicy
		msg.UpdateMask.Paths = append(msg.UpdateMask.Paths, "audit_policy")
	}
	if req.Network != nil {
		msg.Network = &cksv1beta1.UpdateClusterRequest_Network{InternalLbCidrNames: req.Network.InternalLBCIDRNames}
		msg.UpdateMask.Paths = append(msg.UpdateMask.Paths, "network.internal_lb_cidr_names")
	}
	out, err := call(ctx, httpx.Call{Operation: "update CKS cluster"}, c.clusters.UpdateCluster, msg)
	if err != nil {
		return nil, err
	}
	cl := clusterFromProto(out.GetCluster())
	return &cl, nil
}

// DeleteCluster calls ClusterService.DeleteCluster; the answer is the cluster in
// STATUS_DELETING. Deleting twice ends in the same state, so it is retried like a read.
func (c *Client) DeleteCluster(ctx context.Context, id string) (*Cluster, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	out, err := call(ctx, httpx.Call{Operation: "delete CKS cluster"}, c.clusters.DeleteCluster, &cksv1beta1.DeleteClusterRequest{Id: id})
	if err != nil {
		return nil, err
	}
	cl := clusterFromProto(out.GetCluster())
	return &cl, nil
}

// ListVPCs calls VPCService.ListVPCs.
func (c *Client) ListVPCs(ctx context.Context) ([]VPC, error) {
	out, err := call(ctx, httpx.Call{Operation: "list VPCs", List: true}, c.vpcs.ListVPCs, &networkingv1beta1.ListVPCsRequest{})
	if err != nil {
		return nil, err
	}
	items := make([]VPC, 0, len(out.GetItems()))
	for _, v := range out.GetItems() {
		items = append(items, vpcFromProto(v))
	}
	return items, nil
}

// GetVPC calls VPCService.GetVPC.
func (c *Client) GetVPC(ctx context.Context, id string) (*VPC, error) {
	if err := checkID("VPC", id); err != nil {
		return nil, err
	}
	out, err := call(ctx, httpx.Call{Operation: "get VPC"}, c.vpcs.GetVPC, &networkingv1beta1.GetVPCRequest{Id: id})
	if err != nil {
		return nil, err
	}
	v := vpcFromProto(out.GetVpc())
	return &v, nil
}

// CreateVPC calls VPCService.CreateVPC; like CreateCluster it is never repeated after it may
// have reached the server (VPC names are unique in the organization: look for it by name).
func (c *Client) CreateVPC(ctx context.Context, req CreateVPCRequest) (*VPC, error) {
	msg, err := req.proto()
	if err != nil {
		return nil, err
	}
	out, err := call(ctx, httpx.Call{Operation: "create VPC", NotIdempotent: true}, c.vpcs.CreateVPC, msg)
	if err != nil {
		return nil, err
	}
	v := vpcFromProto(out.GetVpc())
	return &v, nil
}

// UpdateVPC calls VPCService.UpdateVPC with an update mask naming the fields req sets.
func (c *Client) UpdateVPC(ctx context.Context, id string, req UpdateVPCRequest) (*VPC, error) {
	if err := checkID("VPC", id); err != nil {
		return nil, err
	}
	msg, err := req.proto(id)
	if err != nil {
		return nil, err
	}
	out, err := call(ctx, httpx.Call{Operation: "update VPC"}, c.vpcs.UpdateVPC, msg)
	if err != nil {
		return nil, err
	}
	v := vpcFromProto(out.GetVpc())
	return &v, nil
}

// DeleteVPC calls VPCService.DeleteVPC. A VPC a cluster still uses is refused with
// failed_precondition (clients.ErrConflict).
func (c *Client) DeleteVPC(ctx context.Context, id string) error {
	if err := checkID("VPC", id); err != nil {
		return err
	}
	_, err := call(ctx, httpx.Call{Operation: "delete VPC"}, c.vpcs.DeleteVPC, &networkingv1beta1.DeleteVPCRequest{Id: id})
	return err
}
