package runpod

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/httpx"
)

const (
	keyEnv      = "RUNPOD_API_KEY"
	endpointEnv = "NEOCLOUD_RUNPOD_ENDPOINT"

	// Pods have no tags, so the adapter's bookkeeping travels in the pod's environment, which
	// GET /pods returns with every pod and which only a PATCH of env (done by this adapter,
	// which carries these entries over) changes. They are hidden from InstanceOptions.Env.

	// EnvLaunchToken carries the launch token, so that a create whose answer was lost finds
	// its pod instead of creating a second one.
	EnvLaunchToken = "NEOCLOUD_LAUNCH_TOKEN"
	// EnvSSHKeyIDs lists the neutral SSH key ids (fingerprints) the pod was created with,
	// comma-separated, so that Instance.SSHKeyIDs reads back what was asked.
	EnvSSHKeyIDs = "NEOCLOUD_SSH_KEY_IDS"
	// EnvTemplateKeys lists, comma-separated, the environment variables a pod got from its
	// template rather than from InstanceSpec (the template's own env, and JUPYTER_PASSWORD when
	// the template starts Jupyter), so that InstanceOptions.Env reads back what was asked and a
	// later change of the environment keeps them.
	EnvTemplateKeys = "NEOCLOUD_TEMPLATE_ENV"
	// EnvPublicKey is RunPod's convention for the authorized keys of a pod: images start sshd
	// with the keys it holds. startSsh fills it with every account key unless the request sets
	// it; the adapter sets it to the keys of InstanceSpec.SSHKeyIDs.
	EnvPublicKey = "PUBLIC_KEY"

	// sshUser is the login of RunPod images over the direct 22/tcp mapping.
	sshUser = "root"
	// sshPortSpec is the port entry that publishes sshd.
	sshPortSpec = "22/tcp"

	defaultMountPath = "/workspace"
	minVolumeGB      = 10
	// defaultMaxGPUs bounds the count of a native GPU id the neutral catalog does not know:
	// no RunPod machine has more than 8 GPUs.
	defaultMaxGPUs = 8
)

func init() {
	clients.Register(clients.CloudInfo{
		Name:            cloudName,
		DisplayName:     "RunPod",
		DefaultEndpoint: DefaultEndpoint,
		KeyEnv:          keyEnv,
		EndpointEnv:     endpointEnv,
		KeyAttribute:    "api_key",
		New:             func(s clients.Settings) (clients.Cloud, error) { return New(s) },
		// The REST v2 document has no interruptible field on pods or clusters.
		NoSpotReason: "RunPod's REST API (v2) has no interruptible pods or clusters: only on-demand capacity (secure or community cloud).",
		// RunPod documents Instant Clusters as pods "with a high-speed fabric" between them,
		// without naming the technology; pods outside one talk over ethernet.
		ClusterInterconnect: func(string) string { return clients.InterconnectFabric },
	})
}

// Cloud implements clients.Cloud for RunPod: a neutral instance is a GPU pod.
type Cloud struct {
	// Launches is launch: FindLaunched and SettleLaunch (clients.LaunchFinder) and Begin.
	clients.Launches
	// taken is what this adapter's launches got (see clients.Taken).
	taken clients.Taken
	api   *Client

	// Shared, short-lived snapshots of the list calls (see snapshot.go).
	pods    *snapshot.Cache[[]Pod]
	sshKeys *snapshot.Cache[[]string]

	catalogMu sync.Mutex
	catalogs  map[catalogKey]*snapshot.Cache[[]GpuType]

	// dataCenters are RunPod's data center ids from GET /catalog/datacenters, read once per
	// provider process (see ListRegions); nil until then.
	dcMu  sync.Mutex
	dcIDs []string

	// templates remembers the plan-time template checks, by id (see CheckInstanceReferences).
	templatesMu sync.Mutex
	templates   map[string]templateCheck

	podTTL     time.Duration // how stale a GET /pods answer may be for a read
	keyTTL     time.Duration // SSH keys change rarely, and only by us in normal use
	catalogTTL time.Duration

	// keysMu serialises the read-modify-write of the account's SSH key set within this
	// process: Terraform creates resources in parallel, and two interleaved PUTs would drop a
	// key.
	keysMu sync.Mutex

	adoptWindow   time.Duration // how long to look for a create whose answer was lost
	adoptInterval time.Duration // first pause between looks; doubles up to adoptMaxPause
}

