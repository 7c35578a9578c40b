package lambda

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"
)

// CreateInstance launches one instance and returns as soon as Lambda has accepted it: it does
// not wait for the machine to boot (the provider saves the id first, then waits).
//
// Without spec.Region it tries, in name order, every region where GET /instance-types reports
// capacity for the type, moving on after each capacity refusal; with spec.Region it tries that
// region only. When every attempt is refused for capacity the error is a *clients.CapacityError
// listing each one.
//
// A launch whose answer was lost is never sent again: the machine is looked for by its launch
// tag and adopted (see adopt).
func (c *Cloud) CreateInstance(ctx context.Context, spec clients.InstanceSpec) (*clients.Instance, error) {
	return c.createInstance(ctx, spec, true)
}

// createInstance is CreateInstance; lookBefore false skips the look for machines of an earlier
// run, for callers that have looked already (a cluster reads all of its nodes at once).
func (c *Cloud) createInstance(ctx context.Context, spec clients.InstanceSpec, lookBefore bool) (*clients.Instance, error) {
	if err := clients.Invalid(c.ValidateInstanceSpec(spec)); err != nil {
		return nil, err
	}
	it, err := c.ResolveInstanceType(spec.GPUType, spec.GPUCount)
	if err != nil {
		return nil, err
	}

	l, found, err := c.Begin(ctx, spec, lookBefore)
	if found != nil || err != nil {
		return found, err // a rerun after a crash: the machine an interrupted apply launched
	}
	tagValue := l.Token

	keyNames, err := c.sshKeyNames(ctx, spec.SSHKeyIDs)
	if err != nil {
		return nil, err
	}
	items, err := c.types.Get(ctx, time.Now().Add(-c.typesTTL))
	if err != nil {
		return nil, err
	}
	item, ok := items[it.Name]
	if !ok {
		return nil, clients.Errorf(clients.ErrInvalid, "Lambda Cloud does not offer instance type %s (offered: %s)", it.Name, strings.Join(slices.Sorted(maps.Keys(items)), ", "))
	}
	if item.InstanceType.Name == "" {
		item.InstanceType.Name = it.Name
	}
	price := centsToUSD(item.InstanceType.PriceCentsPerHour)
	if spec.MaxPricePerHour > 0 && price > spec.MaxPricePerHour {
		return nil, clients.Errorf(clients.ErrInvalid, "Lambda Cloud instance type %s costs $%.2f per hour, above max_price_per_hour $%.2f",
			it.Name, price, spec.MaxPricePerHour)
	}
	regions, err := c.candidateRegions(ctx, spec, item)
	if err != nil {
		return nil, err
	}
	if len(regions) == 0 {
		return nil, &clients.CapacityError{Attempts: []clients.CapacityAttempt{{
			Cloud: cloudName, InstanceType: it.Name,
			Err: &clients.KindError{Kind: clients.ErrCapacity, Msg: "Lambda Cloud reports no region with capacity for " + it.Name +
				"; try another GPU type or count, another cloud, or again later"},
		}}}
	}

	req := launchRequest(spec, it.Name, keyNames, tagValue)
	var attempts []clients.CapacityAttempt
	for _, region := range regions {
		req.RegionName = region
		inst, adopted, err := l.Send(ctx, func(ctx context.Context, sentAt time.Time) (*clients.Instance, error) {
			r := req
			r.Tags = append(slices.Clone(req.Tags), TagEntry{Key: LaunchedAtTag, Value: clients.LaunchedAtValue(sentAt)})
			resp, err := c.api.LaunchInstance(ctx, r)
			if err == nil || errors.Is(err, clients.ErrOutcomeUnknown) {
				c.instances.Invalidate()
			}
			if err != nil {
				return nil, err
			}
			if len(resp.InstanceIDs) == 0 {
				// Accepted, yet no id: the machine may exist all the same.
				return nil, clients.Errorf(clients.ErrOutcomeUnknown, "launch instance: Lambda Cloud accepted the launch but returned no instance id")
			}
			return launchedInstance(spec, item.InstanceType, region, resp.InstanceIDs[0]), nil
		})
		switch {
		case err == nil:
			if adopted {
				inst.Adopted = "found by its launch tag after the launch's answer was lost"
			}
			return inst, nil
		case clients.IsCapacity(err):
			attempts = append(attempts, clients.CapacityAttempt{Cloud: cloudName, Region: region, InstanceType: it.Name, Err: err})
		case errors.Is(err, clients.ErrQuota):
			// No other region changes the account's quota: say what was asked for.
			return nil, fmt.Errorf("launching %s in %s: Lambda Cloud refused it for the account's quota: %w", it.Name, region, err)
		case clients.IsNotFound(err):
			// A launch's "does not exist" names an SSH key, filesystem, image or ruleset of
			// the request: bad input, not a vanished machine.
			return nil, clients.WithKind(err, clients.ErrInvalid)
		default:
			return nil, err
		}
	}
	return nil, &clients.CapacityError{Attempts: attempts}
}

