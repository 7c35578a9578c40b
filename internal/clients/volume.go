package clients

import (
	"context"
	"time"
)

// VolumeCloud is implemented by clouds with persistent storage that outlives machines (a
// Lambda filesystem, a RunPod network volume). The provider asks for it with a type assertion
// and says at plan time when a cloud has none.
type VolumeCloud interface {
	VolumeRules() VolumeRules
	CreateVolume(ctx context.Context, spec VolumeSpec) (*Volume, error)
	// GetVolume reads one volume; ErrNotFound when it does not exist.
	GetVolume(ctx context.Context, id string) (*Volume, error)
	// ResizeVolume grows a volume in place where VolumeRules.Growable.
	ResizeVolume(ctx context.Context, id string, sizeGB int) (*Volume, error)
	// DeleteVolume deletes a volume; one already gone counts as deleted.
	DeleteVolume(ctx context.Context, id string) error
}

// VolumeRules say what a cloud's volumes can be, for plan-time checks.
type VolumeRules struct {
	// Sized volumes have a fixed capacity (RunPod); unsized ones grow with use (Lambda).
	Sized bool
	// Growable volumes can be made larger in place; none can shrink.
	Growable    bool
	MinSizeGB   int
	MaxSizeGB   int
	Types       []string
	DefaultType string
}

// VolumeSpec describes a volume to create.
type VolumeSpec struct {
	Name   string
	Region string
	SizeGB int
	Type   string
}

// Volume is the neutral view of a volume.
type Volume struct {
	ID         string
	Cloud      string
	Name       string
	Region     string
	SizeGB     int
	Type       string
	InUse      bool
	MountPoint string
	CreatedAt  time.Time
}
