package lambda

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/httpx"
)

const (
	keyEnv      = "LAMBDA_API_KEY"
	endpointEnv = "NEOCLOUD_LAMBDA_ENDPOINT"

	// LaunchTokenTag is the tag key of the adapter's bookkeeping tag: every launch carries
	// LaunchTokenTag=<sanitised launch token>, so that a launch whose answer was lost can be
	// found and adopted instead of repeated. It is hidden from Instance.Tags.
	LaunchTokenTag = "neocloud-launch-token"
	// LaunchedAtTag records when the launch was sent (Unix seconds): Lambda reports no creation
	// time, and a rerun after a crash adopts only machines launched within its create timeout.
	LaunchedAtTag = "neocloud-launched-at"

	// Lambda's images log in as ubuntu on port 22.
	sshUser = "ubuntu"
	sshPort = 22

	// maxNameLen is the documented limit of an instance name.
	maxNameLen = 64
	// maxUserData is the documented limit of user_data (1 MB).
	maxUserData = 1 << 20
)

// publicRegions are the PublicRegionCode values of API 1.8.0 (test-* codes left out). The
// Lambda Cloud API 1.8 models document lists the enum without its values; these are the values of
// Lambda's published OpenAPI document for that version.
var publicRegions = []string{
	"asia-northeast-1", "asia-northeast-2", "asia-south-1", "australia-east-1",
	"europe-central-1", "me-west-1",
	"us-east-1", "us-east-2", "us-east-3", "us-midwest-1", "us-midwest-2",
	"us-south-1", "us-south-2", "us-south-3", "us-west-1", "us-west-2", "us-west-3",
}

func init() {
	clients.Register(clients.CloudInfo{
		Name:            cloudName,
		DisplayName:     "Lambda Cloud",
		DefaultEndpoint: DefaultEndpoint,
		KeyEnv:          keyEnv,
		EndpointEnv:     endpointEnv,
		KeyAttribute:    "api_key",
		New:             func(s clients.Settings) (clients.Cloud, error) { return New(s) },
		Lacks: map[clients.Kind]string{
			clients.KindRegistryCredential: "Lambda Cloud machines are full VMs: log in to a registry on the machine (for example in user_data).",
		},
		NoSpotReason: "Lambda Cloud's API (1.8) has no spot instances: only on-demand capacity.",
		// Interconnect is left to ethernet: Lambda's API documents no InfiniBand for on-demand
		// instances, so a Lambda cluster's nodes talk over its private network.
	})
}

// Cloud implements clients.Cloud for Lambda Cloud.
type Cloud struct {
	// Launches is launch: FindLaunched and SettleLaunch (clients.LaunchFinder) and Begin.
	clients.Launches
	// taken is what this adapter's launches got (see clients.Taken).
	taken clients.Taken
	api   *Client

	// Shared, short-lived snapshots of the list calls (see snapshot.go).
	instances *snapshot.Cache[[]Instance]
	sshKeys   *snapshot.Cache[[]SSHKey]
	types     *snapshot.Cache[map[string]InstanceTypesItem]

	instanceTTL time.Duration // how stale a GET /instances answer may be for a read
	keyTTL      time.Duration // SSH keys change rarely, and only by us in normal use
	typesTTL    time.Duration

	adoptWindow   time.Duration // how long to look for a launch whose answer was lost
	adoptInterval time.Duration // first pause between looks; doubles up to adoptMaxPause

	// terminator gathers the terminates of this account that arrive together into one
	// POST /instance-operations/terminate (see DeleteInstance).
	terminator *clients.Batcher
	// rateScale puts the adapter's own waits on the clock of the settings (see pacing).
	rateScale float64
}

// pacing is the pause schedule of the adapter's own waits (cluster nodes gone, a ruleset no
// longer in use), read when a wait starts.
func (c *Cloud) pacing() clients.Pacing { return clients.Settings{RateScale: c.rateScale}.Pacing() }

const adoptMaxPause = 5 * time.Second

// terminationTime is how long Lambda typically keeps a machine "terminating" once its terminate
// was accepted (about 20 s; the emulator's default): waiters for its end look first after it.
const terminationTime = 20 * time.Second

