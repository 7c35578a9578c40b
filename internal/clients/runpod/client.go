// Package runpod is the RunPod adapter: a typed client for RunPod's REST API 2.0.0
// (client.go, wire.go) and Cloud, which implements clients.Cloud on top of it (adapter.go,
// launch.go, sshkeys.go), plus network volumes and Instant Clusters (extras.go). It registers
// itself as the cloud "runpod".
package runpod

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/httpx"
)

// DefaultEndpoint is RunPod's REST API v2 base URL; request paths are relative to it.
const DefaultEndpoint = "https://api.runpod.io/v2"

// cloudName is the cloud's key in configuration, in errors and in the tflog subsystem.
const cloudName = "runpod"

// ClientConfig configures a Client.
type ClientConfig struct {
	// Endpoint is the API base URL including /v2; DefaultEndpoint when empty.
	Endpoint string
	// AllowInsecure lets Endpoint be plain http to a host that is not loopback (httpx.Config).
	AllowInsecure bool
	APIKey        string
	UserAgent     string
	// Limiter paces every request; DefaultLimiter when nil. It is also the limiter that the
	// RateLimit header adaptation tightens and restores (see pacer), so it must not be shared
	// with another client.
	Limiter *rate.Limiter
	// Tuning is passed to httpx as given (its defaults where zero).
	httpx.Tuning
}

// Client is a typed RunPod REST v2 client. Every method returns errors wrapping the clients
// sentinels, usually as *clients.APIError with the problem's title and detail kept.
type Client struct {
	http  *httpx.Client
	pacer *pacer
}

// NewClient builds a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.Limiter == nil {
		cfg.Limiter = DefaultLimiter()
	}
	p := newPacer(cfg.Limiter)
	h, err := httpx.New(httpx.Config{
		Cloud:         cloudName,
		BaseURL:       cfg.Endpoint,
		AllowInsecure: cfg.AllowInsecure,
		UserAgent:     cfg.UserAgent,
		BearerToken:   cfg.APIKey,
		Limiter:       cfg.Limiter,
		DecodeError:   decodeError,
		OnResponse:    p.onResponse,
		Credit:        p.grant,
		CreditWake:    p.wake,
		Tuning:        cfg.Tuning,
	})
	if err != nil {
		return nil, err
	}
	return &Client{http: h, pacer: p}, nil
}

// validID accepts the ids RunPod hands out ("7h9k2m4n6p", "pod_abc123", "vol_xyz"). Ids go
// into the URL path unescaped (httpx joins paths as given), so anything else is refused before
// it can reach another route.
var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func checkID(kind, id string) error {
	if !validID.MatchString(id) {
		return clients.Errorf(clients.ErrInvalid, "%q is not a valid RunPod %s id", id, kind)
	}
	return nil
}

func (c *Client) do(ctx context.Context, req httpx.Request, out any) error {
	return c.http.Do(ctx, req, out)
}

func (c *Client) get(ctx context.Context, op, path string, query url.Values, out any) error {
	return c.do(ctx, httpx.Request{Operation: op, Method: http.MethodGet, Path: path, Query: query}, out)
}

// list reads a collection: a 404 to it is a failing route, never proof that anything is gone.
func (c *Client) list(ctx context.Context, op, path string, query url.Values, out any) error {
	return c.do(ctx, httpx.Request{Operation: op, Method: http.MethodGet, Path: path, Query: query, List: true}, out)
}

// ListPodsOptions filters GET /pods.
type ListPodsOptions struct {
	// IncludeClusterPods adds Instant Cluster members, which are left out by default.
	IncludeClusterPods bool
}

// ListPods reads GET /pods.
func (c *Client) ListPods(ctx context.Context, opts ListPodsOptions) ([]Pod, error) {
	var q url.Values
	if opts.IncludeClusterPods {
		q = url.Values{"includeClusterPods": {"true"}}
	}
	var out ListPodsResponse
	if err := c.list(ctx, "list pods", "/pods", q, &out); err != nil {
		return nil, err
	}
	return out.Pods, nil
}

