package lambda

import (
	"context"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

var _ clients.InstanceLister = (*Cloud)(nil)

// ListInstances lists the account's instances from the shared snapshot, terminated ones left out.
func (c *Cloud) ListInstances(ctx context.Context) ([]clients.Instance, error) {
	list, err := c.instances.Get(ctx, clients.NotBefore(ctx, c.instanceTTL))
	if err != nil {
		return nil, err
	}
	out := make([]clients.Instance, 0, len(list))
	for _, w := range list {
		inst, err := c.toNeutral(ctx, w)
		if err != nil {
			return nil, err
		}
		if !inst.Gone() {
			out = append(out, *inst)
		}
	}
	return out, nil
}
