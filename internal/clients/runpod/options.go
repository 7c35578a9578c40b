package runpod

import "github.com/neocloud/terraform-provider-neocloud/internal/clients"

// InstanceOptions are RunPod's own pod settings (clients.InstanceSpec.Options). In an
// InstanceSpec they say what to create; in an Instance they are what the pod reports, with two
// exceptions RunPod never reports back (keep them from the configuration): TemplateID (a pod
// keeps no link to its template) and StartSSH (a create-time flag only).
type InstanceOptions struct {
	// Image is the container image; required unless TemplateID is set. When empty,
	// InstanceSpec.Image is used.
	Image string
	// CloudType is CloudSecure (default when empty) or CloudCommunity.
	CloudType string
	// TemplateID bases the pod on a RunPod template; explicit fields override the template's
	// and Env is merged into the template's per key.
	TemplateID string
	// NetworkVolumeID mounts an existing network volume; the pod is placed in the volume's
	// data center. Mutually exclusive with VolumeGB.
	NetworkVolumeID string
	// VolumeMountPath is where the volume (network or persistent) is mounted; "/workspace"
	// when empty.
	VolumeMountPath string
	// Ports are exposed ports as "port/protocol" ("22/tcp", "8888/http"). SSH straight to the
	// pod (scp, rsync, port forwarding) needs "22/tcp"; without it only RunPod's SSH proxy is
	// available.
	Ports []string
	// Env is the container environment. PUBLIC_KEY and NEOCLOUD_* names are reserved: the
	// adapter sets them for SSH keys and its own bookkeeping, and leaves them out when reading,
	// as it does the variables a pod got from its template.
	Env map[string]string
	// ContainerDiskGB is the ephemeral container disk (RunPod's default when 0).
	ContainerDiskGB int
	// VolumeGB is a host-local persistent volume (at least 10 GB; none when 0).
	VolumeGB int
	// StartSSH asks RunPod to set up sshd with the account's SSH keys; nil means true. With
	// SSHKeyIDs only those keys are installed.
	StartSSH *bool
	// RegistryCredentialID is the container registry credential (RegistryCredential.ID) the
	// image is pulled with, for a private image; none when empty.
	RegistryCredentialID string
}

// InstanceUpdate lists in-place changes to a pod's RunPod settings
// (clients.InstanceUpdate.Options); nil fields are left alone.
type InstanceUpdate struct {
	// VolumeMountPath moves the pod's volume (persistent or network) to another path; the
	// container restarts.
	VolumeMountPath *string
	// RegistryCredentialID changes the credential the image is pulled with; "" removes it.
	RegistryCredentialID *string
}

// IsZero reports whether the update changes nothing.
func (u InstanceUpdate) IsZero() bool {
	return u.VolumeMountPath == nil && u.RegistryCredentialID == nil
}

// ClusterOptions are Instant Cluster settings (clients.ClusterSpec.Options).
type ClusterOptions struct {
	ClusterType     string // TRAINING, SLURM, RAY, APPLICATION
	Image           string
	Ports           []string
	Env             map[string]string
	NetworkVolumeID string
	ContainerDiskGB int
}

// specOptions reads the spec's RunPod settings: a zero InstanceOptions when it has none, an
// error when it holds another cloud's.
func specOptions(spec clients.InstanceSpec) (InstanceOptions, error) {
	return clients.OptionsOr[InstanceOptions](cloudName, spec.Options)
}

// updateOptions reads the update's RunPod changes: none when it has none, an error when it
// holds another cloud's.
func updateOptions(u clients.InstanceUpdate) (InstanceUpdate, error) {
	return clients.OptionsOr[InstanceUpdate](cloudName, u.Options)
}
