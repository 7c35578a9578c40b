package lambda

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Where a Lambda cluster lives and how its nodes reach each other: the region choice, the
// shared filesystem, and the firewall ruleset that opens the nodes' private network to each
// other (kept in step with the membership).

// clusterRegion decides where the cluster lives (see CreateCluster). Parts that already exist
// pin it, and contradict an explicit region with an error rather than a failed launch.
func (c *Cloud) clusterRegion(ctx context.Context, spec clients.ClusterSpec, it clients.InstanceType, existing []member, rs *FirewallRuleset, fs *Filesystem) (string, error) {
	region, from := spec.Region, "region"
	pin := func(r, what string) error {
		switch {
		case r == "":
		case region == "":
			region, from = r, what
		case r != region:
			return clients.Errorf(clients.ErrInvalid, "%s is in region %s but %s is %s; a Lambda Cloud cluster lives in one region", what, r, from, region)
		}
		return nil
	}
	for _, m := range existing {
		if err := pin(m.w.Region.Name, "existing node "+m.w.Name); err != nil {
			return "", err
		}
	}
	if rs != nil {
		if err := pin(rs.Region.Name, "firewall ruleset "+rs.Name); err != nil {
			return "", err
		}
	}
	if fs != nil {
		if err := pin(fs.Region.Name, "filesystem "+fs.Name); err != nil {
			return "", err
		}
	}
	if region != "" {
		return region, nil
	}
	items, err := c.types.Get(ctx, time.Now().Add(-c.typesTTL))
	if err != nil {
		return "", err
	}
	item, ok := items[it.Name]
	if !ok {
		return "", clients.Errorf(clients.ErrInvalid, "Lambda Cloud does not offer instance type %s (offered: %s)", it.Name, strings.Join(slices.Sorted(maps.Keys(items)), ", "))
	}
	var regions []string
	for _, r := range item.RegionsWithCapacityAvailable {
		if r.Name != "" {
			regions = append(regions, r.Name)
		}
	}
	if len(regions) == 0 {
		return "", &clients.CapacityError{Attempts: []clients.CapacityAttempt{{
			Cloud: cloudName, InstanceType: it.Name,
			Err: &clients.KindError{Kind: clients.ErrCapacity, Msg: fmt.Sprintf(
				"Lambda Cloud reports no region with capacity for %s; try another GPU type, a smaller cluster, or again later", it.Name)},
		}}}
	}
	sort.Strings(regions)
	return regions[0], nil
}

// filesystemNamed finds a filesystem by name (names are unique in an account), or nil.
func (c *Cloud) filesystemNamed(ctx context.Context, name string) (*Filesystem, error) {
	return clients.FindListed(ctx, c.api.ListFilesystems, func(x *Filesystem) bool { return x.Name == name })
}

// ruleDescription marks the rules the adapter writes; a ruleset whose rules all carry it for
// this cluster is the cluster's own.
func ruleDescription(cluster string) string { return "neocloud cluster " + cluster }

// clusterRuleset finds the cluster's firewall ruleset, or nil. A ruleset of that name belongs
// to the cluster when a node uses it or when every rule in it is one the adapter wrote for the
// cluster (an empty one included); any other ruleset of that name is someone else's, and
// taking it over would overwrite its rules, so it is a conflict.
func (c *Cloud) clusterRuleset(ctx context.Context, name string, nodes []member) (*FirewallRuleset, error) {
	rs, err := c.rulesetNamed(ctx, name)
	if err != nil || rs == nil {
		return nil, err
	}
	for _, m := range nodes {
		if slices.ContainsFunc(m.w.FirewallRulesets, func(e FirewallRulesetEntry) bool { return e.ID == rs.ID }) {
			return rs, nil
		}
	}
	for _, r := range rs.Rules {
		if !strings.HasPrefix(r.Description, ruleDescription(name)) {
			return nil, &clients.KindError{Kind: clients.ErrConflict, Msg: fmt.Sprintf(
				"Lambda Cloud already has a firewall ruleset named %s (id %s) with rules this provider did not write; "+
					"a cluster's ruleset is named after the cluster: choose another cluster name or rename that ruleset", name, rs.ID)}
		}
	}
	return rs, nil
}

func (c *Cloud) rulesetNamed(ctx context.Context, name string) (*FirewallRuleset, error) {
	return clients.FindListed(ctx, c.api.ListFirewallRulesets, func(x *FirewallRuleset) bool { return x.Name == name })
}

