package runpod

import (
	"context"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// RunPod network volumes are the neutral volumes: named (not uniquely), in one data center,
// sized 10-4096 GB, growable, of a storage tier, and mounted at create by id
// (InstanceOptions.NetworkVolumeID).

// Network volume sizes RunPod accepts, in GB.
const (
	MinNetworkVolumeGB = 10
	MaxNetworkVolumeGB = 4096
)

// The network volume operations below return the API's own types. A volume carries no tag and
// names are not unique, so a create whose answer was lost is resolved by listing before and
// after: a volume that was not there before, with the requested name and data center, is the
// one created.

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

// ListNetworkVolumes lists the account's network volumes.
func (c *Cloud) ListNetworkVolumes(ctx context.Context) ([]NetworkVolume, error) {
	return c.api.ListNetworkVolumes(ctx)
}

// CreateNetworkVolume creates a network volume (billed until deleted). When the answer is
// lost, a new volume of that name in that data center is adopted; it is never created twice.
func (c *Cloud) CreateNetworkVolume(ctx context.Context, req CreateNetworkVolumeRequest) (*NetworkVolume, error) {
	switch {
	case strings.TrimSpace(req.Name) == "":
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod network volume needs a name")
	case req.DataCenter == "":
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod network volume needs a data center")
	case req.Size < MinNetworkVolumeGB || req.Size > MaxNetworkVolumeGB:
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod network volume has %d to %d GB, not %d", MinNetworkVolumeGB, MaxNetworkVolumeGB, req.Size)
	case req.Type != "" && req.Type != VolumeStandard && req.Type != VolumeHighPerformance:
		return nil, clients.Errorf(clients.ErrInvalid, "network volume type %q is neither %s nor %s", req.Type, VolumeStandard, VolumeHighPerformance)
	}
	return createAdopting(ctx, c, "network volume "+req.Name, c.api.ListNetworkVolumes,
		func(ctx context.Context) (*NetworkVolume, error) { return c.api.CreateNetworkVolume(ctx, req) },
		func(v NetworkVolume) (string, bool) {
			return v.ID, v.Name == req.Name && v.DataCenter == req.DataCenter
		})
}

// GetNetworkVolume reads a network volume; ErrNotFound when it does not exist.
func (c *Cloud) GetNetworkVolume(ctx context.Context, id string) (*NetworkVolume, error) {
	return c.api.GetNetworkVolume(ctx, id)
}

// UpdateNetworkVolume renames and/or grows a network volume. RunPod cannot shrink one: a
// smaller size is refused before it is sent.
func (c *Cloud) UpdateNetworkVolume(ctx context.Context, id string, req UpdateNetworkVolumeRequest) (*NetworkVolume, error) {
	if req.Name == nil && req.Size == nil {
		return c.api.GetNetworkVolume(ctx, id)
	}
	if req.Name != nil && strings.TrimSpace(*req.Name) == "" {
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod network volume name cannot be empty")
	}
	if req.Size != nil {
		if *req.Size > MaxNetworkVolumeGB {
			return nil, clients.Errorf(clients.ErrInvalid, "a RunPod network volume has at most %d GB, not %d", MaxNetworkVolumeGB, *req.Size)
		}
		cur, err := c.api.GetNetworkVolume(ctx, id)
		if err != nil {
			return nil, err
		}
		if *req.Size < cur.Size {
			return nil, clients.Errorf(clients.ErrInvalid, "RunPod network volume %s has %d GB and cannot shrink to %d GB: a smaller volume needs a new one", id, cur.Size, *req.Size)
		}
	}
	return c.api.UpdateNetworkVolume(ctx, id, req)
}

// ResizeNetworkVolume grows a network volume to sizeGB.
func (c *Cloud) ResizeNetworkVolume(ctx context.Context, id string, sizeGB int) (*NetworkVolume, error) {
	return c.UpdateNetworkVolume(ctx, id, UpdateNetworkVolumeRequest{Size: &sizeGB})
}

// DeleteNetworkVolume deletes a network volume; one already gone counts as deleted.
func (c *Cloud) DeleteNetworkVolume(ctx context.Context, id string) error {
	err := c.api.DeleteNetworkVolume(ctx, id)
	if clients.IsNotFound(err) {
		return nil
	}
	return err
}
