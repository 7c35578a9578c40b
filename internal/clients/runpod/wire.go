package runpod

import (
	"encoding/json"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/wire"
)

// Wire types of RunPod's REST API 2.0.0 (https://api.runpod.io/v2). Field names are the
// OpenAPI document's camelCase JSON exactly; type names follow its schema names (Pod,
// CreatePodRequest, NetworkVolume, ...). Success bodies are the object itself or a one-member
// wrapper ({"pods": [...]}); error bodies are RFC 9457 problem JSON (ErrorResponse).

// Timestamp is a date-time on the wire; decoding never fails a whole list on one odd value.
type Timestamp = wire.Timestamp

// Nullable is a PATCH field with three states: left out (the zero value, with omitzero),
// set to a value, or sent as an explicit null (Set with a nil Value), which clears the field.
type Nullable[T any] struct {
	Set   bool
	Value *T
}

// Null is the explicit null of a Nullable field.
func Null[T any]() Nullable[T] { return Nullable[T]{Set: true} }

// Value sets a Nullable field.
func Value[T any](v T) Nullable[T] { return Nullable[T]{Set: true, Value: &v} }

// IsZero reports a field left out (read by omitzero).
func (n Nullable[T]) IsZero() bool { return !n.Set }

// MarshalJSON writes the value or null.
func (n Nullable[T]) MarshalJSON() ([]byte, error) {
	if n.Value == nil {
		return []byte("null"), nil
	}
	return json.Marshal(*n.Value)
}

// Pod statuses (PodStatus).
const (
	PodProvisioning = "PROVISIONING"
	PodStarting     = "STARTING"
	PodRunning      = "RUNNING"
	PodExited       = "EXITED"
	PodError        = "ERROR"
	PodTerminated   = "TERMINATED"
)

// Pod actions (PodAction), for POST /pods/{id}/action.
const (
	ActionStart     = "start"
	ActionStop      = "stop"
	ActionRestart   = "restart"
	ActionTerminate = "terminate"
)

// Cloud tiers (Cloud).
const (
	CloudSecure    = "SECURE"
	CloudCommunity = "COMMUNITY"
)

// Catalog availability levels (AvailabilityLevel).
const (
	AvailabilityNone   = "NONE"
	AvailabilityLow    = "LOW"
	AvailabilityMedium = "MEDIUM"
	AvailabilityHigh   = "HIGH"
)

// Cluster types (ClusterType).
const (
	ClusterApplication = "APPLICATION"
	ClusterTraining    = "TRAINING"
	ClusterSlurm       = "SLURM"
	ClusterRay         = "RAY"
)

// PersistentMount is host-local storage pinned to the pod's machine (at least 10 GB).
type PersistentMount struct {
	Size int    `json:"size"`
	Path string `json:"path"`
}

// NetworkMount references a network volume in the pod's data center.
type NetworkMount struct {
	VolumeID string `json:"volumeId"`
	Path     string `json:"path"`
}

// Mounts are a pod's storage mounts: at most one of Persistent or Network (one entry today).
type Mounts struct {
	Persistent *PersistentMount `json:"persistent,omitempty"`
	Network    []NetworkMount   `json:"network,omitempty"`
}

// GpuConfig is a pod's GPU type and count.
type GpuConfig struct {
	ID    string `json:"id"`
	Count int    `json:"count,omitempty"`
}

// CreateGpuConfig is the GPU request of a pod create, with the optional CUDA host constraints.
type CreateGpuConfig struct {
	ID                  string   `json:"id"`
	Count               int      `json:"count,omitempty"`
	AllowedCudaVersions []string `json:"allowedCudaVersions,omitempty"`
	MinCudaVersion      string   `json:"minCudaVersion,omitempty"`
}

// CpuConfig is a CPU pod's flavor, vCPU count and memory.
type CpuConfig struct {
	ID        string `json:"id"`
	VcpuCount int    `json:"vcpuCount"`
	Memory    int    `json:"memory,omitempty"`
}

// CreateCpuConfig is the CPU request of a pod create (memory is derived by RunPod).
type CreateCpuConfig struct {
	ID        string `json:"id"`
	VcpuCount int    `json:"vcpuCount"`
}

// PodRuntimePort is a live port mapping of a running pod. Public and IP are null (zero here)
// until assigned.
type PodRuntimePort struct {
	Private int    `json:"private"`
	Public  int    `json:"public"`
	Type    string `json:"type"`
	IP      string `json:"ip"`
}

// Utilization is a percentage (0-100).
type Utilization struct {
	Util int `json:"util"`
}

// PodGpuUtilization is one GPU's utilization.
type PodGpuUtilization struct {
	Util       int `json:"util"`
	MemoryUtil int `json:"memoryUtil"`
}

