package coreweave

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// The VPC of a gpu_cluster: the one coreweave.vpc_id names, or one the adapter creates for the
// cluster and deletes with it (see ownedVPCName for how "created for it" is decided).

// Layout of a VPC the adapter creates: a /16 for node addresses and non-overlapping prefixes
// for pods, services and internal load balancers, named as the cluster's network config
// references them. Every VPC is its own address space, so each cluster may use the same ranges.
const (
	hostPrefixName  = "primary"
	hostCIDR        = "10.0.0.0/16"
	lbCIDRName      = "internal-lb-cidr"
	lbCIDR          = "10.1.0.0/22"
	serviceCIDRName = "service-cidr"
	serviceCIDR     = "10.96.0.0/16"
	podCIDRName     = "pod-cidr"
	podCIDR         = "10.128.0.0/13"
)

// ownedVPCName is the name of the VPC the adapter creates for a cluster: the cluster's name
// (cut to fit) plus "-vpc-" and six hex digits of a hash of the whole name, at most 30
// characters.
func ownedVPCName(clusterName string) string {
	sum := sha256.Sum256([]byte("neocloud-vpc:" + clusterName))
	suffix := "-vpc-" + hex.EncodeToString(sum[:3])
	base := clusterName
	if len(base) > maxNameLen-len(suffix) {
		base = base[:maxNameLen-len(suffix)]
	}
	base = strings.TrimRight(base, "-")
	if base == "" {
		base = "nc"
	}
	return base + suffix
}

// ensureVPC returns the VPC the cluster goes into, ready: the one vpcID names, or the one
// made for the cluster (created now unless an earlier attempt made it). owned reports that it
// is the one made for the cluster, createdNow that this call created it.
func (c *Cloud) ensureVPC(ctx context.Context, clusterName, zone, vpcID string) (vpc *VPC, owned, createdNow bool, err error) {
	if vpcID != "" {
		v, err := c.api.GetVPC(ctx, vpcID)
		if clients.IsNotFound(err) {
			return nil, false, false, clients.Errorf(clients.ErrInvalid, "CoreWeave has no VPC with id %s (coreweave.vpc_id)", vpcID)
		}
		if err != nil {
			return nil, false, false, err
		}
		if v.Zone != "" && v.Zone != zone {
			return nil, false, false, clients.Errorf(clients.ErrInvalid, "VPC %s (%s) is in zone %s, not %s: a CKS cluster must be in its VPC's zone", v.Name, v.ID, v.Zone, zone)
		}
		v, err = c.waitVPCReady(ctx, v)
		return v, v != nil && v.Name == ownedVPCName(clusterName), false, err
	}

	name := ownedVPCName(clusterName)
	v, err := c.findVPC(ctx, name)
	if err != nil {
		return nil, false, false, err
	}
	if v != nil && v.Status == VPCStatusDeleting {
		// Left by a cluster of the same name being deleted: wait for it to go.
		if err := c.waitVPCGone(ctx, v.ID); err != nil {
			return nil, false, false, fmt.Errorf("VPC %s of an earlier cluster named %s is still being deleted: %w", name, clusterName, err)
		}
		v = nil
	}
	if v != nil && v.Zone != zone {
		return nil, false, false, clients.Errorf(clients.ErrConflict, "VPC %s (%s), made for a cluster named %s, is in zone %s, not %s: delete it or choose another cluster name",
			v.Name, v.ID, clusterName, v.Zone, zone)
	}
	if v == nil {
		req := CreateVPCRequest{
			Name: name, Zone: zone,
			HostPrefixes: []HostPrefix{{Name: hostPrefixName, Type: HostPrefixPrimary, Prefixes: []string{hostCIDR}}},
			VPCPrefixes: []VPCPrefix{
				{Name: podCIDRName, Value: podCIDR},
				{Name: serviceCIDRName, Value: serviceCIDR},
				{Name: lbCIDRName, Value: lbCIDR},
			},
		}
		v, err = c.api.CreateVPC(ctx, req)
		switch {
		case err == nil && v.ID != "":
			createdNow = true
		case err == nil, errors.Is(err, clients.ErrOutcomeUnknown), isAlreadyExists(err):
			// Lost answer, or made meanwhile by a concurrent attempt: the name is ours either way.
			if err == nil {
				err = &clients.KindError{Kind: clients.ErrOutcomeUnknown, Msg: "create VPC: CoreWeave accepted the VPC but returned no id"}
			}
			createdNow = !isAlreadyExists(err)
			v, err = adopt(ctx, c, "VPC "+name, err, func(ctx context.Context) (*VPC, error) { return c.findVPC(ctx, name) })
			if err != nil {
				return nil, false, false, err
			}
		default:
			return nil, false, false, err
		}
	}
	v, err = c.waitVPCReady(ctx, v)
	if err != nil && createdNow {
		c.dropVPCAfterFailedCreate(ctx, v.ID)
	}
	return v, true, createdNow, err
}

// findVPC finds a VPC by name (names are unique in an organization); nil when there is none.
func (c *Cloud) findVPC(ctx context.Context, name string) (*VPC, error) {
	return clients.FindListed(ctx, c.api.ListVPCs, func(x *VPC) bool { return x.Name == name })
}