// TerminationTime implements clients.TerminationTimer.
func (c *Cloud) TerminationTime() time.Duration { return terminationTime }

// TerminateWindow is how long the first terminate of a batch waits for others to join it:
// Terraform starts the deletes of a configuration in parallel, and they reach the provider
// within a few milliseconds of each other.
const TerminateWindow = 50 * time.Millisecond

var (
	_ clients.Cloud             = (*Cloud)(nil)
	_ clients.InstanceValidator = (*Cloud)(nil)
)

// Option adjusts a Cloud built by NewWithOptions.
type Option func(*options)

type options struct {
	client        ClientConfig
	adoptWindow   time.Duration
	adoptInterval time.Duration
	batchClock    clients.Clock
	onBatchJoin   func(waiting int)
	snapshotNow   func() time.Time
}

// WithRateLimiters replaces the published limits (DefaultLimiter, DefaultLaunchLimiter), for an
// emulator whose clock runs faster than Lambda's. A nil limiter keeps the default.
func WithRateLimiters(general, launch *rate.Limiter) Option {
	return func(o *options) {
		if general != nil {
			o.client.Limiter = general
		}
		if launch != nil {
			o.client.LaunchLimiter = launch
		}
	}
}

// WithAdoptionWindow sets how long a launch whose answer was lost is looked for (default clients.CommitHorizon)
// and the first pause between looks (default 1 s, doubling up to 5 s).
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

// withBatchClock runs the terminate batcher's window on another clock and reports every
// caller joining a batch (tests).
func withBatchClock(clock clients.Clock, onJoin func(waiting int)) Option {
	return func(o *options) { o.batchClock, o.onBatchJoin = clock, onJoin }
}

// withSnapshotClock stamps the instance snapshot's fetches with another clock (tests).
func withSnapshotClock(now func() time.Time) Option {
	return func(o *options) { o.snapshotNow = now }
}

// withHTTP sets the transport and retry waits (tests).
func withHTTP(transport http.RoundTripper, retryWaitMin, retryWaitMax time.Duration) Option {
	return func(o *options) {
		o.client.Transport = transport
		o.client.RetryWaitMin, o.client.RetryWaitMax = retryWaitMin, retryWaitMax
	}
}

// New builds the Lambda adapter from the provider's settings: settings.Endpoint overrides
// DefaultEndpoint, settings.APIKey is required and never logged.
func New(settings clients.Settings) (*Cloud, error) { return NewWithOptions(settings) }

// NewWithOptions is New with adjustments (rate limits for emulators).
func NewWithOptions(settings clients.Settings, opts ...Option) (*Cloud, error) {
	if strings.TrimSpace(settings.APIKey) == "" {
		return nil, errNoAPIKey()
	}
	o := options{adoptWindow: settings.Every(clients.CommitHorizon), adoptInterval: settings.Every(time.Second)}
	// Lambda's general limit (DefaultLimiter) at its rate, but with a burst of one: Lambda's own
	// bucket holds two, so the spare token absorbs network jitter, which would otherwise bring
	// two arrivals closer than the limit now and then and collect a 429 (and its Retry-After).
	o.client.Limiter = rate.NewLimiter(rate.Every(settings.Every(time.Second)), 1)
	o.client.LaunchLimiter = rate.NewLimiter(rate.Every(settings.Every(12*time.Second)), 1)
	o.client.RequestTimeout = httpx.ScaledRequestTimeout(settings)
	for _, opt := range opts {
		opt(&o)
	}
	if o.client.Limiter == nil {
		o.client.Limiter = DefaultLimiter() // what NewClient would use; the terminate batcher waits on it too
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
		instanceTTL:   2 * time.Second,
		keyTTL:        30 * time.Second,
		typesTTL:      2 * time.Second,
		adoptWindow:   o.adoptWindow,
		adoptInterval: o.adoptInterval,
		rateScale:     settings.RateScale,
	}
	if o.batchClock != nil {
		c.terminator = clients.NewBatcherWithClock(TerminateWindow, c.sendTerminate, o.batchClock, o.onBatchJoin)
	} else {
		c.terminator = clients.NewBatcher(TerminateWindow, c.sendTerminate)
	}
	// A terminate batch keeps taking deletes until Lambda's limit lets its request go.
	lim := o.client.Limiter
	c.terminator.Ready = func(ctx context.Context) error { return httpx.WaitForToken(ctx, lim) }
	c.instances = snapshot.New(api.ListInstances)
	if o.snapshotNow != nil {
		c.instances = snapshot.NewWithClock(api.ListInstances, o.snapshotNow)
	}
	c.sshKeys = snapshot.New(api.ListSSHKeys)
	c.types = snapshot.New(api.ListInstanceTypes)
	c.Launches = c.launch
	return c, nil
}