// PodRuntime is what a running pod reports live; null when the pod is not RUNNING.
type PodRuntime struct {
	Uptime int                 `json:"uptime"`
	GPUs   []PodGpuUtilization `json:"gpus,omitempty"`
	CPU    *Utilization        `json:"cpu,omitempty"`
	Memory *Utilization        `json:"memory,omitempty"`
	Ports  []PodRuntimePort    `json:"ports,omitempty"`
}

// PodSshEndpoint is one way to reach a pod over SSH.
type PodSshEndpoint struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username"`
	Command  string `json:"command"`
}

// PodSsh is how to reach a pod over SSH: through RunPod's proxy (null until the pod has a
// machine; interactive shell only) or directly over its published 22/tcp (null until mapped).
type PodSsh struct {
	Proxy  *PodSshEndpoint `json:"proxy"`
	Direct *PodSshEndpoint `json:"direct"`
}

// PodGlobalNetworking is a pod's cross-data-center private network address.
type PodGlobalNetworking struct {
	Enabled     bool   `json:"enabled"`
	IP          string `json:"ip,omitempty"`
	InternalDNS string `json:"internalDns,omitempty"`
}

// PodCluster is a pod's membership in an Instant Cluster.
type PodCluster struct {
	ID   string `json:"id"`
	Rank *int   `json:"rank"`
	Role string `json:"role,omitempty"`
	IP   string `json:"ip,omitempty"`
}

// Pod is RunPod's view of one pod.
type Pod struct {
	ID               string              `json:"id"`
	Name             string              `json:"name"`
	Status           string              `json:"status"`
	Actions          []string            `json:"actions"`
	Image            string              `json:"image"`
	Args             string              `json:"args"`
	Disk             int                 `json:"disk"`
	Mounts           Mounts              `json:"mounts"`
	Ports            []string            `json:"ports"`
	Env              map[string]string   `json:"env"`
	Registry         *string             `json:"registry"`
	GPU              *GpuConfig          `json:"gpu,omitempty"`
	CPU              *CpuConfig          `json:"cpu,omitempty"`
	Cloud            string              `json:"cloud"`
	DataCenterID     string              `json:"dataCenterId"`
	CudaVersion      string              `json:"cudaVersion"`
	SSH              *PodSsh             `json:"ssh"`
	Cluster          *PodCluster         `json:"cluster,omitempty"`
	Template         string              `json:"template"`
	Cost             float64             `json:"cost"`
	Locked           bool                `json:"locked"`
	GlobalNetworking PodGlobalNetworking `json:"globalNetworking"`
	Runtime          *PodRuntime         `json:"runtime"`
	CreatedAt        Timestamp           `json:"createdAt"`
	StartedAt        Timestamp           `json:"startedAt"`
}

// CreatePodRequest is the body of POST /pods. Exactly one of GPU or CPU; Image is required
// unless TemplateID is set.
type CreatePodRequest struct {
	Name  string            `json:"name"`
	Image string            `json:"image,omitempty"`
	Args  string            `json:"args,omitempty"`
	Disk  int               `json:"disk,omitempty"`
	Env   map[string]string `json:"env,omitempty"`
	Ports []string          `json:"ports,omitempty"`
	// Registry is the id of a container registry credential (Registry.ID) to pull a private
	// image with.
	Registry         *string          `json:"registry,omitempty"`
	Cloud            string           `json:"cloud,omitempty"`
	CPU              *CreateCpuConfig `json:"cpu,omitempty"`
	GPU              *CreateGpuConfig `json:"gpu,omitempty"`
	DataCenterIDs    []string         `json:"dataCenterIds,omitempty"`
	GlobalNetworking bool             `json:"globalNetworking,omitempty"`
	Mounts           *Mounts          `json:"mounts,omitempty"`
	StartJupyter     bool             `json:"startJupyter,omitempty"`
	StartSSH         bool             `json:"startSsh,omitempty"`
	TemplateID       string           `json:"templateId,omitempty"`
}

// UpdatePodRequest is the body of PATCH /pods/{id}: only the fields present change. Env, when
// set, replaces the pod's whole environment (a pointer, so that an empty map is still sent).
type UpdatePodRequest struct {
	Name  *string            `json:"name,omitempty"`
	Image *string            `json:"image,omitempty"`
	Args  *string            `json:"args,omitempty"`
	Disk  *int               `json:"disk,omitempty"`
	Ports *[]string          `json:"ports,omitempty"`
	Env   *map[string]string `json:"env,omitempty"`
	// Registry sets the credential the image is pulled with, or clears it with Null.
	Registry Nullable[string] `json:"registry,omitzero"`
	// Mounts changes a mount's path; every entry must be whole (size and path, or volume id
	// and path), and neither the kind of mount nor the volume can change.
	Mounts           *Mounts `json:"mounts,omitempty"`
	Locked           *bool   `json:"locked,omitempty"`
	GlobalNetworking *bool   `json:"globalNetworking,omitempty"`
	TemplateID       *string `json:"templateId,omitempty"`
}