// catalogKey is one GPU catalog query: availability depends on the GPU count and cloud tier.
type catalogKey struct {
	count int
	cloud string
}

const adoptMaxPause = 5 * time.Second

var (
	_ clients.Cloud                    = (*Cloud)(nil)
	_ clients.InstanceValidator        = (*Cloud)(nil)
	_ clients.RegionLister             = (*Cloud)(nil)
	_ clients.InstanceReferenceChecker = (*Cloud)(nil)
	_ clients.RegistryCredentialCloud  = (*Cloud)(nil)
)

// Option adjusts a Cloud built by NewWithOptions.
type Option func(*options)

type options struct {
	client        ClientConfig
	adoptWindow   time.Duration
	adoptInterval time.Duration
}

// WithRateLimiter replaces DefaultLimiter, for an emulator whose clock runs faster than
// RunPod's. The limiter is adapted to RateLimit headers, so it must not be shared.
func WithRateLimiter(lim *rate.Limiter) Option {
	return func(o *options) {
		if lim != nil {
			o.client.Limiter = lim
		}
	}
}

// WithAdoptionWindow sets how long a create whose answer was lost is looked for (default
// clients.CommitHorizon) and the first pause between looks (default 1 s, doubling up to 5 s).
func WithAdoptionWindow(window, firstPause time.Duration) Option {
	return func(o *options) {
		o.adoptWindow, o.adoptInterval = window, firstPause
	}
}

// withRetryBudget sets how long a call without a deadline keeps retrying (tests: a failure the
// fake keeps answering must not take httpx's five minutes).
func withRetryBudget(d time.Duration) Option {
	return func(o *options) { o.client.RetryBudget = d }
}

// withHTTP sets the transport and retry waits (tests).
func withHTTP(transport http.RoundTripper, retryWaitMin, retryWaitMax time.Duration) Option {
	return func(o *options) {
		o.client.Transport = transport
		o.client.RetryWaitMin, o.client.RetryWaitMax = retryWaitMin, retryWaitMax
	}
}

// New builds the RunPod adapter from the provider's settings: settings.Endpoint overrides
// DefaultEndpoint, settings.APIKey is required and never logged.
func New(settings clients.Settings) (*Cloud, error) { return NewWithOptions(settings) }

// NewWithOptions is New with adjustments (rate limits for emulators).
func NewWithOptions(settings clients.Settings, opts ...Option) (*Cloud, error) {
	if strings.TrimSpace(settings.APIKey) == "" {
		return nil, &clients.KindError{Kind: clients.ErrAuth, Msg: fmt.Sprintf(
			"RunPod API key is not set: set api_key in the provider's runpod block or the %s environment variable", keyEnv)}
	}
	o := options{adoptWindow: settings.Every(clients.CommitHorizon), adoptInterval: settings.Every(time.Second)}
	// DefaultLimiter's pace, on the clock of an emulator running faster than real time.
	o.client.Limiter = rate.NewLimiter(rate.Every(settings.Every(time.Minute/55)), 5)
	o.client.RequestTimeout = httpx.ScaledRequestTimeout(settings)
	for _, opt := range opts {
		opt(&o)
	}
	o.client.Endpoint = settings.Endpoint
	o.client.AllowInsecure = settings.Insecure
	o.client.APIKey = settings.APIKey
	o.client.UserAgent = settings.UserAgent
	api, err := NewClient(o.client)
	if err != nil {
		return nil, err
	}
	c := &Cloud{
		api:           api,
		catalogs:      map[catalogKey]*snapshot.Cache[[]GpuType]{},
		templates:     map[string]templateCheck{},
		podTTL:        2 * time.Second,
		keyTTL:        30 * time.Second,
		catalogTTL:    5 * time.Second,
		adoptWindow:   o.adoptWindow,
		adoptInterval: o.adoptInterval,
	}
	// Cluster members are listed too: they are instances of a cluster resource and may hold
	// network volumes, and one list serves every reader. A list is dated from when it leaves
	// the rate limiter's queue: one asked for while a hundred deletes wait there serves every
	// waiter that looks before it leaves.
	c.pods = snapshot.New(func(ctx context.Context) ([]Pod, error) {
		return api.ListPods(ctx, ListPodsOptions{IncludeClusterPods: true})
	}).StampAtSend()
	c.sshKeys = snapshot.New(api.GetSSHKeys)
	c.Launches = c.launch
	return c, nil
}

