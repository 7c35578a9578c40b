package lambda

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// A neutral cluster on Lambda Cloud is a group of instances of one type in one region that
// Lambda itself does not know as a group. The adapter makes it one:
//
//   - The cluster's id is its name ("pretrain"; import id lambda/pretrain). Node r is the
//     instance named "<name>-<r>", tagged neocloud-cluster=<name> and neocloud-rank=<r>, plus
//     the launch-token tag every launch carries. Nodes are found by tag in the shared instance
//     snapshot, so a node that state lost (a lost launch answer, a crash mid-create) is still
//     part of the cluster: it is read, counted and deleted with the others.
//   - A firewall ruleset named after the cluster is attached to every node at launch and
//     allows all traffic from the nodes' private addresses (one rule per node). Nodes have no
//     private address until they boot, so GetCluster brings the rules up to date whenever the
//     nodes' addresses and the rules differ; a cluster is Ready only once they match. The
//     account's global rules (SSH from anywhere by default) still apply to every instance.
//   - An optional shared filesystem (ClusterOptions.FileSystemName) is mounted on every
//     node, created in the cluster's region when the account has none of that name.
//
// Launches go through CreateInstance, so they are paced by the launch limiter (one per 12 s)
// and a launch whose answer was lost is adopted by its token, never repeated.

// Tag keys of the adapter's cluster bookkeeping.
const (
	// ClusterTag names the cluster an instance belongs to.
	ClusterTag = "neocloud-cluster"
	// RankTag is the instance's node rank (0 is the head).
	RankTag = "neocloud-rank"
	// ClusterImageTag records the image a node was launched with, so that nodes added later
	// by a resize get the same one (Lambda does not report an instance's image).
	ClusterImageTag = "neocloud-image"
	// ClusterUserDataTag records a digest of the user data a node was launched with. Lambda
	// does not report user data, so a resize cannot copy it: it needs the spec (ScaleCluster).
	ClusterUserDataTag = "neocloud-user-data-sha256"
)

// Cluster limits. A Lambda cluster is paced by the launch limit (12 s a node), so large ones
// take minutes; 16 nodes is about three.
const (
	ClusterMinNodes = 1
	ClusterMaxNodes = 16
	// maxClusterNameLen leaves room for the node suffix "-15" within Lambda's 64 characters.
	maxClusterNameLen = maxNameLen - 3
)

// clusterNamePattern keeps a cluster name usable as an instance name prefix, a ruleset name
// and a filesystem name, and unambiguous in an import id.
var clusterNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

var _ clients.ClusterCloud = (*Cloud)(nil)

// ClusterRules: 1 to 16 nodes, resizable in place, not renamable (the name is the id); the
// instance type fixes the GPUs per node.
func (c *Cloud) ClusterRules() clients.ClusterRules {
	return clients.ClusterRules{MinNodes: ClusterMinNodes, MaxNodes: ClusterMaxNodes, Resizable: true, Renamable: false}
}

// ValidateClusterSpec checks what a Lambda cluster allows without calling the API, so the
// provider can refuse bad input at plan time. CreateCluster checks the same again.
func (c *Cloud) ValidateClusterSpec(spec clients.ClusterSpec) []clients.FieldError {
	var errs []clients.FieldError
	add := func(field, summary, detail string) {
		errs = append(errs, clients.FieldError{Field: field, Summary: summary, Detail: detail})
	}
	if err := checkClusterName(spec.Name); err != nil {
		add("name", "Invalid Lambda cluster name", err.Error()+".")
	}
	if spec.NodeCount < ClusterMinNodes || spec.NodeCount > ClusterMaxNodes {
		add("node_count", "Unsupported node count", fmt.Sprintf("A Lambda Cloud cluster has %d to %d nodes; %d given.",
			ClusterMinNodes, ClusterMaxNodes, spec.NodeCount))
	}
	if _, err := c.clusterInstanceType(spec); err != nil {
		add("gpu_type", "Unsupported GPU type or count", err.Error())
	}
	if n := len(spec.SSHKeyIDs); n != 1 {
		add("ssh_key_ids", "Lambda Cloud needs exactly one SSH key",
			fmt.Sprintf("Lambda Cloud API 1.8 launches every node with exactly one SSH key; %d given.", n))
	}
	if spec.Region != "" && !slices.Contains(publicRegions, spec.Region) {
		add("region", "Unknown Lambda Cloud region", fmt.Sprintf("%q is not one of %s.", spec.Region, strings.Join(publicRegions, ", ")))
	}
	if o, err := clusterOptions(spec); err != nil {
		errs = append(errs, clients.OptionsField(cloudName, err))
	} else if len(o.UserData) > maxUserData {
		add("lambda.user_data", "User data too large", "Lambda Cloud accepts at most 1 MB of user data.")
	}
	return errs
}

