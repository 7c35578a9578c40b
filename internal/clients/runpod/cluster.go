package runpod

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// A neutral cluster on RunPod is an Instant Cluster (POST /clusters): NodeCount pods of eight
// GPUs each, placed together in one data center on a private overlay network, created and
// deleted as one object. RunPod cannot resize or reshape a cluster, only rename it.
//
// Bookkeeping: the cluster's environment (which RunPod copies into every member pod) carries
// the launch token as NEOCLOUD_LAUNCH_TOKEN, as a pod's does. A create whose answer was lost
// is resolved by finding a member pod with the token (GET /pods?includeClusterPods=true), or
// else the one new cluster with the requested name; it is never sent twice.

// Self-serve Instant Cluster limits: larger clusters (RunPod's schema allows 250 pods) need a
// contract with RunPod, and self-serve nodes are whole 8-GPU machines.
const (
	ClusterMinNodes    = 2
	ClusterMaxNodes    = 8
	ClusterGPUsPerNode = 8
)

// clusterTypes are RunPod's cluster types (ClusterType); TRAINING is the default.
var clusterTypes = []string{ClusterTraining, ClusterSlurm, ClusterRay, ClusterApplication}

// clusterProduct is the catalog's availability context for Instant Clusters.
const clusterProduct = "CLUSTER"

var _ clients.ClusterCloud = (*Cloud)(nil)

// ClusterRules: 2 to 8 nodes of 8 GPUs, renamable, never resized in place (a new node count
// means a new cluster).
func (c *Cloud) ClusterRules() clients.ClusterRules {
	return clients.ClusterRules{
		MinNodes: ClusterMinNodes, MaxNodes: ClusterMaxNodes,
		Resizable: false, Renamable: true,
		GPUsPerNode: []int{ClusterGPUsPerNode},
	}
}

// ValidateClusterSpec checks what RunPod's Instant Cluster rules allow without calling the API,
// so the provider can refuse bad input at plan time. CreateCluster checks the same again.
func (c *Cloud) ValidateClusterSpec(spec clients.ClusterSpec) []clients.FieldError {
	var errs []clients.FieldError
	add := func(field, summary, detail string) {
		errs = append(errs, clients.FieldError{Field: field, Summary: summary, Detail: detail})
	}
	if strings.TrimSpace(spec.Name) == "" {
		add("name", "A RunPod cluster needs a name", "Set name: RunPod requires one for every Instant Cluster.")
	}
	if spec.NodeCount < ClusterMinNodes || spec.NodeCount > ClusterMaxNodes {
		add("node_count", "Unsupported node count", fmt.Sprintf(
			"A self-serve RunPod Instant Cluster has %d to %d nodes; %d given. Larger clusters need a contract with RunPod.",
			ClusterMinNodes, ClusterMaxNodes, spec.NodeCount))
	}
	if spec.GPUsPerNode != 0 && spec.GPUsPerNode != ClusterGPUsPerNode {
		add("gpus_per_node", "Unsupported GPUs per node", fmt.Sprintf(
			"RunPod Instant Clusters are built from whole %d-GPU nodes; %d given.", ClusterGPUsPerNode, spec.GPUsPerNode))
	}
	if _, err := c.ResolveInstanceType(spec.GPUType, ClusterGPUsPerNode); err != nil {
		add("gpu_type", "Unsupported GPU type", err.Error())
	}
	o, err := clusterOptions(spec)
	if err != nil {
		return append(errs, clients.OptionsField(cloudName, err))
	}
	if !slices.Contains(clusterTypes, o.ClusterType) {
		add("runpod.cluster_type", "Unknown RunPod cluster type", fmt.Sprintf("%q is not one of %s.", o.ClusterType, strings.Join(clusterTypes, ", ")))
	}
	// The container settings follow a pod's rules (ports, reserved environment names, volume
	// id, disk): check them with the pod validator. A cluster's image is optional (RunPod
	// picks one), which the placeholder template id stands for.
	probe := clients.InstanceSpec{SSHKeyIDs: spec.SSHKeyIDs, Options: &InstanceOptions{
		Image: o.Image, TemplateID: "cluster", Ports: o.Ports, Env: o.Env,
		NetworkVolumeID: o.NetworkVolumeID, ContainerDiskGB: o.ContainerDiskGB,
	}}
	errs = append(errs, c.ValidateInstanceSpec(probe)...)
	return errs
}

