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

// ListFilesystems lists the account's filesystems.
func (c *Cloud) ListFilesystems(ctx context.Context) ([]Filesystem, error) {
	return c.api.ListFilesystems(ctx)
}

// CreateFilesystem creates a filesystem in a region. When the answer is lost, a filesystem of
// that name in that region is looked for and adopted (names are unique in an account).
func (c *Cloud) CreateFilesystem(ctx context.Context, name, region string) (*Filesystem, error) {
	fs, err := c.api.CreateFilesystem(ctx, FilesystemCreateRequest{Name: name, Region: region})
	return settleNamed(ctx, fs, err, "filesystem", name, region, c.api.ListFilesystems,
		func(f *Filesystem) bool { return f.Name == name && f.Region.Name == region })
}

// GetFilesystem finds a filesystem by id (the API has no single-filesystem read).
func (c *Cloud) GetFilesystem(ctx context.Context, id string) (*Filesystem, error) {
	fs, err := clients.FindListed(ctx, c.api.ListFilesystems, func(f *Filesystem) bool { return f.ID == id })
	if fs != nil || err != nil {
		return fs, err
	}
	return nil, &clients.KindError{Kind: clients.ErrNotFound, Msg: "Lambda Cloud has no filesystem with id " + id}
}

// DeleteFilesystem deletes a filesystem; one already gone counts as deleted. A filesystem still
// mounted is refused by Lambda (ErrConflict, filesystems/filesystem-in-use).
func (c *Cloud) DeleteFilesystem(ctx context.Context, id string) error {
	_, err := c.api.DeleteFilesystem(ctx, id)
	if clients.IsNotFound(err) {
		return nil
	}
	return err
}
