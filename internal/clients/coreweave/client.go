// Package coreweave is the CoreWeave adapter. It speaks two APIs:
//
//   - the platform API (client.go, wire.go): CKS clusters and VPCs, JSON over HTTP through the
//     shared httpx stack (retries, pacing, masked logging, typed errors);
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
	"net/http"
	"regexp"
	"time"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/httpx"
)

// DefaultEndpoint is CoreWeave's platform API base URL; request paths (/v1beta1/...) are
// relative to it.
const DefaultEndpoint = "https://api.coreweave.com"

// cloudName is the cloud's key in configuration, in errors and in the tflog subsystem.
const cloudName = "coreweave"

// API paths.
const (
	clustersPath = "/v1beta1/cks/clusters"
	vpcsPath     = "/v1beta1/networking/vpcs"
)

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
	// RetryWaitMin and RetryWaitMax bound the backoff between retries (httpx defaults).
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// RetryBudget bounds the retries of a call without a deadline, and RequestTimeout one
	// attempt (httpx defaults; see httpx.Config).
	RetryBudget    time.Duration
	RequestTimeout time.Duration
	// Transport is the base HTTP transport (tests); the default pooled one when nil.
	Transport http.RoundTripper
}

// Client is a typed client of CoreWeave's platform API (CKS clusters and VPCs). Every method
// returns errors wrapping the clients sentinels, usually as *clients.APIError with the Connect
// code and message kept.
type Client struct {
	http *httpx.Client
}

// NewClient builds a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.Limiter == nil {
		cfg.Limiter = DefaultLimiter()
	}
	base := cfg.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	token := cfg.Token
	h, err := httpx.New(httpx.Config{
		Cloud:          cloudName,
		BaseURL:        cfg.Endpoint,
		AllowInsecure:  cfg.AllowInsecure,
		UserAgent:      cfg.UserAgent,
		Authorize:      func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) },
		Secrets:        []string{token},
		Limiter:        cfg.Limiter,
		DecodeError:    decodeError,
		RetryWaitMin:   cfg.RetryWaitMin,
		RetryWaitMax:   cfg.RetryWaitMax,
		RetryBudget:    cfg.RetryBudget,
		RequestTimeout: cfg.RequestTimeout,
		Transport:      quotaFinalTransport{next: base},
	})
	if err != nil {
		return nil, err
	}
	return &Client{http: h}, nil
}

// validID accepts the ids CoreWeave hands out (UUIDs) and other plain tokens. Ids go into the
// URL path unescaped (httpx joins paths as given), so anything else is refused before it can
// reach another route.
var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func checkID(kind, id string) error {
	if !validID.MatchString(id) {
		return clients.Errorf(clients.ErrInvalid, "%q is not a valid CoreWeave %s id", id, kind)
	}
	return nil
}

func (c *Client) do(ctx context.Context, req httpx.Request, out any) error {
	return clearFinalRetryAfter(c.http.Do(ctx, req, out))
}

// ListClusters reads GET /v1beta1/cks/clusters.
func (c *Client) ListClusters(ctx context.Context) ([]Cluster, error) {
	var out ListClustersResponse
	if err := c.do(ctx, httpx.Request{Operation: "list CKS clusters", Method: http.MethodGet, Path: clustersPath, List: true}, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// GetCluster reads GET /v1beta1/cks/clusters/{id}.
func (c *Client) GetCluster(ctx context.Context, id string) (*Cluster, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	var out ClusterResponse
	if err := c.do(ctx, httpx.Request{Operation: "get CKS cluster", Method: http.MethodGet, Path: clustersPath + "/" + id}, &out); err != nil {
		return nil, err
	}
	return &out.Cluster, nil
}

// CreateCluster sends POST /v1beta1/cks/clusters. The API takes no idempotency key, so the
// request is never repeated once it may have reached the server: a lost answer comes back as
// clients.ErrOutcomeUnknown and the caller must look for the cluster (by its name, unique in
// the organization) before creating another.
func (c *Client) CreateCluster(ctx context.Context, req CreateClusterRequest) (*Cluster, error) {
	var out ClusterResponse
	err := c.do(ctx, httpx.Request{
		Operation: "create CKS cluster", Method: http.MethodPost, Path: clustersPath, Body: req, NotIdempotent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Cluster, nil
}

// UpdateCluster sends PATCH /v1beta1/cks/clusters/{id}. A patch sets values, so it may be
// retried.
func (c *Client) UpdateCluster(ctx context.Context, id string, req UpdateClusterRequest) (*Cluster, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	var out ClusterResponse
	err := c.do(ctx, httpx.Request{Operation: "update CKS cluster", Method: http.MethodPatch, Path: clustersPath + "/" + id, Body: req}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Cluster, nil
}

// DeleteCluster sends DELETE /v1beta1/cks/clusters/{id}; the answer is the cluster in
// STATUS_DELETING. Deleting twice ends in the same state, so it is retried like a read.
func (c *Client) DeleteCluster(ctx context.Context, id string) (*Cluster, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	var out ClusterResponse
	if err := c.do(ctx, httpx.Request{Operation: "delete CKS cluster", Method: http.MethodDelete, Path: clustersPath + "/" + id}, &out); err != nil {
		return nil, err
	}
	return &out.Cluster, nil
}

// ListVPCs reads GET /v1beta1/networking/vpcs.
func (c *Client) ListVPCs(ctx context.Context) ([]VPC, error) {
	var out ListVPCsResponse
	if err := c.do(ctx, httpx.Request{Operation: "list VPCs", Method: http.MethodGet, Path: vpcsPath, List: true}, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// GetVPC reads GET /v1beta1/networking/vpcs/{id}.
func (c *Client) GetVPC(ctx context.Context, id string) (*VPC, error) {
	if err := checkID("VPC", id); err != nil {
		return nil, err
	}
	var out VPCResponse
	if err := c.do(ctx, httpx.Request{Operation: "get VPC", Method: http.MethodGet, Path: vpcsPath + "/" + id}, &out); err != nil {
		return nil, err
	}
	return &out.VPC, nil
}

// CreateVPC sends POST /v1beta1/networking/vpcs; like CreateCluster it is never repeated
// after it may have reached the server (VPC names are unique in the organization: look for it
// by name).
func (c *Client) CreateVPC(ctx context.Context, req CreateVPCRequest) (*VPC, error) {
	var out VPCResponse
	err := c.do(ctx, httpx.Request{
		Operation: "create VPC", Method: http.MethodPost, Path: vpcsPath, Body: req, NotIdempotent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out.VPC, nil
}

// UpdateVPC sends PATCH /v1beta1/networking/vpcs/{id}.
func (c *Client) UpdateVPC(ctx context.Context, id string, req UpdateVPCRequest) (*VPC, error) {
	if err := checkID("VPC", id); err != nil {
		return nil, err
	}
	var out VPCResponse
	if err := c.do(ctx, httpx.Request{Operation: "update VPC", Method: http.MethodPatch, Path: vpcsPath + "/" + id, Body: req}, &out); err != nil {
		return nil, err
	}
	return &out.VPC, nil
}

// DeleteVPC sends DELETE /v1beta1/networking/vpcs/{id}. A VPC a cluster still uses is
// refused with failed_precondition (clients.ErrConflict).
func (c *Client) DeleteVPC(ctx context.Context, id string) error {
	if err := checkID("VPC", id); err != nil {
		return err
	}
	return c.do(ctx, httpx.Request{Operation: "delete VPC", Method: http.MethodDelete, Path: vpcsPath + "/" + id}, nil)
}
