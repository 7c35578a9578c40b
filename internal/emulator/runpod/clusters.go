package runpod

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// selfServeMaxNodes is the largest Instant Cluster an account can create on its own; larger
// ones (the schema allows up to 250 pods) need a contract, so the emulated account gets 403.
const selfServeMaxNodes = 8

// clusterCIDR is the overlay network every cluster gets. Overlays are separate VXLANs, so they
// can all use the same block, as in the document's examples (10.65.0.0/16, member 10.65.0.2).
const clusterCIDR = "10.65.0.0/16"

// defaultClusterImage is used when a cluster create names no image (image is optional in
// CreateClusterRequest and clusters cannot come from a template id).
const defaultClusterImage = "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404"

// cluster is an Instant Cluster: podCount identical pods placed together in one data center.
type cluster struct {
	id, name, typ string
	gpu           *gpuType
	gpuPerPod     int
	podCount      int
	dc            *dataCenter
	podIDs        []string // by rank
	vxlanID       int
	createdAt     time.Time
}

type clusterComputeJSON struct {
	GPUTypeID      string `json:"gpuTypeId"`
	GPUCountPerPod int    `json:"gpuCountPerPod"`
	PodCount       int    `json:"podCount"`
}

type clusterPodsJSON struct {
	Total    int            `json:"total"`
	ByStatus map[string]int `json:"byStatus"`
}

type clusterNetworkJSON struct {
	CIDR      string `json:"cidr"`
	VXLANID   int    `json:"vxlanId,omitempty"`
	VXLANPort int    `json:"vxlanPort,omitempty"`
}

type clusterPrimaryJSON struct {
	PodID       string `json:"podId"`
	Status      string `json:"status"`
	SSHEndpoint string `json:"sshEndpoint,omitempty"`
}

type clusterJSON struct {
	ID           string              `json:"id"`
	Name         string              `json:"name"`
	Type         string              `json:"type"`
	Compute      clusterComputeJSON  `json:"compute"`
	DataCenterID string              `json:"dataCenterId,omitempty"`
	Pods         clusterPodsJSON     `json:"pods"`
	Network      *clusterNetworkJSON `json:"network,omitempty"`
	Primary      *clusterPrimaryJSON `json:"primary,omitempty"`
	CreatedAt    string              `json:"createdAt"`
}

// members returns the cluster's pods that still exist, by rank. Called with e.mu held.
func (e *Emulator) members(c *cluster) []*pod {
	var out []*pod
	for _, id := range c.podIDs {
		if p := e.pods[id]; p != nil && p.phase != phaseTerminated {
			out = append(out, p)
		}
	}
	return out
}

// clusterJSON renders a cluster with its aggregate pod summary. Called with e.mu held.
func (e *Emulator) clusterJSON(c *cluster, now time.Time) clusterJSON {
	out := clusterJSON{
		ID: c.id, Name: c.name, Type: c.typ,
		Compute:      clusterComputeJSON{GPUTypeID: c.gpu.ID, GPUCountPerPod: c.gpuPerPod, PodCount: c.podCount},
		DataCenterID: c.dc.ID,
		Pods:         clusterPodsJSON{ByStatus: map[string]int{}},
		Network:      &clusterNetworkJSON{CIDR: clusterCIDR, VXLANID: c.vxlanID, VXLANPort: 4789},
		CreatedAt:    timestamp(c.createdAt),
	}
	for _, p := range e.members(c) {
		out.Pods.Total++
		out.Pods.ByStatus[p.status(now)]++
		if p.rank == 0 {
			out.Primary = &clusterPrimaryJSON{PodID: p.id, Status: p.status(now)}
			if pub, ok := p.publicPorts[22]; ok && e.portsReady(p, now) && slices.Contains(p.ports, "22/tcp") {
				out.Primary.SSHEndpoint = fmt.Sprintf("%s:%d", p.publicIP, pub)
			}
		}
	}
	return out
}

var createClusterSchema = object(containerProps(map[string]*schema{
	"compute": object(map[string]*schema{
		"gpuTypeId":      nonEmpty(),
		"gpuCountPerPod": integer(1),
		"podCount":       intRange(2, 250),
	}, "gpuTypeId", "gpuCountPerPod", "podCount"),
	"name":          nonEmpty(),
	"type":          enum("APPLICATION", "TRAINING", "SLURM", "RAY"),
	"dataCenterIds": arrayOf(str()),
	"mounts":        mountsSchema,
	"startJupyter":  boolean(),
	"startSsh":      boolean(),
}), "name", "type", "compute")