// clusterOptions are the spec's RunPod options with the defaults filled in.
func clusterOptions(spec clients.ClusterSpec) (ClusterOptions, error) {
	o, err := clients.OptionsOr[ClusterOptions](cloudName, spec.Options)
	if err != nil {
		return o, err
	}
	o.ClusterType = cmp.Or(strings.ToUpper(o.ClusterType), ClusterTraining)
	return o, nil
}

// FindCluster finds the Instant Cluster an earlier, interrupted apply created for this resource
// (by its launch token), without creating anything; nil when there is none. A cluster with the
// token but launched before spec.AdoptSince is an ErrConflict with an import hint.
func (c *Cloud) FindCluster(ctx context.Context, spec clients.ClusterSpec) (*clients.Cluster, error) {
	if spec.LaunchToken == "" {
		return nil, nil
	}
	claim, err := c.clusterLaunch(clients.TokenValue(spec.LaunchToken), spec.AdoptSince, nil).Before(ctx)
	if err != nil || claim == nil {
		return nil, err
	}
	cl, err := c.GetCluster(ctx, claim.ID)
	if err != nil {
		return nil, err
	}
	cl.Adopted = "created by an earlier apply that was interrupted"
	return cl, nil
}

// CreateCluster creates an Instant Cluster and returns as soon as RunPod has accepted it, with
// its id and no nodes yet (RunPod creates the member pods with the cluster; GetCluster shows
// them).
//
// Placement: spec.Region (a data center id), or the network volume's data center, or else
// every data center where the GPU catalog reports cluster stock (product=CLUSTER), best
// stocked first, sent as RunPod's preference list (dataCenterIds): RunPod places the whole
// cluster in one of them in a single request, so there is no create per data center. Without
// any reported stock the scheduler chooses. A capacity refusal is a *clients.CapacityError.
//
// Every member pod gets the spec's environment plus the launch token and the SSH keys of
// spec.SSHKeyIDs (PUBLIC_KEY), and startSsh.
func (c *Cloud) CreateCluster(ctx context.Context, spec clients.ClusterSpec) (*clients.Cluster, error) {
	if errs := c.ValidateClusterSpec(spec); len(errs) > 0 {
		return nil, clients.Invalid(errs)
	}
	it, err := c.ResolveInstanceType(spec.GPUType, ClusterGPUsPerNode)
	if err != nil {
		return nil, err
	}
	o, err := clusterOptions(spec)
	if err != nil {
		return nil, err
	}
	tokenValue := clients.TokenValue(cmp.Or(spec.LaunchToken, clients.RandomToken()))

	// A rerun after a crash, or a create repeated after an unknown outcome: the cluster an
	// earlier apply created for this resource is adopted (or refused with an import hint).
	if cl, err := c.FindCluster(ctx, spec); cl != nil || err != nil {
		return cl, err
	}

	env, err := c.podEnv(ctx, clients.InstanceSpec{SSHKeyIDs: spec.SSHKeyIDs}, InstanceOptions{Env: o.Env}, tokenValue, nil)
	if err != nil {
		return nil, err
	}
	dcs, err := c.dataCenters(ctx, spec, o, it)
	if err != nil {
		return nil, err
	}
	req := CreateClusterRequest{
		Name: spec.Name,
		Type: o.ClusterType,
		Compute: ClusterCompute{
			GPUTypeID: it.Name, GPUCountPerPod: ClusterGPUsPerNode, PodCount: spec.NodeCount,
		},
		Image:         o.Image,
		Disk:          o.ContainerDiskGB,
		Env:           env,
		Ports:         slices.Clone(o.Ports),
		DataCenterIDs: dcs,
		StartSSH:      true,
	}
	if o.NetworkVolumeID != "" {
		req.Mounts = &Mounts{Network: []NetworkMount{{VolumeID: o.NetworkVolumeID, Path: defaultMountPath}}}
	}

	// What exists before the create, so that a lost answer adopts only a new cluster.
	before, err := c.api.ListClusters(ctx)
	if err != nil {
		return nil, err
	}
	out, adopted, err := c.clusterLaunch(tokenValue, time.Time{}, &newCluster{name: req.Name, before: before}).Send(ctx,
		func(ctx context.Context, _ time.Time) (*clients.Cluster, error) {
			cl, err := c.api.CreateCluster(ctx, req)
			if err := c.created("cluster", err, func() string { return cl.ID }); err != nil {
				return nil, err
			}
			out := ClusterFromAPI(*cl, nil)
			if out.Region == "" && len(dcs) == 1 {
				out.Region = dcs[0] // RunPod reports the data center once a pod is placed
			}
			return out, nil
		})
	switch {
	case err == nil:
		if adopted {
			out.Adopted = adoptedAfterLostAnswer
		}
		return out, nil
	case clients.IsCapacity(err):
		return nil, &clients.CapacityError{Attempts: []clients.CapacityAttempt{{
			Cloud: cloudName, Region: strings.Join(dcs, ", "), InstanceType: it.Name,
			Err: fmt.Errorf("an Instant Cluster of %d x %d GPUs: %w", spec.NodeCount, ClusterGPUsPerNode, err),
		}}}
	case clients.IsNotFound(err):
		// A create's "not found" names a network volume of the request: bad input.
		return nil, clients.WithKind(err, clients.ErrInvalid)
	default:
		return nil, err
	}
}

