package runpod

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// portPattern is RunPod's "port/protocol" (the document states the shape, not the protocols;
// RunPod uses http and tcp).
var portPattern = regexp.MustCompile(`^([0-9]{1,5})/([a-z]+)$`)

// ValidateInstanceSpec checks what RunPod's rules allow without calling the API, so the
// provider can refuse bad input at plan time. CreateInstance checks the same again.
func (c *Cloud) ValidateInstanceSpec(spec clients.InstanceSpec) []clients.FieldError {
	var errs []clients.FieldError
	add := func(field, summary, detail string) {
		errs = append(errs, clients.FieldError{Field: field, Summary: summary, Detail: detail})
	}
	o, err := specOptions(spec)
	if err != nil {
		return []clients.FieldError{clients.OptionsField(cloudName, err)}
	}
	if spec.UserData != "" {
		add("user_data", "RunPod pods take no user data",
			"A RunPod pod is a container: configure it with runpod.image, runpod.env or a template instead of user_data.")
	}
	if len(spec.Tags) > 0 {
		add("tags", "RunPod pods have no tags", "RunPod's API has no tags or labels on pods; leave tags out for RunPod.")
	}
	if o.Image != "" && spec.Image != "" && o.Image != spec.Image {
		add("runpod.image", "Two different images", fmt.Sprintf("image is %q but runpod.image is %q; set one of them.", spec.Image, o.Image))
	}
	if o.Image == "" && spec.Image == "" && o.TemplateID == "" {
		add("runpod.image", "RunPod needs a container image",
			"A RunPod pod runs a container image: set runpod.image (for example runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04) or runpod.template_id.")
	}
	if o.CloudType != "" && o.CloudType != CloudSecure && o.CloudType != CloudCommunity {
		add("runpod.cloud_type", "Unknown RunPod cloud type", fmt.Sprintf("%q is neither %s nor %s.", o.CloudType, CloudSecure, CloudCommunity))
	}
	if bad := reservedIn(o.Env); bad != "" {
		add("runpod.env", "Reserved environment variable",
			fmt.Sprintf("%s is set by the provider (%s from ssh_key_ids, %s, %s and %s for its bookkeeping); leave it out of runpod.env.",
				bad, EnvPublicKey, EnvLaunchToken, EnvSSHKeyIDs, EnvTemplateKeys))
	}
	if o.StartSSH != nil && !*o.StartSSH && len(spec.SSHKeyIDs) > 0 {
		add("runpod.start_ssh", "SSH keys without SSH", "ssh_key_ids are installed by RunPod's SSH setup, which runpod.start_ssh = false turns off.")
	}
	if o.ContainerDiskGB < 0 {
		add("runpod.container_disk_gb", "Negative disk size", "runpod.container_disk_gb must be positive.")
	}
	if o.VolumeGB < 0 || (o.VolumeGB > 0 && o.VolumeGB < minVolumeGB) {
		add("runpod.volume_gb", "Volume too small", fmt.Sprintf("A RunPod persistent volume has at least %d GB; %d given.", minVolumeGB, o.VolumeGB))
	}
	if o.VolumeGB > 0 && o.NetworkVolumeID != "" {
		add("runpod.volume_gb", "Two volumes", "A RunPod pod mounts either a persistent volume (runpod.volume_gb) or a network volume (runpod.network_volume_id), not both.")
	}
	if o.NetworkVolumeID != "" && !validID.MatchString(o.NetworkVolumeID) {
		add("runpod.network_volume_id", "Invalid network volume id", fmt.Sprintf("%q is not a RunPod network volume id.", o.NetworkVolumeID))
	}
	if o.TemplateID != "" && !validID.MatchString(o.TemplateID) {
		add("runpod.template_id", "Invalid template id", fmt.Sprintf("%q is not a RunPod template id.", o.TemplateID))
	}
	if o.RegistryCredentialID != "" && !validID.MatchString(o.RegistryCredentialID) {
		add("runpod.registry_credential_id", "Invalid registry credential id", fmt.Sprintf("%q is not a RunPod container registry credential id.", o.RegistryCredentialID))
	}
	if o.VolumeMountPath != "" && !path.IsAbs(o.VolumeMountPath) {
		add("runpod.volume_mount_path", "Relative mount path", fmt.Sprintf("%q must be an absolute path such as /workspace.", o.VolumeMountPath))
	}
	if o.VolumeMountPath != "" && o.VolumeGB == 0 && o.NetworkVolumeID == "" && o.TemplateID == "" {
		add("runpod.volume_mount_path", "Mount path without a volume",
			"runpod.volume_mount_path is where a volume is mounted: set runpod.volume_gb or runpod.network_volume_id too, or leave the path out.")
	}
	for _, p := range o.Ports {
		m := portPattern.FindStringSubmatch(p)
		n := 0
		if m != nil {
			n, _ = strconv.Atoi(m[1])
		}
		if n < 1 || n > 65535 {
			add("runpod.ports", "Invalid port", fmt.Sprintf("%q is not port/protocol, such as 22/tcp or 8888/http.", p))
		}
	}
	return errs
}