// waitVPCReady waits, for as long as ctx lasts, until a VPC is ready for a cluster (READY, or
// UPDATING, which keeps it usable).
func (c *Cloud) waitVPCReady(ctx context.Context, v *VPC) (*VPC, error) {
	cur := v
	err := poll(ctx, c.pollInitial, c.pollMax, func(ctx context.Context) (bool, error) {
		switch cur.Status {
		case VPCStatusReady, VPCStatusUpdating:
			return true, nil
		case VPCStatusDeleting:
			return false, clients.Errorf(clients.ErrConflict, "VPC %s (%s) is being deleted", cur.Name, cur.ID)
		}
		next, err := c.api.GetVPC(ctx, cur.ID)
		if err != nil {
			return false, err
		}
		cur = next
		return cur.Status == VPCStatusReady || cur.Status == VPCStatusUpdating, nil
	})
	if err != nil {
		return cur, fmt.Errorf("waiting for VPC %s (%s) to be ready (it is %s): %w", cur.Name, cur.ID, cur.Status, err)
	}
	return cur, nil
}

// waitVPCGone waits until GET answers not found.
func (c *Cloud) waitVPCGone(ctx context.Context, id string) error {
	return poll(ctx, c.pollInitial, c.pollMax, func(ctx context.Context) (bool, error) {
		_, err := c.api.GetVPC(ctx, id)
		if clients.IsNotFound(err) {
			return true, nil
		}
		return false, ignoreRateLimit(err)
	})
}

// dropVPCAfterFailedCreate deletes a VPC this call created when the cluster could not be
// created in it, so a refused create leaves nothing behind. Best effort, bounded, also after
// ctx has ended.
func (c *Cloud) dropVPCAfterFailedCreate(ctx context.Context, id string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = c.api.DeleteVPC(dctx, id)
}

// clusterNetwork names the VPC prefixes the cluster uses for pods, services and internal
// load balancers: the adapter's own names, or, in a VPC someone else made, the one prefix whose
// name says "pod" and the one that says "service" (or "svc").
func clusterNetwork(v *VPC) (ClusterNetwork, error) {
	byName := func(exact string, words ...string) string {
		var hits []string
		for _, p := range v.VPCPrefixes {
			if p.Name == exact {
				return p.Name
			}
			lower := strings.ToLower(p.Name)
			for _, w := range words {
				if strings.Contains(lower, w) {
					hits = append(hits, p.Name)
					break
				}
			}
		}
		if len(hits) == 1 {
			return hits[0]
		}
		return ""
	}
	n := ClusterNetwork{
		PodCIDRName:     byName(podCIDRName, "pod"),
		ServiceCIDRName: byName(serviceCIDRName, "service", "svc"),
	}
	if lb := byName(lbCIDRName, "lb", "load"); lb != "" && lb != n.PodCIDRName && lb != n.ServiceCIDRName {
		n.InternalLBCIDRNames = []string{lb}
	}
	if n.PodCIDRName == "" || n.ServiceCIDRName == "" || n.PodCIDRName == n.ServiceCIDRName {
		names := make([]string, len(v.VPCPrefixes))
		for i, p := range v.VPCPrefixes {
			names[i] = p.Name
		}
		return n, clients.Errorf(clients.ErrInvalid, "VPC %s (%s) needs VPC prefixes for pod and service addresses named %q and %q (it has: %s); "+
			"or leave coreweave.vpc_id out and the provider creates a VPC for the cluster",
			v.Name, v.ID, podCIDRName, serviceCIDRName, strings.Join(names, ", "))
	}
	return n, nil
}

// vpcOwnedBy reports whether the VPC is the one the adapter made for a cluster of that name.
// VPC names never change, so they are cached.
func (c *Cloud) vpcOwnedBy(ctx context.Context, vpcID, clusterName string) (bool, error) {
	if vpcID == "" {
		return false, nil
	}
	c.mu.Lock()
	name, ok := c.vpcNames[vpcID]
	c.mu.Unlock()
	if !ok {
		v, err := c.api.GetVPC(ctx, vpcID)
		if clients.IsNotFound(err) {
			return false, nil // gone: nothing to delete
		}
		if err != nil {
			return false, err
		}
		name = v.Name
		c.mu.Lock()
		c.vpcNames[vpcID] = name
		c.mu.Unlock()
	}
	return name == ownedVPCName(clusterName), nil
}

// deleteOwnedVPC deletes a VPC made for a cluster and waits for it to go. CoreWeave refuses to
// delete a VPC a cluster still uses (failed_precondition, ErrConflict) for a while after the
// cluster is gone; that is retried while ctx lasts.
func (c *Cloud) deleteOwnedVPC(ctx context.Context, vpcID string) error {
	if vpcID == "" {
		return nil
	}
	err := poll(ctx, c.pollInitial, c.pollMax, func(ctx context.Context) (bool, error) {
		err := c.api.DeleteVPC(ctx, vpcID)
		switch {
		case err == nil, clients.IsNotFound(err):
			return true, nil
		case clients.IsConflict(err):
			return false, nil
		}
		return false, ignoreRateLimit(err)
	})
	if err != nil {
		return fmt.Errorf("deleting VPC %s: %w", vpcID, err)
	}
	if err := c.waitVPCGone(ctx, vpcID); err != nil {
		return fmt.Errorf("waiting for VPC %s to be deleted: %w", vpcID, err)
	}
	c.mu.Lock()
	delete(c.vpcNames, vpcID)
	c.mu.Unlock()
	return nil
}
