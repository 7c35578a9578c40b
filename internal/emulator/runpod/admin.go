package runpod

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// PodView is the admin view of a pod, for tests and the admin API. Status is what GET would
// show now; pods already gone from the API report TERMINATED.
type PodView struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Status       string            `json:"status"`
	GPUTypeID    string            `json:"gpu_type_id,omitempty"`
	GPUCount     int               `json:"gpu_count"`
	CPUFlavorID  string            `json:"cpu_flavor_id,omitempty"`
	DataCenterID string            `json:"data_center_id"`
	CloudType    string            `json:"cloud_type"`
	Env          map[string]string `json:"env"`
	Image        string            `json:"image"`
	// Registry is the container registry credential the image is pulled with.
	Registry string `json:"registry,omitempty"`
	// VolumeMountPath is where the pod's persistent or network volume is mounted.
	VolumeMountPath string    `json:"volume_mount_path,omitempty"`
	ClusterID       string    `json:"cluster_id,omitempty"`
	PublicIP        string    `json:"public_ip,omitempty"`
	PortsReady      bool      `json:"ports_ready"`
	CreatedAt       time.Time `json:"created_at"`
}

// NetworkVolumeView is the admin view of a network volume.
type NetworkVolumeView struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Size         int      `json:"size"`
	DataCenterID string   `json:"data_center_id"`
	Type         string   `json:"type"`
	UsedBy       []string `json:"used_by"`
}

// ClusterView is the admin view of an Instant Cluster.
type ClusterView struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	GPUTypeID    string   `json:"gpu_type_id"`
	DataCenterID string   `json:"data_center_id"`
	PodIDs       []string `json:"pod_ids"`
}

// RegistryView is the admin view of a container registry credential, with the write-only
// username and password the API never returns (the password only to Go callers).
type RegistryView struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Username string   `json:"username"`
	Password string   `json:"-"`
	UsedBy   []string `json:"used_by"`
}

// Registries returns the account's container registry credentials, oldest first, with the
// pods pulling with each.
func (e *Emulator) Registries() []RegistryView {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sweep(time.Now())
	var out []RegistryView
	for _, g := range e.sortedRegistries() {
		out = append(out, RegistryView{ID: g.id, Name: g.name, Username: g.username, Password: g.password, UsedBy: nonNil(e.registryUsers(g.id))})
	}
	return out
}

// DataCenterView is a data center as the admin API lists and adds it (schema DataCenter, plus
// the country code the catalog's countryCodes filter reads).
type DataCenterView struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name"`
	Region             string   `json:"region"`
	Country            string   `json:"country"`
	GlobalNetwork      bool     `json:"globalNetwork"`
	NetworkVolumeTypes []string `json:"networkVolumeTypes"`
	Compliance         []string `json:"compliance"`
}

// DataCenters returns every data center in catalog order.
func (e *Emulator) DataCenters() []DataCenterView {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]DataCenterView, 0, len(e.dcs))
	for _, dc := range e.dcs {
		out = append(out, dc.view())
	}
	return out
}

// view is the data center as the admin API and the state file show it.
func (dc *dataCenter) view() DataCenterView {
	return DataCenterView{ID: dc.ID, Name: dc.Name, Region: dc.Region, Country: dc.Country, GlobalNetwork: dc.GlobalNetwork,
		NetworkVolumeTypes: slices.Clone(dc.VolumeTypes), Compliance: slices.Clone(dc.Compliance)}
}

