package runpod

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// stateFormat versions the document ExportState writes; ImportState refuses any other.
const stateFormat = 1

// stateDoc is the account's state as ExportState writes it: every pod (gone ones too, for the
// admin view), cluster, network volume and SSH key, the capacity pools, the balance and the
// VXLAN counter, with catalog entries by id. It is the emulator's own format, not a RunPod API
// shape.
type stateDoc struct {
	Format   int            `json:"format"`
	Pods     []podDoc       `json:"pods"`
	Gone     []podDoc       `json:"gone_pods"`
	Clusters []clusterDoc   `json:"clusters"`
	Volumes  []volumeDoc    `json:"network_volumes"`
	SSHKeys  []string       `json:"ssh_keys"`
	Capacity []CapacityView `json:"capacity"`
	// Balance is the account balance in USD; null means unlimited (JSON has no infinity).
	Balance *float64 `json:"balance"`
	NextVX  int      `json:"next_vxlan_id"`
	// DataCenters are the ones the admin API opened (AddDataCenter), beyond the defaults.
	DataCenters []DataCenterView `json:"data_centers,omitempty"`
}

type podDoc struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Image        string            `json:"image"`
	Args         string            `json:"args,omitempty"`
	Disk         int               `json:"disk"`
	Ports        []string          `json:"ports,omitempty"`
	Env          map[string]string `json:"env,omitempty"`
	Registry     *string           `json:"registry,omitempty"`
	Persistent   *persistentMount  `json:"persistent,omitempty"`
	Network      []networkMount    `json:"network,omitempty"`
	GPUTypeID    string            `json:"gpu_type_id,omitempty"`
	GPUCount     int               `json:"gpu_count,omitempty"`
	CPUFlavorID  string            `json:"cpu_flavor_id,omitempty"`
	VCPU         int               `json:"vcpu,omitempty"`
	Cloud        string            `json:"cloud"`
	DataCenterID string            `json:"data_center_id,omitempty"`
	Cuda         string            `json:"cuda,omitempty"`
	Locked       bool              `json:"locked,omitempty"`
	GlobalIP     string            `json:"global_ip,omitempty"`
	GlobalWant   bool              `json:"global_want,omitempty"`
	ClusterID    string            `json:"cluster_id,omitempty"`
	Rank         int               `json:"rank,omitempty"`
	Role         string            `json:"role,omitempty"`
	ClusterIP    string            `json:"cluster_ip,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	Phase        phase             `json:"phase"`
	BootAt       time.Time         `json:"boot_at"`
	ProvisionDur time.Duration     `json:"provision_ns"`
	StartDur     time.Duration     `json:"start_ns"`
	TerminatedAt time.Time         `json:"terminated_at"`
	HoldsCompute bool              `json:"holds_compute,omitempty"`
	PublicIP     string            `json:"public_ip,omitempty"`
	PublicPorts  map[int]int       `json:"public_ports,omitempty"`
	SSHToken     string            `json:"ssh_token,omitempty"`
}

type clusterDoc struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Type         string    `json:"type"`
	GPUTypeID    string    `json:"gpu_type_id"`
	GPUPerPod    int       `json:"gpu_per_pod"`
	PodCount     int       `json:"pod_count"`
	DataCenterID string    `json:"data_center_id"`
	PodIDs       []string  `json:"pod_ids"`
	VXLANID      int       `json:"vxlan_id"`
	CreatedAt    time.Time `json:"created_at"`
}

type volumeDoc struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Size         int       `json:"size"`
	DataCenterID string    `json:"data_center_id"`
	Type         string    `json:"type"`
	CreatedAt    time.Time `json:"created_at"`
}

// ExportState returns the account's state as JSON that ImportState reads back, in a later
// process too. Call counters, injected faults and rate-limit buckets are not part of it. The
// same state always exports to the same bytes.
func (e *Emulator) ExportState() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	doc := stateDoc{Format: stateFormat, Pods: []podDoc{}, Gone: []podDoc{}, Clusters: []clusterDoc{},
		Volumes: []volumeDoc{}, SSHKeys: slices.Clone(e.sshKeys), Capacity: []CapacityView{}, NextVX: e.nextVX}
	if doc.SSHKeys == nil {
		doc.SSHKeys = []string{}
	}
	for _, p := range e.sortedPods() {
		doc.Pods = append(doc.Pods, exportPod(p))
	}
	for _, p := range e.gone {
		doc.Gone = append(doc.Gone, exportPod(p))
	}
	clusters := slices.Collect(maps.Values(e.clusters))
	slices.SortFunc(clusters, func(a, b *cluster) int {
		return cmp.Or(a.createdAt.Compare(b.createdAt), cmp.Compare(a.id, b.id))
	})
	for _, c := range clusters {
		doc.Clusters = append(doc.Clusters, clusterDoc{ID: c.id, Name: c.name, Type: c.typ, GPUTypeID: c.gpu.ID,
			GPUPerPod: c.gpuPerPod, PodCount: c.podCount, DataCenterID: c.dc.ID, PodIDs: c.podIDs, VXLANID: c.vxlanID,
			CreatedAt: c.createdAt.UTC()})
	}
	for _, v := range e.sortedVolumes() {
		doc.Volumes = append(doc.Volumes, volumeDoc{ID: v.id, Name: v.name, Size: v.size, DataCenterID: v.dc, Type: v.typ,
			CreatedAt: v.createdAt.UTC()})
	}
	for k, n := range e.capacity {
		doc.Capacity = append(doc.Capacity, CapacityView{GPUTypeID: k.GPU, DataCenterID: k.DC, CloudType: k.Cloud, Available: n})
	}
	slices.SortFunc(doc.Capacity, func(a, b CapacityView) int {
		return cmp.Or(strings.Compare(a.GPUTypeID, b.GPUTypeID), strings.Compare(a.CloudType, b.CloudType),
			strings.Compare(a.DataCenterID, b.DataCenterID))
	})
	if !math.IsInf(e.balance, 1) {
		b := e.balance
		doc.Balance = &b
	}
	for _, d := range e.dcs {
		if !slices.ContainsFunc(defaultDataCenters, func(def dataCenter) bool { return def.ID == d.ID }) {
			doc.DataCenters = append(doc.DataCenters, d.view())
		}
	}
	return json.Marshal(doc)
}

func exportPod(p *pod) podDoc {
	d := podDoc{
		ID: p.id, Name: p.name, Image: p.image, Args: p.args, Disk: p.disk, Ports: p.ports, Env: p.env,
		Registry: p.registry, Persistent: p.persistent, Network: p.network, GPUCount: p.gpuCount, VCPU: p.vcpu,
		Cloud: p.cloud, Cuda: p.cuda, Locked: p.locked, GlobalIP: p.globalIP, GlobalWant: p.globalWant,
		ClusterID: p.clusterID, Rank: p.rank, Role: p.role, ClusterIP: p.clusterIP, CreatedAt: p.createdAt.UTC(),
		Phase: p.phase, BootAt: p.bootAt.UTC(), ProvisionDur: p.provisionDur, StartDur: p.startDur,
		TerminatedAt: p.terminatedAt.UTC(), HoldsCompute: p.holdsCompute, PublicIP: p.publicIP,
		PublicPorts: p.publicPorts, SSHToken: p.sshToken,
	}
	if p.gpu != nil {
		d.GPUTypeID = p.gpu.ID
	}
	if p.cpu != nil {
		d.CPUFlavorID = p.cpu.ID
	}
	if p.dc != nil {
		d.DataCenterID = p.dc.ID
	}
	return d
}

// ImportState replaces the account's state with one ExportState wrote. Lifecycles carry on from
// the saved timestamps (a pod saved while PROVISIONING is RUNNING once its boot time has
// passed). Counters, faults and rate limits are left as they are. On error nothing changes.
func (e *Emulator) ImportState(data []byte) error {
	var doc stateDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("runpod emulator state: %w", err)
	}
	if doc.Format != stateFormat {
		return fmt.Errorf("runpod emulator state: format %d, this emulator reads format %d", doc.Format, stateFormat)
	}
	// Data centers the saved emulator had opened are opened again first (they stay open even
	// if the rest of the state is refused: data centers are never taken away).
	for _, v := range doc.DataCenters {
		e.mu.Lock()
		known := e.findDC(v.ID) != nil
		e.mu.Unlock()
		if !known {
			if err := e.AddDataCenter(v); err != nil {
				return fmt.Errorf("runpod emulator state: %w", err)
			}
		}
	}
	// The data centers this emulator has (an admin call may have opened more), looked up
	// without holding e.mu for the whole import.
	e.mu.Lock()
	dcs := slices.Clone(e.dcs)
	e.mu.Unlock()
	findDC := func(id string) *dataCenter {
		for _, d := range dcs {
			if d.ID == id {
				return d
			}
		}
		return nil
	}
	pods := map[string]*pod{}
	var gone []*pod
	for _, d := range doc.Pods {
		p, err := importPod(d, findDC)
		if err != nil {
			return err
		}
		pods[p.id] = p
	}
	for _, d := range doc.Gone {
		p, err := importPod(d, findDC)
		if err != nil {
			return err
		}
		gone = append(gone, p)
	}
	clusters := map[string]*cluster{}
	for _, d := range doc.Clusters {
		gpu, dc := findGPU(d.GPUTypeID), findDC(d.DataCenterID)
		if gpu == nil || dc == nil {
			return fmt.Errorf("runpod emulator state: cluster %s: unknown GPU type %q or data center %q", d.ID, d.GPUTypeID, d.DataCenterID)
		}
		clusters[d.ID] = &cluster{id: d.ID, name: d.Name, typ: d.Type, gpu: gpu, gpuPerPod: d.GPUPerPod, podCount: d.PodCount,
			dc: dc, podIDs: d.PodIDs, vxlanID: d.VXLANID, createdAt: d.CreatedAt.Local()}
	}
	volumes := map[string]*volume{}
	for _, d := range doc.Volumes {
		volumes[d.ID] = &volume{id: d.ID, name: d.Name, size: d.Size, dc: d.DataCenterID, typ: d.Type, createdAt: d.CreatedAt.Local()}
	}
	capacity := defaultCapacity()
	if doc.Capacity != nil {
		capacity = map[capKey]int{}
		for _, c := range doc.Capacity {
			if err := e.checkCapacityKey(c.GPUTypeID, c.DataCenterID, c.CloudType); err != nil {
				return fmt.Errorf("runpod emulator state: capacity: %w", err)
			}
			capacity[capKey{c.GPUTypeID, c.DataCenterID, c.CloudType}] = max(c.Available, 0)
		}
	}
	balance := math.Inf(1)
	if doc.Balance != nil {
		balance = *doc.Balance
	}
	sshKeys := doc.SSHKeys
	if sshKeys == nil {
		sshKeys = []string{}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	e.pods, e.gone, e.clusters, e.volumes = pods, gone, clusters, volumes
	e.sshKeys, e.capacity, e.balance = sshKeys, capacity, balance
	e.nextVX = max(doc.NextVX, 100)
	return nil
}

func importPod(d podDoc, findDC func(string) *dataCenter) (*pod, error) {
	p := &pod{
		id: d.ID, name: d.Name, image: d.Image, args: d.Args, disk: d.Disk, ports: d.Ports, env: d.Env,
		registry: d.Registry, persistent: d.Persistent, network: d.Network, gpuCount: d.GPUCount, vcpu: d.VCPU,
		cloud: d.Cloud, cuda: d.Cuda, locked: d.Locked, globalIP: d.GlobalIP, globalWant: d.GlobalWant,
		clusterID: d.ClusterID, rank: d.Rank, role: d.Role, clusterIP: d.ClusterIP, createdAt: d.CreatedAt.Local(),
		phase: d.Phase, bootAt: d.BootAt.Local(), provisionDur: d.ProvisionDur, startDur: d.StartDur,
		terminatedAt: d.TerminatedAt.Local(), holdsCompute: d.HoldsCompute, publicIP: d.PublicIP,
		publicPorts: d.PublicPorts, sshToken: d.SSHToken,
	}
	if d.GPUTypeID != "" {
		if p.gpu = findGPU(d.GPUTypeID); p.gpu == nil {
			return nil, fmt.Errorf("runpod emulator state: pod %s: unknown GPU type %q", d.ID, d.GPUTypeID)
		}
	}
	if d.CPUFlavorID != "" {
		if p.cpu = findCPU(d.CPUFlavorID); p.cpu == nil {
			return nil, fmt.Errorf("runpod emulator state: pod %s: unknown CPU flavor %q", d.ID, d.CPUFlavorID)
		}
	}
	if d.DataCenterID != "" {
		if p.dc = findDC(d.DataCenterID); p.dc == nil {
			return nil, fmt.Errorf("runpod emulator state: pod %s: unknown data center %q", d.ID, d.DataCenterID)
		}
	}
	if p.gpu == nil && p.cpu == nil {
		return nil, fmt.Errorf("runpod emulator state: pod %s has neither a GPU type nor a CPU flavor", d.ID)
	}
	return p, nil
}
