package coreweave

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/httpx"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"
)

const (
	keyEnv      = "COREWEAVE_API_TOKEN"
	endpointEnv = "COREWEAVE_API_ENDPOINT"
)

// zones are the CoreWeave Availability Zones the adapter knows (static, for plan-time checks):
// those of CoreWeave's public availability matrix (2026) and those seen in its other public
// material. The matrix changes and no API call lists zones, so the list is not complete: a zone
// outside it is a plan-time warning (RegionsIncomplete), and CoreWeave's answer decides.
var zones = []string{
	"US-EAST-04A", "US-EAST-06A", "US-WEST-04A", "RNO2A", "LGA1",
	"US-EAST-01A", "US-EAST-02A", "US-EAST-08A", "US-EAST-13A", "US-EAST-14A",
	"US-CENTRAL-06A", "US-CENTRAL-07A", "US-WEST-01A", "US-WEST-09B", "US-WEST-10A",
	"EU-SOUTH-03B", "EU-SOUTH-04A",
}

// RegionsIncomplete is true: CoreWeave opens zones without a zone-listing API, so a zone the
// adapter does not know is worth a warning, not a refusal.
func (c *Cloud) RegionsIncomplete() bool { return true }

var _ clients.OpenRegions = (*Cloud)(nil)

// nodeType is one CoreWeave node instance type as sold.
type nodeType struct {
	Name string
	// GPU is the neutral GPU name (the catalog's where it knows the GPU).
	GPU       string
	GPUs      int
	VCPUs     int
	MemoryGiB int
	// InfiniBand types are the ones for multi-node training (gpu_cluster).
	InfiniBand bool
	// RackNodes is the rack size of rack-scale types (GB200/GB300 NVL72), sold by the rack: a
	// pool's node count is a multiple of it. 0 for other types.
	RackNodes int
	// PricePerHour is USD per node-hour.
	PricePerHour float64
	// Zones are where CoreWeave lists the type.
	Zones []string
}

// priceList is CoreWeave's GPU node price list: USD per node-hour and the zones where each type
// is listed. CoreWeave publishes no availability or pricing API, so this table is all Offers
// knows: it is static, it says nothing about capacity right now (a NodePool that cannot get
// nodes reports it through its conditions, which GetInstance and GetCluster surface), and it
// must be updated by hand when CoreWeave changes its list prices. Prices are CoreWeave's
// published on-demand list prices per node.
var priceList = []nodeType{
	{Name: "gd-8xh100ib-i128", GPU: "H100_80GB_SXM", GPUs: 8, VCPUs: 128, MemoryGiB: 2048, InfiniBand: true, PricePerHour: 49.24,
		Zones: []string{"US-EAST-04A", "US-EAST-06A", "US-WEST-04A", "RNO2A", "LGA1"}},
	{Name: "gd-8xh200ib-i128", GPU: "H200_141GB_SXM", GPUs: 8, VCPUs: 128, MemoryGiB: 2048, InfiniBand: true, PricePerHour: 50.44,
		Zones: []string{"US-EAST-04A", "US-WEST-04A", "RNO2A"}},
	{Name: "gd-8xb200ib-i128", GPU: "B200_180GB_SXM", GPUs: 8, VCPUs: 128, MemoryGiB: 2048, InfiniBand: true, PricePerHour: 68.80,
		Zones: []string{"US-EAST-06A", "US-WEST-04A"}},
	{Name: "b200-8x", GPU: "B200_180GB_SXM", GPUs: 8, VCPUs: 128, MemoryGiB: 2048, InfiniBand: true, PricePerHour: 68.80,
		Zones: []string{"US-EAST-06A"}},
	{Name: "gb200-4x", GPU: "GB200_186GB", GPUs: 4, VCPUs: 144, MemoryGiB: 960, InfiniBand: true, RackNodes: 18, PricePerHour: 42.00,
		Zones: []string{"US-EAST-06A", "US-WEST-04A"}},
	{Name: "gb300-4x", GPU: "GB300_288GB", GPUs: 4, VCPUs: 144, MemoryGiB: 960, InfiniBand: true, RackNodes: 18, PricePerHour: 50.00,
		Zones: []string{"US-WEST-04A"}},
	{Name: "gd-8xa100-i128", GPU: "A100_80GB_SXM", GPUs: 8, VCPUs: 128, MemoryGiB: 2048, PricePerHour: 21.60,
		Zones: []string{"US-EAST-04A", "RNO2A", "LGA1"}},
	{Name: "gd-1xgh200", GPU: "GH200_96GB", GPUs: 1, VCPUs: 72, MemoryGiB: 480, PricePerHour: 6.50,
		Zones: []string{"US-EAST-04A", "RNO2A"}},
	{Name: "gd-8xl40-i128", GPU: "L40_48GB", GPUs: 8, VCPUs: 128, MemoryGiB: 1024, PricePerHour: 10.00,
		Zones: []string{"RNO2A", "LGA1"}},
	{Name: "gd-8xl40s-i128", GPU: "L40S_48GB", GPUs: 8, VCPUs: 128, MemoryGiB: 1024, PricePerHour: 18.00,
		Zones: []string{"US-EAST-04A", "RNO2A", "LGA1"}},
	{Name: "rtxp6000-8x", GPU: "RTX_PRO_6000_96GB", GPUs: 8, VCPUs: 128, MemoryGiB: 1024, PricePerHour: 20.00,
		Zones: []string{"US-EAST-06A", "US-WEST-04A"}},
}