// API returns the typed wire client, for Lambda-only operations the neutral interface lacks.
func (c *Cloud) API() *Client { return c.api }

// Name is "lambda".
func (c *Cloud) Name() string { return cloudName }

// Regions lists Lambda's public region codes.
func (c *Cloud) Regions() []string { return slices.Clone(publicRegions) }

// ResolveInstanceType turns a neutral GPU name plus count, or a native Lambda instance type,
// into Lambda's instance type. A native type passes through; with count > 0 the count must be
// the one the type carries.
func (c *Cloud) ResolveInstanceType(gpuType string, count int) (clients.InstanceType, error) {
	if _, _, native := splitInstanceType(gpuType); native {
		name, n := gpuOfInstanceType(gpuType)
		if count > 0 && count != n {
			return clients.InstanceType{}, clients.Errorf(clients.ErrInvalid, "Lambda Cloud instance type %s has %d GPUs, not %d", gpuType, n, count)
		}
		return clients.InstanceType{Name: gpuType, GPUType: name, GPUCount: n}, nil
	}
	if sold := countsSold(gpuType); count <= 0 && len(sold) == 1 {
		count = sold[0] // the only shape Lambda sells is what "any count" means
	}
	t, err := instanceTypeFor(gpuType, count)
	if err != nil {
		return clients.InstanceType{}, &clients.KindError{Kind: clients.ErrInvalid, Msg: err.Error()}
	}
	g, _ := gpus.Lookup(gpuType)
	return clients.InstanceType{Name: t, GPUType: g.Name, GPUCount: count}, nil
}

// gpuOf names the GPU model and count of an instance type, preferring the neutral name and the
// API's own GPU count.
func gpuOf(t InstanceType) (string, int) {
	name, n := gpuOfInstanceType(t.Name)
	if t.Specs.GPUs > 0 {
		n = t.Specs.GPUs
	}
	return name, n
}

// Offers lists Lambda's instance types with live capacity, cheapest first.
func (c *Cloud) Offers(ctx context.Context, filter clients.OfferFilter) ([]clients.Offer, error) {
	items, err := c.types.Get(ctx, time.Now().Add(-c.typesTTL))
	if err != nil {
		return nil, err
	}
	var out []clients.Offer
	for name, item := range items {
		t := item.InstanceType
		if t.Name == "" {
			t.Name = name
		}
		gpu, count := gpuOf(t)
		regions := make([]string, 0, len(item.RegionsWithCapacityAvailable))
		for _, r := range item.RegionsWithCapacityAvailable {
			if filter.Region == "" || r.Name == filter.Region {
				regions = append(regions, r.Name)
			}
		}
		sort.Strings(regions)
		offer := clients.Offer{
			Cloud: cloudName, InstanceType: t.Name, GPUType: gpu, GPUCount: count,
			VCPUs: t.Specs.VCPUs, MemoryGB: t.Specs.MemoryGiB, StorageGB: t.Specs.StorageGiB,
			PricePerHour: centsToUSD(t.PriceCentsPerHour), Regions: regions,
		}
		if !filter.Keeps(offer) {
			continue
		}
		if g, ok := gpus.Lookup(gpu); ok {
			offer.GPUMemoryGB = g.MemoryGB
		}
		out = append(out, offer)
	}
	clients.SortOffers(out)
	return out, nil
}

func centsToUSD(cents int) float64 { return float64(cents) / 100 }