// launchRequest builds the launch body (without region).
func launchRequest(spec clients.InstanceSpec, instanceType string, keyNames []string, tagValue string) LaunchRequest {
	req := LaunchRequest{
		InstanceTypeName: instanceType,
		SSHKeyNames:      keyNames,
		Name:             spec.Name,
		UserData:         spec.UserData,
		Image:            imageSpec(spec.Image),
	}
	for _, k := range slices.Sorted(maps.Keys(spec.Tags)) {
		req.Tags = append(req.Tags, TagEntry{Key: k, Value: spec.Tags[k]})
	}
	req.Tags = append(req.Tags, TagEntry{Key: LaunchTokenTag, Value: tagValue})
	if o := instanceOptions(spec); o != nil {
		req.FileSystemNames = slices.Clone(o.FileSystemNames)
		for _, id := range o.FirewallRulesetIDs {
			req.FirewallRulesets = append(req.FirewallRulesets, FirewallRulesetEntry{ID: id})
		}
	}
	return req
}

// imageIDPattern matches Lambda image ids (UUIDs, with or without dashes); anything else is
// taken as an image family ("lambda-stack-24-04").
var imageIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

func imageSpec(image string) *ImageSpec {
	switch {
	case image == "":
		return nil // Lambda's default image
	case imageIDPattern.MatchString(image):
		return &ImageSpec{ID: image}
	default:
		return &ImageSpec{Family: image}
	}
}

// launchedInstance describes a machine Lambda has just accepted, from what was asked: reading
// it back would cost a call, and the caller polls GetInstance next anyway.
func launchedInstance(spec clients.InstanceSpec, t InstanceType, region, id string) *clients.Instance {
	gpu, count := gpuOf(t)
	inst := &clients.Instance{
		ID:           id,
		Cloud:        cloudName,
		Name:         spec.Name,
		Region:       region,
		Status:       clients.StatusPending,
		NativeStatus: StatusBooting,
		InstanceType: t.Name,
		GPUType:      gpu,
		GPUCount:     count,
		SSHPort:      sshPort,
		SSHUser:      sshUser,
		PricePerHour: centsToUSD(t.PriceCentsPerHour),
		Image:        spec.Image,
		SSHKeyIDs:    slices.Clone(spec.SSHKeyIDs),
	}
	opts := &InstanceOptions{}
	if len(spec.Tags) > 0 {
		inst.Tags = maps.Clone(spec.Tags)
	}
	if o := instanceOptions(spec); o != nil {
		opts.FileSystemNames = slices.Clone(o.FileSystemNames)
		opts.FirewallRulesetIDs = slices.Clone(o.FirewallRulesetIDs)
	}
	inst.Options = opts
	return inst
}

// sshKeyNames turns neutral SSH key ids (Lambda key ids) into the names Lambda launches by.
// A value that is already a key's name is accepted too.
func (c *Cloud) sshKeyNames(ctx context.Context, ids []string) ([]string, error) {
	var missing string
	names, ok, err := snapshot.Find(ctx, c.sshKeys, c.keyTTL, func(keys []SSHKey) ([]string, bool) {
		names := make([]string, 0, len(ids))
		for _, id := range ids {
			i := slices.IndexFunc(keys, func(k SSHKey) bool { return k.ID == id })
			if i < 0 {
				i = slices.IndexFunc(keys, func(k SSHKey) bool { return k.Name == id })
			}
			if i < 0 {
				missing = id
				return nil, false
			}
			names = append(names, keys[i].Name)
		}
		return names, true
	})
	if ok || err != nil {
		return names, err
	}
	return nil, clients.Errorf(clients.ErrInvalid, "Lambda Cloud account has no SSH key with id %q", missing)
}