// API returns the typed wire client, for RunPod-only operations the neutral interface lacks.
func (c *Cloud) API() *Client { return c.api }

// Name is "runpod".
func (c *Cloud) Name() string { return cloudName }

// Regions lists the data center ids read so far by ListRegions: none before the first read.
// RunPod opens data centers as it grows, so the adapter keeps no list of its own.
func (c *Cloud) Regions() []string {
	c.dcMu.Lock()
	defer c.dcMu.Unlock()
	return slices.Clone(c.dcIDs)
}

// ListRegions lists RunPod's data center ids, sorted, from GET /catalog/datacenters. The list is
// read once per provider process: concurrent callers wait for the one read, and a failed read
// is not remembered, so the next caller tries again.
func (c *Cloud) ListRegions(ctx context.Context) ([]string, error) {
	c.dcMu.Lock()
	defer c.dcMu.Unlock()
	if c.dcIDs != nil {
		return slices.Clone(c.dcIDs), nil
	}
	list, err := c.api.ListDataCenters(ctx, DataCentersQuery{})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(list))
	for _, dc := range list {
		if dc.ID != "" && !slices.Contains(ids, dc.ID) {
			ids = append(ids, dc.ID)
		}
	}
	sort.Strings(ids)
	c.dcIDs = ids
	return slices.Clone(ids), nil
}

// ResolveInstanceType turns a neutral GPU name or a RunPod GPU id plus a count into RunPod's
// shape: the instance type is the GPU id (a pod is "count GPUs of this type"), and the count
// must be between 1 and the most GPUs of that type one pod can have. Count 0 means 1.
func (c *Cloud) ResolveInstanceType(gpuType string, count int) (clients.InstanceType, error) {
	id, neutral, maxCount, err := resolveGPU(gpuType)
	if err != nil {
		return clients.InstanceType{}, err
	}
	if count == 0 {
		count = 1
	}
	if count < 1 || count > maxCount {
		return clients.InstanceType{}, clients.Errorf(clients.ErrInvalid, "a RunPod pod has 1 to %d GPUs of type %s, not %d", maxCount, id, count)
	}
	return clients.InstanceType{Name: id, GPUType: neutral, GPUCount: count}, nil
}

// resolveGPU finds RunPod's GPU id for a neutral name or a native id, the name to show (the
// neutral one when the catalog knows the GPU) and the largest count per pod.
func resolveGPU(gpuType string) (id, name string, maxCount int, err error) {
	if g, ok := gpus.Lookup(gpuType); ok {
		id, maxCount, sold := gpuIDOf(g.Name)
		if !sold {
			return "", "", 0, clients.Errorf(clients.ErrInvalid, "RunPod does not offer %s (%s)", g.Name, g.Description)
		}
		return id, g.Name, maxOr(maxCount, defaultMaxGPUs), nil
	}
	if name, id, maxCount, ok := gpuOfID(gpuType); ok {
		return id, name, maxOr(maxCount, defaultMaxGPUs), nil
	}
	// RunPod's GPU ids are the manufacturer's marketing names; a new one the neutral catalog
	// does not know yet passes through, and RunPod's own answer decides.
	if strings.HasPrefix(gpuType, "NVIDIA ") || strings.HasPrefix(gpuType, "AMD ") {
		return gpuType, gpuType, defaultMaxGPUs, nil
	}
	return "", "", 0, clients.Errorf(clients.ErrInvalid, "unknown GPU type %q: use a neutral name (%s) or a RunPod GPU id such as \"NVIDIA H100 80GB HBM3\"",
		gpuType, strings.Join(gpus.Names(), ", "))
}

