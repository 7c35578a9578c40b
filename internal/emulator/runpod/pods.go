package runpod

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Pod statuses (schema PodStatus).
const (
	statusProvisioning = "PROVISIONING"
	statusStarting     = "STARTING"
	statusRunning      = "RUNNING"
	statusExited       = "EXITED"
	statusError        = "ERROR"
	statusTerminated   = "TERMINATED"
)

// phase is the stored part of a pod's lifecycle. While booting, the visible status
// (PROVISIONING → STARTING → RUNNING) is derived from bootAt on every read, which is what makes
// the lifecycle lazy: nothing runs in the background.
type phase int

const (
	phaseBooting phase = iota
	phaseExited
	phaseError
	phaseTerminated
)

type persistentMount struct {
	Size int    `json:"size"`
	Path string `json:"path"`
}

type networkMount struct {
	VolumeID string `json:"volumeId"`
	Path     string `json:"path"`
}

// pod is the emulator's record of one pod.
type pod struct {
	id, name   string
	image      string
	args       string
	disk       int
	ports      []string
	env        map[string]string
	registry   *string
	persistent *persistentMount
	network    []networkMount

	gpu      *gpuType // nil for CPU pods
	gpuCount int
	cpu      *cpuFlavor // nil for GPU pods
	vcpu     int

	cloud string
	dc    *dataCenter
	cuda  string // "" renders as null (CPU pods, AMD hosts)

	locked bool
	// globalIP is the assigned global-network address ("" = disabled); globalWant is what the
	// user asked for, applied at the next start/restart as the document prescribes.
	globalIP   string
	globalWant bool

	// Cluster membership; clusterID "" for standalone pods.
	clusterID string
	rank      int
	role      string
	clusterIP string

	createdAt time.Time

	phase        phase
	bootAt       time.Time     // start of the current boot (create, start, restart, reset)
	provisionDur time.Duration // 0 for a restart in place: the machine is already assigned
	startDur     time.Duration
	terminatedAt time.Time
	// holdsCompute tells whether the pod's GPUs are taken from capacity. An ERROR pod keeps
	// them (it is still on its machine and billed); EXITED and TERMINATED pods do not.
	holdsCompute bool

	publicIP    string      // host address, assigned with the machine
	publicPorts map[int]int // private tcp port → public port on publicIP
	sshToken    string      // the routing suffix of the SSH proxy username
}

func (p *pod) status(now time.Time) string {
	switch p.phase {
	case phaseExited:
		return statusExited
	case phaseError:
		return statusError
	case phaseTerminated:
		return statusTerminated
	}
	switch el := now.Sub(p.bootAt); {
	case el < p.provisionDur:
		return statusProvisioning
	case el < p.provisionDur+p.startDur:
		return statusStarting
	}
	return statusRunning
}

// runningSince is when the current boot reached RUNNING (meaningful only while RUNNING).
func (p *pod) runningSince() time.Time { return p.bootAt.Add(p.provisionDur + p.startDur) }

// portsReady tells whether the RUNNING pod's public mappings are published yet.
func (e *Emulator) portsReady(p *pod, now time.Time) bool {
	return p.status(now) == statusRunning && !now.Before(p.runningSince().Add(e.portsDur))
}

// actions lists the transitions the document allows in a status. Locked pods cannot be stopped
// or reset, so those actions are withheld; cluster members are driven through /v2/clusters
// only, so they publish none.
func (p *pod) actions(now time.Time) []string {
	if p.clusterID != "" {
		return []string{}
	}
	var acts []string
	switch p.status(now) {
	case statusRunning:
		acts = []string{"stop", "restart", "terminate"}
	case statusProvisioning, statusStarting:
		acts = []string{"stop", "terminate"}
	case statusExited, statusError:
		acts = []string{"start", "terminate"}
	default:
		return []string{}
	}
	if p.locked {
		acts = slices.DeleteFunc(acts, func(a string) bool { return a == "stop" || a == "restart" })
	}
	return acts
}