// lookupNodeType finds an instance type in the price list.
func lookupNodeType(name string) (nodeType, bool) {
	for _, t := range priceList {
		if strings.EqualFold(t.Name, name) {
			return t, true
		}
	}
	return nodeType{}, false
}

// rackNodes is the rack size of a rack-scale type (0 for others).
func rackNodes(instanceType string) int {
	t, _ := lookupNodeType(instanceType)
	return t.RackNodes
}

// priceOf is the list price of one node of a type (0 when unlisted).
func priceOf(instanceType string) float64 {
	t, _ := lookupNodeType(instanceType)
	return t.PricePerHour
}

// nodesPrice is the list price of n nodes of a type, in whole cents.
func nodesPrice(instanceType string, n int) float64 {
	return math.Round(priceOf(instanceType)*float64(n)*100) / 100
}

func init() {
	clients.Register(clients.CloudInfo{
		Name:            cloudName,
		DisplayName:     "CoreWeave",
		DefaultEndpoint: DefaultEndpoint,
		KeyEnv:          keyEnv,
		EndpointEnv:     endpointEnv,
		KeyAttribute:    "api_token",
		New:             func(s clients.Settings) (clients.Cloud, error) { return New(s) },
		Lacks: map[clients.Kind]string{
			clients.KindSSHKey: "CoreWeave accounts hold no SSH keys: CKS nodes are reached through the cluster's Kubernetes API " +
				"(kubectl with the cluster's kubeconfig).",
			clients.KindVolume:             "CoreWeave storage is Kubernetes persistent volumes inside a CKS cluster, which this provider does not manage.",
			clients.KindRegistryCredential: "CoreWeave pulls private images with Kubernetes image pull secrets inside the CKS cluster.",
		},
		Spot:         true, // a NodePool's computeClass Spot
		Interconnect: interconnect,
	})
}

// Cloud implements clients.Cloud and clients.ClusterCloud for CoreWeave.
type Cloud struct {
	// taken is what this adapter's launches got (see clients.Taken).
	taken clients.Taken
	api   *Client
	kube  *kubeClients
	token string

	// clusters is a shared, short-lived snapshot of GET /v1beta1/cks/clusters: every reader of
	// a cluster (GetCluster waiters, GetInstance for the cluster's endpoint) shares one call.
	clusters   *snapshot.Cache[[]Cluster]
	clusterTTL time.Duration
	// kubeTTL is how stale a cluster's NodePool and Node lists may be for a read (the
	// snapshots live in each KubeClient).
	kubeTTL time.Duration

	mu sync.Mutex
	// plans are the node pools clusters created by this process are still to get once they
	// run (SettleCluster creates them), by cluster id.
	plans map[string]poolPlan
	// vpcNames caches VPC names by id (immutable) for the "created by us" check.
	vpcNames map[string]string
	// offeredVersion is the newest Kubernetes version CoreWeave named when asked (createCluster).
	offeredVersion string
	// known remembers, by cluster id, the name and VPC of clusters this process has seen, so
	// that a delete that finds the cluster already gone can still delete the VPC made for it.
	known map[string]knownCluster

	adoptWindow   time.Duration // how long to look for a create whose answer was lost
	adoptInterval time.Duration // first pause between looks; doubles up to pollMax
	pollInitial   time.Duration // first pause of the adapter's own waits (VPC ready, cluster gone)
	pollMax       time.Duration
	// shortageGrace is how long a cluster's pool may wait for capacity before GetCluster reports
	// the shortage as an error; shortSeen is when this process first saw each pool short (see
	// shortage.go).
	shortageGrace time.Duration
	shortSeen     map[string]time.Time
}

