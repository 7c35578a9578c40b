package lambda

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Cluster membership: which instances belong to a cluster (by tag), their ranks and roles, and
// the neutral view of the cluster they make.

func roleOf(rank int) string {
	switch {
	case rank == 0:
		return "head"
	case rank > 0:
		return "worker"
	}
	return ""
}

// member is one instance tagged as a node of a cluster; rank is -1 when its rank tag is
// missing or unreadable.
type member struct {
	w    Instance
	rank int
}

func tagValue(w Instance, key string) string {
	for _, t := range w.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// gone reports whether an instance is terminating or terminated: no longer part of a cluster.
func gone(w Instance) bool {
	s := neutralStatus(w.Status)
	return s == clients.StatusTerminating || s == clients.StatusTerminated
}

// members are the live (not terminating or terminated) instances tagged with the cluster's
// name, in rank order; unranked ones last, by name.
func members(list []Instance, cluster string) []member {
	var out []member
	for _, w := range list {
		if tagValue(w, ClusterTag) != cluster || gone(w) {
			continue
		}
		rank, err := strconv.Atoi(tagValue(w, RankTag))
		if err != nil || rank < 0 {
			rank = -1
		}
		out = append(out, member{w: w, rank: rank})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.rank < 0) != (b.rank < 0) {
			return b.rank < 0
		}
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		return cmp.Or(cmp.Compare(a.w.Name, b.w.Name), cmp.Compare(a.w.ID, b.w.ID)) < 0
	})
	return out
}

// nodeKeyIDs lists the SSH keys the nodes were launched with, as key ids (Lambda reports key
// names; a name whose key was deleted stays a name, as for instances), sorted and without
// repeats.
func (c *Cloud) nodeKeyIDs(ctx context.Context, nodes []member) ([]string, error) {
	var names []string
	for _, m := range nodes {
		for _, n := range m.w.SSHKeyNames {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	if ids, ok := clients.KnownSSHKeys(ctx); ok && len(ids) == len(names) {
		// Known from state, and Lambda never changes a machine's keys (see toNeutral).
		ids = slices.Clone(ids)
		slices.Sort(ids)
		return slices.Compact(ids), nil
	}
	byName, err := c.keyIDsByName(ctx, names)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(names))
	for _, n := range names {
		ids = append(ids, cmp.Or(byName[n], n))
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// clusterOf maps a cluster's nodes and ruleset onto the neutral cluster (see GetCluster);
// syncErr says why the ruleset does not cover the nodes yet (the cluster is then not ready).
func clusterOf(name string, rs *FirewallRuleset, nodes []member, syncErr error) *clients.Cluster {
	cl := &clients.Cluster{ID: name, Cloud: cloudName, Name: name, NodeCount: len(nodes)}
	if rs != nil {
		cl.Region, cl.CreatedAt = rs.Region.Name, rs.Created.Time
	}
	var problems []string
	byStatus := map[string]int{}
	ranks := map[int]int{}
	active, maxRank := 0, -1
	for _, m := range nodes {
		inst := mapInstance(m.w, nil)
		cl.Nodes = append(cl.Nodes, clients.ClusterNode{
			ID: m.w.ID, Name: m.w.Name, Rank: m.rank, Role: roleOf(m.rank), Status: inst.Status,
			PublicIP: inst.PublicIP, PrivateIP: inst.PrivateIP, SSHHost: inst.SSHHost, SSHPort: inst.SSHPort, SSHUser: inst.SSHUser,
		})
		if cl.InstanceType == "" {
			cl.InstanceType, cl.GPUType, cl.GPUsPerNode = inst.InstanceType, inst.GPUType, inst.GPUCount
		}
		cl.Region = cmp.Or(cl.Region, inst.Region)
		cl.PricePerHour += inst.PricePerHour
		if m.rank == 0 && cl.HeadNodeIP == "" {
			cl.HeadNodeIP = inst.PrivateIP
		}
		byStatus[m.w.Status]++
		ranks[m.rank]++
		maxRank = max(maxRank, m.rank)
		if inst.Ready && inst.PrivateIP != "" {
			active++
		}
		switch {
		case m.rank < 0:
			problems = append(problems, fmt.Sprintf("instance %s (%s) has no readable %s tag", m.w.ID, m.w.Name, RankTag))
		case ranks[m.rank] == 2:
			problems = append(problems, fmt.Sprintf("rank %d has more than one instance", m.rank))
		}
		if inst.Status == clients.StatusUnhealthy {
			problems = append(problems, fmt.Sprintf("node %d (%s) is unhealthy", m.rank, m.w.ID))
		}
	}
	var missing []string
	for r := range maxRank + 1 {
		if ranks[r] == 0 {
			missing = append(missing, strconv.Itoa(r))
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "node rank(s) "+strings.Join(missing, ", ")+" missing (terminated or preempted)")
	}
	if len(nodes) == 0 {
		problems = append(problems, "no node exists")
	}
	if rs == nil {
		problems = append(problems, "the firewall ruleset "+name+" is missing, so the nodes cannot reach each other")
	}
	parts := make([]string, 0, len(byStatus))
	for _, s := range slices.Sorted(maps.Keys(byStatus)) {
		parts = append(parts, fmt.Sprintf("%s=%d", s, byStatus[s]))
	}
	cl.NativeStatus = strings.Join(parts, ",")

	switch {
	case len(problems) > 0:
		cl.Status, cl.Problem = clients.ClusterDegraded, strings.Join(problems, "; ")
	case active == len(nodes) && syncErr == nil:
		cl.Status, cl.Ready = clients.ClusterRunning, true
	default:
		cl.Status = clients.ClusterPending
		if syncErr != nil {
			cl.Problem = syncErr.Error()
		}
	}
	return cl
}

// otherClusterField names the first set field of an update outside known, so that fields added
// to ClusterUpdate later are refused until this adapter learns them.
func otherClusterField(u clients.ClusterUpdate, known ...string) string {
	v := reflect.ValueOf(u)
	for i := range v.NumField() {
		if f := v.Type().Field(i); !slices.Contains(known, f.Name) && !v.Field(i).IsZero() {
			return f.Name
		}
	}
	return ""
}