// ValidateInstanceSpec checks what Lambda's rules allow without calling the API, so the
// provider can refuse bad input at plan time. CreateInstance checks the same again.
func (c *Cloud) ValidateInstanceSpec(spec clients.InstanceSpec) []clients.FieldError {
	var errs []clients.FieldError
	if _, err := clients.OptionsOf[InstanceOptions](cloudName, spec.Options); err != nil {
		errs = append(errs, clients.OptionsField(cloudName, err))
	}
	if n := len(spec.SSHKeyIDs); n != 1 {
		errs = append(errs, clients.FieldError{
			Field:   "ssh_key_ids",
			Summary: "Lambda Cloud needs exactly one SSH key",
			Detail:  fmt.Sprintf("Lambda Cloud API 1.8 launches an instance with exactly one SSH key; %d given.", n),
		})
	}
	if len(spec.Name) > maxNameLen {
		errs = append(errs, clients.FieldError{
			Field: "name", Summary: "Instance name too long",
			Detail: fmt.Sprintf("Lambda Cloud instance names are at most %d characters.", maxNameLen),
		})
	}
	if len(spec.UserData) > maxUserData {
		errs = append(errs, clients.FieldError{
			Field: "user_data", Summary: "User data too large",
			Detail: "Lambda Cloud accepts at most 1 MB of user data.",
		})
	}
	if spec.DesiredState == clients.DesiredStopped {
		errs = append(errs, clients.FieldError{
			Field: "desired_state", Summary: "Lambda Cloud cannot stop an instance",
			Detail: "A Lambda Cloud instance is billed until it is terminated and has no stopped state: destroy it instead (or remove desired_state).",
		})
	}
	for _, k := range []string{LaunchTokenTag, LaunchedAtTag} {
		if _, reserved := spec.Tags[k]; reserved {
			errs = append(errs, clients.FieldError{
				Field: "tags", Summary: "Reserved tag key",
				Detail: "The tag key " + k + " is used by the provider to find machines whose launch answer was lost.",
			})
		}
	}
	return errs
}

// GetInstance answers from a shared snapshot of GET /instances at most instanceTTL old (or
// newer, when ctx demands it: clients.FreshSince); an id the list lacks is confirmed with
// GET /instances/{id}, because a machine launched a moment ago may be missing from a list
// computed just before.
func (c *Cloud) GetInstance(ctx context.Context, id string) (*clients.Instance, error) {
	if err := checkID("instance", id); err != nil {
		return nil, err
	}
	list, err := c.instances.Get(ctx, clients.NotBefore(ctx, c.instanceTTL))
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return c.toNeutral(ctx, list[i])
		}
	}
	w, err := c.api.GetInstance(ctx, id)
	if err != nil {
		return nil, err
	}
	return c.toNeutral(ctx, *w)
}

var _ clients.InstanceLooker = (*Cloud)(nil)

// LookInstance reads an instance from the shared GET /instances snapshot whose fetch started
// at or after notBefore, and never asks the instance's own URL: waiters for many machines share
// one list (see clients.Cadence.WaitGone). GET /instances lists every instance of the account,
// terminated ones for a while too.
func (c *Cloud) LookInstance(ctx context.Context, id string, notBefore time.Time) (clients.Look, error) {
	if err := checkID("instance", id); err != nil {
		return clients.Look{}, err
	}
	list, at, err := c.instances.GetAt(ctx, notBefore)
	if err != nil {
		return clients.Look{}, err
	}
	for i := range list {
		if list[i].ID != id {
			continue
		}
		if gone(list[i]) {
			// Terminating or terminated: what a waiter needs is the status, not the ids of the
			// SSH keys (which would cost the key list in a process that has not read it yet).
			return clients.Look{Instance: mapInstance(list[i], nil), ListedAt: at}, nil
		}
		inst, err := c.toNeutral(ctx, list[i])
		if err != nil {
			return clients.Look{}, err
		}
		return clients.Look{Instance: inst, ListedAt: at}, nil
	}
	return clients.Look{ListedAt: at}, nil
}