type createClusterRequest struct {
	Name    string            `json:"name"`
	Type    string            `json:"type"`
	Image   string            `json:"image"`
	Args    string            `json:"args"`
	Disk    *int              `json:"disk"`
	Env     map[string]string `json:"env"`
	Ports   []string          `json:"ports"`
	Compute struct {
		GPUTypeID      string `json:"gpuTypeId"`
		GPUCountPerPod int    `json:"gpuCountPerPod"`
		PodCount       int    `json:"podCount"`
	} `json:"compute"`
	DataCenterIDs []string       `json:"dataCenterIds"`
	Mounts        *mountsRequest `json:"mounts"`
	StartJupyter  bool           `json:"startJupyter"`
	StartSSH      bool           `json:"startSsh"`
}

func (e *Emulator) createCluster(w http.ResponseWriter, r *http.Request) {
	var req createClusterRequest
	if _, err := decodeBody(r, createClusterSchema, &req); err != nil {
		writeErr(w, err)
		return
	}
	out, err := e.createClusterState(&req)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (e *Emulator) createClusterState(req *createClusterRequest) (*clusterJSON, error) {
	comp := req.Compute
	g := findGPU(comp.GPUTypeID)
	switch {
	case g == nil:
		return nil, errorf(http.StatusBadRequest, "compute.gpuTypeId %q is not a GPU type; see GET /v2/catalog/gpus", comp.GPUTypeID)
	case !g.Cluster:
		return nil, errorf(http.StatusBadRequest, "GPU type %q is not available for Instant Clusters; check GET /v2/catalog/gpus?include=AVAILABILITY&product=CLUSTER", g.ID)
	case comp.GPUCountPerPod > g.MaxSecure:
		return nil, errorf(http.StatusBadRequest, "compute.gpuCountPerPod %d exceeds the maximum of %d %q GPUs per pod", comp.GPUCountPerPod, g.MaxSecure, g.ID)
	case comp.GPUCountPerPod != clusterNodeGPUs:
		return nil, errorf(http.StatusBadRequest, "compute.gpuCountPerPod must be %d: self-serve Instant Clusters are built from whole %d-GPU nodes", clusterNodeGPUs, clusterNodeGPUs)
	case comp.PodCount > selfServeMaxNodes:
		return nil, errorf(http.StatusForbidden, "self-serve Instant Clusters are limited to %d nodes; contact sales for larger clusters", selfServeMaxNodes)
	}
	if req.Mounts != nil && req.Mounts.Persistent != nil && len(req.Mounts.Network) > 0 {
		return nil, errorf(http.StatusBadRequest, "mounts.persistent and mounts.network are mutually exclusive")
	}
	if err := checkPorts(req.Ports); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	if err := e.checkDCIDs(req.DataCenterIDs); err != nil {
		return nil, err
	}
	var network []networkMount
	if req.Mounts != nil {
		network = req.Mounts.Network
	}
	needDC, err := e.volumeDC(network, req.DataCenterIDs)
	if err != nil {
		return nil, err
	}
	hourly := g.SecurePrice * float64(comp.GPUCountPerPod*comp.PodCount)
	if err := e.checkBalance(hourly); err != nil {
		return nil, err
	}
	// All nodes are placed at once in one data center, or none is: capacity for the whole
	// cluster is taken atomically.
	dc, cuda, err := e.place(placement{gpu: g, count: comp.GPUCountPerPod, pods: comp.PodCount, cloud: cloudSecure, dcIDs: req.DataCenterIDs, needDC: needDC})
	if err != nil {
		return nil, err
	}
	c := &cluster{
		id: newID(14), name: req.Name, typ: req.Type, gpu: g,
		gpuPerPod: comp.GPUCountPerPod, podCount: comp.PodCount, dc: dc,
		vxlanID: e.nextVX, createdAt: now,
	}
	e.nextVX++
	image := cmp.Or(req.Image, defaultClusterImage)
	disk := defaultDisk
	if req.Disk != nil {
		disk = *req.Disk
	}
	primaryIP := clusterIP(0)
	for rank := range comp.PodCount {
		p := newPodRecord(now, dc)
		p.name = fmt.Sprintf("%s-%d", req.Name, rank)
		p.gpu, p.gpuCount, p.cloud, p.cuda = g, comp.GPUCountPerPod, cloudSecure, cuda
		p.image, p.args, p.disk = image, req.Args, disk
		p.ports = slices.Clone(req.Ports)
		p.env = maps.Clone(req.Env)
		if p.env == nil {
			p.env = map[string]string{}
		}
		e.injectEnv(p.env, req.StartSSH, req.StartJupyter)
		// The distributed-training variables RunPod gives every node. They are the
		// platform's, so they win over same-named user variables.
		ip := clusterIP(rank)
		maps.Copy(p.env, map[string]string{
			"PRIMARY_ADDR":   primaryIP,
			"MASTER_ADDR":    primaryIP,
			"PRIMARY_PORT":   "29500",
			"MASTER_PORT":    "29500",
			"NODE_ADDR":      ip,
			"NODE_RANK":      strconv.Itoa(rank),
			"NUM_NODES":      strconv.Itoa(comp.PodCount),
			"NUM_TRAINERS":   strconv.Itoa(comp.GPUCountPerPod),
			"HOST_NODE_ADDR": primaryIP + ":29400",
			"WORLD_SIZE":     strconv.Itoa(comp.PodCount * comp.GPUCountPerPod),
		})
		if req.Mounts != nil {
			p.persistent = req.Mounts.Persistent
			p.network = req.Mounts.Network
		}
		p.clusterID, p.rank, p.clusterIP = c.id, rank, ip
		p.role = clusterRole(req.Type, rank)
		p.holdsCompute = true
		p.assignPorts()
		e.boot(p, now, true)
		e.pods[p.id] = p
		c.podIDs = append(c.podIDs, p.id)
	}
	e.clusters[c.id] = c
	out := e.clusterJSON(c, now)
	return &out, nil
}

// clusterIP is a member's overlay address: rank 0 gets 10.65.0.2, like the document's example.
func clusterIP(rank int) string { return fmt.Sprintf("10.65.%d.%d", (rank+2)/256, (rank+2)%256) }

// clusterRole assigns SLURM and RAY roles (rank 0 leads); other types have none.
func clusterRole(typ string, rank int) string {
	switch typ {
	case "SLURM":
		if rank == 0 {
			return "SLURM_CONTROLLER"
		}
		return "SLURM_COMPUTE"
	case "RAY":
		if rank == 0 {
			return "RAY_HEAD"
		}
		return "RAY_WORKER"
	}
	return ""
}

func (e *Emulator) listClusters(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	cs := slices.Collect(maps.Values(e.clusters))
	slices.SortFunc(cs, func(a, b *cluster) int {
		return cmp.Or(a.createdAt.Compare(b.createdAt), cmp.Compare(a.id, b.id))
	})
	out := []clusterJSON{}
	for _, c := range cs {
		out = append(out, e.clusterJSON(c, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"clusters": out})
}

// lookupCluster finds a cluster or answers 404. Called with e.mu held.
func (e *Emulator) lookupCluster(w http.ResponseWriter, r *http.Request) *cluster {
	c := e.clusters[r.PathValue("id")]
	if c == nil {
		writeProblem(w, http.StatusNotFound, "cluster not found")
	}
	return c
}

func (e *Emulator) getCluster(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	if c := e.lookupCluster(w, r); c != nil {
		writeJSON(w, http.StatusOK, e.clusterJSON(c, now))
	}
}

var updateClusterSchema = func() *schema {
	s := object(map[string]*schema{"name": nonEmpty()})
	s.minProps = 1
	return s
}()

// updateCluster is a rename; nothing else about a cluster can change.
func (e *Emulator) updateCluster(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if _, err := decodeBody(r, updateClusterSchema, &req); err != nil {
		writeErr(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	if c := e.lookupCluster(w, r); c != nil {
		c.name = req.Name
		writeJSON(w, http.StatusOK, e.clusterJSON(c, now))
	}
}

// deleteCluster removes the cluster and terminates every member pod, returning their GPUs.
func (e *Emulator) deleteCluster(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	c := e.lookupCluster(w, r)
	if c == nil {
		return
	}
	for _, p := range e.members(c) {
		e.terminate(p, now)
	}
	delete(e.clusters, c.id)
	w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) listClusterPods(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	c := e.lookupCluster(w, r)
	if c == nil {
		return
	}
	out := []podJSON{}
	for _, p := range e.members(c) {
		out = append(out, e.podJSON(p, now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"pods": out})
}