// GetPod reads GET /pods/{id}.
func (c *Client) GetPod(ctx context.Context, id string) (*Pod, error) {
	if err := checkID("pod", id); err != nil {
		return nil, err
	}
	var out Pod
	if err := c.get(ctx, "get pod", "/pods/"+id, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreatePod sends POST /pods. RunPod has no idempotency key, so the request is never repeated
// once it may have reached the server: a lost answer comes back as clients.ErrOutcomeUnknown
// and the caller must look for the pod before creating another.
func (c *Client) CreatePod(ctx context.Context, req CreatePodRequest) (*Pod, error) {
	var out Pod
	err := c.do(ctx, httpx.Request{
		Operation: "create pod", Method: http.MethodPost, Path: "/pods", Body: req, NotIdempotent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdatePod sends PATCH /pods/{id}. A patch sets values rather than adding to them, so it may
// be retried.
func (c *Client) UpdatePod(ctx context.Context, id string, req UpdatePodRequest) (*Pod, error) {
	if err := checkID("pod", id); err != nil {
		return nil, err
	}
	var out Pod
	err := c.do(ctx, httpx.Request{Operation: "update pod", Method: http.MethodPatch, Path: "/pods/" + id, Body: req}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeletePod sends DELETE /pods/{id}, which terminates the pod for good (204). Deleting twice
// ends in the same state, so the request is retried like a read.
func (c *Client) DeletePod(ctx context.Context, id string) error {
	if err := checkID("pod", id); err != nil {
		return err
	}
	return c.do(ctx, httpx.Request{Operation: "delete pod", Method: http.MethodDelete, Path: "/pods/" + id}, nil)
}

// PodAction sends POST /pods/{id}/action. start, stop and restart answer with the updated
// pod; terminate answers 204 and a nil pod. An action the pod's status does not allow is a
// 409 (clients.ErrConflict). start, stop and terminate lead to the same state when repeated
// and are retried like reads; a repeated restart would restart again, so its lost answer is
// reported instead.
func (c *Client) PodAction(ctx context.Context, id, action string) (*Pod, error) {
	if err := checkID("pod", id); err != nil {
		return nil, err
	}
	var out *Pod
	err := c.do(ctx, httpx.Request{
		Operation: action + " pod", Method: http.MethodPost, Path: "/pods/" + id + "/action",
		Body: PodActionRequest{Action: action}, NotIdempotent: action == ActionRestart,
	}, &out)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetSSHKeys reads GET /account/ssh-keys: the account's public keys, one authorized_keys line
// each.
func (c *Client) GetSSHKeys(ctx context.Context) ([]string, error) {
	var out SSHKeys
	if err := c.list(ctx, "list SSH keys", "/account/ssh-keys", nil, &out); err != nil {
		return nil, err
	}
	return out.Keys, nil
}

// PutSSHKeys sends PUT /account/ssh-keys, replacing the account's whole key set (keys left out
// are removed), and returns the set RunPod now holds. A replacement may be repeated.
func (c *Client) PutSSHKeys(ctx context.Context, keys []string) ([]string, error) {
	if keys == nil {
		keys = []string{} // "send [] to remove all keys": null is not a list
	}
	var out SSHKeys
	err := c.do(ctx, httpx.Request{
		Operation: "replace SSH keys", Method: http.MethodPut, Path: "/account/ssh-keys", Body: SSHKeys{Keys: keys},
	}, &out)
	if err != nil {
		return nil, err
	}
	return out.Keys, nil
}

// ListClusters reads GET /clusters.
func (c *Client) ListClusters(ctx context.Context) ([]Cluster, error) {
	var out ListClustersResponse
	if err := c.list(ctx, "list clusters", "/clusters", nil, &out); err != nil {
		return nil, err
	}
	return out.Clusters, nil
}

// CreateCluster sends POST /clusters; like CreatePod it is never repeated after it may have
// reached the server.
func (c *Client) CreateCluster(ctx context.Context, req CreateClusterRequest) (*Cluster, error) {
	var out Cluster
	err := c.do(ctx, httpx.Request{
		Operation: "create cluster", Method: http.MethodPost, Path: "/clusters", Body: req, NotIdempotent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetCluster reads GET /clusters/{id}.
func (c *Client) GetCluster(ctx context.Context, id string) (*Cluster, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	var out Cluster
	if err := c.get(ctx, "get cluster", "/clusters/"+id, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RenameCluster sends PATCH /clusters/{id} (a cluster can only be renamed).
func (c *Client) RenameCluster(ctx context.Context, id, name string) (*Cluster, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	var out Cluster
	err := c.do(ctx, httpx.Request{
		Operation: "rename cluster", Method: http.MethodPatch, Path: "/clusters/" + id, Body: UpdateClusterRequest{Name: name},
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteCluster sends DELETE /clusters/{id}, terminating every member pod.
func (c *Client) DeleteCluster(ctx context.Context, id string) error {
	if err := checkID("cluster", id); err != nil {
		return err
	}
	return c.do(ctx, httpx.Request{Operation: "delete cluster", Method: http.MethodDelete, Path: "/clusters/" + id}, nil)
}

// ListClusterPods reads GET /clusters/{id}/pods: the member pods in full. It is a list: a 404
// to it is not proof that the cluster is gone (one to GET /clusters/{id} is).
func (c *Client) ListClusterPods(ctx context.Context, id string) ([]Pod, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	var out ListPodsResponse
	if err := c.list(ctx, "list cluster pods", "/clusters/"+id+"/pods", nil, &out); err != nil {
		return nil, err
	}
	return out.Pods, nil
}

// ListNetworkVolumes reads GET /network-volumes.
func (c *Client) ListNetworkVolumes(ctx context.Context) ([]NetworkVolume, error) {
	var out ListNetworkVolumesResponse
	if err := c.list(ctx, "list network volumes", "/network-volumes", nil, &out); err != nil {
		return nil, err
	}
	return out.NetworkVolumes, nil
}

// CreateNetworkVolume sends POST /network-volumes (billed until deleted, so never repeated
// after it may have reached the server).
func (c *Client) CreateNetworkVolume(ctx context.Context, req CreateNetworkVolumeRequest) (*NetworkVolume, error) {
	var out NetworkVolume
	err := c.do(ctx, httpx.Request{
		Operation: "create network volume", Method: http.MethodPost, Path: "/network-volumes", Body: req, NotIdempotent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetNetworkVolume reads GET /network-volumes/{id}.
func (c *Client) GetNetworkVolume(ctx context.Context, id string) (*NetworkVolume, error) {
	if err := checkID("network volume", id); err != nil {
		return nil, err
	}
	var out NetworkVolume
	if err := c.get(ctx, "get network volume", "/network-volumes/"+id, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateNetworkVolume sends PATCH /network-volumes/{id} (rename, grow).
func (c *Client) UpdateNetworkVolume(ctx context.Context, id string, req UpdateNetworkVolumeRequest) (*NetworkVolume, error) {
	if err := checkID("network volume", id); err != nil {
		return nil, err
	}
	var out NetworkVolume
	err := c.do(ctx, httpx.Request{
		Operation: "update network volume", Method: http.MethodPatch, Path: "/network-volumes/" + id, Body: req,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteNetworkVolume sends DELETE /network-volumes/{id}.
func (c *Client) DeleteNetworkVolume(ctx context.Context, id string) error {
	if err := checkID("network volume", id); err != nil {
		return err
	}
	return c.do(ctx, httpx.Request{Operation: "delete network volume", Method: http.MethodDelete, Path: "/network-volumes/" + id}, nil)
}

// GPUTypesQuery filters GET /catalog/gpus. Availability (with Products) adds live stock per
// data center; Count and Cloud scope that stock to a pod of Count GPUs on that cloud tier.
type GPUTypesQuery struct {
	Availability bool
	Products     []string // POD, CLUSTER, SERVERLESS; required with Availability
	Count        int      // 0 = RunPod's default (1)
	Cloud        string   // SECURE (RunPod's default) or COMMUNITY
}

func (q GPUTypesQuery) values() url.Values {
	v := url.Values{}
	if q.Availability {
		v.Set("include", "AVAILABILITY")
		// The parameter is form style without explode: one comma-separated value.
		v.Set("product", strings.Join(q.Products, ","))
		if q.Count > 0 {
			v.Set("count", strconv.Itoa(q.Count))
		}
		if q.Cloud != "" {
			v.Set("cloud", q.Cloud)
		}
	}
	return v
}

// PodAvailability is the catalog query for pods of count GPUs on a cloud tier.
func PodAvailability(count int, cloud string) GPUTypesQuery {
	return GPUTypesQuery{Availability: true, Products: []string{"POD"}, Count: count, Cloud: cloud}
}

// ListGPUTypes reads GET /catalog/gpus.
func (c *Client) ListGPUTypes(ctx context.Context, q GPUTypesQuery) ([]GpuType, error) {
	var out ListGpuTypesResponse
	if err := c.list(ctx, "list GPU types", "/catalog/gpus", q.values(), &out); err != nil {
		return nil, err
	}
	return out.GPUs, nil
}

// GetGPUType reads GET /catalog/gpus/{id}; GPU ids contain spaces and are escaped.
func (c *Client) GetGPUType(ctx context.Context, id string, q GPUTypesQuery) (*GpuType, error) {
	if strings.TrimSpace(id) == "" {
		return nil, clients.Errorf(clients.ErrInvalid, "empty RunPod GPU type id")
	}
	var out GpuType
	if err := c.get(ctx, "get GPU type", "/catalog/gpus/"+url.PathEscape(id), q.values(), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DataCentersQuery filters GET /catalog/datacenters.
type DataCentersQuery struct {
	// GPUAvailability adds each data center's GPU stock (include=GPU_AVAILABILITY).
	GPUAvailability bool
	// Regions keeps data centers of these continental regions (EUROPE, NORTH_AMERICA, ...).
	Regions []string
}

// ListDataCenters reads GET /catalog/datacenters.
func (c *Client) ListDataCenters(ctx context.Context, q DataCentersQuery) ([]DataCenter, error) {
	v := url.Values{}
	if q.GPUAvailability {
		v.Set("include", "GPU_AVAILABILITY")
	}
	if len(q.Regions) > 0 {
		v.Set("regions", strings.Join(q.Regions, ","))
	}
	var out ListDataCentersResponse
	if err := c.list(ctx, "list data centers", "/catalog/datacenters", v, &out); err != nil {
		return nil, err
	}
	return out.DataCenters, nil
}

// ListTemplates reads GET /templates: the account's own templates, public or private.
func (c *Client) ListTemplates(ctx context.Context) ([]Template, error) {
	var out ListTemplatesResponse
	if err := c.list(ctx, "list templates", "/templates", nil, &out); err != nil {
		return nil, err
	}
	return out.Templates, nil
}

// ListPublicTemplates reads GET /catalog/templates: one slice of the public catalog (source is
// TemplatesOfficial, TemplatesVerified or TemplatesCommunity; RunPod's default, official, when
// empty). At most 100 templates come back.
func (c *Client) ListPublicTemplates(ctx context.Context, source string) ([]Template, error) {
	var q url.Values
	if source != "" {
		q = url.Values{"source": {source}}
	}
	var out ListTemplatesResponse
	if err := c.list(ctx, "list public templates", "/catalog/templates", q, &out); err != nil {
		return nil, err
	}
	return out.Templates, nil
}

// GetTemplate reads GET /templates/{id}: one of the account's templates or a public catalog
// one; ErrNotFound for any other id.
func (c *Client) GetTemplate(ctx context.Context, id string) (*Template, error) {
	if err := checkID("template", id); err != nil {
		return nil, err
	}
	var out Template
	if err := c.get(ctx, "get template", "/templates/"+id, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListRegistries reads GET /registries: the account's container registry credentials.
func (c *Client) ListRegistries(ctx context.Context) ([]Registry, error) {
	var out ListRegistriesResponse
	if err := c.list(ctx, "list container registry credentials", "/registries", nil, &out); err != nil {
		return nil, err
	}
	return out.Registries, nil
}

// CreateRegistry sends POST /registries. Each create stores another credential, so it is never
// repeated once it may have reached the server (a lost answer is clients.ErrOutcomeUnknown).
func (c *Client) CreateRegistry(ctx context.Context, req CreateRegistryRequest) (*Registry, error) {
	var out Registry
	err := c.do(ctx, httpx.Request{
		Operation: "create container registry credential", Method: http.MethodPost, Path: "/registries", Body: req, NotIdempotent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetRegistry reads GET /registries/{id}.
func (c *Client) GetRegistry(ctx context.Context, id string) (*Registry, error) {
	if err := checkID("container registry credential", id); err != nil {
		return nil, err
	}
	var out Registry
	if err := c.get(ctx, "get container registry credential", "/registries/"+id, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteRegistry sends DELETE /registries/{id}. RunPod refuses it (400, clients.ErrConflict)
// while a pod pulls its image with the credential.
func (c *Client) DeleteRegistry(ctx context.Context, id string) error {
	if err := checkID("container registry credential", id); err != nil {
		return err
	}
	return c.do(ctx, httpx.Request{Operation: "delete container registry credential", Method: http.MethodDelete, Path: "/registries/" + id}, nil)
}
