package lambda

import (
	"context"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Lambda filesystems are the neutral volumes: named, regional, unsized (billed by use) and
// mounted at launch by name.

var _ clients.VolumeCloud = (*Cloud)(nil)

// VolumeRules: a Lambda filesystem has no size to choose and no type.
func (c *Cloud) VolumeRules() clients.VolumeRules { return clients.VolumeRules{} }

// CreateVolume creates a filesystem.
func (c *Cloud) CreateVolume(ctx context.Context, spec clients.VolumeSpec) (*clients.Volume, error) {
	fs, err := c.CreateFilesystem(ctx, spec.Name, spec.Region)
	if err != nil {
		return nil, err
	}
	return volumeOf(fs), nil
}

// GetVolume reads a filesystem by id.
func (c *Cloud) GetVolume(ctx context.Context, id string) (*clients.Volume, error) {
	fs, err := c.GetFilesystem(ctx, id)
	if err != nil {
		return nil, err
	}
	return volumeOf(fs), nil
}

// ResizeVolume is refused: Lambda filesystems have no size.
func (c *Cloud) ResizeVolume(context.Context, string, int) (*clients.Volume, error) {
	return nil, &clients.KindError{Kind: clients.ErrUnsupported, Msg: "Lambda Cloud filesystems have no size to change"}
}

// DeleteVolume deletes a filesystem.
func (c *Cloud) DeleteVolume(ctx context.Context, id string) error {
	return c.DeleteFilesystem(ctx, id)
}

func volumeOf(fs *Filesystem) *clients.Volume {
	return &clients.Volume{
		ID: fs.ID, Cloud: cloudName, Name: fs.Name, Region: fs.Region.Name,
		InUse: fs.IsInUse, MountPoint: fs.MountPoint, CreatedAt: fs.Created.Time,
	}
}