// CreateInstance creates one GPU pod and returns as soon as RunPod has accepted it: it does not
// wait for the pod to run (the provider saves the id first, then waits).
//
// Without spec.Region it tries, best stocked first, every data center where the GPU catalog
// reports stock for the GPU type and count on the pod's cloud tier, moving on after each
// refusal for capacity (and, as RunPod's document advises, after a 400 it cannot tell apart
// from one, or a 403 for a pool the account cannot use). A pod with a network volume goes to
// the volume's data center. With spec.Region only that data center is tried. When every
// attempt is refused for capacity the error is a *clients.CapacityError listing each one.
//
// A create whose answer was lost is never sent again: the pod is looked for by its launch token
// and adopted (see adopt).
func (c *Cloud) CreateInstance(ctx context.Context, spec clients.InstanceSpec) (*clients.Instance, error) {
	if err := clients.Invalid(c.ValidateInstanceSpec(spec)); err != nil {
		return nil, err
	}
	it, err := c.ResolveInstanceType(spec.GPUType, spec.GPUCount)
	if err != nil {
		return nil, err
	}
	opts, err := podOptions(spec)
	if err != nil {
		return nil, err
	}

	l, found, err := c.Begin(ctx, spec, true)
	if found != nil || err != nil {
		return found, err // a rerun after a crash: the pod an interrupted apply created
	}
	tokenValue := l.Token

	var tpl *Template
	if opts.TemplateID != "" {
		if tpl, err = c.podTemplate(ctx, opts.TemplateID); err != nil {
			return nil, err
		}
	}
	env, err := c.podEnv(ctx, spec, opts, tokenValue, tpl)
	if err != nil {
		return nil, err
	}
	g, err := c.catalogEntry(ctx, it, opts.CloudType)
	if err != nil {
		return nil, err
	}
	price := podPrice(g, it, opts.CloudType)
	if spec.MaxPricePerHour > 0 && price > spec.MaxPricePerHour {
		return nil, clients.Errorf(clients.ErrInvalid, "%d x %s on RunPod's %s cloud costs $%.2f per hour, above max_price_per_hour $%.2f",
			it.GPUCount, it.Name, opts.CloudType, price, spec.MaxPricePerHour)
	}
	candidates, err := c.candidateDataCenters(ctx, spec, opts, g)
	if err != nil {
		return nil, err
	}

	req := createRequest(spec, opts, it, env, tokenValue)
	var attempts []clients.CapacityAttempt
	for i, dc := range candidates {
		// A 400 or 403 moves on while there is a next candidate, and is recorded on the last
		// one too once others were tried, so that the final error weighs every answer.
		failover := i < len(candidates)-1 || len(attempts) > 0
		req.DataCenterIDs = nil
		if dc != "" {
			req.DataCenterIDs = []string{dc}
		}
		inst, adopted, err := l.Send(ctx, func(ctx context.Context, _ time.Time) (*clients.Instance, error) {
			pod, err := c.api.CreatePod(ctx, req)
			if err := c.created("pod", err, func() string { return pod.ID }); err != nil {
				return nil, err
			}
			return InstanceFromPod(*pod), nil
		})
		switch {
		case err == nil:
			if adopted {
				inst.Adopted = adoptedAfterLostAnswer
			}
			return inst, nil
		case errors.Is(err, clients.ErrQuota):
			// 402: the balance cannot pay for the pod anywhere: say what was asked for.
			return nil, fmt.Errorf("creating a pod of %d x %s (%s cloud, %s, $%.2f per hour): RunPod refused it for the account's balance or quota: %w",
				it.GPUCount, it.Name, opts.CloudType, regionOrAny(dc), price, err)
		case clients.IsCapacity(err),
			failover && apiStatus(err) == 400, // capacity or a rule: the document says try the next candidate
			failover && apiStatus(err) == 403: // a pool this account cannot use
			attempts = append(attempts, clients.CapacityAttempt{Cloud: cloudName, Region: dc, InstanceType: it.Name, Err: err})
		case clients.IsNotFound(err):
			// A create's "not found" names a template or network volume of the request: bad
			// input, not a vanished pod.
			return nil, clients.WithKind(err, clients.ErrInvalid)
		default:
			// 402 (no balance), 422 (bad body), 401, a 429 not worth waiting for, the context:
			// no other data center would do better.
			return nil, err
		}
	}
	return nil, attemptsError(attempts)
}

