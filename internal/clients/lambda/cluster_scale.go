package lambda

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Growing and shrinking a cluster in place: new nodes take the free ranks with the settings of
// the cluster's spec (or of its nodes).

// ScaleCluster changes a cluster to nodeCount nodes. Scaling down terminates the highest ranks
// (and closes the ruleset to them); scaling up launches the lowest free ranks, paced like a
// create, with the settings of spec when given and otherwise those of the cluster's nodes:
// region, instance type, SSH key, filesystem, ruleset, and the image from the node's image tag.
// Lambda does not report user data, so a cluster launched with user data can only grow with
// the spec (clients.ErrUnsupported otherwise). Capacity running out at node k returns the
// cluster as it now is together with a *clients.CapacityError naming the rank.
func (c *Cloud) ScaleCluster(ctx context.Context, name string, nodeCount int, spec *clients.ClusterSpec) (*clients.Cluster, error) {
	if err := checkClusterName(name); err != nil {
		return nil, err
	}
	if nodeCount < ClusterMinNodes || nodeCount > ClusterMaxNodes {
		return nil, clients.Errorf(clients.ErrInvalid, "a Lambda Cloud cluster has %d to %d nodes, not %d", ClusterMinNodes, ClusterMaxNodes, nodeCount)
	}
	list, err := c.instances.Get(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	nodes := members(list, name)
	rs, err := c.clusterRuleset(ctx, name, nodes)
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 && rs == nil {
		return nil, &clients.KindError{Kind: clients.ErrNotFound, Msg: "Lambda Cloud has no cluster named " + name}
	}

	if len(nodes) > nodeCount {
		// Highest ranks first (unranked ones sort last and go first).
		drop := nodes[nodeCount:]
		ids := make([]string, len(drop))
		for i, m := range drop {
			ids[i] = m.w.ID
		}
		if err := c.terminate(ctx, ids); err != nil {
			return nil, err
		}
		nodes = nodes[:nodeCount]
		if rs != nil {
			if err := c.syncRuleset(ctx, name, rs, nodes); err != nil {
				return nil, err
			}
		}
		return c.GetCluster(ctx, name)
	}
	if len(nodes) == nodeCount {
		return c.GetCluster(ctx, name)
	}

	p, err := c.scaleParams(ctx, name, nodes, rs, spec)
	if err != nil {
		return nil, err
	}
	p.nodes = nodeCount
	taken := map[int]bool{}
	for _, m := range nodes {
		taken[m.rank] = true
	}
	for rank, have := 0, len(nodes); have < nodeCount; rank++ {
		if taken[rank] {
			continue
		}
		if _, err := c.launchNode(ctx, p, rank); err != nil {
			err = nodeError(p, rank, err)
			cl, gerr := c.GetCluster(ctx, name)
			if gerr != nil {
				return nil, errors.Join(err, gerr)
			}
			return cl, err
		}
		have++
	}
	return c.GetCluster(ctx, name)
}

// scaleParams are the launch settings of nodes added to an existing cluster.
func (c *Cloud) scaleParams(ctx context.Context, name string, nodes []member, rs *FirewallRuleset, spec *clients.ClusterSpec) (nodeParams, error) {
	p := nodeParams{cluster: name, token: clients.RandomToken()}
	if rs == nil {
		// Nodes without their ruleset could not reach the others; a new one is made in the
		// nodes' region.
		var err error
		if len(nodes) == 0 {
			return p, &clients.KindError{Kind: clients.ErrNotFound, Msg: "Lambda Cloud has no cluster named " + name}
		}
		if rs, err = c.createClusterRuleset(ctx, name, nodes[0].w.Region.Name); err != nil {
			return p, err
		}
	}
	p.rulesetID = rs.ID
	if spec != nil {
		it, err := c.clusterInstanceType(*spec)
		if err != nil {
			return p, err
		}
		p.instanceType, p.sshKeyIDs = it, spec.SSHKeyIDs
		p.region = cmp.Or(rs.Region.Name, spec.Region)
		o, err := clusterOptions(*spec)
		if err != nil {
			return p, err
		}
		p.image, p.userData, p.fileSystem = o.Image, o.UserData, o.FileSystemName
		return p, nil
	}
	if len(nodes) == 0 {
		return p, clients.Errorf(clients.ErrUnsupported, "Lambda Cloud cluster %s has no node left to copy settings from: growing it needs its full settings", name)
	}
	w := nodes[0].w
	if tagValue(w, ClusterUserDataTag) != "" {
		return p, clients.Errorf(clients.ErrUnsupported, "Lambda Cloud cluster %s was launched with user data, which Lambda does not report back: "+
			"new nodes need the cluster's settings (ScaleCluster with the spec)", name)
	}
	it, err := c.ResolveInstanceType(w.InstanceType.Name, 0)
	if err != nil {
		return p, err
	}
	p.instanceType, p.sshKeyIDs, p.region = it, slices.Clone(w.SSHKeyNames), cmp.Or(rs.Region.Name, w.Region.Name)
	p.image = tagValue(w, ClusterImageTag)
	if len(w.FileSystemNames) > 0 {
		p.fileSystem = w.FileSystemNames[0]
	}
	return p, nil
}