// candidateRegions lists where to try the launch. Filesystems and firewall rulesets are
// regional, so when the spec names any, the launch must go to their region.
func (c *Cloud) candidateRegions(ctx context.Context, spec clients.InstanceSpec, item InstanceTypesItem) ([]string, error) {
	if spec.Region != "" {
		return []string{spec.Region}, nil
	}
	pinned, err := c.pinnedRegion(ctx, instanceOptions(spec))
	if err != nil {
		return nil, err
	}
	if pinned != "" {
		// Tried even when the capacity list leaves it out: the list may lag, and the launch's
		// own refusal is the better error.
		return []string{pinned}, nil
	}
	regions := make([]string, 0, len(item.RegionsWithCapacityAvailable))
	for _, r := range item.RegionsWithCapacityAvailable {
		if r.Name != "" && !slices.Contains(regions, r.Name) {
			regions = append(regions, r.Name)
		}
	}
	sort.Strings(regions)
	return regions, nil
}

// pinnedRegion is the one region the spec's filesystems and firewall rulesets live in, or ""
// when it names none.
func (c *Cloud) pinnedRegion(ctx context.Context, o *InstanceOptions) (string, error) {
	if o == nil || (len(o.FileSystemNames) == 0 && len(o.FirewallRulesetIDs) == 0) {
		return "", nil
	}
	region, from := "", ""
	pin := func(r, what string) error {
		if region != "" && r != region {
			return clients.Errorf(clients.ErrInvalid, "%s is in region %s but %s is in region %s; an instance can only use resources of its own region", what, r, from, region)
		}
		region, from = r, what
		return nil
	}
	if len(o.FileSystemNames) > 0 {
		fss, err := c.api.ListFilesystems(ctx)
		if err != nil {
			return "", err
		}
		for _, name := range o.FileSystemNames {
			i := slices.IndexFunc(fss, func(f Filesystem) bool { return f.Name == name })
			if i < 0 {
				return "", clients.Errorf(clients.ErrInvalid, "Lambda Cloud account has no filesystem named %q", name)
			}
			if err := pin(fss[i].Region.Name, "filesystem "+name); err != nil {
				return "", err
			}
		}
	}
	if len(o.FirewallRulesetIDs) > 0 {
		rss, err := c.api.ListFirewallRulesets(ctx)
		if err != nil {
			return "", err
		}
		for _, id := range o.FirewallRulesetIDs {
			i := slices.IndexFunc(rss, func(r FirewallRuleset) bool { return r.ID == id })
			if i < 0 {
				return "", clients.Errorf(clients.ErrInvalid, "Lambda Cloud account has no firewall ruleset with id %q", id)
			}
			if err := pin(rss[i].Region.Name, "firewall ruleset "+id); err != nil {
				return "", err
			}
		}
	}
	return region, nil
}

// launch is the shared launch protocol (clients.Launch) for one Lambda launch token: machines
// are found by their launch tag in the shared instance list.
func (c *Cloud) launch(token string, adoptSince time.Time) clients.Launch[*clients.Instance] {
	return clients.Launch[*clients.Instance]{
		Cloud: cloudName, What: "instance", Token: token, Where: "tag " + LaunchTokenTag,
		AdoptSince: adoptSince, Horizon: c.adoptWindow, Interval: c.adoptInterval, MaxPause: adoptMaxPause,
		IDOf: func(i *clients.Instance) string { return i.ID }, Taken: &c.taken,
		// Launches queue for Lambda's launch limit; each is stamped when it leaves the queue.
		Turn: c.api.LaunchTurn,
		Find: func(ctx context.Context, notBefore time.Time) ([]clients.Claim[*clients.Instance], error) {
			list, err := c.instances.Get(ctx, notBefore)
			if err != nil {
				return nil, err
			}
			var out []clients.Claim[*clients.Instance]
			for _, w := range list {
				if !hasTag(w, LaunchTokenTag, token) || gone(w) {
					continue
				}
				inst, err := c.toNeutral(ctx, w)
				if err != nil {
					inst = mapInstance(w, nil) // never lose the id over an SSH key lookup
				}
				out = append(out, clients.Claim[*clients.Instance]{Value: inst, ID: w.ID, LaunchedAt: clients.ParseLaunchedAt(tagValue(w, LaunchedAtTag))})
			}
			return out, nil
		},
	}
}

var _ clients.LaunchFinder = (*Cloud)(nil)