// PodActionRequest is the body of POST /pods/{id}/action.
type PodActionRequest struct {
	Action string `json:"action"`
}

// ListPodsResponse is the answer of GET /pods and GET /clusters/{id}/pods.
type ListPodsResponse struct {
	Pods []Pod `json:"pods"`
}

// SSHKeys is the account's registered SSH public keys, one authorized_keys line each. It is
// both the answer of GET /account/ssh-keys and the body of PUT (a full replacement).
type SSHKeys struct {
	Keys []string `json:"keys"`
}

// ClusterCompute is a cluster's homogeneous shape: PodCount pods of GPUCountPerPod GPUs.
type ClusterCompute struct {
	GPUTypeID      string `json:"gpuTypeId"`
	GPUCountPerPod int    `json:"gpuCountPerPod"`
	PodCount       int    `json:"podCount"`
}

// ClusterNetwork is a cluster's private overlay network.
type ClusterNetwork struct {
	CIDR      string `json:"cidr"`
	VxlanID   int    `json:"vxlanId,omitempty"`
	VxlanPort int    `json:"vxlanPort,omitempty"`
}

// ClusterPrimary is a cluster's entry node (rank 0).
type ClusterPrimary struct {
	PodID string `json:"podId"`
	// Status is a PodStatus.
	Status string `json:"status"`
	// SSHEndpoint is "host:port", once the primary runs with 22/tcp exposed.
	SSHEndpoint string `json:"sshEndpoint,omitempty"`
}

// ClusterPodsSummary counts a cluster's member pods by status.
type ClusterPodsSummary struct {
	Total    int            `json:"total"`
	ByStatus map[string]int `json:"byStatus"`
}

// Cluster is an Instant Cluster.
type Cluster struct {
	ID           string             `json:"id"`
	Name         string             `json:"name"`
	Type         string             `json:"type"`
	Compute      ClusterCompute     `json:"compute"`
	Template     string             `json:"template,omitempty"`
	DataCenterID string             `json:"dataCenterId,omitempty"`
	Pods         ClusterPodsSummary `json:"pods"`
	Network      *ClusterNetwork    `json:"network,omitempty"`
	Primary      *ClusterPrimary    `json:"primary,omitempty"`
	CreatedAt    Timestamp          `json:"createdAt"`
}

// CreateClusterRequest is the body of POST /clusters. The container settings apply to every
// member pod; clusters take no registry credential.
type CreateClusterRequest struct {
	Name          string            `json:"name"`
	Type          string            `json:"type"`
	Compute       ClusterCompute    `json:"compute"`
	Image         string            `json:"image,omitempty"`
	Args          string            `json:"args,omitempty"`
	Disk          int               `json:"disk,omitempty"`
	Env           map[string]string `json:"env,omitempty"`
	Ports         []string          `json:"ports,omitempty"`
	DataCenterIDs []string          `json:"dataCenterIds,omitempty"`
	Mounts        *Mounts           `json:"mounts,omitempty"`
	StartJupyter  bool              `json:"startJupyter,omitempty"`
	StartSSH      bool              `json:"startSsh,omitempty"`
}

// UpdateClusterRequest is the body of PATCH /clusters/{id}: a rename.
type UpdateClusterRequest struct {
	Name string `json:"name"`
}

// ListClustersResponse is the answer of GET /clusters.
type ListClustersResponse struct {
	Clusters []Cluster `json:"clusters"`
}

// TemplateMounts are a template's mounts: at most one persistent mount.
type TemplateMounts struct {
	Persistent *PersistentMount `json:"persistent,omitempty"`
}

// Template is a container-configuration preset, one of the account's (GET /templates) or of the
// public catalog (GET /catalog/templates); GET /templates/{id} reads both. Registry is null for
// templates the account does not own. Serverless templates cannot base a pod.
type Template struct {
	ID                  string            `json:"id"`
	Name                string            `json:"name"`
	Image               string            `json:"image"`
	Args                string            `json:"args"`
	Disk                int               `json:"disk"`
	Mounts              TemplateMounts    `json:"mounts"`
	Ports               []string          `json:"ports"`
	Env                 map[string]string `json:"env"`
	Registry            *string           `json:"registry"`
	Serverless          bool              `json:"serverless"`
	Public              bool              `json:"public"`
	Category            string            `json:"category"`
	StartSSH            bool              `json:"startSsh"`
	StartJupyter        bool              `json:"startJupyter"`
	AllowedCudaVersions []string          `json:"allowedCudaVersions"`
}

// ListTemplatesResponse is the answer of GET /templates and GET /catalog/templates.
type ListTemplatesResponse struct {
	Templates []Template `json:"templates"`
}