// clusterInstanceType resolves the nodes' instance type. Without GPUsPerNode a neutral GPU
// name means the largest machine Lambda sells of it (gpu_8x_... for the H100): cluster nodes
// are whole machines.
func (c *Cloud) clusterInstanceType(spec clients.ClusterSpec) (clients.InstanceType, error) {
	count := spec.GPUsPerNode
	if sold := countsSold(spec.GPUType); count == 0 && len(sold) > 0 {
		count = slices.Max(sold)
	}
	return c.ResolveInstanceType(spec.GPUType, count)
}

func checkClusterName(name string) error {
	switch {
	case name == "":
		return clients.Errorf(clients.ErrInvalid, "a Lambda Cloud cluster needs a name")
	case len(name) > maxClusterNameLen:
		return clients.Errorf(clients.ErrInvalid, "a Lambda Cloud cluster name has at most %d characters (nodes are named <name>-<rank>, at most %d)", maxClusterNameLen, maxNameLen)
	case !clusterNamePattern.MatchString(name):
		return clients.Errorf(clients.ErrInvalid, "Lambda Cloud cluster name %q may only contain letters, digits, '.', '_' and '-', and must start with a letter or digit", name)
	}
	return nil
}

// nodeParams is what every node of a cluster is launched with.
type nodeParams struct {
	cluster      string
	nodes        int // the size being built, for messages
	instanceType clients.InstanceType
	region       string
	sshKeyIDs    []string // ids or names: the launch path accepts both
	image        string
	userData     string
	fileSystem   string
	rulesetID    string
	token        string // launch token; node r carries token-r<r>
}

func nodeName(cluster string, rank int) string { return cluster + "-" + strconv.Itoa(rank) }

func rankToken(token string, rank int) string { return token + "-r" + strconv.Itoa(rank) }

// launchNode launches node rank through CreateInstance (paced, adopted when the answer is lost)
// and returns the accepted instance.
func (c *Cloud) launchNode(ctx context.Context, p nodeParams, rank int) (*clients.Instance, error) {
	tags := map[string]string{ClusterTag: p.cluster, RankTag: strconv.Itoa(rank)}
	if p.image != "" {
		tags[ClusterImageTag] = p.image
	}
	if p.userData != "" {
		tags[ClusterUserDataTag] = digest(p.userData)
	}
	spec := clients.InstanceSpec{
		Name:        nodeName(p.cluster, rank),
		GPUType:     p.instanceType.Name,
		GPUCount:    p.instanceType.GPUCount,
		Region:      p.region,
		Image:       p.image,
		SSHKeyIDs:   p.sshKeyIDs,
		UserData:    p.userData,
		Tags:        tags,
		LaunchToken: rankToken(p.token, rank),
	}
	opts := &InstanceOptions{FirewallRulesetIDs: []string{p.rulesetID}}
	if p.fileSystem != "" {
		opts.FileSystemNames = []string{p.fileSystem}
	}
	spec.Options = opts
	return c.createInstance(ctx, spec, false)
}

// nodeError makes a failed node launch say which node it was. A capacity refusal becomes a
// *clients.CapacityError naming the rank and region.
func nodeError(p nodeParams, rank int, err error) error {
	var ce *clients.CapacityError
	if errors.As(err, &ce) {
		inner := err
		if len(ce.Attempts) == 1 && ce.Attempts[0].Err != nil {
			inner = ce.Attempts[0].Err
		}
		return &clients.CapacityError{Attempts: []clients.CapacityAttempt{{
			Cloud: cloudName, Region: p.region, InstanceType: p.instanceType.Name,
			Err: fmt.Errorf("capacity ran out at node %d of %d (%s): %w", rank, p.nodes, nodeName(p.cluster, rank), inner),
		}}}
	}
	return fmt.Errorf("launching node %d of %d (%s) of Lambda Cloud cluster %s: %w", rank, p.nodes, nodeName(p.cluster, rank), p.cluster, err)
}

