package runpod

import (
	"context"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// RunPod network volumes are the neutral volumes: named (not uniquely), in one data center,
// sized 10-4096 GB, growable, of a storage tier, and mounted at create by id
// (RunPodInstanceOptions.NetworkVolumeID).

var _ clients.VolumeCloud = (*Cloud)(nil)

// VolumeRules: sized, growable, two storage tiers. Without a type RunPod uses the data
// center's default tier, so there is no fixed default.
func (c *Cloud) VolumeRules() clients.VolumeRules {
	return clients.VolumeRules{
		Sized: true, Growable: true, MinSizeGB: MinNetworkVolumeGB, MaxSizeGB: MaxNetworkVolumeGB,
		Types: []string{VolumeStandard, VolumeHighPerformance},
	}
}

// CreateVolume creates a network volume in spec.Region (a data center id).
func (c *Cloud) CreateVolume(ctx context.Context, spec clients.VolumeSpec) (*clients.Volume, error) {
	v, err := c.CreateNetworkVolume(ctx, CreateNetworkVolumeRequest{Name: spec.Name, Size: spec.SizeGB, DataCenter: spec.Region, Type: spec.Type})
	if err != nil {
		return nil, err
	}
	return volumeOf(v, false), nil
}

// GetVolume reads a network volume. InUse comes from the shared pod snapshot: a pod that is
// not terminated and mounts the volume.
func (c *Cloud) GetVolume(ctx context.Context, id string) (*clients.Volume, error) {
	v, err := c.api.GetNetworkVolume(ctx, id)
	if err != nil {
		return nil, err
	}
	pods, err := c.pods.Get(ctx, time.Now().Add(-c.podTTL))
	if err != nil {
		return nil, err
	}
	return volumeOf(v, volumeInUse(pods, id)), nil
}

// ResizeVolume grows a network volume; shrinking is refused.
func (c *Cloud) ResizeVolume(ctx context.Context, id string, sizeGB int) (*clients.Volume, error) {
	v, err := c.ResizeNetworkVolume(ctx, id, sizeGB)
	if err != nil {
		return nil, err
	}
	return c.GetVolume(ctx, v.ID)
}

// DeleteVolume deletes a network volume; one already gone counts as deleted. A volume a pod
// still mounts is refused with ErrConflict, until the pod is terminated.
func (c *Cloud) DeleteVolume(ctx context.Context, id string) error {
	return c.DeleteNetworkVolume(ctx, id)
}

func volumeInUse(pods []Pod, id string) bool {
	for _, p := range pods {
		if p.Status == PodTerminated {
			continue
		}
		for _, m := range p.Mounts.Network {
			if m.VolumeID == id {
				return true
			}
		}
	}
	return false
}

func volumeOf(v *NetworkVolume, inUse bool) *clients.Volume {
	return &clients.Volume{
		ID: v.ID, Cloud: cloudName, Name: v.Name, Region: v.DataCenter, SizeGB: v.Size, Type: v.Type, InUse: inUse,
	}
}