// knownCluster is what DeleteCluster needs of a cluster that is gone already.
type knownCluster struct {
	name, vpcID string
	vpcOwned    bool
}

var (
	_ clients.Cloud             = (*Cloud)(nil)
	_ clients.ClusterCloud      = (*Cloud)(nil)
	_ clients.InstanceValidator = (*Cloud)(nil)
)

// Option adjusts a Cloud built by NewWithOptions.
type Option func(*options)

type options struct {
	client        ClientConfig
	kube          KubeConfig
	adoptWindow   time.Duration
	adoptInterval time.Duration
	pollInitial   time.Duration
	pollMax       time.Duration
	shortageGrace time.Duration
}

// WithRateLimiter replaces the platform API limiter, for an emulator whose clock runs faster.
func WithRateLimiter(lim *rate.Limiter) Option {
	return func(o *options) {
		if lim != nil {
			o.client.Limiter = lim
		}
	}
}

// WithKubeRate sets the pace of requests to each cluster's Kubernetes API server (default 10
// a second, burst 20).
func WithKubeRate(qps float32, burst int) Option {
	return func(o *options) { o.kube.QPS, o.kube.Burst = qps, burst }
}

// WithAdoptionWindow sets how long a create whose answer was lost is looked for (default 30 s)
// and the first pause between looks (default 1 s).
func WithAdoptionWindow(window, firstPause time.Duration) Option {
	return func(o *options) { o.adoptWindow, o.adoptInterval = window, firstPause }
}

// WithPolling sets the pauses of the adapter's own waits: for a new VPC to be ready, for a
// cluster to be gone before its VPC is deleted (default 2 s, doubling up to 15 s).
func WithPolling(first, maxPause time.Duration) Option {
	return func(o *options) { o.pollInitial, o.pollMax = first, maxPause }
}

// withRetryBudget sets how long a platform API call without a deadline keeps retrying (tests:
// a failure the fake keeps answering must not take httpx's five minutes).
func withRetryBudget(d time.Duration) Option {
	return func(o *options) { o.client.RetryBudget, o.kube.ReadBudget = d, d }
}

// withHTTP sets the platform API transport and retry waits (tests).
func withHTTP(transport http.RoundTripper, retryWaitMin, retryWaitMax time.Duration) Option {
	return func(o *options) {
		o.client.Transport = transport
		o.client.RetryWaitMin, o.client.RetryWaitMax = retryWaitMin, retryWaitMax
	}
}

// New builds the CoreWeave adapter from the provider's settings: settings.Endpoint overrides
// DefaultEndpoint, settings.APIKey is the API access token (required, never logged).
func New(settings clients.Settings) (*Cloud, error) { return NewWithOptions(settings) }