// ListInstancesByTag lists the account's instances carrying tag key=value (a fresh-enough
// snapshot, like GetInstance).
func (c *Cloud) ListInstancesByTag(ctx context.Context, key, value string) ([]*clients.Instance, error) {
	list, err := c.instances.Get(ctx, clients.NotBefore(ctx, c.instanceTTL))
	if err != nil {
		return nil, err
	}
	var out []*clients.Instance
	for _, w := range list {
		if hasTag(w, key, value) {
			inst, err := c.toNeutral(ctx, w)
			if err != nil {
				return nil, err
			}
			out = append(out, inst)
		}
	}
	return out, nil
}

func hasTag(w Instance, key, value string) bool {
	for _, t := range w.Tags {
		if t.Key == key && t.Value == value {
			return true
		}
	}
	return false
}

// neutralStatus maps Lambda's instance status onto the neutral one.
func neutralStatus(s string) string {
	switch s {
	case StatusBooting:
		return clients.StatusPending
	case StatusActive:
		return clients.StatusRunning
	case StatusUnhealthy:
		return clients.StatusUnhealthy
	case StatusTerminating:
		return clients.StatusTerminating
	case StatusTerminated, StatusPreempted:
		return clients.StatusTerminated
	}
	// An unknown status is most likely a new transitional one: keep waiting rather than
	// declare the machine gone.
	return clients.StatusPending
}

// toNeutral maps a Lambda instance, turning SSH key names back into key ids. A read whose
// caller already knows the machine's key ids (clients.WithKnownSSHKeys: Terraform's state) keeps
// them when the machine lists as many keys: Lambda never changes a machine's keys after launch
// (an instance's only modifiable field is its name), so the key list is not read for them.
func (c *Cloud) toNeutral(ctx context.Context, w Instance) (*clients.Instance, error) {
	if ids, ok := clients.KnownSSHKeys(ctx); ok && len(ids) == len(w.SSHKeyNames) {
		inst := mapInstance(w, nil)
		inst.SSHKeyIDs = slices.Clone(ids)
		return inst, nil
	}
	var keyIDs map[string]string
	if len(w.SSHKeyNames) > 0 {
		var err error
		if keyIDs, err = c.keyIDsByName(ctx, w.SSHKeyNames); err != nil {
			return nil, err
		}
	}
	return mapInstance(w, keyIDs), nil
}

// mapInstance is the pure part of toNeutral. A key name without an id (the key was deleted)
// is kept as the name: better than dropping it and showing the machine without its key.
func mapInstance(w Instance, keyIDs map[string]string) *clients.Instance {
	gpu, count := gpuOf(w.InstanceType)
	inst := &clients.Instance{
		ID:           w.ID,
		Cloud:        cloudName,
		Name:         w.Name,
		Region:       w.Region.Name,
		Status:       neutralStatus(w.Status),
		NativeStatus: w.Status,
		InstanceType: w.InstanceType.Name,
		GPUType:      gpu,
		GPUCount:     count,
		PublicIP:     w.IP,
		PrivateIP:    w.PrivateIP,
		SSHHost:      w.IP,
		SSHPort:      sshPort,
		SSHUser:      sshUser,
		PricePerHour: centsToUSD(w.InstanceType.PriceCentsPerHour),
		Ready:        w.Status == StatusActive && w.IP != "",
	}
	for _, name := range w.SSHKeyNames {
		if id, ok := keyIDs[name]; ok {
			inst.SSHKeyIDs = append(inst.SSHKeyIDs, id)
		} else {
			inst.SSHKeyIDs = append(inst.SSHKeyIDs, name)
		}
	}
	for _, t := range w.Tags {
		if t.Key == LaunchTokenTag || t.Key == LaunchedAtTag {
			continue
		}
		if inst.Tags == nil {
			inst.Tags = map[string]string{}
		}
		inst.Tags[t.Key] = t.Value
	}
	opts := &InstanceOptions{FileSystemNames: slices.Clone(w.FileSystemNames)}
	for _, r := range w.FirewallRulesets {
		opts.FirewallRulesetIDs = append(opts.FirewallRulesetIDs, r.ID)
	}
	inst.Options = opts
	return inst
}