// dataCenters lists the data centers to send as dataCenterIds, most preferred first; nil lets
// RunPod's scheduler choose.
func (c *Cloud) dataCenters(ctx context.Context, spec clients.ClusterSpec, o ClusterOptions, it clients.InstanceType) ([]string, error) {
	var g GpuType
	if spec.Region == "" && o.NetworkVolumeID == "" {
		// Only the fallback needs the catalog: cluster stock differs from pod stock.
		list, err := c.api.ListGPUTypes(ctx, GPUTypesQuery{
			Availability: true, Products: []string{clusterProduct}, Count: ClusterGPUsPerNode, Cloud: CloudSecure,
		})
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(list, func(g GpuType) bool { return strings.EqualFold(g.ID, it.Name) })
		if i < 0 {
			return nil, clients.Errorf(clients.ErrInvalid, "RunPod does not offer GPU type %q for Instant Clusters", it.Name)
		}
		g = list[i]
	}
	// The same rules as a pod's: a volume's data center, else the region, else the stocked
	// data centers, best first ("" = let the scheduler choose).
	dcs, err := c.candidateDataCenters(ctx, clients.InstanceSpec{Region: spec.Region},
		InstanceOptions{NetworkVolumeID: o.NetworkVolumeID}, g)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(dcs, func(dc string) bool { return dc == "" }), nil
}

// newCluster narrows a look after a lost create answer: besides clusters whose pods carry the
// token, the one cluster of the requested name that was not there before counts while its pods
// are not listed yet (unless its pods carry another token: then it is someone else's).
type newCluster struct {
	name   string
	before []Cluster
}

// clusterLaunch is the shared launch protocol (clients.Launch) for an Instant Cluster: a
// cluster is found by the launch token in its member pods' environment.
func (c *Cloud) clusterLaunch(token string, adoptSince time.Time, fresh *newCluster) clients.Launch[*clients.Cluster] {
	return clients.Launch[*clients.Cluster]{
		Cloud: cloudName, What: "cluster", Token: token, Where: "environment variable " + EnvLaunchToken + " of its pods",
		AdoptSince: adoptSince, Horizon: c.adoptWindow, Interval: c.adoptInterval, MaxPause: adoptMaxPause,
		IDOf: func(cl *clients.Cluster) string { return cl.ID }, Taken: &c.taken,
		Find: func(ctx context.Context, notBefore time.Time) ([]clients.Claim[*clients.Cluster], error) {
			pods, err := c.pods.Get(ctx, notBefore)
			if err != nil {
				return nil, err
			}
			var clusters []Cluster
			if fresh != nil {
				if clusters, err = c.api.ListClusters(ctx); err != nil {
					return nil, err
				}
			}
			return clusterClaims(pods, clusters, token, fresh), nil
		},
	}
}

// clusterClaims lists the live clusters a launch token claims (see newCluster), each with the
// creation time of its oldest member pod.
func clusterClaims(pods []Pod, clusters []Cluster, token string, fresh *newCluster) []clients.Claim[*clients.Cluster] {
	type seen struct {
		mine, foreign bool
		at            time.Time
	}
	by := map[string]*seen{}
	var order []string
	for _, p := range pods {
		if p.Cluster == nil || p.Cluster.ID == "" || p.Status == PodTerminated {
			continue
		}
		s := by[p.Cluster.ID]
		if s == nil {
			s = &seen{}
			by[p.Cluster.ID] = s
			order = append(order, p.Cluster.ID)
		}
		if p.Env[EnvLaunchToken] == token {
			s.mine = true
			if s.at.IsZero() || p.CreatedAt.Before(s.at) {
				s.at = p.CreatedAt.Time
			}
		} else {
			s.foreign = true
		}
	}
	var out []clients.Claim[*clients.Cluster]
	for _, id := range order {
		if s := by[id]; s.mine {
			out = append(out, clients.Claim[*clients.Cluster]{Value: ClusterFromAPI(Cluster{ID: id}, membersOf(pods, id)), ID: id, LaunchedAt: s.at})
		}
	}
	if fresh == nil || len(out) > 0 {
		return out
	}
	existed := ids(fresh.before, func(cl Cluster) string { return cl.ID })
	for _, cl := range clusters {
		if cl.Name == fresh.name && !existed[cl.ID] && (by[cl.ID] == nil || !by[cl.ID].foreign) {
			out = append(out, clients.Claim[*clients.Cluster]{Value: ClusterFromAPI(cl, membersOf(pods, cl.ID)), ID: cl.ID})
		}
	}
	return out
}