// FindCluster finds the nodes an earlier, interrupted apply launched for this resource's cluster
// (tagged with the cluster's name and the rank variants of spec.LaunchToken, launched at or after
// spec.AdoptSince), without launching anything: the cluster, or nil when there are none.
// CreateCluster with the same spec then continues where that apply stopped.
func (c *Cloud) FindCluster(ctx context.Context, spec clients.ClusterSpec) (*clients.Cluster, error) {
	if spec.LaunchToken == "" {
		return nil, nil
	}
	list, err := c.instances.Get(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	for _, m := range members(list, spec.Name) {
		if tagValue(m.w, LaunchTokenTag) != clients.TokenValue(rankToken(spec.LaunchToken, m.rank)) {
			continue
		}
		if !spec.AdoptSince.IsZero() && clients.ParseLaunchedAt(tagValue(m.w, LaunchedAtTag)).Before(spec.AdoptSince) {
			continue
		}
		cl, err := c.GetCluster(ctx, spec.Name)
		if err != nil {
			return nil, err
		}
		cl.Adopted = "launched, in part or whole, by an earlier apply that was interrupted"
		return cl, nil
	}
	return nil, nil
}

// CreateCluster creates the cluster's firewall ruleset and (when absent) its filesystem, then
// launches every node, one launch per 12 s, and returns the cluster with the nodes Lambda
// accepted (booting; GetCluster follows them). It does not return after the first node: the
// remaining launches would otherwise have to happen in a read. For 16 nodes that takes about
// three minutes.
//
// When a launch fails at node k (capacity ran out, the context ended, an outcome unknown),
// the cluster with nodes 0..k-1 comes back together with the error, so that the provider saves
// what exists: a capacity refusal is a *clients.CapacityError naming the rank and region. When
// the very first node fails and nothing was launched, what this call created (ruleset,
// filesystem) is deleted again and no cluster is returned.
//
// Region: spec.Region, else where existing parts of the cluster are (a retried create, an
// existing filesystem), else the first region, in name order, where GET /instance-types
// reports capacity for the type. Lambda reports capacity only as yes or no per region, so
// "capacity for all N nodes" cannot be checked beforehand: the launches find out.
//
// Nodes are spec.GPUsPerNode GPUs of spec.GPUType, or without a count the largest machine
// Lambda sells of that GPU (see clusterInstanceType).
//
// A create repeated with the same launch token (node r carries the token's rank variant)
// continues where the first one stopped. Nodes tagged with the cluster's name but launched by
// another create mean the name is taken: ErrConflict.
func (c *Cloud) CreateCluster(ctx context.Context, spec clients.ClusterSpec) (*clients.Cluster, error) {
	if err := clients.Invalid(c.ValidateClusterSpec(spec)); err != nil {
		return nil, err
	}
	it, err := c.clusterInstanceType(spec)
	if err != nil {
		return nil, err
	}
	name := spec.Name
	o, err := clusterOptions(spec)
	if err != nil {
		return nil, err
	}
	p := nodeParams{
		cluster: name, nodes: spec.NodeCount, instanceType: it, sshKeyIDs: spec.SSHKeyIDs,
		image: o.Image, userData: o.UserData, fileSystem: o.FileSystemName,
		token: cmp.Or(spec.LaunchToken, clients.RandomToken()),
	}

	// What exists already: this create's own nodes (a retry), or another cluster's.
	list, err := c.instances.Get(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	existing := members(list, name)
	for _, m := range existing {
		launchedAt := clients.ParseLaunchedAt(tagValue(m.w, LaunchedAtTag))
		ours := tagValue(m.w, LaunchTokenTag) == clients.TokenValue(rankToken(p.token, m.rank))
		// Nodes of this resource's token are an interrupted earlier create of it when they were
		// launched within the create timeout; older ones may belong to another configuration.
		if !ours || (!spec.AdoptSince.IsZero() && launchedAt.Before(spec.AdoptSince)) {
			return nil, &clients.KindError{Kind: clients.ErrConflict, Msg: fmt.Sprintf(
				"Lambda Cloud already has a cluster named %s (instance %s, %s) that this apply did not launch. Nothing was launched, so that no node is billed twice. "+
					"If it is this resource's cluster (an earlier apply was interrupted), import it:\n  terraform import <this resource's address> lambda/%s\n"+
					"or add an import block { to = <this resource's address>, id = \"lambda/%s\" } and apply again. If it belongs to another configuration, choose another name.",
				name, m.w.ID, m.w.Name, name, name)}
		}
	}
	rs, err := c.clusterRuleset(ctx, name, existing)
	if err != nil {
		return nil, err
	}
	var fs *Filesystem
	if p.fileSystem != "" {
		if fs, err = c.filesystemNamed(ctx, p.fileSystem); err != nil {
			return nil, err
		}
	}
	if p.region, err = c.clusterRegion(ctx, spec, it, existing, rs, fs); err != nil {
		return nil, err
	}
	tflog.SubsystemInfo(ctx, cloudName, "creating Lambda Cloud cluster", map[string]any{
		"cluster": name, "region": p.region, "instance_type": it.Name, "nodes": spec.NodeCount,
	})

	// The ruleset, then the filesystem: the filesystem's creation time, not before the
	// ruleset's, is how DeleteCluster knows the cluster made it (see ownedFilesystem).
	var madeRuleset, madeFS bool
	if rs == nil {
		if rs, err = c.createClusterRuleset(ctx, name, p.region); err != nil {
			return nil, err
		}
		madeRuleset = true
	}
	p.rulesetID = rs.ID
	if p.fileSystem != "" && fs == nil {
		if fs, err = c.CreateFilesystem(ctx, p.fileSystem, p.region); err != nil {
			c.undoCreate(ctx, name, rs, madeRuleset, nil)
			return nil, err
		}
		madeFS = true
	}

	nodes := make(map[int]*clients.Instance, spec.NodeCount)
	for _, m := range existing {
		nodes[m.rank] = mapInstance(m.w, nil)
	}
	for rank := range spec.NodeCount {
		if nodes[rank] != nil {
			continue
		}
		inst, err := c.launchNode(ctx, p, rank)
		if err != nil {
			err = nodeError(p, rank, err)
			if len(nodes) == 0 && !errors.Is(err, clients.ErrOutcomeUnknown) {
				// Nothing was launched: leave nothing behind.
				var fsMade *Filesystem
				if madeFS {
					fsMade = fs
				}
				c.undoCreate(ctx, name, rs, madeRuleset, fsMade)
				return nil, err
			}
			// Some node exists (or may: an unknown outcome is found later by its tags).
			cl := c.launchedCluster(name, p, rs, nodes, spec.NodeCount)
			cl.Status = clients.ClusterDegraded
			cl.Problem = err.Error()
			return cl, err
		}
		nodes[rank] = inst
	}
	cl := c.launchedCluster(name, p, rs, nodes, spec.NodeCount)
	if len(existing) > 0 {
		cl.Adopted = fmt.Sprintf("launched in part (%d of %d nodes) by an earlier apply that was interrupted", len(existing), spec.NodeCount)
	}
	return cl, nil
}

// undoCreate deletes what a create made before its first node failed. Failures are logged,
// not returned: the launch error is the one to report, and neither object is billed by the hour.
func (c *Cloud) undoCreate(ctx context.Context, name string, rs *FirewallRuleset, madeRuleset bool, fs *Filesystem) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if fs != nil {
		if err := c.DeleteFilesystem(ctx, fs.ID); err != nil {
			tflog.SubsystemWarn(ctx, cloudName, "could not delete the filesystem of a failed cluster create", map[string]any{
				"cluster": name, "filesystem": fs.Name, "error": err.Error(),
			})
		}
	}
	if madeRuleset && rs != nil {
		if err := c.DeleteFirewallRuleset(ctx, rs.ID); err != nil {
			tflog.SubsystemWarn(ctx, cloudName, "could not delete the firewall ruleset of a failed cluster create", map[string]any{
				"cluster": name, "ruleset": rs.ID, "error": err.Error(),
			})
		}
	}
}

// launchedCluster describes a cluster from the nodes just launched (booting, no addresses yet)
// without reading it back.
func (c *Cloud) launchedCluster(name string, p nodeParams, rs *FirewallRuleset, nodes map[int]*clients.Instance, asked int) *clients.Cluster {
	cl := &clients.Cluster{
		ID: name, Cloud: cloudName, Name: name, Region: p.region, Status: clients.ClusterPending,
		InstanceType: p.instanceType.Name, GPUType: p.instanceType.GPUType, GPUsPerNode: p.instanceType.GPUCount,
		CreatedAt: rs.Created.Time,
	}
	for _, rank := range slices.Sorted(maps.Keys(nodes)) {
		inst := nodes[rank]
		cl.Nodes = append(cl.Nodes, clients.ClusterNode{
			ID: inst.ID, Name: cmp.Or(inst.Name, nodeName(name, rank)), Rank: rank, Role: roleOf(rank),
			Status: inst.Status, PublicIP: inst.PublicIP, PrivateIP: inst.PrivateIP, SSHHost: inst.SSHHost, SSHPort: inst.SSHPort,
		})
		cl.PricePerHour += inst.PricePerHour
		if rank == 0 {
			cl.HeadNodeIP = inst.PrivateIP
		}
	}
	cl.NodeCount = len(cl.Nodes)
	if len(cl.Nodes) < asked {
		cl.Status = clients.ClusterDegraded
		cl.Problem = fmt.Sprintf("%d of %d nodes were launched", len(cl.Nodes), asked)
	}
	return cl
}

// GetCluster reads a cluster from the shared instance snapshot (its nodes, by tag) and its
// firewall ruleset; ErrNotFound when neither exists. It also brings the ruleset's rules up to
// date with the nodes' private addresses (see the package comment): that PATCH is the only
// write a read makes, and only when they differ.
//
// NodeCount is the number of live nodes: Lambda has nowhere to keep the number asked for, so
// the provider keeps its own and compares. Status: running and Ready when every node is active
// with its addresses and the ruleset allows them all; degraded (with Problem) when ranks are
// missing or doubled, a node is unhealthy, or the ruleset is gone; pending otherwise.
func (c *Cloud) GetCluster(ctx context.Context, id string) (*clients.Cluster, error) {
	if err := checkClusterName(id); err != nil {
		return nil, err
	}
	var nodes []member
	var rs *FirewallRuleset
	// "Gone" needs proof: a complete list without the cluster, confirmed by a second list
	// fetched after the first (a shared snapshot may be a moment old).
	for notBefore, confirmed := clients.NotBefore(ctx, c.instanceTTL), false; ; notBefore, confirmed = time.Now(), true {
		list, err := c.instances.Get(ctx, notBefore)
		if err != nil {
			return nil, err
		}
		nodes = members(list, id)
		rs, err = c.clusterRuleset(ctx, id, nodes)
		if err != nil && !clients.IsConflict(err) {
			return nil, err
		}
		if len(nodes) > 0 || rs != nil {
			break
		}
		if confirmed {
			return nil, &clients.KindError{Kind: clients.ErrNotFound, Msg: "Lambda Cloud has no cluster named " + id + " (no instance tagged " + ClusterTag + "=" + id + " and no firewall ruleset of that name)"}
		}
	}
	var stale error
	if rs != nil && !maps.Equal(coveredIPs(rs.Rules), coveredIPs(clusterRules(id, nodes))) {
		stale = fmt.Errorf("firewall ruleset %s does not open the nodes' private addresses to each other yet", rs.Name)
	}
	cl := clusterOf(id, rs, nodes, stale)
	var err error
	if cl.SSHKeyIDs, err = c.nodeKeyIDs(ctx, nodes); err != nil {
		return nil, err
	}
	return cl, nil
}

var _ clients.ClusterSettler = (*Cloud)(nil)

// SettleCluster opens the cluster's firewall ruleset to exactly its nodes' private addresses
// (nodes get them only once they boot, after CreateCluster or ScaleCluster has returned). It is
// the one write a cluster needs while it comes up; GetCluster only reports whether it is due.
func (c *Cloud) SettleCluster(ctx context.Context, id string) error {
	if err := checkClusterName(id); err != nil {
		return err
	}
	list, err := c.instances.Get(ctx, clients.NotBefore(ctx, c.instanceTTL))
	if err != nil {
		return err
	}
	nodes := members(list, id)
	rs, err := c.clusterRuleset(ctx, id, nodes)
	if err != nil || rs == nil {
		return err
	}
	return c.syncRuleset(ctx, id, rs, nodes)
}

// UpdateCluster resizes a cluster (ScaleCluster with the settings copied from its nodes). A
// Lambda cluster's name is its id and cannot change: a rename is ErrUnsupported (Renamable is
// false, so the provider plans a replacement).
func (c *Cloud) UpdateCluster(ctx context.Context, id string, update clients.ClusterUpdate) (*clients.Cluster, error) {
	if field := otherClusterField(update, "Name", "NodeCount", "Spec"); field != "" {
		return nil, clients.Errorf(clients.ErrUnsupported, "the Lambda Cloud adapter cannot change %s of an existing cluster", field)
	}
	if update.Name != nil && *update.Name != id {
		return nil, clients.Errorf(clients.ErrUnsupported, "a Lambda Cloud cluster's name is its id and cannot change in place; renaming %s means replacing it", id)
	}
	if update.NodeCount != nil {
		return c.ScaleCluster(ctx, id, *update.NodeCount, update.Spec)
	}
	return c.GetCluster(ctx, id)
}

// terminate terminates instances with one request (shared with the other terminates of this
// account that arrive at the same time; see DeleteInstance); when Lambda refuses the batch
// because some are already going, each is settled on its own.
func (c *Cloud) terminate(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return c.terminator.Do(ctx, ids...)
}

// DeleteCluster terminates every node tagged with the cluster's name (also ones state never
// knew), waits until all of them are terminating or gone, then deletes the cluster's
// filesystem if the cluster created it (see ownedFilesystem) and finally the ruleset, retrying
// both while Lambda still counts them in use by terminating nodes. Waiting is bounded by ctx.
// A cluster that no longer exists counts as deleted.
func (c *Cloud) DeleteCluster(ctx context.Context, id string) error {
	if err := checkClusterName(id); err != nil {
		return err
	}
	list, err := c.instances.Get(ctx, time.Now())
	if err != nil {
		return err
	}
	nodes := members(list, id)
	ids := make([]string, len(nodes))
	for i, m := range nodes {
		ids[i] = m.w.ID
	}
	// Which filesystems the cluster's nodes mount, gone ones included, read before they go.
	var tagged []Instance
	for _, w := range list {
		if tagValue(w, ClusterTag) == id {
			tagged = append(tagged, w)
		}
	}
	if err := c.terminate(ctx, ids); err != nil {
		return err
	}
	// Lambda takes about terminationTime to terminate a machine, and the nodes hold the
	// cluster's filesystem and ruleset until they are terminated: deleting those before then
	// only collects "in use" answers and list calls. What ends each wait below is still what
	// Lambda says, never this pause.
	if len(ids) > 0 {
		t := time.NewTimer(clients.Settings{RateScale: c.rateScale}.Settle(terminationTime))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for the nodes of Lambda Cloud cluster %s to terminate: %w", id, ctx.Err())
		case <-t.C:
		}
	}
	err = c.pacing().Poll(ctx, func(ctx context.Context) (bool, error) {
		list, err := c.instances.Get(ctx, time.Now())
		return len(members(list, id)) == 0, err
	})
	if err != nil {
		return fmt.Errorf("waiting for the nodes of Lambda Cloud cluster %s to terminate: %w", id, err)
	}

	rs, err := c.clusterRuleset(ctx, id, nil)
	if clients.IsConflict(err) {
		return nil // a ruleset of that name that is someone else's: not the cluster's to delete
	}
	if err != nil || rs == nil {
		return err
	}
	fs, err := c.ownedFilesystem(ctx, id, rs, tagged)
	if err != nil {
		return err
	}
	if fs != nil {
		if err := deleteWhileInUse(ctx, c.pacing(), func(ctx context.Context) error { return c.DeleteFilesystem(ctx, fs.ID) }); err != nil {
			return fmt.Errorf("deleting filesystem %s of Lambda Cloud cluster %s: %w", fs.Name, id, err)
		}
	}
	if err := deleteWhileInUse(ctx, c.pacing(), func(ctx context.Context) error { return c.DeleteFirewallRuleset(ctx, rs.ID) }); err != nil {
		return fmt.Errorf("deleting firewall ruleset %s of Lambda Cloud cluster %s: %w", rs.ID, id, err)
	}
	return nil
}

// digest is a short, stable fingerprint of user data for the user-data tag.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}
