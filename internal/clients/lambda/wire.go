package lambda

import (
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/wire"
)

// Wire types of Lambda Cloud API 1.8.0. Field names follow the API's snake_case JSON exactly;
// the model names follow the API document (Instance, InstanceType, Region, ...). Success bodies
// wrap their payload in {"data": ...}, see envelope.

// envelope is every success body: {"data": PAYLOAD}.
type envelope[T any] struct {
	Data T `json:"data"`
}

// Timestamp is a date-time on the wire; decoding never fails a whole list on one odd value.
type Timestamp = wire.Timestamp

// Region is a PublicRegionCode and the place it stands for.
type Region struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// InstanceTypeSpecs are an instance type's hardware.
type InstanceTypeSpecs struct {
	VCPUs      int `json:"vcpus"`
	MemoryGiB  int `json:"memory_gib"`
	StorageGiB int `json:"storage_gib"`
	GPUs       int `json:"gpus"`
}

// InstanceType describes one machine shape and its price.
type InstanceType struct {
	Name              string            `json:"name"`
	Description       string            `json:"description"`
	GPUDescription    string            `json:"gpu_description"`
	PriceCentsPerHour int               `json:"price_cents_per_hour"`
	Specs             InstanceTypeSpecs `json:"specs"`
}

// InstanceTypesItem is one entry of GET /instance-types (a map keyed by type name).
type InstanceTypesItem struct {
	InstanceType                 InstanceType `json:"instance_type"`
	RegionsWithCapacityAvailable []Region     `json:"regions_with_capacity_available"`
}

// TagEntry is a key/value tag (TagEntry and RequestedTagEntry share this shape).
type TagEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// FirewallRulesetEntry references a firewall ruleset by id.
type FirewallRulesetEntry struct {
	ID string `json:"id"`
}

// FilesystemMountEntry is a filesystem mounted at a path (RequestedFilesystemMountEntry has
// the same shape).
type FilesystemMountEntry struct {
	MountPoint   string `json:"mount_point"`
	FileSystemID string `json:"file_system_id"`
}

// InstanceActionAvailabilityDetails says whether an action is possible now, and why not.
type InstanceActionAvailabilityDetails struct {
	Available         bool   `json:"available"`
	ReasonCode        string `json:"reason_code,omitempty"`
	ReasonDescription string `json:"reason_description,omitempty"`
}

// InstanceActionAvailability lists which operations an instance allows now.
type InstanceActionAvailability struct {
	Migrate    InstanceActionAvailabilityDetails `json:"migrate"`
	Rebuild    InstanceActionAvailabilityDetails `json:"rebuild"`
	Restart    InstanceActionAvailabilityDetails `json:"restart"`
	ColdReboot InstanceActionAvailabilityDetails `json:"cold_reboot"`
	Terminate  InstanceActionAvailabilityDetails `json:"terminate"`
}

// Lambda instance statuses (InstanceStatus).
const (
	StatusBooting     = "booting"
	StatusActive      = "active"
	StatusUnhealthy   = "unhealthy"
	StatusTerminating = "terminating"
	StatusTerminated  = "terminated"
	StatusPreempted   = "preempted"
)

// Instance is Lambda's view of one machine.
type Instance struct {
	ID               string                     `json:"id"`
	Name             string                     `json:"name,omitempty"`
	IP               string                     `json:"ip,omitempty"`
	PrivateIP        string                     `json:"private_ip,omitempty"`
	Status           string                     `json:"status"`
	SSHKeyNames      []string                   `json:"ssh_key_names"`
	FileSystemNames  []string                   `json:"file_system_names"`
	FileSystemMounts []FilesystemMountEntry     `json:"file_system_mounts,omitempty"`
	Region           Region                     `json:"region"`
	InstanceType     InstanceType               `json:"instance_type"`
	Hostname         string                     `json:"hostname,omitempty"`
	JupyterToken     string                     `json:"jupyter_token,omitempty"`
	JupyterURL       string                     `json:"jupyter_url,omitempty"`
	Actions          InstanceActionAvailability `json:"actions"`
	Tags             []TagEntry                 `json:"tags,omitempty"`
	FirewallRulesets []FirewallRulesetEntry     `json:"firewall_rulesets,omitempty"`
}

// ImageSpec selects the image of a launch: exactly one of ID or Family
// (ImageSpecificationID / ImageSpecificationFamily).
type ImageSpec struct {
	ID     string `json:"id,omitempty"`
	Family string `json:"family,omitempty"`
}

// LaunchRequest is InstanceLaunchRequest (POST /instance-operations/launch).
type LaunchRequest struct {
	RegionName       string                 `json:"region_name"`
	InstanceTypeName string                 `json:"instance_type_name"`
	SSHKeyNames      []string               `json:"ssh_key_names"`
	FileSystemNames  []string               `json:"file_system_names,omitempty"`
	FileSystemMounts []FilesystemMountEntry `json:"file_system_mounts,omitempty"`
	Hostname         string                 `json:"hostname,omitempty"`
	Name             string                 `json:"name,omitempty"`
	Image            *ImageSpec             `json:"image,omitempty"`
	UserData         string                 `json:"user_data,omitempty"`
	Tags             []TagEntry             `json:"tags,omitempty"`
	FirewallRulesets []FirewallRulesetEntry `json:"firewall_rulesets,omitempty"`
}