// UpdateInstance renames an instance (POST /instances/{id}); Lambda changes nothing else in
// place.
func (c *Cloud) UpdateInstance(ctx context.Context, id string, update clients.InstanceUpdate) (*clients.Instance, error) {
	if field := otherThanName(update); field != "" {
		return nil, clients.Errorf(clients.ErrUnsupported, "Lambda Cloud cannot change %s of an existing instance", field)
	}
	if update.Name == nil {
		return c.GetInstance(ctx, id)
	}
	if len(*update.Name) > maxNameLen {
		return nil, clients.Errorf(clients.ErrInvalid, "Lambda Cloud instance names are at most %d characters", maxNameLen)
	}
	w, err := c.api.UpdateInstance(ctx, id, InstanceModificationRequest{Name: update.Name})
	c.instances.Invalidate()
	if err != nil {
		return nil, err
	}
	return c.toNeutral(ctx, *w)
}

// otherThanName names the first set field of an update other than Name, so that fields added
// to InstanceUpdate later are refused here until this adapter learns them.
func otherThanName(u clients.InstanceUpdate) string {
	v := reflect.ValueOf(u)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Name != "Name" && !v.Field(i).IsZero() {
			return f.Name
		}
	}
	return ""
}

// DeleteInstance terminates an instance. A machine Lambda no longer knows, or one already
// terminated or terminating, counts as deleted. Terminates that arrive within TerminateWindow
// of each other (Terraform deletes in parallel) go out as one request.
func (c *Cloud) DeleteInstance(ctx context.Context, id string) error {
	return c.terminator.Do(ctx, id)
}

// sendTerminate is the terminator's request: one POST /instance-operations/terminate for every
// id of a batch. Lambda answers for the batch as a whole, refusing all of it for one id it does
// not know or will not terminate: then each id is settled on its own (terminateOne), so that
// one machine already gone does not fail the others. Any other failure fails the whole batch.
func (c *Cloud) sendTerminate(ctx context.Context, ids []string) (map[string]error, error) {
	_, err := c.api.TerminateInstances(ctx, ids...)
	c.instances.Invalidate()
	if err == nil || !idRefusal(err) {
		return nil, err
	}
	// The refusal is one id's (or the answer for the only id): settled per id, not the batch's.
	perID := map[string]error{}
	for _, id := range ids {
		refusal := err
		if len(ids) > 1 {
			_, refusal = c.api.TerminateInstances(ctx, id)
			c.instances.Invalidate()
		}
		if refusal != nil && idRefusal(refusal) {
			refusal = c.settleRefusal(ctx, id, refusal)
		}
		if refusal != nil {
			perID[id] = refusal
		}
	}
	return perID, nil
}

// idRefusal reports an answer that may be about one id of a terminate: not found, invalid, or
// a conflict.
func idRefusal(err error) bool {
	return clients.IsNotFound(err) || errors.Is(err, clients.ErrInvalid) || errors.Is(err, clients.ErrConflict)
}

// settleRefusal decides a refused terminate of one instance: one Lambda does not know, or one
// already terminating or terminated, counts as deleted.
func (c *Cloud) settleRefusal(ctx context.Context, id string, err error) error {
	if clients.IsNotFound(err) {
		return nil
	}
	// Lambda may refuse to terminate a machine that is already going or gone; ask it.
	w, gerr := c.api.GetInstance(ctx, id)
	if clients.IsNotFound(gerr) {
		return nil
	}
	if gerr == nil && slices.Contains([]string{StatusTerminating, StatusTerminated, StatusPreempted}, w.Status) {
		return nil
	}
	return err
}

// errNoAPIKey is returned by New when no key was configured.
func errNoAPIKey() error {
	return &clients.KindError{Kind: clients.ErrAuth, Msg: fmt.Sprintf(
		"Lambda Cloud API key is not set: set api_key in the provider's lambda block or the %s environment variable", keyEnv)}
}

// RestartInstance reboots an instance.
func (c *Cloud) RestartInstance(ctx context.Context, id string) error {
	if err := checkID("instance", id); err != nil {
		return err
	}
	_, err := c.api.RestartInstances(ctx, id)
	c.instances.Invalidate()
	return err
}
