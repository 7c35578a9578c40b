// Package clients is the neutral contract between the Terraform-facing provider layer and the
// vendor packages. The provider layer speaks only these types; each vendor package turns them
// into its own API calls. Adding a cloud means one package implementing Cloud plus one line in
// the registry (see registry.go).
package clients

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// Neutral instance statuses. Vendors map their own status names onto these.
const (
	StatusPending     = "pending"     // accepted, being provisioned or booting
	StatusRunning     = "running"     // up and reachable
	StatusStopped     = "stopped"     // stopped by the user, disk kept (RunPod EXITED)
	StatusUnhealthy   = "unhealthy"   // up, but the cloud reports it broken
	StatusTerminating = "terminating" // going away
	StatusTerminated  = "terminated"  // gone for good (terminated or preempted)
	StatusError       = "error"       // failed to provision or crashed
)

// Cloud is what every vendor adapter implements. Every method takes a context and honours its
// deadline. Errors wrap the sentinels in errors.go.
type Cloud interface {
	// Name is the cloud's key in configuration: "lambda", "runpod", "coreweave".
	Name() string

	// Regions lists the region codes the adapter knows without calling the API. A cloud whose
	// regions come from its API implements RegionLister, and lists here only what it has read
	// so far (possibly nothing); ask CloudRegions for the full list.
	Regions() []string

	// ResolveInstanceType turns a neutral GPU name or a native id plus a count into the cloud's
	// instance type, without calling the API. count 0 means "what the native id implies".
	ResolveInstanceType(gpuType string, count int) (InstanceType, error)

	// Offers lists what can be launched now, with prices and regions that have capacity.
	Offers(ctx context.Context, filter OfferFilter) ([]Offer, error)

	// CreateInstance asks the cloud for a machine and returns as soon as the cloud has accepted
	// it and its id is known: it does not wait for the machine to be ready. When the answer to
	// the create is lost, it finds the machine by its launch tag instead of creating another.
	CreateInstance(ctx context.Context, spec InstanceSpec) (*Instance, error)

	// GetInstance reads one machine; ErrNotFound when the cloud no longer knows it.
	GetInstance(ctx context.Context, id string) (*Instance, error)

	// UpdateInstance changes what the cloud can change in place.
	UpdateInstance(ctx context.Context, id string, update InstanceUpdate) (*Instance, error)

	// DeleteInstance terminates a machine. It succeeds if the machine is already gone and
	// returns once the cloud has accepted the termination (callers wait with WaitGone).
	DeleteInstance(ctx context.Context, id string) error
}

// SSHKeyCloud is implemented by clouds whose accounts hold SSH keys for their machines
// (neocloud_ssh_key). Its registration says so (CloudInfo.Lacks has no KindSSHKey).
type SSHKeyCloud interface {
	CreateSSHKey(ctx context.Context, spec SSHKeySpec) (*SSHKey, error)
	GetSSHKey(ctx context.Context, id string) (*SSHKey, error)
	DeleteSSHKey(ctx context.Context, id string) error
}

// InstanceType is a resolved, cloud-native machine shape.
type InstanceType struct {
	Name     string // native id: "gpu_8x_h100_sxm5"
	GPUType  string // neutral GPU name when the catalog knows it, else the native GPU id
	GPUCount int
}

// InstanceSpec is the neutral description of one GPU machine.
type InstanceSpec struct {
	Name     string
	GPUType  string // neutral catalog name or native id
	GPUCount int
	// Region is where to launch; empty lets the adapter pick one with capacity.
	Region    string
	Image     string
	SSHKeyIDs []string
	UserData  string
	Tags      map[string]string
	// MaxPricePerHour, when positive, refuses offers above it (USD per hour, whole machine).
	MaxPricePerHour float64
	// DesiredState is DesiredRunning (or empty) or DesiredStopped; clouds that cannot stop a
	// machine refuse DesiredStopped in ValidateInstanceSpec.
	DesiredState string
	// LaunchToken is the token the adapter attaches to the machine (tag, label or environment)
	// so that a create whose answer was lost, or a rerun after a crash, finds the machine
	// instead of launching another one. The provider derives it from the resource's identity
	// (IdentityToken); see launch.go for the protocol.
	LaunchToken string
	// AdoptSince: a live machine already carrying LaunchToken whose launch was sent at or after
	// this time is adopted instead of launching (an interrupted earlier apply); an older one is
	// an ErrConflict with an import hint. Zero adopts nothing.
	AdoptSince time.Time

	// Options are the cloud's own settings, a value of a type from that cloud's package
	// (runpod.InstanceOptions, lambda.InstanceOptions, coreweave.InstanceOptions); nil when
	// none. The cloud reads them with OptionsOf.
	Options any
}