// NewWithOptions is New with adjustments (rate limits and waits for emulators and tests).
func NewWithOptions(settings clients.Settings, opts ...Option) (*Cloud, error) {
	token := strings.TrimSpace(settings.APIKey)
	if token == "" {
		return nil, &clients.KindError{Kind: clients.ErrAuth, Msg: fmt.Sprintf(
			"CoreWeave API access token is not set: set api_token in the provider's coreweave block or the %s environment variable", keyEnv)}
	}
	o := options{
		adoptWindow: settings.Every(clients.CommitHorizon), adoptInterval: settings.Every(time.Second),
		// On the emulator's clock too, like the rate limits, but never below clients.PollFloor.
		pollInitial: max(settings.Every(2*time.Second), clients.PollFloor),
		pollMax:     max(settings.Every(15*time.Second), clients.PollFloor),
		// On the emulator's clock too: a pool waits as long, in its time, as on CoreWeave.
		shortageGrace: settings.Every(DefaultShortageGrace),
	}
	// DefaultLimiter's pace and client-go's per-API-server pace, on the clock of an emulator
	// running faster than real time.
	o.client.Limiter = rate.NewLimiter(rate.Every(settings.Every(200*time.Millisecond)), 10)
	o.client.RequestTimeout = httpx.ScaledRequestTimeout(settings)
	o.kube.Timeout = o.client.RequestTimeout
	o.kube.RetryWait = settings.Every(time.Second)
	kubeEvery := settings.Every(100 * time.Millisecond)
	o.kube.QPS, o.kube.Burst = float32(time.Second)/float32(kubeEvery), 20
	for _, opt := range opts {
		opt(&o)
	}
	o.client.Endpoint = settings.Endpoint
	o.client.AllowInsecure = settings.Insecure
	o.client.Token = token
	o.client.UserAgent = settings.UserAgent
	api, err := NewClient(o.client)
	if err != nil {
		return nil, err
	}
	o.kube.Token = token
	o.kube.AllowInsecure = settings.Insecure
	o.kube.UserAgent = settings.UserAgent
	c := &Cloud{
		api:           api,
		kube:          newKubeClients(o.kube),
		token:         token,
		clusterTTL:    2 * time.Second,
		kubeTTL:       2 * time.Second,
		plans:         map[string]poolPlan{},
		vpcNames:      map[string]string{},
		known:         map[string]knownCluster{},
		adoptWindow:   o.adoptWindow,
		adoptInterval: o.adoptInterval,
		pollInitial:   o.pollInitial,
		pollMax:       o.pollMax,
		shortageGrace: o.shortageGrace,
		shortSeen:     map[string]time.Time{},
	}
	c.clusters = snapshot.New(api.ListClusters)
	return c, nil
}

// API returns the platform API client, for CoreWeave-only operations the neutral interface
// lacks.
func (c *Cloud) API() *Client { return c.api }

// Kubernetes returns the Kubernetes API client of the API server at endpoint (a cluster's
// apiServerEndpoint), authenticated with the CoreWeave token.
func (c *Cloud) Kubernetes(endpoint string) (*KubeClient, error) { return c.kube.For(endpoint) }

// Name is "coreweave".
func (c *Cloud) Name() string { return cloudName }

// Regions lists the CoreWeave zones the adapter knows.
func (c *Cloud) Regions() []string { return slices.Clone(zones) }