// hourlyCost is the pod's list price per hour while it holds compute.
func (p *pod) hourlyCost() float64 {
	var c float64
	if p.gpu != nil {
		c = p.gpu.price(p.cloud) * float64(p.gpuCount)
	} else if p.cpu != nil {
		c = p.cpu.Price * float64(p.vcpu)
	}
	return math.Round(c*1e4) / 1e4
}

// boot starts a boot sequence now; full goes through PROVISIONING, otherwise (restart in
// place, container recreated after a PATCH) straight to STARTING.
func (e *Emulator) boot(p *pod, now time.Time, full bool) {
	p.phase = phaseBooting
	p.bootAt = now
	p.provisionDur = 0
	if full {
		p.provisionDur = e.provisionDur
	}
	p.startDur = e.startDur
	// A pending globalNetworking change takes effect on start/restart.
	switch {
	case p.globalWant && p.globalIP == "":
		p.globalIP = fmt.Sprintf("10.65.%d.%d", rand.IntN(250)+1, rand.IntN(250)+2)
	case !p.globalWant:
		p.globalIP = ""
	}
}

// assignPorts gives every tcp port a public port on the host, keeping existing mappings: a
// stopped pod resumes on the same machine with the same addresses.
func (p *pod) assignPorts() {
	if p.publicPorts == nil {
		p.publicPorts = map[int]int{}
	}
	used := map[int]bool{}
	for _, pub := range p.publicPorts {
		used[pub] = true
	}
	for _, spec := range p.ports {
		port, proto := splitPort(spec)
		if proto != "tcp" {
			continue
		}
		if _, ok := p.publicPorts[port]; ok {
			continue
		}
		for {
			pub := 10000 + rand.IntN(50000)
			if !used[pub] {
				used[pub] = true
				p.publicPorts[port] = pub
				break
			}
		}
	}
}

func splitPort(spec string) (int, string) {
	num, proto, _ := strings.Cut(spec, "/")
	n, _ := strconv.Atoi(num)
	return n, proto
}

// checkPorts enforces the "port/protocol" format the document describes in prose only (so a
// violation is a rule break, 400, not a schema violation).
func checkPorts(ports []string) error {
	seen := map[string]bool{}
	for i, spec := range ports {
		num, proto, ok := strings.Cut(spec, "/")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 1 || n > 65535 || (proto != "http" && proto != "tcp") {
			return errorf(http.StatusBadRequest, "ports[%d]: %q must be formatted as port/protocol, with a port from 1 to 65535 and protocol http or tcp", i, spec)
		}
		if seen[spec] {
			return errorf(http.StatusBadRequest, "ports[%d]: %q is listed twice", i, spec)
		}
		seen[spec] = true
	}
	return nil
}

// release gives the pod's GPUs back to its pool.
func (e *Emulator) release(p *pod) {
	if p.holdsCompute && p.gpu != nil {
		e.capacity[capKey{p.gpu.ID, p.dc.ID, p.cloud}] += p.gpuCount
	}
	p.holdsCompute = false
}

// terminate marks the pod TERMINATED and frees its compute; sweep removes it later.
func (e *Emulator) terminate(p *pod, now time.Time) {
	e.release(p)
	p.phase = phaseTerminated
	p.terminatedAt = now
}

// sweep forgets pods terminated longer than the retention ago. Called with e.mu held at the
// start of every request, which keeps the lifecycle free of background goroutines.
func (e *Emulator) sweep(now time.Time) {
	for id, p := range e.pods {
		if p.phase == phaseTerminated && now.Sub(p.terminatedAt) >= e.retention {
			delete(e.pods, id)
			e.gone = append(e.gone, p)
		}
	}
}

// livePod returns a pod the API still acts on (not terminated). Called with e.mu held.
func (e *Emulator) livePod(id string) (*pod, error) {
	p := e.pods[id]
	if p == nil || p.phase == phaseTerminated {
		return nil, errorf(http.StatusNotFound, "pod not found")
	}
	return p, nil
}

// --- handlers ---

var mountsSchema = object(map[string]*schema{
	"persistent": object(map[string]*schema{"size": integer(10), "path": str()}, "size", "path"),
	"network":    {typ: "array", maxItems: 1, items: object(map[string]*schema{"volumeId": str(), "path": str()}, "volumeId", "path")},
})