// Desired power states of a machine that can be stopped without being deleted (RunPod).
const (
	DesiredRunning = "running"
	DesiredStopped = "stopped"
)

// InstanceUpdate lists in-place changes; nil fields are left alone.
type InstanceUpdate struct {
	Name  *string
	Env   map[string]string // replaces the whole environment when non-nil
	Image *string
	// DesiredState is DesiredRunning or DesiredStopped.
	DesiredState *string
	// Options are changes to the cloud's own settings, a value of a type from that cloud's
	// package (runpod.InstanceUpdate); nil when none.
	Options any
}

// IsZero reports whether the update changes nothing.
func (u InstanceUpdate) IsZero() bool {
	return u.Name == nil && u.Env == nil && u.Image == nil && u.DesiredState == nil && optionsZero(u.Options)
}

// Instance is the neutral view of one machine.
type Instance struct {
	ID           string
	Cloud        string
	Name         string
	Region       string
	Status       string // one of the Status* constants
	NativeStatus string
	InstanceType string
	GPUType      string
	GPUCount     int
	PublicIP     string
	PrivateIP    string
	SSHHost      string
	SSHPort      int
	SSHUser      string
	PricePerHour float64
	CreatedAt    time.Time
	Image        string
	SSHKeyIDs    []string
	// Tags are the user's tags, without the adapter's own bookkeeping tags.
	Tags map[string]string
	// Ready is true when the machine can be used: running and its SSH endpoint known.
	Ready bool
	// Adopted says, when the create found an existing machine instead of launching one, why
	// ("launched by an earlier apply that was interrupted"); empty for a fresh launch.
	Adopted string

	// Options are the cloud's own settings as the machine reports them, a pointer to a value
	// of a type from that cloud's package (*runpod.InstanceOptions); nil when none.
	Options any
}

// Gone reports whether the machine no longer exists for billing purposes.
func (i *Instance) Gone() bool { return i.Status == StatusTerminated }

// Failed reports whether waiting for readiness is pointless: the machine broke or is going
// away. An unhealthy machine counts: the cloud itself says it is not usable.
func (i *Instance) Failed() bool {
	switch i.Status {
	case StatusError, StatusUnhealthy, StatusTerminated, StatusTerminating:
		return true
	}
	return false
}

// SSHKeySpec describes an account SSH key. Without PublicKey the cloud generates a pair (where
// it can) and returns the private key once.
type SSHKeySpec struct {
	Name      string
	PublicKey string
}

// SSHKey is an account SSH key.
type SSHKey struct {
	ID         string
	Name       string
	PublicKey  string
	PrivateKey string // only set right after the cloud generated it
}

// OfferFilter narrows Offers.
type OfferFilter struct {
	GPUType         string // neutral name; empty = all
	GPUCount        int    // 0 = any
	Region          string
	MaxPricePerHour float64
	// OnlyAvailable drops offers with no capacity anywhere.
	OnlyAvailable bool
}

// Keeps reports whether offer o passes the filter: its GPU (the neutral name, or the cloud's
// own instance type, in any case), its count, its price, and with OnlyAvailable, whether any
// region has capacity. The cloud has applied the filter's Region to o.Regions already.
func (f OfferFilter) Keeps(o Offer) bool {
	if f.GPUType != "" && !strings.EqualFold(f.GPUType, o.GPUType) && !strings.EqualFold(f.GPUType, o.InstanceType) {
		return false
	}
	if f.GPUCount > 0 && f.GPUCount != o.GPUCount {
		return false
	}
	if f.MaxPricePerHour > 0 && o.PricePerHour > f.MaxPricePerHour {
		return false
	}
	return !f.OnlyAvailable || len(o.Regions) > 0
}

// SortOffers orders offers cheapest first, then by instance type.
func SortOffers(offers []Offer) {
	slices.SortStableFunc(offers, func(a, b Offer) int {
		if c := cmp.Compare(a.PricePerHour, b.PricePerHour); c != 0 {
			return c
		}
		return strings.Compare(a.InstanceType, b.InstanceType)
	})
}

// Offer is one launchable shape on one cloud, with the regions that have capacity now.
type Offer struct {
	Cloud        string
	InstanceType string
	GPUType      string
	GPUCount     int
	GPUMemoryGB  int
	VCPUs        int
	MemoryGB     int
	StorageGB    int
	PricePerHour float64
	// Regions with capacity right now.
	Regions []string
}

// FieldError is a plan-time objection to one attribute of a spec, named by its neutral
// attribute name ("ssh_key_ids", "gpu_count", "lambda.file_system_names").
type FieldError struct {
	Field   string
	Summary string
	Detail  string
}

