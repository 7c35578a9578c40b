package coreweave

import (
	"context"
	"fmt"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Lost answers. A create whose answer was lost (timeout, reset, 5xx after sending) is never
// blindly sent again: CKS clusters and VPCs are looked for by their name (unique in an
// organization) and adopted; NodePools have names the adapter chooses, so their create is sent
// again and "already exists" is resolved by reading the pool (its launch-token label for an
// instance).

// adoptExisting decides about a cluster of the requested name that existed before the create.
// In the VPC made for a cluster of this name it is the result of an earlier attempt whose id
// never reached state, and is adopted. Anywhere else it may be someone else's: adopting it
// would have Terraform delete it one day, so it is a conflict (import it to manage it).
func (c *Cloud) adoptExisting(ctx context.Context, cl Cluster, spec clients.ClusterSpec, plan poolPlan) (*clients.Cluster, error) {
	owned, err := c.vpcOwnedBy(ctx, cl.VPCID, cl.Name)
	if err != nil {
		return nil, err
	}
	switch {
	case owned && (cl.Status == ClusterStatusDeleting || cl.Status == ClusterStatusDeleted):
		return nil, clients.Errorf(clients.ErrConflict, "CKS cluster %q (id %s) is still being deleted: apply again once it is gone", cl.Name, cl.ID)
	case owned && cl.Zone == spec.Region && (spec.AdoptSince.IsZero() || !cl.CreatedAt.Before(spec.AdoptSince)):
		// Created within the create timeout: an interrupted earlier apply of this resource.
		c.setPlan(cl.ID, plan)
		c.rememberCluster(&cl, owned)
		v := c.view(&cl, owned, &plan, nil, nil, nil)
		v.Adopted = "created by an earlier apply that was interrupted"
		return v, nil
	}
	return nil, clients.Errorf(clients.ErrConflict, "a CKS cluster named %q already exists (id %s, zone %s, %s, created %s) that this apply did not create. Nothing was created. "+
		"If it is this resource's cluster, import it:\n  terraform import <this resource's address> coreweave/%s\nor add an import block { to = <this resource's address>, id = \"coreweave/%s\" }. "+
		"If it belongs to another configuration, choose another name.",
		cl.Name, cl.ID, cl.Zone, cl.Status, cl.CreatedAt.UTC().Format(time.RFC3339), cl.ID, cl.ID)
}

// adoptCluster looks, for up to adoptWindow, for the cluster of a create whose answer was
// lost: one named name, in the VPC it was created in, that was not there before. It never
// creates. It keeps looking even when ctx has ended (the usual reason an answer is lost).
func (c *Cloud) adoptCluster(ctx context.Context, name, vpcID string, before map[string]bool, createErr error) (*Cluster, error) {
	found, err := c.adopt(ctx, "CKS cluster "+name, createErr, func(ctx context.Context) (*Cluster, error) {
		list, err := c.api.ListClusters(ctx)
		if err != nil {
			return nil, err
		}
		for i := range list {
			if list[i].Name == name && list[i].VPCID == vpcID && !before[list[i].ID] {
				return &list[i], nil
			}
		}
		return nil, nil
	})
	if err == nil || !isAlreadyExists(createErr) {
		return found, err
	}
	// already_exists, and no new cluster of ours: someone else's cluster has the name.
	return nil, createErr
}

// adopt looks for the object of a create whose answer was lost (see clients.Adopt) and, when
// it is not found, says so without creating again: either a look after the commit horizon
// proved it absent, or the looks failed until the operation's time ran out.
func adopt[T any](ctx context.Context, c *Cloud, what string, createErr error, look func(context.Context) (*T, error)) (*T, error) {
	v, lookErr := clients.Adopt(ctx, clients.AdoptPolicy{Window: c.adoptWindow, Interval: c.adoptInterval, MaxPause: c.pollMax}, look)
	switch {
	case v != nil:
		return v, nil
	case clients.IsConflict(lookErr):
		return nil, lookErr // found, but not ours: looking longer will not change that
	case lookErr == nil:
		return nil, fmt.Errorf("%v; a look %s after the create found no %s, so it was not created; it was not sent again: apply again to retry", createErr, c.adoptWindow, what)
	}
	return nil, &clients.KindError{Kind: clients.ErrOutcomeUnknown, Msg: fmt.Sprintf(
		"%v; the %s may still appear: the looks for it failed until the operation's time ran out (the last: %v), and the create was not repeated. "+
			"The next apply looks for it by name before creating", createErr, what, lookErr)}
}

// adopt is the method form of the generic adopt, for readability at call sites.
func (c *Cloud) adopt(ctx context.Context, what string, createErr error, look func(context.Context) (*Cluster, error)) (*Cluster, error) {
	return adopt(ctx, c, what, createErr, look)
}

// ensurePool creates a NodePool and returns it, or returns the pool of that name that exists
// already when ours accepts it as the result of this (or an earlier) create: pool names are
// chosen by the caller, so a create whose answer was lost is simply sent again, and "already
// exists" then means it went through. Transient failures are retried while ctx lasts.
func (c *Cloud) ensurePool(ctx context.Context, kc *KubeClient, p NodePool, ours func(*NodePool) bool) (*NodePool, error) {
	wait := c.adoptInterval
	var lastErr error
	// Bounded by ctx (the create timeout), not by a count: a 429 storm is ridden out.
	for {
		created, err := kc.CreateNodePool(ctx, p)
		if err == nil {
			return created, nil
		}
		if ctx.Err() != nil {
			// The create may have gone through before ctx ended: look, detached, before giving up.
			return c.adoptPool(ctx, kc, p.Metadata.Name, ours, err)
		}
		lastErr = err
		if clients.IsConflict(err) {
			existing, gerr := kc.GetNodePool(ctx, p.Metadata.Name)
			switch {
			case gerr == nil && ours(existing):
				return existing, nil
			case gerr == nil:
				return nil, clients.Errorf(clients.ErrConflict, "a node pool named %s already exists in the cluster and was not created by this launch: "+
					"choose another name, or delete that pool", p.Metadata.Name)
			case !clients.IsNotFound(gerr) && !transientKube(gerr):
				return nil, gerr
			}
			// Gone again, or unreadable for a moment: try once more.
		} else if !transientKube(err) {
			return nil, err
		}
		if err := pause(ctx, wait); err != nil {
			return c.adoptPool(ctx, kc, p.Metadata.Name, ours, lastErr)
		}
		wait = min(wait*2, c.pollMax)
	}
}

// adoptPool looks for a pool whose create ended with ctx, for up to adoptWindow.
func (c *Cloud) adoptPool(ctx context.Context, kc *KubeClient, name string, ours func(*NodePool) bool, createErr error) (*NodePool, error) {
	return adopt(ctx, c, "node pool "+name, createErr, func(ctx context.Context) (*NodePool, error) {
		p, err := kc.GetNodePool(ctx, name)
		if clients.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if !ours(p) {
			return nil, clients.Errorf(clients.ErrConflict, "node pool %s exists but was not created by this launch", name)
		}
		return p, nil
	})
}