// containerProps are BaseContainerConfig's properties.
func containerProps(extra map[string]*schema) map[string]*schema {
	props := map[string]*schema{
		"args":  str(),
		"disk":  integer(1),
		"env":   mapOf(str()),
		"image": str(),
		"ports": arrayOf(str()),
	}
	maps.Copy(props, extra)
	return props
}

const cudaPattern = `^\d+\.\d+$`

var createPodSchema = func() *schema {
	s := object(containerProps(map[string]*schema{
		"registry":         str().orNull(),
		"name":             nonEmpty(),
		"cloud":            enum(cloudSecure, cloudCommunity),
		"cpu":              object(map[string]*schema{"id": nonEmpty(), "vcpuCount": integer(2)}, "id", "vcpuCount"),
		"dataCenterIds":    arrayOf(str()),
		"globalNetworking": boolean(),
		"gpu": object(map[string]*schema{
			"id":                  str(),
			"count":               integer(1),
			"allowedCudaVersions": arrayOf(matching(cudaPattern)),
			"minCudaVersion":      matching(cudaPattern),
		}, "id"),
		"mounts":       mountsSchema,
		"startJupyter": boolean(),
		"startSsh":     boolean(),
		"templateId":   nonEmpty(),
	}), "name")
	s.requireUnless = [2]string{"image", "templateId"}
	return s
}()

type mountsRequest struct {
	Persistent *persistentMount `json:"persistent"`
	Network    []networkMount   `json:"network"`
}

type createPodRequest struct {
	Name     string            `json:"name"`
	Image    string            `json:"image"`
	Args     string            `json:"args"`
	Disk     *int              `json:"disk"`
	Env      map[string]string `json:"env"`
	Ports    []string          `json:"ports"`
	Registry *string           `json:"registry"`
	Cloud    string            `json:"cloud"`
	CPU      *struct {
		ID        string `json:"id"`
		VCPUCount int    `json:"vcpuCount"`
	} `json:"cpu"`
	DataCenterIDs    []string `json:"dataCenterIds"`
	GlobalNetworking bool     `json:"globalNetworking"`
	GPU              *struct {
		ID                  string   `json:"id"`
		Count               *int     `json:"count"`
		AllowedCudaVersions []string `json:"allowedCudaVersions"`
		MinCudaVersion      string   `json:"minCudaVersion"`
	} `json:"gpu"`
	Mounts       *mountsRequest `json:"mounts"`
	StartJupyter bool           `json:"startJupyter"`
	StartSSH     bool           `json:"startSsh"`
	TemplateID   *string        `json:"templateId"`
}

// defaultDisk is the container disk a pod gets when the create omits disk (RunPod's default).
const defaultDisk = 50

// injectEnv applies the create-time flags: startSsh adds PUBLIC_KEY with the account's keys
// (nothing when none are registered), startJupyter a generated JUPYTER_PASSWORD, both only
// when the request did not set the variable itself. Called with e.mu held.
func (e *Emulator) injectEnv(env map[string]string, startSSH, startJupyter bool) {
	if _, set := env["PUBLIC_KEY"]; startSSH && !set && len(e.sshKeys) > 0 {
		env["PUBLIC_KEY"] = strings.Join(e.sshKeys, "\n")
	}
	if _, set := env["JUPYTER_PASSWORD"]; startJupyter && !set {
		env["JUPYTER_PASSWORD"] = newID(20)
	}
}

// newPodRecord fills the parts every pod (standalone or cluster member) shares.
func newPodRecord(now time.Time, dc *dataCenter) *pod {
	return &pod{
		id:        newID(14),
		createdAt: now,
		dc:        dc,
		publicIP:  fmt.Sprintf("%s.%d", dc.IPPrefix, rand.IntN(250)+2),
		sshToken:  fmt.Sprintf("%08x", rand.Uint32()),
	}
}

