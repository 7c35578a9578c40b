package lambda

import (
	"fmt"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// Route templates, as counted in Core.Stats and matched by fault and rate rules.
const (
	routeLaunch    = "POST /api/v1/instance-operations/launch"
	routeTerminate = "POST /api/v1/instance-operations/terminate"
	routeRestart   = "POST /api/v1/instance-operations/restart"
)

// InstanceStatus values.
const (
	StatusBooting     = "booting"
	StatusActive      = "active"
	StatusUnhealthy   = "unhealthy"
	StatusTerminating = "terminating"
	StatusTerminated  = "terminated"
	StatusPreempted   = "preempted"
)

// Launch limits from InstanceLaunchRequest.
const (
	maxNameLen     = 64
	maxUserData    = 1 << 20 // "cannot exceed 1MB"
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// instance is one launched machine. Its status is never stored: status() derives it from the
// timestamps, so time passing needs no goroutine.
type instance struct {
	id          string
	name        string
	hostname    string // as requested; empty means the IP-based default
	typ         *instanceType
	region      region
	sshKeyNames []string
	mounts      []mount
	image       string // the image id or family the launch asked for, empty for the default
	userData    string
	tags        []tagEntry
	rulesetIDs  []string

	ip, privateIP, jupyterToken string

	created     time.Time
	firstActive time.Time // end of the first boot: from then on the instance has its addresses
	bootUntil   time.Time // end of the current boot (the launch's or a restart's)
	unhealthy   bool

	terminateRequested time.Time // zero while not terminated
	terminatedAt       time.Time // when "terminating" turns into "terminated"
	preemptedAt        time.Time // zero unless preempted
	goneAt             time.Time // when the API forgets it; zero while it is live

	// holds says the instance still holds its machine (capacity) and its GPUs (quota).
	holds bool
}

// mount is a filesystem mounted on an instance.
type mount struct {
	fileSystemID, name, mountPoint string
}

// tagEntry is TagEntry / RequestedTagEntry.
type tagEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// rulesetEntry is FirewallRulesetEntry.
type rulesetEntry struct {
	ID string `json:"id"`
}

func (in *instance) status(now time.Time) string {
	switch {
	case !in.preemptedAt.IsZero():
		return StatusPreempted
	case !in.terminateRequested.IsZero():
		if now.Before(in.terminatedAt) {
			return StatusTerminating
		}
		return StatusTerminated
	case in.unhealthy:
		return StatusUnhealthy
	case now.Before(in.bootUntil):
		return StatusBooting
	default:
		return StatusActive
	}
}

// visible reports whether the API still shows the instance.
func (in *instance) visible(now time.Time) bool {
	return in.goneAt.IsZero() || now.Before(in.goneAt)
}

// live reports whether the instance is neither on its way out nor gone: what the quota counts
// and what keeps a filesystem or ruleset in use (terminating instances included, see inUse).
func (in *instance) live(now time.Time) bool {
	switch in.status(now) {
	case StatusBooting, StatusActive, StatusUnhealthy:
		return true
	}
	return false
}

// inUse reports whether the instance still mounts its filesystems and uses its rulesets. A
// terminating instance does: Lambda lets go of them only once it is terminated.
func (in *instance) inUse(now time.Time) bool {
	return in.visible(now) && (in.live(now) || in.status(now) == StatusTerminating)
}

// launched reports whether the first boot finished before the instance was ended: only then
// does it have addresses.
func (in *instance) launched(now time.Time) bool {
	if now.Before(in.firstActive) {
		return false
	}
	for _, end := range []time.Time{in.terminateRequested, in.preemptedAt} {
		if !end.IsZero() && end.Before(in.firstActive) {
			return false
		}
	}
	return true
}

// instanceJSON is the Instance model.
type instanceJSON struct {
	ID               string           `json:"id"`
	Name             string           `json:"name,omitempty"`
	IP               string           `json:"ip,omitempty"`
	PrivateIP        string           `json:"private_ip,omitempty"`
	Status           string           `json:"status"`
	SSHKeyNames      []string         `json:"ssh_key_names"`
	FileSystemNames  []string         `json:"file_system_names"`
	FileSystemMounts []mountJSON      `json:"file_system_mounts,omitempty"` // "missing" when nothing is mounted
	Region           region           `json:"region"`
	InstanceType     instanceTypeJSON `json:"instance_type"`
	Hostname         string           `json:"hostname,omitempty"`
	JupyterToken     string           `json:"jupyter_token,omitempty"`
	JupyterURL       string           `json:"jupyter_url,omitempty"`
	Actions          actionsJSON      `json:"actions"`
	Tags             []tagEntry       `json:"tags"`
	FirewallRulesets []rulesetEntry   `json:"firewall_rulesets"`
}

// mountJSON is FilesystemMountEntry (and RequestedFilesystemMountEntry).
type mountJSON struct {
	MountPoint   string `json:"mount_point"`
	FileSystemID string `json:"file_system_id"`
}

// actionsJSON is InstanceActionAvailability.
type actionsJSON struct {
	Migrate    actionJSON `json:"migrate"`
	Rebuild    actionJSON `json:"rebuild"`
	Restart    actionJSON `json:"restart"`
	ColdReboot actionJSON `json:"cold_reboot"`
	Terminate  actionJSON `json:"terminate"`
}

// actionJSON is InstanceActionAvailabilityDetails.
type actionJSON struct {
	Available         bool   `json:"available"`
	ReasonCode        string `json:"reason_code,omitempty"`
	ReasonDescription string `json:"reason_description,omitempty"`
}

func (in *instance) json(now time.Time) instanceJSON {
	status := in.status(now)
	out := instanceJSON{
		ID: in.id, Name: in.name, Status: status,
		SSHKeyNames: nonNil(append([]string(nil), in.sshKeyNames...)), FileSystemNames: []string{},
		Region: in.region, InstanceType: in.typ.json(), Hostname: in.hostname,
		Actions: actionsFor(status, in.launched(now)), Tags: nonNil(append([]tagEntry(nil), in.tags...)),
		FirewallRulesets: []rulesetEntry{},
	}
	for _, m := range in.mounts {
		out.FileSystemNames = append(out.FileSystemNames, m.name)
		out.FileSystemMounts = append(out.FileSystemMounts, mountJSON{MountPoint: m.mountPoint, FileSystemID: m.fileSystemID})
	}
	for _, id := range in.rulesetIDs {
		out.FirewallRulesets = append(out.FirewallRulesets, rulesetEntry{ID: id})
	}
	if in.launched(now) {
		out.IP, out.PrivateIP = in.ip, in.privateIP
		if out.Hostname == "" {
			// "If not specified, a default, IP-address-based hostname is assigned."
			out.Hostname = strings.ReplaceAll(in.ip, ".", "-")
		}
		out.JupyterToken = in.jupyterToken
		out.JupyterURL = fmt.Sprintf("https://jupyter-%s.lambdaspaces.com/?token=%s", in.id, in.jupyterToken)
	}
	return out
}

// actionsFor says which operations an instance in a status allows, with Lambda's reason codes.
func actionsFor(status string, launched bool) actionsJSON {
	ok := actionJSON{Available: true}
	switch {
	case status == StatusTerminating || status == StatusTerminated || status == StatusPreempted:
		no := actionJSON{ReasonCode: "vm-is-terminating", ReasonDescription: "The instance is terminating or has terminated."}
		return actionsJSON{Migrate: no, Rebuild: no, Restart: no, ColdReboot: no, Terminate: no}
	case !launched:
		no := actionJSON{ReasonCode: "vm-has-not-launched", ReasonDescription: "The instance has not finished launching yet."}
		return actionsJSON{Migrate: no, Rebuild: no, Restart: no, ColdReboot: no, Terminate: ok}
	default:
		return actionsJSON{Migrate: ok, Rebuild: ok, Restart: ok, ColdReboot: ok, Terminate: ok}
	}
}

func (e *Emulator) registerInstances(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/instances", e.listInstances)
	mux.HandleFunc("GET /api/v1/instances/{id}", e.getInstance)
	mux.HandleFunc("POST /api/v1/instances/{id}", e.updateInstance)
	mux.HandleFunc(routeLaunch, e.launch)
	mux.HandleFunc(routeTerminate, e.terminate)
	mux.HandleFunc(routeRestart, e.restart)
}

// visibleInstance returns the instance the API would show under id, or nil.
func (e *Emulator) visibleInstance(id string, now time.Time) *instance {
	in := e.state.instances[id]
	if in == nil || !in.visible(now) {
		return nil
	}
	return in
}

// sortedInstances returns the instances in launch order (ties by id), so listings are stable.
func (e *Emulator) sortedInstances() []*instance {
	out := make([]*instance, 0, len(e.state.instances))
	for _, in := range e.state.instances {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].id < out[j].id
	})
	return out
}

