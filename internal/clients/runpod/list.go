package runpod

import (
	"context"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

var _ clients.InstanceLister = (*Cloud)(nil)

// ListInstances lists the account's pods from the shared snapshot, terminated ones left out.
func (c *Cloud) ListInstances(ctx context.Context) ([]clients.Instance, error) {
	list, err := c.pods.Get(ctx, clients.NotBefore(ctx, c.podTTL))
	if err != nil {
		return nil, err
	}
	out := make([]clients.Instance, 0, len(list))
	for _, p := range list {
		if inst := InstanceFromPod(p); !inst.Gone() {
			out = append(out, *inst)
		}
	}
	return out, nil
}