// attemptsError is the error after every candidate was refused. Any capacity refusal makes it
// a *clients.CapacityError with every attempt. Otherwise every candidate answered 400 or 403
// with a detail that does not read like capacity, which RunPod's document says to read as a
// problem with the request (or the account's access), not as missing capacity.
func attemptsError(attempts []clients.CapacityAttempt) error {
	if len(attempts) == 0 {
		return &clients.KindError{Kind: clients.ErrCapacity, Msg: "create pod: no data center to try"}
	}
	var tried []string
	for _, a := range attempts {
		if clients.IsCapacity(a.Err) {
			return &clients.CapacityError{Attempts: attempts}
		}
		tried = append(tried, regionOrAny(a.Region))
	}
	last := attempts[len(attempts)-1].Err
	if apiStatus(last) == 403 {
		return last
	}
	return &clients.KindError{Kind: clients.ErrInvalid, Msg: fmt.Sprintf(
		"RunPod refused the pod in every data center tried (%s) with an answer that does not read like missing capacity, so the request itself is most likely at fault: %v",
		strings.Join(tried, ", "), last)}
}

func regionOrAny(region string) string {
	if region == "" {
		return "any data center"
	}
	return region
}

// envJupyterPassword is the variable RunPod generates when a pod starts Jupyter.
const envJupyterPassword = "JUPYTER_PASSWORD"

// podOptions are the spec's RunPod options with the defaults filled in.
func podOptions(spec clients.InstanceSpec) (InstanceOptions, error) {
	o, err := specOptions(spec)
	if err != nil {
		return o, err
	}
	if o.Image == "" {
		o.Image = spec.Image
	}
	if o.CloudType == "" {
		o.CloudType = CloudSecure
	}
	if o.VolumeMountPath == "" && (o.VolumeGB > 0 || o.NetworkVolumeID != "") {
		o.VolumeMountPath = defaultMountPath
	}
	return o, nil
}

// podTemplate reads the template a pod is created from: one the account can use, and a pod
// template. Its env and Jupyter setting decide what EnvTemplateKeys lists.
func (c *Cloud) podTemplate(ctx context.Context, id string) (*Template, error) {
	t, err := c.api.GetTemplate(ctx, id)
	switch {
	case clients.IsNotFound(err):
		return nil, clients.Errorf(clients.ErrInvalid, "RunPod has no template %q that this account can use", id)
	case err != nil:
		return nil, err
	case t.Serverless:
		return nil, clients.Errorf(clients.ErrInvalid, "RunPod template %q is for serverless workers; a pod needs a pod template", id)
	}
	return t, nil
}

// podEnv is the pod's environment: the user's, the launch token, and the spec's SSH keys.
// RunPod images install the keys of PUBLIC_KEY; startSsh would put every account key there,
// so the adapter sets it to exactly the keys asked for. With a template, the names RunPod will
// add from it are listed in EnvTemplateKeys.
func (c *Cloud) podEnv(ctx context.Context, spec clients.InstanceSpec, o InstanceOptions, tokenValue string, tpl *Template) (map[string]string, error) {
	env := maps.Clone(o.Env)
	if env == nil {
		env = map[string]string{}
	}
	if tpl != nil {
		var fromTemplate []string
		for k := range tpl.Env {
			if _, mine := env[k]; !mine && !slices.Contains(reservedEnv, k) {
				fromTemplate = append(fromTemplate, k)
			}
		}
		if _, mine := env[envJupyterPassword]; tpl.StartJupyter && !mine && !slices.Contains(fromTemplate, envJupyterPassword) {
			fromTemplate = append(fromTemplate, envJupyterPassword)
		}
		if len(fromTemplate) > 0 {
			sort.Strings(fromTemplate)
			env[EnvTemplateKeys] = strings.Join(fromTemplate, ",")
		}
	}
	env[EnvLaunchToken] = tokenValue
	if len(spec.SSHKeyIDs) > 0 {
		keys, err := c.publicKeysFor(ctx, spec.SSHKeyIDs)
		if err != nil {
			return nil, err
		}
		env[EnvPublicKey] = strings.Join(keys, "\n")
		env[EnvSSHKeyIDs] = strings.Join(spec.SSHKeyIDs, ",")
	}
	return env, nil
}