func maxOr(n, fallback int) int {
	if n > 0 {
		return n
	}
	return fallback
}

// gpuName is the neutral name of a RunPod GPU id when the catalog knows it, else the id.
func gpuName(id string) string {
	if name, _, _, ok := gpuOfID(id); ok {
		return name
	}
	return id
}

// catalog returns the GPU catalog with pod availability for count GPUs on a cloud tier, from
// a shared snapshot per query.
func (c *Cloud) catalog(ctx context.Context, count int, cloud string, notBefore time.Time) ([]GpuType, error) {
	key := catalogKey{count: count, cloud: cloud}
	c.catalogMu.Lock()
	s, ok := c.catalogs[key]
	if !ok {
		q := PodAvailability(count, cloud)
		s = snapshot.New(func(ctx context.Context) ([]GpuType, error) { return c.api.ListGPUTypes(ctx, q) })
		c.catalogs[key] = s
	}
	c.catalogMu.Unlock()
	return s.Get(ctx, notBefore)
}

// available reports whether a catalog stock level means "can be tried".
func available(level string) bool {
	return level == AvailabilityLow || level == AvailabilityMedium || level == AvailabilityHigh
}

// Offers lists RunPod GPU types as pods of filter.GPUCount GPUs (1 when 0) on the secure cloud
// (the default tier of a create), priced at the secure list price per GPU-hour times the count,
// with the data centers that have stock for that count now; cheapest first. Community cloud
// prices are lower but are not offered here: an Offer has no cloud tier, and a create defaults
// to SECURE.
func (c *Cloud) Offers(ctx context.Context, filter clients.OfferFilter) ([]clients.Offer, error) {
	count := max(filter.GPUCount, 1)
	list, err := c.catalog(ctx, count, CloudSecure, time.Now().Add(-c.catalogTTL))
	if err != nil {
		return nil, err
	}
	var out []clients.Offer
	for _, g := range list {
		if !g.Secure || (g.MaxCount.Secure > 0 && count > g.MaxCount.Secure) {
			continue
		}
		var regions []string
		for _, dc := range g.DataCenters {
			if available(dc.Availability) && (filter.Region == "" || dc.ID == filter.Region) && !slices.Contains(regions, dc.ID) {
				regions = append(regions, dc.ID)
			}
		}
		sort.Strings(regions)
		offer := clients.Offer{
			Cloud: cloudName, InstanceType: g.ID, GPUType: gpuName(g.ID), GPUCount: count,
			GPUMemoryGB: g.Memory, PricePerHour: g.Price.Secure * float64(count), Regions: regions,
		}
		if filter.Keeps(offer) {
			out = append(out, offer)
		}
	}
	clients.SortOffers(out)
	return out, nil
}

var _ clients.InstanceLooker = (*Cloud)(nil)

// LookInstance reads a pod from the shared GET /pods snapshot whose fetch started at or after
// notBefore, and never asks the pod's own URL: waiters for many pods share one list (see
// clients.Cadence.WaitGone). GET /pods lists every pod of the account (cluster members
// included) and no terminated one.
func (c *Cloud) LookInstance(ctx context.Context, id string, notBefore time.Time) (clients.Look, error) {
	if err := checkID("pod", id); err != nil {
		return clients.Look{}, err
	}
	list, at, err := c.pods.GetAt(ctx, notBefore)
	if err != nil {
		return clients.Look{}, err
	}
	for i := range list {
		if list[i].ID == id {
			return clients.Look{Instance: InstanceFromPod(list[i]), ListedAt: at}, nil
		}
	}
	return clients.Look{ListedAt: at}, nil
}