// LaunchResponse is InstanceLaunchResponse.
type LaunchResponse struct {
	InstanceIDs []string `json:"instance_ids"`
}

// InstanceModificationRequest is the body of POST /instances/{id}.
type InstanceModificationRequest struct {
	Name *string `json:"name,omitempty"`
}

// instanceIDsRequest is InstanceTerminateRequest and InstanceRestartRequest.
type instanceIDsRequest struct {
	InstanceIDs []string `json:"instance_ids"`
}

// InstanceTerminateResponse lists the instances that were terminated.
type InstanceTerminateResponse struct {
	TerminatedInstances []Instance `json:"terminated_instances"`
}

// InstanceRestartResponse lists the instances that were restarted.
type InstanceRestartResponse struct {
	RestartedInstances []Instance `json:"restarted_instances"`
}

// SSHKey is an account SSH key. PrivateKey is set only in the answer to an add without a
// public key (GeneratedSSHKey): Lambda keeps no copy of it.
type SSHKey struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	PublicKey  string `json:"public_key"`
	PrivateKey string `json:"private_key,omitempty"`
}

// AddSSHKeyRequest is the body of POST /ssh-keys. Without PublicKey Lambda generates a pair.
type AddSSHKeyRequest struct {
	Name      string `json:"name"`
	PublicKey string `json:"public_key,omitempty"`
}

// User is the team member who created something.
type User struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Status string `json:"status"`
}

// Filesystem is a persistent, regional filesystem.
type Filesystem struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	MountPoint string    `json:"mount_point"`
	Created    Timestamp `json:"created"`
	CreatedBy  User      `json:"created_by"`
	IsInUse    bool      `json:"is_in_use"`
	Region     Region    `json:"region"`
	BytesUsed  int64     `json:"bytes_used,omitempty"`
}

// FilesystemCreateRequest is the body of POST /filesystems.
type FilesystemCreateRequest struct {
	Name   string `json:"name"`
	Region string `json:"region"`
}

// FilesystemDeleteResponse lists the deleted filesystems.
type FilesystemDeleteResponse struct {
	DeletedIDs []string `json:"deleted_ids"`
}

// Network protocols of firewall rules (NetworkProtocol).
const (
	ProtocolTCP  = "tcp"
	ProtocolUDP  = "udp"
	ProtocolICMP = "icmp"
	ProtocolAll  = "all"
)

// FirewallRule allows inbound traffic. PortRange is [min, max], inclusive; not allowed for icmp.
type FirewallRule struct {
	Protocol      string `json:"protocol"`
	PortRange     []int  `json:"port_range,omitempty"`
	SourceNetwork string `json:"source_network"`
	Description   string `json:"description"`
}

// FirewallRuleset is a named, regional set of rules attached to instances.
type FirewallRuleset struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Region      Region         `json:"region"`
	Rules       []FirewallRule `json:"rules"`
	Created     Timestamp      `json:"created"`
	InstanceIDs []string       `json:"instance_ids"`
}

// FirewallRulesetCreateRequest is the body of POST /firewall-rulesets.
type FirewallRulesetCreateRequest struct {
	Name   string         `json:"name"`
	Region string         `json:"region"`
	Rules  []FirewallRule `json:"rules"`
}

// FirewallRulesetPatchRequest is the body of PATCH /firewall-rulesets/{id}. A nil field is
// left alone; a non-nil Rules pointing at an empty list removes every rule.
type FirewallRulesetPatchRequest struct {
	Name  *string         `json:"name,omitempty"`
	Rules *[]FirewallRule `json:"rules,omitempty"`
}

// GlobalFirewallRuleset is the account-wide ruleset (id "global").
type GlobalFirewallRuleset struct {
	ID    string         `json:"id"`
	Name  string         `json:"name"`
	Rules []FirewallRule `json:"rules"`
}

// GlobalFirewallRulesetPatchRequest is the body of PATCH /firewall-rulesets/global.
type GlobalFirewallRulesetPatchRequest struct {
	Rules *[]FirewallRule `json:"rules,omitempty"`
}

// firewallRulesPutRequest is the body of PUT /firewall-rules.
type firewallRulesPutRequest struct {
	Data []FirewallRule `json:"data"`
}

// Image is a machine image, per region and architecture.
type Image struct {
	ID           string    `json:"id"`
	CreatedTime  Timestamp `json:"created_time"`
	UpdatedTime  Timestamp `json:"updated_time"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	Family       string    `json:"family"`
	Version      string    `json:"version"`
	Architecture string    `json:"architecture"`
	Region       Region    `json:"region"`
}

// apiErrorBody is every error answer: {"error": {"code", "message", "suggestion"}}.
type apiErrorBody struct {
	Error *struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		Suggestion string `json:"suggestion"`
	} `json:"error"`
}