// createRequest builds the body of POST /pods (without data centers).
func createRequest(spec clients.InstanceSpec, o InstanceOptions, it clients.InstanceType, env map[string]string, tokenValue string) CreatePodRequest {
	name := spec.Name
	if strings.TrimSpace(name) == "" {
		// RunPod requires a name; this one is unique to the launch.
		name = "neocloud-" + tokenValue[:min(len(tokenValue), 12)]
	}
	req := CreatePodRequest{
		Name:       name,
		Image:      o.Image,
		Env:        env,
		Ports:      slices.Clone(o.Ports),
		Cloud:      o.CloudType,
		GPU:        &CreateGpuConfig{ID: it.Name, Count: it.GPUCount},
		Disk:       o.ContainerDiskGB,
		TemplateID: o.TemplateID,
		StartSSH:   o.StartSSH == nil || *o.StartSSH,
	}
	if o.RegistryCredentialID != "" {
		req.Registry = &o.RegistryCredentialID
	}
	switch {
	case o.NetworkVolumeID != "":
		req.Mounts = &Mounts{Network: []NetworkMount{{VolumeID: o.NetworkVolumeID, Path: o.VolumeMountPath}}}
	case o.VolumeGB > 0:
		req.Mounts = &Mounts{Persistent: &PersistentMount{Size: o.VolumeGB, Path: o.VolumeMountPath}}
	}
	return req
}

// catalogEntry finds the GPU type in the catalog for the pod's count and cloud tier, and checks
// that the tier sells it in that count.
func (c *Cloud) catalogEntry(ctx context.Context, it clients.InstanceType, cloud string) (GpuType, error) {
	list, err := c.catalog(ctx, it.GPUCount, cloud, time.Now().Add(-c.catalogTTL))
	if err != nil {
		return GpuType{}, err
	}
	i := slices.IndexFunc(list, func(g GpuType) bool { return strings.EqualFold(g.ID, it.Name) })
	if i < 0 {
		ids := make([]string, 0, len(list))
		for _, g := range list {
			ids = append(ids, g.ID)
		}
		sort.Strings(ids)
		return GpuType{}, clients.Errorf(clients.ErrInvalid, "RunPod does not offer GPU type %q (offered: %s)", it.Name, strings.Join(ids, ", "))
	}
	g := list[i]
	offered, maxCount := g.Secure, g.MaxCount.Secure
	if cloud == CloudCommunity {
		offered, maxCount = g.Community, g.MaxCount.Community
	}
	if !offered {
		return GpuType{}, clients.Errorf(clients.ErrInvalid, "RunPod does not offer %s on its %s cloud", g.ID, cloud)
	}
	if maxCount > 0 && it.GPUCount > maxCount {
		return GpuType{}, clients.Errorf(clients.ErrInvalid, "a RunPod %s cloud pod has at most %d x %s, not %d", cloud, maxCount, g.ID, it.GPUCount)
	}
	return g, nil
}