// membersOf picks a cluster's member pods from a pod list.
func membersOf(pods []Pod, clusterID string) []Pod {
	var out []Pod
	for _, p := range pods {
		if p.Cluster != nil && p.Cluster.ID == clusterID {
			out = append(out, p)
		}
	}
	return out
}

// GetCluster reads a cluster (GET /clusters/{id}) and its member pods (GET
// /clusters/{id}/pods); ErrNotFound when RunPod no longer knows it.
func (c *Cloud) GetCluster(ctx context.Context, id string) (*clients.Cluster, error) {
	cl, err := c.api.GetCluster(ctx, id)
	if err != nil {
		return nil, err
	}
	pods, err := c.api.ListClusterPods(ctx, id)
	if err != nil {
		return nil, err
	}
	return ClusterFromAPI(*cl, pods), nil
}

// UpdateCluster renames a cluster, the only change RunPod makes in place. A different node
// count is refused with clients.ErrUnsupported (ClusterRules.Resizable is false: the provider
// plans a replacement); the same count is no change.
func (c *Cloud) UpdateCluster(ctx context.Context, id string, update clients.ClusterUpdate) (*clients.Cluster, error) {
	// Fields added to ClusterUpdate later are refused until this adapter learns them.
	if field := unknownField(update, "Name", "NodeCount", "Spec"); field != "" {
		return nil, clients.Errorf(clients.ErrUnsupported, "the RunPod adapter cannot change %s of an existing Instant Cluster", field)
	}
	if update.Name != nil && strings.TrimSpace(*update.Name) == "" {
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod cluster name cannot be empty")
	}
	if update.NodeCount != nil {
		cl, err := c.api.GetCluster(ctx, id)
		if err != nil {
			return nil, err
		}
		if *update.NodeCount != cl.Compute.PodCount {
			return nil, clients.Errorf(clients.ErrUnsupported, "RunPod cannot change the node count of Instant Cluster %s (%d to %d) in place: the cluster must be replaced",
				id, cl.Compute.PodCount, *update.NodeCount)
		}
	}
	if update.Name != nil {
		if _, err := c.api.RenameCluster(ctx, id, *update.Name); err != nil {
			return nil, err
		}
	}
	return c.GetCluster(ctx, id)
}

// DeleteCluster deletes a cluster, which terminates every member pod (DELETE /clusters/{id});
// a cluster RunPod no longer knows counts as deleted.
func (c *Cloud) DeleteCluster(ctx context.Context, id string) error {
	err := c.api.DeleteCluster(ctx, id)
	c.pods.Invalidate()
	if err == nil || clients.IsNotFound(err) {
		return nil
	}
	return err
}

// member is one live member pod with its rank (-1 while RunPod has not assigned it).
type member struct {
	pod  Pod
	inst *clients.Instance
	rank int
}