// Public template catalog slices (listPublicTemplates' source).
const (
	TemplatesOfficial  = "official"
	TemplatesVerified  = "verified"
	TemplatesCommunity = "community"
)

// Registry is a container registry credential; its username and password are write-only and
// never come back.
type Registry struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CreateRegistryRequest is the body of POST /registries (every field non-empty).
type CreateRegistryRequest struct {
	Name     string `json:"name"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// ListRegistriesResponse is the answer of GET /registries.
type ListRegistriesResponse struct {
	Registries []Registry `json:"registries"`
}

// Network volume storage tiers (VolumeType).
const (
	VolumeStandard        = "STANDARD"
	VolumeHighPerformance = "HIGH_PERFORMANCE"
)

// NetworkVolume is persistent, network-attached storage in one data center.
type NetworkVolume struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Size       int    `json:"size"`
	DataCenter string `json:"dataCenter"`
	Type       string `json:"type"`
}

// CreateNetworkVolumeRequest is the body of POST /network-volumes (size 10-4096 GB).
type CreateNetworkVolumeRequest struct {
	Name       string `json:"name"`
	Size       int    `json:"size"`
	DataCenter string `json:"dataCenter"`
	Type       string `json:"type,omitempty"`
}

// UpdateNetworkVolumeRequest is the body of PATCH /network-volumes/{id}; at least one field.
// Size may only grow.
type UpdateNetworkVolumeRequest struct {
	Name *string `json:"name,omitempty"`
	Size *int    `json:"size,omitempty"`
}

// ListNetworkVolumesResponse is the answer of GET /network-volumes.
type ListNetworkVolumesResponse struct {
	NetworkVolumes []NetworkVolume `json:"networkVolumes"`
}

// GpuPrice is a GPU type's list price in USD per GPU-hour, per cloud tier.
type GpuPrice struct {
	Secure     float64  `json:"secure"`
	Community  float64  `json:"community"`
	Serverless *float64 `json:"serverless,omitempty"`
}

// GpuMaxCount is the most GPUs of a type one pod can have, per cloud tier.
type GpuMaxCount struct {
	Secure    int `json:"secure"`
	Community int `json:"community"`
}

// DataCenterAvailability is a GPU type's stock in one data center.
type DataCenterAvailability struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Availability string `json:"availability"`
}

// CudaVersionAvailability says whether machines on a CUDA version have capacity now.
type CudaVersionAvailability struct {
	Version   string `json:"version"`
	Available bool   `json:"available"`
}

// GpuType is one entry of the GPU catalog. Availability, DataCenters and CudaVersions are
// present only when asked for with include=AVAILABILITY (and product).
type GpuType struct {
	ID           string                    `json:"id"`
	Name         string                    `json:"name"`
	Pool         string                    `json:"pool"`
	Manufacturer string                    `json:"manufacturer"`
	Memory       int                       `json:"memory"`
	Secure       bool                      `json:"secure"`
	Community    bool                      `json:"community"`
	Price        GpuPrice                  `json:"price"`
	MaxCount     GpuMaxCount               `json:"maxCount"`
	Availability string                    `json:"availability,omitempty"`
	DataCenters  []DataCenterAvailability  `json:"dataCenters,omitempty"`
	CudaVersions []CudaVersionAvailability `json:"cudaVersions,omitempty"`
}

// ListGpuTypesResponse is the answer of GET /catalog/gpus.
type ListGpuTypesResponse struct {
	GPUs []GpuType `json:"gpus"`
}

// CatalogResourceAvailability is one GPU (or CPU flavor) stock level in a data center.
type CatalogResourceAvailability struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Availability string `json:"availability"`
}

// DataCenter is one RunPod location.
type DataCenter struct {
	ID                 string                        `json:"id"`
	Name               string                        `json:"name"`
	Region             string                        `json:"region"`
	GlobalNetwork      bool                          `json:"globalNetwork"`
	NetworkVolumeTypes []string                      `json:"networkVolumeTypes"`
	Compliance         []string                      `json:"compliance"`
	GPUAvailability    []CatalogResourceAvailability `json:"gpuAvailability,omitempty"`
	CPUAvailability    []CatalogResourceAvailability `json:"cpuAvailability,omitempty"`
}

// ListDataCentersResponse is the answer of GET /catalog/datacenters.
type ListDataCentersResponse struct {
	DataCenters []DataCenter `json:"dataCenters"`
}

// ErrorResponse is every error body (RFC 9457 problem JSON). Errors lists the individual
// validation failures of a 422.
type ErrorResponse struct {
	Title  string   `json:"title"`
	Status int      `json:"status"`
	Detail string   `json:"detail"`
	Errors []string `json:"errors,omitempty"`
}