// createClusterRuleset creates the cluster's (empty) ruleset; one created meanwhile by a
// concurrent create of the same cluster is used instead.
func (c *Cloud) createClusterRuleset(ctx context.Context, name, region string) (*FirewallRuleset, error) {
	rs, err := c.CreateFirewallRuleset(ctx, name, region, nil)
	if clients.IsConflict(err) {
		if found, ferr := c.clusterRuleset(ctx, name, nil); ferr == nil && found != nil {
			return found, nil
		}
	}
	return rs, err
}

// clusterRules are the rules that open the cluster to itself: all traffic from each node's
// private address. Protocol "all" with the full port range: the API document requires a range
// for every protocol but icmp.
func clusterRules(cluster string, nodes []member) []FirewallRule {
	rules := []FirewallRule{}
	seen := map[string]bool{}
	for _, m := range nodes {
		ip := m.w.PrivateIP
		if ip == "" || seen[ip] {
			continue
		}
		seen[ip] = true
		rules = append(rules, FirewallRule{
			Protocol: ProtocolAll, PortRange: []int{1, 65535}, SourceNetwork: ip + "/32",
			Description: fmt.Sprintf("%s: node %s (%s)", ruleDescription(cluster), strconv.Itoa(m.rank), m.w.ID),
		})
	}
	return rules
}

// coveredIPs are the single addresses a ruleset allows everything from.
func coveredIPs(rules []FirewallRule) map[string]bool {
	out := map[string]bool{}
	for _, r := range rules {
		if r.Protocol != ProtocolAll {
			continue
		}
		if p, err := netip.ParsePrefix(r.SourceNetwork); err == nil && p.Bits() == 32 {
			out[p.Addr().String()] = true
		} else if a, err := netip.ParseAddr(r.SourceNetwork); err == nil {
			out[a.String()] = true
		}
	}
	return out
}

// syncRuleset makes the ruleset allow exactly the nodes' private addresses (of the nodes that
// have one yet), with one PATCH when the addresses differ from the rules' and none otherwise.
func (c *Cloud) syncRuleset(ctx context.Context, cluster string, rs *FirewallRuleset, nodes []member) error {
	want := clusterRules(cluster, nodes)
	have := coveredIPs(rs.Rules)
	wantIPs := coveredIPs(want)
	if maps.Equal(have, wantIPs) {
		return nil
	}
	updated, err := c.api.UpdateFirewallRuleset(ctx, rs.ID, FirewallRulesetPatchRequest{Rules: &want})
	if err != nil {
		return fmt.Errorf("opening firewall ruleset %s to the cluster's nodes: %w", rs.Name, err)
	}
	tflog.SubsystemDebug(ctx, cloudName, "cluster firewall ruleset updated", map[string]any{"cluster": cluster, "rules": len(want)})
	*rs = *updated
	return nil
}

// ownedFilesystem is the filesystem DeleteCluster deletes with the cluster, or nil. Lambda
// filesystems carry no tags, so ownership is read from names, times and mounts: a cluster owns
// the filesystem named exactly like the cluster, in its region, created no earlier than the
// cluster's ruleset (CreateCluster creates the ruleset first, then a filesystem it has to
// make), and mounted by the cluster's nodes (checked while any tagged instance is still
// listed; tagged lists the cluster's instances, gone ones included). A filesystem of another
// name, one that existed before the cluster, or one the nodes do not mount is the user's and is
// kept, as is one still mounted by an instance outside the cluster.
func (c *Cloud) ownedFilesystem(ctx context.Context, cluster string, rs *FirewallRuleset, tagged []Instance) (*Filesystem, error) {
	fs, err := c.filesystemNamed(ctx, cluster)
	if err != nil || fs == nil {
		return nil, err
	}
	if fs.Region.Name != rs.Region.Name || fs.Created.Before(rs.Created.Time) {
		return nil, nil
	}
	if len(tagged) > 0 && !slices.ContainsFunc(tagged, func(w Instance) bool { return slices.Contains(w.FileSystemNames, fs.Name) }) {
		return nil, nil
	}
	list, err := c.instances.Get(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	for _, w := range list {
		if !gone(w) && slices.Contains(w.FileSystemNames, fs.Name) {
			tflog.SubsystemWarn(ctx, cloudName, "keeping the cluster's filesystem: another instance mounts it", map[string]any{
				"cluster": cluster, "filesystem": fs.Name, "instance": w.ID,
			})
			return nil, nil
		}
	}
	return fs, nil
}

// deleteWhileInUse calls del until it stops answering "in use" (ErrConflict), bounded by ctx.
func deleteWhileInUse(ctx context.Context, pacing clients.Pacing, del func(context.Context) error) error {
	return pacing.Poll(ctx, func(ctx context.Context) (bool, error) {
		err := del(ctx)
		if clients.IsConflict(err) {
			return false, nil
		}
		return err == nil, err
	})
}