// Invalid is the ErrInvalid error a create returns for the FieldErrors its cloud's validator
// found (the provider refuses them at plan time; a create checks again), nil when there are none.
func Invalid(errs []FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Field + ": " + e.Detail
	}
	return Errorf(ErrInvalid, "%s", strings.Join(msgs, "; "))
}

// InstanceValidator is implemented by clouds with rules on instance specs that can be
// checked without calling the API (Lambda: exactly one SSH key). The provider calls it at
// plan time so that bad input never reaches apply.
type InstanceValidator interface {
	ValidateInstanceSpec(spec InstanceSpec) []FieldError
}

// InPlaceLimiter is implemented by clouds that cannot apply every instance update in place.
// NotInPlace names the fields of an update (neutral attribute names: "name", "desired_state",
// "runpod.image") that only a new machine can carry; the provider plans a change to any of them
// as a replacement, so that the plan says what the apply will do.
type InPlaceLimiter interface {
	NotInPlace(u InstanceUpdate) []string
}

// SSHKeyValidator is implemented by clouds with rules on SSH keys that can be checked at plan
// time (RunPod cannot generate a key pair).
type SSHKeyValidator interface {
	ValidateSSHKeySpec(spec SSHKeySpec) []FieldError
}

// RegionLister is implemented by clouds whose regions come from their API instead of a list
// fixed in the adapter (RunPod's data centers, which RunPod opens as it grows): a region the
// cloud opened after this provider was released is then not refused at plan time. The adapter
// reads the list once per provider process (a failed read is tried again by the next caller).
type RegionLister interface {
	ListRegions(ctx context.Context) ([]string, error)
}

// OpenRegions is implemented by clouds whose list of regions is known to be incomplete and
// cannot be read from their API (CoreWeave publishes an availability matrix that changes, and no
// zone-listing call): a region outside Regions is then a plan-time warning, and the cloud's own
// answer at apply decides.
type OpenRegions interface {
	RegionsIncomplete() bool
}

// RegionsIncomplete reports whether a region c does not list may still exist (OpenRegions).
func RegionsIncomplete(c Cloud) bool {
	o, ok := c.(OpenRegions)
	return ok && o.RegionsIncomplete()
}

// CloudRegions is the cloud's full list of regions: from its API for a RegionLister, else
// Regions.
func CloudRegions(ctx context.Context, c Cloud) ([]string, error) {
	if l, ok := c.(RegionLister); ok {
		return l.ListRegions(ctx)
	}
	return c.Regions(), nil
}

// InstanceReferenceChecker is implemented by clouds that can check at plan time, with read-only
// calls, what an instance spec refers to in the account (a RunPod template, a registry
// credential), so that a reference to something that does not exist fails on its attribute
// before anything is launched. The error is for a check that could not be made (the API did not
// answer); the caller then leaves the decision to the launch.
type InstanceReferenceChecker interface {
	CheckInstanceReferences(ctx context.Context, spec InstanceSpec) ([]FieldError, error)
}

// InstanceLister is implemented by clouds that can list the account's machines (from the same
// shared snapshot that serves GetInstance), for lookups by name.
type InstanceLister interface {
	ListInstances(ctx context.Context) ([]Instance, error)
}

// LaunchFinder is implemented by clouds that can look for the machine an earlier, interrupted
// apply launched for a resource (by spec.LaunchToken) without launching: placement looks on
// every candidate cloud before launching on any, so that a rerun never launches on a second
// cloud what the first run launched on another. It follows Launch.Before: the machine to adopt,
// nil when there is none, or an error (ErrConflict with an import hint).
//
// SettleLaunch settles a launch with spec.LaunchToken, sent no later than sentAt, whose answer
// an earlier apply never got: the machine when it appeared, nil when a successful look after the
// cloud's commit horizon proves it never will, ErrOutcomeUnknown while neither is known.
type LaunchFinder interface {
	FindLaunched(ctx context.Context, spec InstanceSpec) (*Instance, error)
	SettleLaunch(ctx context.Context, spec InstanceSpec, sentAt time.Time) (*Instance, error)
}

// InstancePricer is implemented by clouds whose price for a machine depends on settings beyond
// its instance type (RunPod: the cloud tier, secure or community). It answers from the same
// catalog snapshot that Offers and the launch's price check read, so the price shown in a plan
// is the one the launch is held to. Other clouds' machines are priced from Offers.
type InstancePricer interface {
	InstancePrice(ctx context.Context, spec InstanceSpec, it InstanceType) (float64, error)
}