// ClusterFromAPI maps a cluster and its member pods onto the neutral cluster.
//
// Nodes are the live (not TERMINATED) members in rank order; a pod whose rank is still null is
// rank 0 when it is the cluster's primary and otherwise comes last with rank -1. A node's
// private address is its overlay address (PodCluster.ip); its public address and SSH endpoint
// are a pod's (see InstanceFromPod). Role is RunPod's (SLURM_CONTROLLER, RAY_WORKER, ...) for
// SLURM and RAY clusters, else "head" for rank 0 and "worker" for the others.
//
// Status: failed when a member is in ERROR; degraded when a member stopped, or fewer members
// exist than the cluster has nodes once others are running or gone; running and Ready when
// every node runs with its SSH endpoint known; pending otherwise.
func ClusterFromAPI(cl Cluster, pods []Pod) *clients.Cluster {
	out := &clients.Cluster{
		ID:           cl.ID,
		Cloud:        cloudName,
		Name:         cl.Name,
		Region:       cl.DataCenterID,
		NativeStatus: podsSummary(cl.Pods),
		InstanceType: cl.Compute.GPUTypeID,
		GPUType:      gpuName(cl.Compute.GPUTypeID),
		GPUsPerNode:  cl.Compute.GPUCountPerPod,
		NodeCount:    cl.Compute.PodCount,
		CreatedAt:    cl.CreatedAt.Time,
	}
	primary := ""
	if cl.Primary != nil {
		primary = cl.Primary.PodID
	}
	var members []member
	gone := 0
	for _, p := range pods {
		if p.Status == PodTerminated {
			gone++
			continue
		}
		m := member{pod: p, inst: InstanceFromPod(p), rank: -1}
		switch {
		case p.Cluster != nil && p.Cluster.Rank != nil:
			m.rank = *p.Cluster.Rank
		case p.ID == primary:
			m.rank = 0
		}
		members = append(members, m)
	}
	sort.SliceStable(members, func(i, j int) bool {
		a, b := members[i], members[j]
		if (a.rank < 0) != (b.rank < 0) {
			return b.rank < 0
		}
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		return a.pod.ID < b.pod.ID
	})

	var nodeCost float64
	for _, m := range members {
		node := clients.ClusterNode{
			ID:        m.pod.ID,
			Name:      m.pod.Name,
			Rank:      m.rank,
			Role:      memberRole(m),
			Status:    m.inst.Status,
			PublicIP:  m.inst.PublicIP,
			PrivateIP: m.inst.PrivateIP,
			SSHHost:   m.inst.SSHHost,
			SSHPort:   m.inst.SSHPort,
			SSHUser:   m.inst.SSHUser,
		}
		if m.pod.Cluster != nil && m.pod.Cluster.IP != "" {
			node.PrivateIP = m.pod.Cluster.IP
		}
		if node.Rank == 0 && out.HeadNodeIP == "" {
			out.HeadNodeIP = node.PrivateIP
		}
		if out.Region == "" {
			out.Region = m.pod.DataCenterID
		}
		nodeCost = max(nodeCost, m.pod.Cost)
		out.Nodes = append(out.Nodes, node)
	}
	// Every node costs the same; members not listed yet (or not billing yet) are priced like
	// the ones that are, so the price is the cluster's whole.
	out.PricePerHour = nodeCost * float64(out.NodeCount)
	out.Status, out.Ready, out.Problem = memberStatus(members, out.NodeCount, gone)
	return out
}

// memberRole is RunPod's role when it assigns one, else head or worker by rank.
func memberRole(m member) string {
	switch {
	case m.pod.Cluster != nil && m.pod.Cluster.Role != "":
		return m.pod.Cluster.Role
	case m.rank == 0:
		return "head"
	case m.rank > 0:
		return "worker"
	}
	return ""
}

// memberStatus derives the neutral cluster status from its live members (see ClusterFromAPI).
func memberStatus(members []member, want, gone int) (status string, ready bool, problem string) {
	var failed, stopped []string
	running, readyCount := 0, 0
	for _, m := range members {
		switch m.pod.Status {
		case PodError:
			failed = append(failed, nodeLabel(m))
		case PodExited:
			stopped = append(stopped, nodeLabel(m))
		case PodRunning:
			running++
		}
		if m.inst.Ready {
			readyCount++
		}
	}
	switch {
	case len(failed) > 0:
		return clients.ClusterFailed, false, fmt.Sprintf("RunPod reports %s in ERROR", strings.Join(failed, ", "))
	case len(stopped) > 0:
		return clients.ClusterDegraded, false, fmt.Sprintf("%s stopped (EXITED)", strings.Join(stopped, ", "))
	case len(members) < want && (running > 0 || gone > 0):
		return clients.ClusterDegraded, false, fmt.Sprintf("only %d of %d nodes exist", len(members), want)
	case len(members) >= want && readyCount == len(members):
		return clients.ClusterRunning, true, ""
	}
	return clients.ClusterPending, false, ""
}

func nodeLabel(m member) string {
	if m.rank >= 0 {
		return fmt.Sprintf("node %d (pod %s)", m.rank, m.pod.ID)
	}
	return "pod " + m.pod.ID
}

// podsSummary renders the member counts by status ("PROVISIONING=1,RUNNING=3"), RunPod's own
// view of the cluster's state.
func podsSummary(s ClusterPodsSummary) string {
	parts := make([]string, 0, len(s.ByStatus))
	for _, k := range slices.Sorted(maps.Keys(s.ByStatus)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, s.ByStatus[k]))
	}
	return strings.Join(parts, ",")
}