// GetInstance answers from a shared snapshot of GET /pods at most podTTL old (or newer, when
// ctx demands it: clients.FreshSince); an id the list
// lacks is confirmed with GET /pods/{id}, because a pod created a moment ago may be missing
// from a list computed just before, and a deleted pod still answers GET (TERMINATED) for a
// while after it has left the list.
func (c *Cloud) GetInstance(ctx context.Context, id string) (*clients.Instance, error) {
	if err := checkID("pod", id); err != nil {
		return nil, err
	}
	list, err := c.pods.Get(ctx, clients.NotBefore(ctx, c.podTTL))
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return InstanceFromPod(list[i]), nil
		}
	}
	p, err := c.api.GetPod(ctx, id)
	if err != nil {
		return nil, err
	}
	return InstanceFromPod(*p), nil
}

// reservedEnv are the environment names the adapter manages (see EnvLaunchToken).
var reservedEnv = []string{EnvLaunchToken, EnvSSHKeyIDs, EnvPublicKey, EnvTemplateKeys}

// UpdateInstance changes a pod in place: name, image, environment, registry credential and volume
// mount path with one PATCH (RunPod applies a change to the container's settings by restarting
// it), then the power state with a stop or start action. Stopping keeps the disk and stops the
// GPU billing.
func (c *Cloud) UpdateInstance(ctx context.Context, id string, update clients.InstanceUpdate) (*clients.Instance, error) {
	if err := checkID("pod", id); err != nil {
		return nil, err
	}
	ru, err := updateOptions(update)
	if err != nil {
		return nil, err
	}
	if field := unknownUpdateField(update, ru); field != "" {
		return nil, clients.Errorf(clients.ErrUnsupported, "the RunPod adapter cannot change %s of an existing pod", field)
	}
	if update.Name != nil && strings.TrimSpace(*update.Name) == "" {
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod pod name cannot be empty")
	}
	if update.Image != nil && strings.TrimSpace(*update.Image) == "" {
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod pod image cannot be empty")
	}
	if update.DesiredState != nil && *update.DesiredState != clients.DesiredRunning && *update.DesiredState != clients.DesiredStopped {
		return nil, clients.Errorf(clients.ErrInvalid, "desired state %q is neither %q nor %q", *update.DesiredState, clients.DesiredRunning, clients.DesiredStopped)
	}
	if bad := reservedIn(update.Env); bad != "" {
		return nil, clients.Errorf(clients.ErrInvalid, "environment variable %s is managed by the provider and cannot be set", bad)
	}
	if ru.VolumeMountPath != nil && !path.IsAbs(*ru.VolumeMountPath) {
		return nil, clients.Errorf(clients.ErrInvalid, "a volume mount path must be absolute, not %q", *ru.VolumeMountPath)
	}
	if ru.RegistryCredentialID != nil && *ru.RegistryCredentialID != "" {
		if err := checkID("container registry credential", *ru.RegistryCredentialID); err != nil {
			return nil, err
		}
	}

	var pod *Pod
	if update.Name != nil || update.Image != nil || update.Env != nil || !ru.IsZero() {
		req := UpdatePodRequest{Name: update.Name, Image: update.Image}
		if r := ru.RegistryCredentialID; r != nil {
			req.Registry = Null[string]()
			if *r != "" {
				req.Registry = Value(*r)
			}
		}
		var cur *Pod
		if update.Env != nil || ru.VolumeMountPath != nil {
			var err error
			if cur, err = c.api.GetPod(ctx, id); err != nil {
				return nil, err
			}
		}
		if ru.VolumeMountPath != nil {
			// RunPod takes no partial mount: the entry is the pod's own, with the new path.
			m, err := movedMount(cur, *ru.VolumeMountPath)
			if err != nil {
				return nil, err
			}
			req.Mounts = m
		}
		if update.Env != nil {
			// A PATCH of env replaces the whole environment: carry the bookkeeping entries
			// (launch token, SSH keys) over from the pod as it is now.
			env := maps.Clone(update.Env)
			for _, k := range managedEnv(cur.Env) {
				if v, ok := cur.Env[k]; ok {
					env[k] = v
				}
			}
			req.Env = &env
		}
		p, err := c.api.UpdatePod(ctx, id, req)
		c.pods.Invalidate()
		if err != nil {
			return nil, err
		}
		pod = p
	}
	if update.DesiredState != nil {
		p, err := c.setPower(ctx, id, *update.DesiredState)
		if err != nil {
			return nil, err
		}
		pod = p
	}
	if pod == nil {
		return c.GetInstance(ctx, id)
	}
	return InstanceFromPod(*pod), nil
}

