package coreweave

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// NodePools and their Nodes as the neutral types see them: reads through the per-cluster
// snapshots, retries of idempotent Kubernetes calls, node ranking and statuses, and the
// problem a pool reports through its conditions.

// poolAndNodes reads a pool and its nodes from the cluster's shared snapshots, at most
// kubeTTL old: refreshing many instances of one cluster costs one NodePool list and one Node
// list. A pool the list lacks is confirmed with a GET (only that may say "not found"): a pool
// created a moment ago may be missing from a list computed just before.
func (c *Cloud) poolAndNodes(ctx context.Context, kc *KubeClient, name string) (*NodePool, []Node, error) {
	notBefore := clients.NotBefore(ctx, c.kubeTTL)
	pools, err := kc.pools.Get(ctx, notBefore)
	if err != nil {
		return nil, nil, err
	}
	pool := poolNamed(pools, name)
	if pool == nil {
		if pool, err = kc.GetNodePool(ctx, name); err != nil {
			return nil, nil, err
		}
	}
	all, err := kc.nodes.Get(ctx, notBefore)
	if err != nil {
		return nil, nil, err
	}
	var nodes []Node
	for _, n := range all {
		if n.Metadata.Labels[LabelNodePool] == name {
			nodes = append(nodes, n)
		}
	}
	return pool, nodes, nil
}

// transientKube reports Kubernetes API failures worth another try: no answer, 5xx, 429.
func transientKube(err error) bool {
	// A request that timed out on its own (the caller's context still running) may be sent
	// again: every call retried with this is idempotent or a create of a named object.
	if IsAPIServerUnavailable(err) || errors.Is(err, clients.ErrRateLimited) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var apiErr *clients.APIError
	return errors.As(err, &apiErr) && apiErr.Kind == nil
}

// retryKube runs an idempotent Kubernetes call, again after transient failures, while ctx
// lasts (a call without a deadline: the read budget), bounded by time, not a count.
func retryKube(ctx context.Context, c *Cloud, call func(context.Context) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*c.kube.cfg.ReadBudget) // longer than one read's own budget
		defer cancel()
	}
	wait := c.adoptInterval
	var answer error // the last failure that was an answer, not the budget running out
	for {
		err := call(ctx)
		if err != nil && ctx.Err() != nil && answer != nil && errors.Is(err, context.DeadlineExceeded) {
			return answer
		}
		if err == nil || !transientKube(err) {
			return err
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			answer = err
		}
		if perr := pause(ctx, wait); perr != nil {
			return err
		}
		wait = min(wait*2, c.pollMax)
	}
}

// poolTarget is the number of nodes a pool asks for: targetRacks racks of a rack-scale type
// when set (a pool made outside the provider), else targetNodes.
func poolTarget(p *NodePool) int {
	if p.Spec.TargetRacks != nil {
		if r := rackNodes(p.Spec.InstanceType); r > 0 {
			return *p.Spec.TargetRacks * r
		}
	}
	return p.Spec.TargetNodes
}

// clusterNodes turns a pool's nodes into cluster nodes in rank order: node names end in their
// index in the pool (…-0, …-1, …-10), so they are ordered by that number, then by name.
func clusterNodes(nodes []Node) []clients.ClusterNode {
	sorted := slices.Clone(nodes)
	slices.SortStableFunc(sorted, func(a, b Node) int {
		pa, na := splitIndex(a.Metadata.Name)
		pb, nb := splitIndex(b.Metadata.Name)
		if pa != pb {
			return strings.Compare(pa, pb)
		}
		return cmp.Compare(na, nb)
	})
	out := make([]clients.ClusterNode, len(sorted))
	for i, n := range sorted {
		role := "worker"
		if i == 0 {
			role = "head"
		}
		out[i] = clients.ClusterNode{
			ID: n.Metadata.Name, Name: n.Metadata.Name, Rank: i, Role: role,
			Status: nodeStatus(n), PublicIP: n.Address("ExternalIP"), PrivateIP: n.Address("InternalIP"),
			// SSHHost/SSHPort stay empty: CoreWeave nodes are reached through Kubernetes.
		}
	}
	return out
}

// splitIndex splits a trailing "-<number>" off a node name (-1 when there is none).
func splitIndex(name string) (string, int) {
	i := strings.LastIndex(name, "-")
	if i < 0 {
		return name, -1
	}
	n, err := strconv.Atoi(name[i+1:])
	if err != nil {
		return name, -1
	}
	return name[:i], n
}

// nodeStatus is a node's neutral status: running when Ready with an address, terminating when
// cordoned on its way out, pending otherwise (registering, or NotReady for a while).
func nodeStatus(n Node) string {
	switch {
	case n.Ready() && (n.Address("InternalIP") != "" || n.Address("ExternalIP") != ""):
		return clients.StatusRunning
	case n.Metadata.DeletionTimestamp != nil || (n.Spec.Unschedulable && !n.Ready()):
		return clients.StatusTerminating
	}
	return clients.StatusPending
}

// progressWords mark a False condition that only says "not there yet".
var progressWords = []string{"scal", "progress", "pending", "provision", "delet", "reconcil", "creat", "wait"}

// poolProblem is the first False condition of a pool that is a problem rather than progress
// ("InsufficientCapacity: no free gd-8xh100ib-i128 nodes in US-EAST-04A ..."); capacity
// conditions come first. CoreWeave does not publish its condition types, so reasons are read.
func poolProblem(p *NodePool) string {
	if p.Status == nil {
		return ""
	}
	var other string
	for _, cd := range p.Status.Conditions {
		if cd.Status != "False" {
			continue
		}
		text := strings.TrimSpace(strings.Trim(cd.Reason+": "+cd.Message, ": "))
		if isCapacityText(cd.Reason) || isCapacityText(cd.Message) {
			return text
		}
		reason := strings.ToLower(cd.Reason)
		progress := false
		for _, w := range progressWords {
			if strings.Contains(reason, w) {
				progress = true
				break
			}
		}
		if !progress && other == "" {
			other = text
		}
	}
	return other
}

// capacityReason is the reason of a pool's capacity condition, if it has one that is False.
func capacityReason(p *NodePool) (string, bool) {
	if p.Status == nil {
		return "", false
	}
	for _, cd := range p.Status.Conditions {
		if cd.Status == "False" && (isCapacityText(cd.Reason) || isCapacityText(cd.Message)) {
			return cmp.Or(cd.Reason, "InsufficientCapacity"), true
		}
	}
	return "", false
}

// poolNamed is a copy of the pool of that name in a list, nil when the list has none.
func poolNamed(pools []NodePool, name string) *NodePool {
	for i := range pools {
		if pools[i].Metadata.Name == name {
			p := pools[i]
			return &p
		}
	}
	return nil
}