// nativeTypePattern is how CoreWeave spells instance types: lowercase words and digits joined
// by dashes ("gd-8xh100ib-i128", "b200-8x").
var nativeTypePattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)+$`)

// gpusInName reads the GPU count out of an unknown instance type ("gd-8xfoo" -> 8).
var gpusInName = regexp.MustCompile(`(?:^|-)[a-z]*?(\d+)x`)

// ResolveInstanceType turns a neutral GPU name plus a per-node count, or a CoreWeave instance
// type, into the CoreWeave node type. CoreWeave sells whole nodes: a neutral name resolves to
// the type whose GPU count equals count (0 means the type's own count), and any other count is
// refused with the one allowed. A native instance type passes through.
func (c *Cloud) ResolveInstanceType(gpuType string, count int) (clients.InstanceType, error) {
	if g, ok := gpus.Lookup(gpuType); ok {
		types := nodeTypesOf(g.Name)
		if len(types) == 0 {
			return clients.InstanceType{}, clients.Errorf(clients.ErrInvalid, "CoreWeave does not offer %s (%s)", g.Name, g.Description)
		}
		var allowed []string
		for _, t := range types {
			if count == 0 || t.GPUs == count {
				return clients.InstanceType{Name: t.Name, GPUType: g.Name, GPUCount: t.GPUs}, nil
			}
			allowed = append(allowed, fmt.Sprintf("%d (%s)", t.GPUs, t.Name))
		}
		return clients.InstanceType{}, clients.Errorf(clients.ErrInvalid, "a CoreWeave node has %s GPUs of type %s, not %d: CoreWeave sells whole nodes",
			strings.Join(allowed, " or "), g.Name, count)
	}
	native := strings.ToLower(strings.TrimSpace(gpuType))
	if t, ok := lookupNodeType(native); ok {
		if count != 0 && count != t.GPUs {
			return clients.InstanceType{}, clients.Errorf(clients.ErrInvalid, "CoreWeave instance type %s has %d GPUs per node, not %d", t.Name, t.GPUs, count)
		}
		return clients.InstanceType{Name: t.Name, GPUType: t.GPU, GPUCount: t.GPUs}, nil
	}
	if nativeTypePattern.MatchString(native) {
		// An instance type newer than this adapter: CoreWeave's own answer decides.
		n := count
		if m := gpusInName.FindStringSubmatch(native); m != nil {
			parsed, _ := strconv.Atoi(m[1])
			if count != 0 && parsed != count {
				return clients.InstanceType{}, clients.Errorf(clients.ErrInvalid, "CoreWeave instance type %s has %d GPUs per node, not %d", native, parsed, count)
			}
			n = parsed
		}
		return clients.InstanceType{Name: native, GPUType: native, GPUCount: n}, nil
	}
	return clients.InstanceType{}, clients.Errorf(clients.ErrInvalid, "unknown GPU type %q: use a neutral name (%s) or a CoreWeave instance type such as gd-8xh100ib-i128",
		gpuType, strings.Join(gpus.Names(), ", "))
}

// gpuOfType names the GPU model of an instance type and its count per node.
func gpuOfType(instanceType string) (string, int) {
	if t, ok := lookupNodeType(instanceType); ok {
		return t.GPU, t.GPUs
	}
	return instanceType, 0
}

// Offers lists CoreWeave's GPU node types from the static price list (priceList), cheapest
// first. CoreWeave has no live availability API: Regions are the zones where a type is
// listed, not where nodes are free right now.
func (c *Cloud) Offers(_ context.Context, filter clients.OfferFilter) ([]clients.Offer, error) {
	var out []clients.Offer
	for _, t := range priceList {
		var regions []string
		for _, z := range t.Zones {
			if filter.Region == "" || strings.EqualFold(filter.Region, z) {
				regions = append(regions, z)
			}
		}
		offer := clients.Offer{
			Cloud: cloudName, InstanceType: t.Name, GPUType: t.GPU, GPUCount: t.GPUs,
			VCPUs: t.VCPUs, MemoryGB: t.MemoryGiB, PricePerHour: t.PricePerHour, Regions: regions,
		}
		if !filter.Keeps(offer) || (filter.Region != "" && len(regions) == 0) {
			continue
		}
		if g, ok := gpus.Lookup(t.GPU); ok {
			offer.GPUMemoryGB = g.MemoryGB
		}
		out = append(out, offer)
	}
	clients.SortOffers(out)
	return out, nil
}

// cluster reads a cluster from the shared list snapshot (at most clusterTTL old, or started
// after notBefore or a clients.FreshSince demand when that is later), confirming one the list lacks with a GET: a cluster
// created a moment ago may be missing from a list computed just before.
func (c *Cloud) cluster(ctx context.Context, id string, notBefore time.Time) (*Cluster, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	if nb := clients.NotBefore(ctx, c.clusterTTL); nb.After(notBefore) {
		notBefore = nb
	}
	list, err := c.clusters.Get(ctx, notBefore)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			cl := list[i]
			return &cl, nil
		}
	}
	return c.api.GetCluster(ctx, id)
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// poll calls check until it reports done or fails, pausing between calls from first,
// doubling up to maxPause, for as long as ctx lasts.
func poll(ctx context.Context, first, maxPause time.Duration, check func(context.Context) (bool, error)) error {
	wait := first
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		if err := pause(ctx, wait); err != nil {
			return err
		}
		wait = min(wait*2, maxPause)
	}
}