// movedMount is the pod's mount with another path, as a PATCH must send it: whole (size and
// path, or volume id and path), of the kind the pod was created with.
func movedMount(p *Pod, mountPath string) (*Mounts, error) {
	switch {
	case p.Mounts.Persistent != nil:
		return &Mounts{Persistent: &PersistentMount{Size: p.Mounts.Persistent.Size, Path: mountPath}}, nil
	case len(p.Mounts.Network) > 0:
		return &Mounts{Network: []NetworkMount{{VolumeID: p.Mounts.Network[0].VolumeID, Path: mountPath}}}, nil
	}
	return nil, clients.Errorf(clients.ErrInvalid, "pod %s has no volume, so there is no mount path to change (RunPod adds no volume to an existing pod)", p.ID)
}

// unknownUpdateField names the first set field of an update this adapter does not handle, so
// that fields added to InstanceUpdate later are refused until it learns them.
func unknownUpdateField(u clients.InstanceUpdate, ru InstanceUpdate) string {
	if f := unknownField(ru, "VolumeMountPath", "RegistryCredentialID"); f != "" {
		return "RunPod." + f
	}
	return unknownField(u, "Name", "Env", "Image", "DesiredState", "Options")
}

// unknownField names the first set field of a struct outside known.
func unknownField(s any, known ...string) string {
	v := reflect.ValueOf(s)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !slices.Contains(known, f.Name) && !v.Field(i).IsZero() {
			return f.Name
		}
	}
	return ""
}

func reservedIn(env map[string]string) string {
	for _, k := range reservedEnv {
		if _, ok := env[k]; ok {
			return k
		}
	}
	return ""
}

// setPower stops or starts a pod. RunPod answers 409 to an action the pod's status does not
// allow, which includes stopping a stopped pod: the pod is then read, and a pod already in (or
// on its way to) the desired state counts as success.
func (c *Cloud) setPower(ctx context.Context, id, desired string) (*Pod, error) {
	action := ActionStart
	if desired == clients.DesiredStopped {
		action = ActionStop
	}
	p, err := c.api.PodAction(ctx, id, action)
	c.pods.Invalidate()
	if err == nil && p != nil {
		return p, nil
	}
	if err == nil || errors.Is(err, clients.ErrConflict) {
		cur, gerr := c.api.GetPod(ctx, id)
		if gerr != nil {
			return nil, errors.Join(err, gerr)
		}
		if err == nil || inPowerState(cur.Status, desired) {
			return cur, nil
		}
	}
	return nil, err
}

func inPowerState(status, desired string) bool {
	if desired == clients.DesiredStopped {
		return status == PodExited
	}
	return status == PodProvisioning || status == PodStarting || status == PodRunning
}

// DeleteInstance terminates a pod (DELETE /pods/{id}, which the document calls "Terminate a
// pod"; the terminate action is its equivalent). A pod RunPod no longer knows counts as
// deleted. A cluster member is refused with a conflict: delete its cluster instead.
func (c *Cloud) DeleteInstance(ctx context.Context, id string) error {
	err := c.api.DeletePod(ctx, id)
	c.pods.Invalidate()
	if err == nil || clients.IsNotFound(err) {
		return nil
	}
	return err
}