func (e *Emulator) listInstances(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	out := []instanceJSON{}
	for _, in := range e.sortedInstances() {
		if in.visible(now) {
			out = append(out, in.json(now))
		}
	}
	respond(w, out, nil)
}

func (e *Emulator) getInstance(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	in := e.visibleInstance(r.PathValue("id"), now)
	if in == nil {
		writeError(w, errInstanceNotFound())
		return
	}
	respond(w, in.json(now), nil)
}

// updateInstance is postInstance: InstanceModificationRequest only renames.
func (e *Emulator) updateInstance(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name *string `json:"name"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Name != nil && utf8.RuneCountInString(*req.Name) > maxNameLen {
		writeError(w, errInvalidParameters("name must be %d characters or fewer (got %d).", maxNameLen, utf8.RuneCountInString(*req.Name)))
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	in := e.visibleInstance(r.PathValue("id"), now)
	if in == nil {
		writeError(w, errInstanceNotFound())
		return
	}
	if req.Name != nil {
		in.name = *req.Name
	}
	respond(w, in.json(now), nil)
}

// launchRequest is InstanceLaunchRequest.
type launchRequest struct {
	RegionName       string         `json:"region_name"`
	InstanceTypeName string         `json:"instance_type_name"`
	SSHKeyNames      []string       `json:"ssh_key_names"`
	FileSystemNames  []string       `json:"file_system_names"`
	FileSystemMounts []mountJSON    `json:"file_system_mounts"`
	Hostname         *string        `json:"hostname"`
	Name             *string        `json:"name"`
	Image            *imageSpec     `json:"image"`
	UserData         *string        `json:"user_data"`
	Tags             []tagEntry     `json:"tags"`
	FirewallRulesets []rulesetEntry `json:"firewall_rulesets"`
}

// imageSpec is InstanceLaunchRequestImage: one of ImageSpecificationID / ImageSpecificationFamily.
type imageSpec struct {
	ID     string `json:"id"`
	Family string `json:"family"`
}

func (e *Emulator) launch(w http.ResponseWriter, r *http.Request) {
	var req launchRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if err := req.validate(); err != nil {
		writeError(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	in, err := e.launchLocked(&req, e.now())
	if err != nil {
		writeError(w, err)
		return
	}
	respond(w, map[string][]string{"instance_ids": {in.id}}, nil)
}

// hostnameRE is an RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// validate checks what needs no state: shapes, lengths and formats.
func (req *launchRequest) validate() *apiError {
	switch {
	case req.RegionName == "":
		return errInvalidParameters("region_name is required.")
	case req.InstanceTypeName == "":
		return errInvalidParameters("instance_type_name is required.")
	case len(req.SSHKeyNames) != 1:
		return errInvalidParameters("ssh_key_names must name exactly one SSH key (got %d).", len(req.SSHKeyNames))
	}
	if _, ok := findRegion(req.RegionName); !ok {
		return errInvalidParameters("region_name %q is not a Lambda region. Regions: %s.", req.RegionName, regionNames())
	}
	if req.Name != nil && utf8.RuneCountInString(*req.Name) > maxNameLen {
		return errInvalidParameters("name must be %d characters or fewer (got %d).", maxNameLen, utf8.RuneCountInString(*req.Name))
	}
	if req.Hostname != nil && (len(*req.Hostname) > 253 || !hostnameRE.MatchString(*req.Hostname)) {
		return errInvalidParameters("hostname %q is not a valid host name: use letters, digits and hyphens, in labels of at most 63 characters.", *req.Hostname)
	}
	if req.UserData != nil {
		if len(*req.UserData) > maxUserData {
			return errInvalidParameters("user_data is %d bytes; it cannot exceed 1MB (%d bytes).", len(*req.UserData), maxUserData)
		}
		if !utf8.ValidString(*req.UserData) {
			return errInvalidParameters("user_data must be plain text (valid UTF-8).")
		}
	}
	if req.Image != nil && (req.Image.ID == "") == (req.Image.Family == "") {
		return errInvalidParameters("image must have exactly one of id or family.")
	}
	seen := map[string]bool{}
	for _, t := range req.Tags {
		switch {
		case t.Key == "":
			return errInvalidParameters("every tag needs a non-empty key.")
		case len(t.Key) > maxTagKeyLen:
			return errInvalidParameters("tag key %q is longer than %d characters.", t.Key, maxTagKeyLen)
		case len(t.Value) > maxTagValueLen:
			return errInvalidParameters("the value of tag %q is longer than %d characters.", t.Key, maxTagValueLen)
		case seen[t.Key]:
			return errInvalidParameters("tag key %q appears more than once.", t.Key)
		}
		seen[t.Key] = true
	}
	for _, m := range req.FileSystemMounts {
		if m.FileSystemID == "" {
			return errInvalidParameters("every file_system_mounts entry needs a file_system_id.")
		}
		if !path.IsAbs(m.MountPoint) || path.Clean(m.MountPoint) != m.MountPoint || m.MountPoint == "/" {
			return errInvalidParameters("mount_point %q must be a clean absolute path below /.", m.MountPoint)
		}
	}
	return nil
}

// launchLocked resolves the request's references, then checks quota and capacity and creates the
// instance. Nothing changes unless every check passes.
func (e *Emulator) launchLocked(req *launchRequest, now time.Time) (*instance, *apiError) {
	typ, ok := findInstanceType(req.InstanceTypeName)
	if !ok {
		return nil, errLaunchResourceNotFound("Instance type %q does not exist.", req.InstanceTypeName)
	}
	reg, _ := findRegion(req.RegionName)

	key := e.sshKeyByName(req.SSHKeyNames[0])
	if key == nil {
		return nil, errLaunchResourceNotFound("SSH key %q does not exist.", req.SSHKeyNames[0])
	}

	imageName, err := resolveImage(req.Image, typ, reg)
	if err != nil {
		return nil, err
	}

	mounts, err := e.resolveMounts(req, reg)
	if err != nil {
		return nil, err
	}

	var rulesetIDs []string
	for _, entry := range req.FirewallRulesets {
		rs := e.state.rulesets[entry.ID]
		if rs == nil {
			return nil, errLaunchResourceNotFound("Firewall ruleset %q does not exist.", entry.ID)
		}
		if rs.region.Name != reg.Name {
			return nil, errInvalidParameters("Firewall ruleset %q is in %s; the firewall rulesets must exist in the same region as the instance (%s).",
				entry.ID, rs.region.Name, reg.Name)
		}
		if !contains(rulesetIDs, entry.ID) {
			rulesetIDs = append(rulesetIDs, entry.ID)
		}
	}

	if e.gpusInUse()+typ.GPUs > e.state.quotaGPUs {
		return nil, &apiError{Status: http.StatusBadRequest, Code: codeQuotaExceeded, Message: "Quota exceeded.",
			Suggestion: "Contact Support to increase your quota."}
	}
	ck := capacityKey{typ.Name, reg.Name}
	if e.state.capacity[ck] < 1 {
		return nil, &apiError{Status: http.StatusBadRequest, Code: codeInsufficientCapacity,
			Message:    "Not enough capacity to fulfill launch request.",
			Suggestion: "Choose an instance type with more availability, or try again later."}
	}
	e.state.capacity[ck]--

	e.state.ipSeq++
	seq := e.state.ipSeq
	in := &instance{
		id: emucore.NewID(16), typ: typ, region: reg, sshKeyNames: []string{key.Name},
		mounts: mounts, image: imageName, tags: append([]tagEntry(nil), req.Tags...), rulesetIDs: rulesetIDs,
		ip:           fmt.Sprintf("192.222.%d.%d", 48+seq/250%200, 1+seq%250),
		privateIP:    fmt.Sprintf("10.19.%d.%d", seq/250%250, 2+seq%250),
		jupyterToken: emucore.NewID(16),
		created:      now, holds: true,
	}
	in.firstActive = now.Add(e.scaled(e.opts.BootTime))
	in.bootUntil = in.firstActive
	if req.Name != nil {
		in.name = *req.Name
	}
	if req.Hostname != nil {
		in.hostname = *req.Hostname
	}
	if req.UserData != nil {
		in.userData = *req.UserData
	}
	e.state.instances[in.id] = in
	return in, nil
}

// resolveImage finds the requested image; it returns what the instance records (id or family).
func resolveImage(spec *imageSpec, typ *instanceType, reg region) (string, *apiError) {
	if spec == nil {
		return "", nil
	}
	if spec.ID != "" {
		for _, img := range images {
			if img.ID != spec.ID {
				continue
			}
			if img.Region.Name != reg.Name {
				return "", errInvalidParameters("Image %q is in %s, not in the launch region %s.", spec.ID, img.Region.Name, reg.Name)
			}
			if img.Architecture != typ.Arch {
				return "", errInvalidParameters("Image %q is built for %s; %s needs an %s image.", spec.ID, img.Architecture, typ.Name, typ.Arch)
			}
			return spec.ID, nil
		}
		return "", errLaunchResourceNotFound("Image %q does not exist.", spec.ID)
	}
	found := false
	for _, img := range images {
		if img.Family == spec.Family {
			found = true
			if img.Architecture == typ.Arch {
				return spec.Family, nil
			}
		}
	}
	if !found {
		return "", errLaunchResourceNotFound("Image family %q does not exist.", spec.Family)
	}
	return "", errInvalidParameters("Image family %q has no %s image for %s.", spec.Family, typ.Arch, typ.Name)
}

// resolveMounts merges file_system_names (default mount points) and file_system_mounts (given
// ones, which win for a filesystem named in both), checking existence and region.
func (e *Emulator) resolveMounts(req *launchRequest, reg region) ([]mount, *apiError) {
	var mounts []mount
	add := func(fs *fileSystem, mountPoint string) *apiError {
		if fs.region.Name != reg.Name {
			return &apiError{Status: http.StatusBadRequest, Code: codeFileSystemWrongRgn,
				Message:    fmt.Sprintf("File system %q is in %s, but the instance is being launched in %s.", fs.name, fs.region.Name, reg.Name),
				Suggestion: "Launch the instance in the same region as the file system, or use a file system in " + reg.Name + "."}
		}
		for i := range mounts {
			if mounts[i].fileSystemID == fs.id {
				mounts[i].mountPoint = mountPoint // file_system_mounts overrides the default
				return nil
			}
		}
		mounts = append(mounts, mount{fileSystemID: fs.id, name: fs.name, mountPoint: mountPoint})
		return nil
	}
	for _, name := range req.FileSystemNames {
		fs := e.fileSystemByName(name)
		if fs == nil {
			return nil, errLaunchResourceNotFound("File system %q does not exist.", name)
		}
		if err := add(fs, fs.mountPoint); err != nil {
			return nil, err
		}
	}
	for _, m := range req.FileSystemMounts {
		fs := e.state.fileSystems[m.FileSystemID]
		if fs == nil {
			return nil, errLaunchResourceNotFound("File system with id %q does not exist.", m.FileSystemID)
		}
		if err := add(fs, m.MountPoint); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, m := range mounts {
		if seen[m.mountPoint] {
			return nil, errInvalidParameters("Two file systems cannot share the mount point %q.", m.mountPoint)
		}
		seen[m.mountPoint] = true
	}
	return mounts, nil
}

// gpusInUse counts the GPUs the quota charges: those of instances that hold their machine.
func (e *Emulator) gpusInUse() int {
	n := 0
	for _, in := range e.state.instances {
		if in.holds {
			n += in.typ.GPUs
		}
	}
	return n
}

// release gives the instance's machine and GPUs back; a terminate, a preemption or an
// out-of-band deletion frees them at once.
func (e *Emulator) release(in *instance) {
	if in.holds {
		e.state.capacity[capacityKey{in.typ.Name, in.region.Name}]++
		in.holds = false
	}
}

// idsRequest is InstanceTerminateRequest / InstanceRestartRequest.
type idsRequest struct {
	InstanceIDs []string `json:"instance_ids"`
}

// decodeIDs reads an instance_ids request; it is read before the state lock is taken, so a slow
// client does not hold up everyone else.
func decodeIDs(w http.ResponseWriter, r *http.Request) ([]string, *apiError) {
	var req idsRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return nil, err
	}
	if len(req.InstanceIDs) == 0 {
		return nil, errInvalidParameters("instance_ids must list at least one instance ID.")
	}
	return req.InstanceIDs, nil
}

// resolveIDs finds every instance named, all or nothing: an unknown id fails the whole request.
func (e *Emulator) resolveIDs(ids []string, now time.Time) ([]*instance, *apiError) {
	var out []*instance
	seen := map[string]bool{}
	for _, id := range ids {
		in := e.visibleInstance(id, now)
		if in == nil {
			return nil, errInstanceNotFound()
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, in)
		}
	}
	return out, nil
}

func (e *Emulator) terminate(w http.ResponseWriter, r *http.Request) {
	ids, err := decodeIDs(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	targets, err := e.resolveIDs(ids, now)
	if err != nil {
		writeError(w, err)
		return
	}
	out := []instanceJSON{}
	for _, in := range targets {
		// Terminating an instance already on its way out changes nothing, as Lambda's does.
		if in.live(now) {
			e.terminateLocked(in, now)
		}
		out = append(out, in.json(now))
	}
	respond(w, map[string]any{"terminated_instances": out}, nil)
}

func (e *Emulator) terminateLocked(in *instance, now time.Time) {
	in.terminateRequested = now
	in.terminatedAt = now.Add(e.scaled(e.opts.TerminateTime))
	in.goneAt = in.terminatedAt.Add(e.scaled(terminatedLinger))
	e.release(in)
}

func (e *Emulator) restart(w http.ResponseWriter, r *http.Request) {
	ids, err := decodeIDs(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	targets, err := e.resolveIDs(ids, now)
	if err != nil {
		writeError(w, err)
		return
	}
	for _, in := range targets {
		var refuse *apiError
		switch {
		case !in.live(now):
			refuse = errInvalidParameters("Instance %s is %s and cannot be restarted.", in.id, in.status(now))
		case !in.launched(now):
			refuse = errInvalidParameters("Instance %s has not finished launching and cannot be restarted yet.", in.id)
		}
		if refuse != nil {
			writeError(w, refuse)
			return
		}
	}
	out := []instanceJSON{}
	for _, in := range targets {
		// A reboot is shorter than a first boot; the instance keeps its addresses throughout.
		in.bootUntil = now.Add(max(e.scaled(e.opts.BootTime)/3, time.Millisecond))
		in.unhealthy = false
		out = append(out, in.json(now))
	}
	respond(w, map[string]any{"restarted_instances": out}, nil)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
