package clients

// RunPodInstanceOptions are RunPod-only pod settings (placeholder until the RunPod adapter
// defines them fully).
type RunPodInstanceOptions struct {
	Image           string
	CloudType       string
	TemplateID      string
	NetworkVolumeID string
	VolumeMountPath string
	Ports           []string
	Env             map[string]string
	ContainerDiskGB int
	VolumeGB        int
	StartSSH        *bool
}