func (e *Emulator) createPod(w http.ResponseWriter, r *http.Request) {
	var req createPodRequest
	raw, err := decodeBody(r, createPodSchema, &req)
	if err != nil {
		writeErr(w, err)
		return
	}
	p, err := e.createPodState(&req, raw)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (e *Emulator) createPodState(req *createPodRequest, raw map[string]any) (*podJSON, error) {
	if req.TemplateID != nil {
		// The template is a one-time source of settings, spread into the body before anything
		// is checked; the pod keeps no link to it.
		e.mu.Lock()
		t, err := e.podTemplate(*req.TemplateID)
		e.mu.Unlock()
		if err != nil {
			return nil, err
		}
		t.applyToCreate(req, raw)
	}
	if (req.GPU == nil) == (req.CPU == nil) {
		return nil, errorf(http.StatusBadRequest, "exactly one of gpu or cpu must be set")
	}
	if req.Mounts != nil && req.Mounts.Persistent != nil && len(req.Mounts.Network) > 0 {
		return nil, errorf(http.StatusBadRequest, "mounts.persistent and mounts.network are mutually exclusive")
	}
	if err := checkPorts(req.Ports); err != nil {
		return nil, err
	}
	cloud := cmp.Or(req.Cloud, cloudSecure)
	pl := placement{cloud: cloud, dcIDs: req.DataCenterIDs, global: req.GlobalNetworking}
	if req.GPU != nil {
		g := findGPU(req.GPU.ID)
		if g == nil {
			return nil, errorf(http.StatusBadRequest, "gpu.id %q is not a GPU type; see GET /v2/catalog/gpus", req.GPU.ID)
		}
		count := 1
		if req.GPU.Count != nil {
			count = *req.GPU.Count
		}
		switch limit := g.maxCount(cloud); {
		case limit == 0:
			return nil, errorf(http.StatusBadRequest, "GPU type %q is not offered on %s cloud", g.ID, cloud)
		case count > limit:
			return nil, errorf(http.StatusBadRequest, "gpu.count %d exceeds the maximum of %d %q GPUs per pod on %s cloud", count, limit, g.ID, cloud)
		}
		if len(req.GPU.AllowedCudaVersions) > 0 && req.GPU.MinCudaVersion != "" {
			return nil, errorf(http.StatusBadRequest, "gpu.allowedCudaVersions and gpu.minCudaVersion are mutually exclusive")
		}
		if req.GlobalNetworking && g.Manufacturer != "NVIDIA" {
			return nil, errorf(http.StatusBadRequest, "globalNetworking requires an NVIDIA GPU")
		}
		pl.gpu, pl.count, pl.cudaIn, pl.cudaMin = g, count, req.GPU.AllowedCudaVersions, req.GPU.MinCudaVersion
	} else {
		c := findCPU(req.CPU.ID)
		switch {
		case c == nil:
			return nil, errorf(http.StatusBadRequest, "cpu.id %q is not a CPU flavor", req.CPU.ID)
		case req.CPU.VCPUCount&(req.CPU.VCPUCount-1) != 0 || req.CPU.VCPUCount > c.MaxVCPU:
			return nil, errorf(http.StatusBadRequest, "cpu.vcpuCount %d is not valid for %s: use a power of two up to %d", req.CPU.VCPUCount, c.ID, c.MaxVCPU)
		case cloud != cloudSecure:
			return nil, errorf(http.StatusBadRequest, "CPU pods run on SECURE cloud only")
		case req.Mounts != nil && req.Mounts.Persistent != nil:
			return nil, errorf(http.StatusBadRequest, "mounts.persistent is not allowed on CPU pods; use a network volume")
		case req.GlobalNetworking:
			return nil, errorf(http.StatusBadRequest, "globalNetworking requires an NVIDIA GPU")
		}
		pl.cpu, pl.count = c, 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	if err := e.checkRegistry(req.Registry, http.StatusNotFound); err != nil {
		return nil, err
	}
	if err := e.checkDCIDs(req.DataCenterIDs); err != nil {
		return nil, err
	}
	if req.GlobalNetworking {
		if err := e.checkGlobalDCs(req.DataCenterIDs); err != nil {
			return nil, err
		}
	}
	var network []networkMount
	if req.Mounts != nil {
		network = req.Mounts.Network
	}
	needDC, err := e.volumeDC(network, req.DataCenterIDs)
	if err != nil {
		return nil, err
	}
	pl.needDC = needDC

	// Priced before placement, so a pod the account cannot pay for takes no capacity.
	p := &pod{gpu: pl.gpu, gpuCount: pl.count, cpu: pl.cpu, cloud: cloud}
	if pl.cpu != nil {
		p.vcpu = req.CPU.VCPUCount
	}
	if err := e.checkBalance(p.hourlyCost()); err != nil {
		return nil, err
	}
	dc, cuda, err := e.place(pl)
	if err != nil {
		return nil, err
	}
	rec := newPodRecord(now, dc)
	rec.gpu, rec.gpuCount, rec.cpu, rec.vcpu, rec.cloud = p.gpu, p.gpuCount, p.cpu, p.vcpu, cloud
	rec.cuda = cuda
	rec.name, rec.image, rec.args = req.Name, req.Image, req.Args
	rec.disk = defaultDisk
	if req.Disk != nil {
		rec.disk = *req.Disk
	}
	rec.ports = slices.Clone(req.Ports)
	if req.Registry != nil {
		rec.registry = ptr(*req.Registry)
	}
	rec.env = maps.Clone(req.Env)
	if rec.env == nil {
		rec.env = map[string]string{}
	}
	e.injectEnv(rec.env, req.StartSSH, req.StartJupyter)
	if req.Mounts != nil {
		rec.persistent = req.Mounts.Persistent
		rec.network = req.Mounts.Network
	}
	rec.globalWant = req.GlobalNetworking
	rec.holdsCompute = true
	rec.assignPorts()
	e.boot(rec, now, true)
	e.pods[rec.id] = rec
	out := e.podJSON(rec, now)
	return &out, nil
}

func (e *Emulator) listPods(w http.ResponseWriter, r *http.Request) {
	include := false
	if s := r.URL.Query().Get("includeClusterPods"); s != "" {
		switch s {
		case "true":
			include = true
		case "false":
		default:
			writeProblem(w, http.StatusUnprocessableEntity, validationDetail, fmt.Sprintf("query.includeClusterPods: got %q, want boolean", s))
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	out := []podJSON{}
	for _, p := range e.sortedPods() {
		// Deleted pods no longer appear in listPods, even while GET still shows TERMINATED.
		if p.phase == phaseTerminated || (p.clusterID != "" && !include) {
			continue
		}
		out = append(out, e.podJSON(p, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"pods": out})
}

// sortedPods returns every pod record, oldest first. Called with e.mu held.
func (e *Emulator) sortedPods() []*pod {
	ps := slices.Collect(maps.Values(e.pods))
	slices.SortFunc(ps, func(a, b *pod) int {
		return cmp.Or(a.createdAt.Compare(b.createdAt), cmp.Compare(a.id, b.id))
	})
	return ps
}

func (e *Emulator) getPod(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	// A terminated pod still answers GET (status TERMINATED) until it is swept.
	p := e.pods[r.PathValue("id")]
	if p == nil {
		writeProblem(w, http.StatusNotFound, "pod not found")
		return
	}
	writeJSON(w, http.StatusOK, e.podJSON(p, now))
}

// deletePod terminates a standalone pod (204). Cluster members answer 409.
func (e *Emulator) deletePod(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	p, err := e.livePod(r.PathValue("id"))
	if err != nil {
		writeErr(w, err)
		return
	}
	if p.clusterID != "" {
		writeProblem(w, http.StatusConflict, fmt.Sprintf("pod %s belongs to cluster %s and cannot be terminated via the pod endpoints; delete the cluster with DELETE /v2/clusters/%s", p.id, p.clusterID, p.clusterID))
		return
	}
	e.terminate(p, now)
	w.WriteHeader(http.StatusNoContent)
}

var podActionSchema = object(map[string]*schema{
	"action": enum("start", "stop", "restart", "terminate"),
}, "action")