// candidateDataCenters lists where to try the create; "" means "let RunPod's scheduler
// choose" (dataCenterIds left out).
func (c *Cloud) candidateDataCenters(ctx context.Context, spec clients.InstanceSpec, o InstanceOptions, g GpuType) ([]string, error) {
	if o.NetworkVolumeID != "" {
		// A network volume lives in one data center and a pod can only mount it there.
		v, err := c.api.GetNetworkVolume(ctx, o.NetworkVolumeID)
		if clients.IsNotFound(err) {
			return nil, clients.Errorf(clients.ErrInvalid, "RunPod account has no network volume with id %q", o.NetworkVolumeID)
		}
		if err != nil {
			return nil, err
		}
		if spec.Region != "" && spec.Region != v.DataCenter {
			return nil, clients.Errorf(clients.ErrInvalid, "network volume %s is in data center %s, not %s; a pod can only mount a volume of its own data center",
				v.ID, v.DataCenter, spec.Region)
		}
		// Tried even when the catalog shows no stock there: the catalog may lag, and the
		// create's own refusal is the better error.
		return []string{v.DataCenter}, nil
	}
	if spec.Region != "" {
		return []string{spec.Region}, nil
	}
	rank := map[string]int{AvailabilityHigh: 0, AvailabilityMedium: 1, AvailabilityLow: 2}
	var dcs []DataCenterAvailability
	for _, dc := range g.DataCenters {
		if available(dc.Availability) && dc.ID != "" && !slices.ContainsFunc(dcs, func(d DataCenterAvailability) bool { return d.ID == dc.ID }) {
			dcs = append(dcs, dc)
		}
	}
	sort.SliceStable(dcs, func(i, j int) bool {
		if rank[dcs[i].Availability] != rank[dcs[j].Availability] {
			return rank[dcs[i].Availability] < rank[dcs[j].Availability]
		}
		return dcs[i].ID < dcs[j].ID
	})
	if len(dcs) == 0 {
		// The catalog reports no stock anywhere. It is a guide, not a reservation: one create
		// without a data center lets the scheduler have the last word, and its refusal names
		// the problem.
		return []string{""}, nil
	}
	out := make([]string, len(dcs))
	for i, dc := range dcs {
		out[i] = dc.ID
	}
	return out, nil
}

// launch is the shared launch protocol (clients.Launch) for one RunPod launch token: pods are
// found by the token in their environment, in the shared pod list.
func (c *Cloud) launch(token string, adoptSince time.Time) clients.Launch[*clients.Instance] {
	return clients.Launch[*clients.Instance]{
		Cloud: cloudName, What: "pod", Token: token, Where: "environment variable " + EnvLaunchToken,
		AdoptSince: adoptSince, Horizon: c.adoptWindow, Interval: c.adoptInterval, MaxPause: adoptMaxPause,
		IDOf: func(i *clients.Instance) string { return i.ID }, Taken: &c.taken,
		Find: func(ctx context.Context, notBefore time.Time) ([]clients.Claim[*clients.Instance], error) {
			list, err := c.pods.Get(ctx, notBefore)
			if err != nil {
				return nil, err
			}
			var out []clients.Claim[*clients.Instance]
			for _, p := range list {
				if p.Env[EnvLaunchToken] != token || p.Status == PodTerminated {
					continue
				}
				out = append(out, clients.Claim[*clients.Instance]{Value: InstanceFromPod(p), ID: p.ID, LaunchedAt: p.CreatedAt.Time})
			}
			return out, nil
		},
	}
}

var _ clients.LaunchFinder = (*Cloud)(nil)

// podPrice is the list price per hour of a pod of it on a cloud tier.
func podPrice(g GpuType, it clients.InstanceType, cloud string) float64 {
	price := g.Price.Secure
	if cloud == CloudCommunity {
		price = g.Price.Community
	}
	return price * float64(it.GPUCount)
}

// InstancePrice is the list price per hour of the pod spec describes on its cloud tier (secure
// unless runpod.cloud_type says community), from the catalog snapshot the launch reads.
func (c *Cloud) InstancePrice(ctx context.Context, spec clients.InstanceSpec, it clients.InstanceType) (float64, error) {
	opts, err := podOptions(spec)
	if err != nil {
		return 0, err
	}
	g, err := c.catalogEntry(ctx, it, opts.CloudType)
	if err != nil {
		return 0, err
	}
	return podPrice(g, it, opts.CloudType), nil
}

// adoptedAfterLostAnswer is Instance.Adopted (Cluster.Adopted) of a pod (cluster) whose create's
// answer was lost and which was found by its launch token.
const adoptedAfterLostAnswer = "found by its launch token after the create's answer was lost"

// created settles a create of pods (a pod, a cluster) from its error and, when it succeeded,
// the id it answered: pods may have been made unless the create was refused, so the shared pod
// list is renewed; an accepted create without an id is ErrOutcomeUnknown (the pods may exist
// all the same), for the launch's token to find.
func (c *Cloud) created(what string, err error, id func() string) error {
	if err == nil || errors.Is(err, clients.ErrOutcomeUnknown) {
		c.pods.Invalidate()
	}
	if err == nil && id() == "" {
		return clients.Errorf(clients.ErrOutcomeUnknown, "create %s: RunPod accepted the %s but returned no %s id", what, what, what)
	}
	return err
}