// AddDataCenter opens a new data center, as RunPod does from time to time: it is listed by GET
// /v2/catalog/datacenters at once and takes pods, volumes and clusters once SetCapacity gives it
// GPUs. Name defaults to the id, region to UNKNOWN, country to US; the first network volume
// type is its default tier.
func (e *Emulator) AddDataCenter(v DataCenterView) error {
	v.Region = cmp.Or(v.Region, "UNKNOWN")
	v.Country = cmp.Or(v.Country, "US")
	switch {
	case !dcIDPattern.MatchString(v.ID):
		return fmt.Errorf("data center id %q is not like US-TX-3", v.ID)
	case !slices.Contains(regionEnum, v.Region):
		return fmt.Errorf("region %q is not one of %s", v.Region, strings.Join(regionEnum, ", "))
	case !countryRe.MatchString(v.Country):
		return fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code", v.Country)
	}
	for _, t := range v.NetworkVolumeTypes {
		if !slices.Contains(volumeTypeEnum, t) {
			return fmt.Errorf("network volume type %q is not one of %s", t, strings.Join(volumeTypeEnum, ", "))
		}
	}
	for _, c := range v.Compliance {
		if !slices.Contains(complianceEnum, c) {
			return fmt.Errorf("compliance %q is not one of %s", c, strings.Join(complianceEnum, ", "))
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.findDC(v.ID) != nil {
		return fmt.Errorf("data center %q exists already", v.ID)
	}
	n := len(e.dcs)
	e.dcs = append(e.dcs, &dataCenter{
		ID: v.ID, Name: cmp.Or(v.Name, v.ID), Region: v.Region, Country: v.Country, GlobalNetwork: v.GlobalNetwork,
		VolumeTypes: nonNil(slices.Clone(v.NetworkVolumeTypes)), Compliance: nonNil(slices.Clone(v.Compliance)),
		IPPrefix: fmt.Sprintf("185.%d.%d", 200+n/250, n%250+1),
	})
	return nil
}

var dcIDPattern = regexp.MustCompile(`^[A-Z]{2,4}(-[A-Z0-9]+)+$`)

// CapacityView is one capacity pool: free GPUs of a type in a data center on a cloud.
type CapacityView struct {
	GPUTypeID    string `json:"gpu_type_id"`
	DataCenterID string `json:"data_center_id"`
	CloudType    string `json:"cloud_type"`
	Available    int    `json:"available"`
}

func (e *Emulator) view(p *pod, now time.Time) PodView {
	v := PodView{
		ID: p.id, Name: p.name, Status: p.status(now), GPUCount: p.gpuCount,
		DataCenterID: p.dc.ID, CloudType: p.cloud, Env: cloneEnv(p.env), Image: p.image,
		ClusterID: p.clusterID, PortsReady: e.portsReady(p, now), CreatedAt: p.createdAt,
	}
	if p.gpu != nil {
		v.GPUTypeID = p.gpu.ID
	}
	if p.cpu != nil {
		v.CPUFlavorID = p.cpu.ID
	}
	if p.registry != nil {
		v.Registry = *p.registry
	}
	switch {
	case p.persistent != nil:
		v.VolumeMountPath = p.persistent.Path
	case len(p.network) > 0:
		v.VolumeMountPath = p.network[0].Path
	}
	if slices.ContainsFunc(p.ports, func(s string) bool { return strings.HasSuffix(s, "/tcp") }) {
		v.PublicIP = p.publicIP
	}
	return v
}

func cloneEnv(env map[string]string) map[string]string {
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

// Pods returns every pod the emulator has seen, oldest first, terminated and deleted ones
// included (as TERMINATED), so tests can check that nothing leaked or was created twice.
func (e *Emulator) Pods() []PodView {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	var out []PodView
	for _, p := range e.allPods() {
		out = append(out, e.view(p, now))
	}
	return out
}

// LivePods returns the pods that are not terminated (stopped and failed ones included).
func (e *Emulator) LivePods() []PodView {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	var out []PodView
	for _, p := range e.sortedPods() {
		if p.phase != phaseTerminated {
			out = append(out, e.view(p, now))
		}
	}
	return out
}

// allPods merges live and gone pods, oldest first. Called with e.mu held.
func (e *Emulator) allPods() []*pod {
	all := append(e.sortedPods(), e.gone...)
	slices.SortStableFunc(all, func(a, b *pod) int { return a.createdAt.Compare(b.createdAt) })
	return all
}

// FailPod puts a pod into ERROR, as if its container crashed for good. The pod keeps its GPUs
// (it is still on its machine); start or terminate are then the only actions.
func (e *Emulator) FailPod(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sweep(time.Now())
	p := e.pods[id]
	if p == nil || p.phase == phaseTerminated {
		return fmt.Errorf("runpod emulator: no live pod %q", id)
	}
	p.phase = phaseError
	return nil
}

// DeleteOutOfBand deletes a pod behind the client's back (as from RunPod's console): its GPUs
// are returned and the API answers 404 for it at once.
func (e *Emulator) DeleteOutOfBand(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	p := e.pods[id]
	if p == nil {
		return fmt.Errorf("runpod emulator: no pod %q", id)
	}
	if p.phase != phaseTerminated {
		e.terminate(p, now)
	}
	delete(e.pods, id)
	e.gone = append(e.gone, p)
	return nil
}

// SSHKeys returns the account's registered SSH public keys.
func (e *Emulator) SSHKeys() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.sshKeys)
}

// NetworkVolumes returns every network volume, oldest first, with the pods mounting it.
func (e *Emulator) NetworkVolumes() []NetworkVolumeView {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sweep(time.Now())
	var out []NetworkVolumeView
	for _, v := range e.sortedVolumes() {
		out = append(out, NetworkVolumeView{ID: v.id, Name: v.name, Size: v.size, DataCenterID: v.dc, Type: v.typ, UsedBy: nonNil(e.usersOf(v))})
	}
	return out
}

// Clusters returns every live Instant Cluster with its member pod ids by rank.
func (e *Emulator) Clusters() []ClusterView {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []ClusterView
	for _, c := range e.clusters {
		out = append(out, ClusterView{ID: c.id, Name: c.name, Type: c.typ, GPUTypeID: c.gpu.ID, DataCenterID: c.dc.ID, PodIDs: slices.Clone(c.podIDs)})
	}
	slices.SortFunc(out, func(a, b ClusterView) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// checkCapacityKey validates a capacity pool address against the catalog.
func (e *Emulator) checkCapacityKey(gpuTypeID, dataCenterID, cloudType string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case findGPU(gpuTypeID) == nil:
		return fmt.Errorf("unknown GPU type %q", gpuTypeID)
	case e.findDC(dataCenterID) == nil:
		return fmt.Errorf("unknown data center %q", dataCenterID)
	case cloudType != cloudSecure && cloudType != cloudCommunity:
		return fmt.Errorf("cloud type must be SECURE or COMMUNITY, not %q", cloudType)
	}
	return nil
}

// SetCapacity sets the free GPUs of a pool (n = 0 empties it but keeps it offered). It panics
// on ids outside the catalog: it is a test helper, and a typo should fail loudly.
func (e *Emulator) SetCapacity(gpuTypeID, dataCenterID, cloudType string, n int) {
	cloudType = strings.ToUpper(cloudType)
	if err := e.checkCapacityKey(gpuTypeID, dataCenterID, cloudType); err != nil {
		panic("runpod emulator: SetCapacity: " + err.Error())
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.capacity[capKey{gpuTypeID, dataCenterID, cloudType}] = max(n, 0)
}

// Capacity returns the free GPUs of a pool (0 when not offered).
func (e *Emulator) Capacity(gpuTypeID, dataCenterID, cloudType string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.capacity[capKey{gpuTypeID, dataCenterID, strings.ToUpper(cloudType)}]
}

func (e *Emulator) capacityViews() []CapacityView {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []CapacityView
	for k, n := range e.capacity {
		out = append(out, CapacityView{GPUTypeID: k.GPU, DataCenterID: k.DC, CloudType: k.Cloud, Available: n})
	}
	slices.SortFunc(out, func(a, b CapacityView) int {
		return strings.Compare(a.GPUTypeID+"|"+a.CloudType+"|"+a.DataCenterID, b.GPUTypeID+"|"+b.CloudType+"|"+b.DataCenterID)
	})
	return out
}

// AdminHandler serves the emulator's admin API at relative paths (the server mounts it under
// /_emulator/runpod). On top of emucore's /stats and /faults:
//
//	GET    /pods             every pod, terminated and deleted ones included ([]PodView)
//	POST   /pods/{id}/fail   put a pod into ERROR
//	DELETE /pods/{id}        delete a pod out of band (the API answers 404 for it at once)
//	GET    /capacity         every capacity pool ([]CapacityView)
//	PUT    /capacity         {"gpu_type_id","data_center_id","cloud_type","available"}
//	PUT    /balance          {"balance": 12.5}; null means unlimited
//	GET    /datacenters      every data center ([]DataCenterView)
//	POST   /datacenters      open a data center (DataCenterView; then PUT /capacity gives it GPUs)
//	GET    /registries       container registry credentials ([]RegistryView, without passwords)
//	GET    /clusters         live clusters ([]ClusterView)
//	GET    /network-volumes  volumes ([]NetworkVolumeView)
//	GET    /ssh-keys         the account's keys
//	POST   /reset            back to a fresh emulator (state, capacity, counters, faults)
func (e *Emulator) AdminHandler() http.Handler {
	mux := e.Core.AdminHandler()
	mux.HandleFunc("GET /pods", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, nonNil(e.Pods()))
	})
	mux.HandleFunc("POST /pods/{id}/fail", func(w http.ResponseWriter, r *http.Request) {
		if err := e.FailPod(r.PathValue("id")); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /pods/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := e.DeleteOutOfBand(r.PathValue("id")); err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /capacity", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, e.capacityViews())
	})
	mux.HandleFunc("PUT /capacity", func(w http.ResponseWriter, r *http.Request) {
		var in CapacityView
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in.CloudType = strings.ToUpper(in.CloudType)
		if err := e.checkCapacityKey(in.GPUTypeID, in.DataCenterID, in.CloudType); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.SetCapacity(in.GPUTypeID, in.DataCenterID, in.CloudType, in.Available)
		writeJSON(w, http.StatusOK, in)
	})
	mux.HandleFunc("PUT /balance", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Balance *float64 `json:"balance"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if in.Balance == nil {
			e.SetBalance(math.Inf(1))
		} else {
			e.SetBalance(*in.Balance)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /datacenters", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, e.DataCenters())
	})
	mux.HandleFunc("POST /datacenters", func(w http.ResponseWriter, r *http.Request) {
		var in DataCenterView
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := e.AddDataCenter(in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		all := e.DataCenters()
		writeJSON(w, http.StatusCreated, all[len(all)-1])
	})
	mux.HandleFunc("GET /registries", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, nonNil(e.Registries()))
	})
	mux.HandleFunc("GET /clusters", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, nonNil(e.Clusters()))
	})
	mux.HandleFunc("GET /network-volumes", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, nonNil(e.NetworkVolumes()))
	})
	mux.HandleFunc("GET /ssh-keys", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"keys": e.SSHKeys()})
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		e.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// nonNil makes empty listings encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
