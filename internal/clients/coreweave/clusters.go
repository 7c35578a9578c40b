package coreweave

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// A neutral gpu_cluster on CoreWeave is three objects:
//
//  1. a VPC in the cluster's zone (the one named by coreweave.vpc_id, or one the adapter
//     creates, named after the cluster: see ownedVPCName);
//  2. a CKS cluster in that VPC (the cluster's id is the neutral id, so it can be given to a
//     gpu_instance's coreweave.cluster_id as is);
//  3. one NodePool "<cluster name>-gpu" of an InfiniBand GPU type with targetNodes N.
//
// CreateCluster makes the VPC (waiting for it to be ready: a CKS cluster cannot be created in a
// VPC that is not) and the CKS cluster, and returns as soon as CoreWeave has accepted the
// cluster. A NodePool can only be created once the cluster's Kubernetes API answers, which
// takes up to 45 minutes, so SettleCluster does it, called by the provider's waiter between
// reads: the first settle that finds the cluster RUNNING without its pool creates it (an
// existing pool of that name counts as created, so it never happens twice). GetCluster only
// reads. What the pool should be is kept in memory from CreateCluster (see
// poolPlan, ResumeCluster).
//
// Which VPC was created for the cluster is decided by name, not by state: a VPC whose name is
// ownedVPCName(cluster name) was made by this adapter for this cluster and is deleted with it;
// any other VPC (coreweave.vpc_id) is left alone. The name is derived from the whole cluster
// name with a hash, so a VPC a person named cannot match by accident, and it survives import
// (an imported cluster the provider created still deletes its VPC) and lost create answers
// (VPC names are unique in an organization, so a VPC of that name is the one to reuse).

// Cluster limits and defaults.
const (
	// DefaultKubernetesVersion is the CKS version of a cluster whose configuration names none
	// only when CoreWeave does not say which versions it offers (see createCluster).
	DefaultKubernetesVersion = "v1.35"
	// ClusterMinNodes and ClusterMaxNodes bound a cluster's node count.
	ClusterMinNodes = 1
	ClusterMaxNodes = 64
	// maxNameLen is the platform API's limit on cluster and VPC names.
	maxNameLen = 30
	// clusterPoolSuffix makes the name of a cluster's NodePool from the cluster's name.
	clusterPoolSuffix = "-gpu"
)

// Labels and annotations the adapter puts on the NodePools it creates.
const (
	labelManagedBy   = "app.kubernetes.io/managed-by"
	managedByValue   = "terraform-provider-neocloud"
	labelPrefix      = "terraform-provider-neocloud/"
	labelRole        = labelPrefix + "role" // "cluster" or "instance"
	labelLaunchToken = labelPrefix + "launch-token"
	annotationName   = labelPrefix + "name"
	roleCluster      = "cluster"
	roleInstance     = "instance"
)

// namePattern is what the platform API accepts as a cluster or VPC name.
var namePattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// versionPattern is a CKS Kubernetes version ("v1.35").
var versionPattern = regexp.MustCompile(`^v1\.[0-9]+$`)

// poolPlan is the NodePool a cluster is to get once it runs.
type poolPlan struct {
	Name         string
	InstanceType string
	Nodes        int
	ComputeClass string
	// Token is the launch token's value (clients.TokenValue) the pool is labelled with, so that
	// FindCluster can tell the pool this resource's launch made ("" for none).
	Token string
}

func (p poolPlan) nodePool() NodePool {
	labels := map[string]string{labelManagedBy: managedByValue, labelRole: roleCluster}
	if p.Token != "" {
		labels[labelLaunchToken] = p.Token
	}
	return NodePool{
		Metadata: ObjectMeta{Name: p.Name, Labels: labels},
		Spec:     NodePoolSpec{InstanceType: p.InstanceType, TargetNodes: p.Nodes, ComputeClass: p.ComputeClass},
	}
}

// tokenValue is the label value of a spec's launch token ("" for none).
func tokenValue(spec clients.ClusterSpec) string {
	if spec.LaunchToken == "" {
		return ""
	}
	return clients.TokenValue(spec.LaunchToken)
}

// clusterPoolName is the NodePool of a cluster.
func clusterPoolName(clusterName string) string { return clusterName + clusterPoolSuffix }

// clusterPlan is the node pool in which a cluster of spec runs its GPU nodes, and the spec's
// CoreWeave options.
func (c *Cloud) clusterPlan(spec clients.ClusterSpec) (poolPlan, ClusterOptions, error) {
	it, err := c.ResolveInstanceType(spec.GPUType, spec.GPUsPerNode)
	if err != nil {
		return poolPlan{}, ClusterOptions{}, err
	}
	o, err := clusterOptions(spec)
	if err != nil {
		return poolPlan{}, o, err
	}
	return poolPlan{Name: clusterPoolName(spec.Name), InstanceType: it.Name, Nodes: spec.NodeCount,
		ComputeClass: wireComputeClass(o.ComputeClass), Token: tokenValue(spec)}, o, nil
}

// CreateCluster creates the VPC (unless ClusterOptions.VPCID names one), waits for it to be
// ready, creates the CKS cluster and returns as soon as CoreWeave has accepted it: the
// provider saves the id, then waits with GetCluster, which creates the node pool once the
// cluster runs.
//
// A cluster of that name that exists already in the VPC made for it is the result of an
// earlier attempt and is adopted; one elsewhere is a conflict. A create whose answer was lost
// is never sent again: the new cluster is looked for by name and adopted.
func (c *Cloud) CreateCluster(ctx context.Context, spec clients.ClusterSpec) (*clients.Cluster, error) {
	if errs := c.ValidateClusterSpec(spec); len(errs) > 0 {
		return nil, clients.Invalid(errs)
	}
	plan, o, err := c.clusterPlan(spec)
	if err != nil {
		return nil, err
	}

	before, err := c.api.ListClusters(ctx)
	if err != nil {
		return nil, err
	}
	beforeIDs := map[string]bool{}
	for _, cl := range before {
		beforeIDs[cl.ID] = true
		if cl.Name == spec.Name {
			return c.adoptExisting(ctx, cl, spec, plan)
		}
	}

	vpc, owned, createdNow, err := c.ensureVPC(ctx, spec.Name, spec.Region, o.VPCID)
	if err != nil {
		return nil, err
	}
	network, err := clusterNetwork(vpc)
	if err != nil {
		return nil, err
	}
	req := CreateClusterRequest{
		Name: spec.Name, Zone: spec.Region, VPCID: vpc.ID, Version: o.KubernetesVersion, Public: o.Public, Network: network,
	}
	cl, err := c.createCluster(ctx, req)
	c.clusters.Invalidate()
	switch {
	case err == nil && cl.ID != "":
	case err == nil:
		cl, err = c.adoptCluster(ctx, spec.Name, vpc.ID, beforeIDs, &clients.KindError{Kind: clients.ErrOutcomeUnknown,
			Msg: "create CKS cluster: CoreWeave accepted the cluster but returned no id"})
	case errors.Is(err, clients.ErrOutcomeUnknown), isAlreadyExists(err):
		// Lost answer, or a cluster of that name appeared meanwhile: adopt it only if it is
		// new and in our VPC.
		cl, err = c.adoptCluster(ctx, spec.Name, vpc.ID, beforeIDs, err)
	default:
		if createdNow {
			c.dropVPCAfterFailedCreate(ctx, vpc.ID)
		}
		if clients.IsNotFound(err) {
			return nil, clients.WithKind(err, clients.ErrInvalid) // names a VPC or prefix of the request
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	c.setPlan(cl.ID, plan)
	c.rememberCluster(cl, owned)
	return c.view(cl, owned, &plan, nil, nil, nil), nil
}

// createCluster sends CreateCluster. A request without a version (none configured) takes the
// newest version CoreWeave offers. The API has no call that lists them, so the first such
// create asks by leaving the version out: an API that fills in its own default creates the
// cluster with it; one that refuses the request (invalid_argument on version, naming the
// versions it supports, as CoreWeave's validation does) gets it again with the newest of them,
// remembered for later creates. A refused create made nothing, so sending it again cannot make
// a second cluster; DefaultKubernetesVersion is the last resort when no version is named.
func (c *Cloud) createCluster(ctx context.Context, req CreateClusterRequest) (*Cluster, error) {
	if req.Version == "" {
		req.Version = c.newestVersion()
	}
	if req.Version != "" {
		return c.api.CreateCluster(ctx, req)
	}
	cl, err := c.api.CreateCluster(ctx, req)
	if err == nil || !errors.Is(err, clients.ErrInvalid) {
		return cl, err
	}
	newest := newestOffered(err.Error())
	if newest == "" {
		newest = DefaultKubernetesVersion
	} else {
		c.mu.Lock()
		c.offeredVersion = newest
		c.mu.Unlock()
	}
	req.Version = newest
	return c.api.CreateCluster(ctx, req)
}

func (c *Cloud) newestVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offeredVersion
}

// offeredPattern finds CKS versions in an error message.
var offeredPattern = regexp.MustCompile(`\bv1\.([0-9]+)\b`)

// newestOffered reads the newest Kubernetes version a refusal about the version names ("" when
// the message is not about the version or names none).
func newestOffered(message string) string {
	if !strings.Contains(strings.ToLower(message), "version") {
		return ""
	}
	best := -1
	for _, m := range offeredPattern.FindAllStringSubmatch(message, -1) {
		if n, err := strconv.Atoi(m[1]); err == nil && n > best {
			best = n
		}
	}
	if best < 0 {
		return ""
	}
	return "v1." + strconv.Itoa(best)
}

func (c *Cloud) setPlan(id string, p poolPlan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.plans[id] = p
}

func (c *Cloud) planFor(id string) *poolPlan {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.plans[id]; ok {
		return &p
	}
	return nil
}

func (c *Cloud) dropPlan(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.plans, id)
}

func (c *Cloud) rememberCluster(cl *Cluster, owned bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.known[cl.ID] = knownCluster{name: cl.Name, vpcID: cl.VPCID, vpcOwned: owned}
}

func (c *Cloud) knownCluster(id string) (knownCluster, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.known[id]
	return k, ok
}

// ResumeCluster tells the adapter which node pool a cluster should get, for a cluster created
// by an earlier run that ended before the cluster was running (the plan CreateCluster keeps is
// in memory only). The next SettleCluster that finds the cluster running creates the pool.
func (c *Cloud) ResumeCluster(id string, spec clients.ClusterSpec) error {
	if err := checkID("cluster", id); err != nil {
		return err
	}
	plan, _, err := c.clusterPlan(spec)
	if err != nil {
		return err
	}
	if spec.NodeCount < ClusterMinNodes || spec.NodeCount > ClusterMaxNodes {
		return clients.Errorf(clients.ErrInvalid, "a CoreWeave cluster has %d to %d nodes, not %d", ClusterMinNodes, ClusterMaxNodes, spec.NodeCount)
	}
	c.setPlan(id, plan)
	return nil
}

// GetCluster reads a cluster: the CKS cluster from the platform API (a shared list snapshot),
// and, while its Kubernetes API answers, its node pool and nodes. It never writes: the pool of
// a new cluster is created by SettleCluster (see the top of this file).
//
// A Kubernetes API server that does not answer yet (the cluster just turned RUNNING) or for a
// moment is a state, not an error: the cluster is reported pending or updating with the
// reason in Problem, so that waiters ride it out.
func (c *Cloud) GetCluster(ctx context.Context, id string) (*clients.Cluster, error) {
	cl, err := c.cluster(ctx, id, time.Time{})
	if err != nil {
		return nil, err
	}
	if cl.Status == ClusterStatusDeleted {
		return nil, clients.Errorf(clients.ErrNotFound, "CKS cluster %s has been deleted", id)
	}
	// Whether the VPC was made for the cluster only informs the view here; a read must not fail
	// (and a waiter give up) because the VPC could not be read this once. DeleteCluster, which
	// acts on it, asks again and does not guess.
	owned, err := c.vpcOwnedBy(ctx, cl.VPCID, cl.Name)
	if err == nil {
		c.rememberCluster(cl, owned)
	}
	plan := c.planFor(id)
	if !apiServerUp(cl.Status) {
		return c.view(cl, owned, plan, nil, nil, nil), nil
	}
	pool, nodes, err := c.readClusterPool(ctx, cl, plan)
	if err != nil {
		if transientKube(err) {
			return c.view(cl, owned, plan, nil, nil, err), nil
		}
		return nil, err
	}
	if pool != nil {
		plan = nil
	}
	return c.view(cl, owned, plan, pool, nodes, nil), nil
}

// apiServerUp reports the cluster statuses in which its Kubernetes API answers.
func apiServerUp(status string) bool {
	switch status {
	case ClusterStatusRunning, ClusterStatusUpdating, ClusterStatusUpgrading:
		return true
	}
	return false
}

// readClusterPool reads the cluster's node pool and its nodes; pool is nil when it does not
// exist (yet: SettleCluster creates it once the cluster is RUNNING).
func (c *Cloud) readClusterPool(ctx context.Context, cl *Cluster, _ *poolPlan) (*NodePool, []Node, error) {
	kc, err := c.kube.For(cl.APIServerEndpoint)
	if err != nil {
		return nil, nil, err
	}
	pool, nodes, err := c.poolAndNodes(ctx, kc, clusterPoolName(cl.Name))
	switch {
	case clients.IsNotFound(err):
		return nil, nil, nil
	case err == nil:
		c.dropPlan(cl.ID)
	}
	return pool, nodes, err
}

var _ clients.ClusterSettler = (*Cloud)(nil)

// SettleCluster creates the node pool a new cluster is waiting for, once the cluster is
// RUNNING (CKS serves no Kubernetes API before): the write that GetCluster, a read, must not
// make. It does nothing for a cluster this process did not create or resume.
func (c *Cloud) SettleCluster(ctx context.Context, id string) error {
	plan := c.planFor(id)
	if plan == nil {
		return nil
	}
	cl, err := c.cluster(ctx, id, time.Time{})
	if err != nil || cl.Status != ClusterStatusRunning {
		return err
	}
	kc, err := c.kube.For(cl.APIServerEndpoint)
	if err != nil {
		return err
	}
	p := *plan
	p.Name = clusterPoolName(cl.Name)
	if _, err := c.ensurePool(ctx, kc, p.nodePool(), func(*NodePool) bool { return true }); err != nil {
		if transientKube(err) {
			return nil // the API server is not answering yet: the next settle tries again
		}
		return err
	}
	c.dropPlan(id)
	c.clusters.Invalidate()
	return nil
}

// ignoreRateLimit lets a wait continue through a refusal for its pace.
func ignoreRateLimit(err error) error {
	if errors.Is(err, clients.ErrRateLimited) {
		return nil
	}
	return err
}

// view builds the neutral cluster from what is known: the CKS cluster, whether its VPC was
// made for it, the pool plan (before the pool exists), the pool and its nodes, and why the
// Kubernetes API could not be read (kubeErr).
func (c *Cloud) view(cl *Cluster, owned bool, plan *poolPlan, pool *NodePool, nodes []Node, kubeErr error) *clients.Cluster {
	info := &ClusterInfo{VPCID: cl.VPCID, VPCCreated: owned, KubernetesVersion: cl.Version, Public: cl.Public}
	v := &clients.Cluster{
		ID:                cl.ID,
		Cloud:             cloudName,
		Name:              cl.Name,
		Region:            cl.Zone,
		NativeStatus:      cl.Status,
		CreatedAt:         cl.CreatedAt.Time,
		APIServerEndpoint: cl.APIServerEndpoint,
		Options:           info,
	}
	if cl.APIServerEndpoint != "" {
		v.Kubeconfig = Kubeconfig(cl.Name, cl.APIServerEndpoint, c.token)
	}
	switch {
	case pool != nil:
		v.InstanceType = pool.Spec.InstanceType
		v.NodeCount = poolTarget(pool)
		info.ComputeClass = neutralComputeClass(pool.Spec.ComputeClass)
	case plan != nil:
		v.InstanceType = plan.InstanceType
		v.NodeCount = plan.Nodes
		info.ComputeClass = neutralComputeClass(plan.ComputeClass)
	}
	if v.InstanceType != "" {
		v.GPUType, v.GPUsPerNode = gpuOfType(v.InstanceType)
		if v.GPUsPerNode == 0 {
			if it, err := c.ResolveInstanceType(v.InstanceType, 0); err == nil {
				v.GPUsPerNode = it.GPUCount
			}
		}
	}
	v.PricePerHour = nodesPrice(v.InstanceType, v.NodeCount)
	v.Nodes = clusterNodes(nodes)
	if len(v.Nodes) > 0 {
		v.HeadNodeIP = cmp.Or(v.Nodes[0].PrivateIP, v.Nodes[0].PublicIP)
	}

	switch cl.Status {
	case ClusterStatusCreating:
		v.Status = clients.ClusterPending
		return v
	case ClusterStatusFailed, ClusterStatusError, ClusterStatusUpgradeFailed:
		// Terminal for a wait: the cluster needs a person (or a replacement), not more time.
		// CoreWeave's Cluster message carries no reason, so the status is the cloud's message.
		v.Status = clients.ClusterFailed
		v.Problem = fmt.Sprintf("CoreWeave reports CKS cluster %s (%s) in %s; delete it and create it again (the next plan replaces it)",
			cl.Name, cl.ID, cl.Status)
		return v
	case ClusterStatusDeleting, ClusterStatusDeleted:
		v.Status = clients.ClusterDeleting
		return v
	case ClusterStatusRunning, ClusterStatusUpdating, ClusterStatusUpgrading:
	default:
		// An unknown status is most likely a new transitional one: keep waiting.
		v.Status = clients.ClusterPending
		return v
	}
	progressing := clients.ClusterPending
	if cl.Status != ClusterStatusRunning || (pool != nil && pool.Metadata.Generation > 1) {
		progressing = clients.ClusterUpdating
	}
	switch {
	case kubeErr != nil:
		v.Status = progressing
		v.Problem = "waiting for the cluster's Kubernetes API server: " + kubeErr.Error()
	case pool == nil && plan != nil:
		v.Status = progressing // created by the next SettleCluster
	case pool == nil:
		v.Status, v.Stalled = clients.ClusterDegraded, true
		v.Problem = fmt.Sprintf("the cluster has no node pool %s: it was deleted outside Terraform, or the run that created the cluster "+
			"ended before the cluster was running; the next apply creates it (node_count shows the drift)", clusterPoolName(cl.Name))
	case pool.Metadata.DeletionTimestamp != nil:
		v.Status = clients.ClusterDegraded
		v.Problem = fmt.Sprintf("node pool %s is being deleted", pool.Metadata.Name)
	default:
		ready := 0
		for _, n := range v.Nodes {
			if n.Status == clients.StatusRunning {
				ready++
			}
		}
		target := poolTarget(pool)
		atTarget := ready == target && len(v.Nodes) == target
		problem := poolProblem(pool)
		waiting, short := c.shortage(cl, pool, ready, target, time.Now())
		switch {
		case atTarget:
			v.Ready = true
			v.Status = clients.ClusterRunning
			if cl.Status != ClusterStatusRunning {
				v.Status = clients.ClusterUpdating
			}
		case short != nil:
			// Waited for capacity longer than the grace: the shortage is the answer.
			v.Status, v.Stalled, v.Shortage = clients.ClusterDegraded, true, short
			v.Problem = short.Error()
		case waiting != "":
			// Short of capacity for a moment only: CoreWeave may yet find the nodes.
			v.Status = progressing
			v.Problem = waiting
		case problem != "":
			v.Status, v.Stalled = clients.ClusterDegraded, true
			v.Problem = fmt.Sprintf("%d of %d nodes ready; %s", ready, target, problem)
		default:
			v.Status = progressing
		}
	}
	return v
}

// UpdateCluster scales a cluster: a merge patch of its pool's spec.targetNodes. CoreWeave
// cannot rename a CKS cluster (a new name replaces it). A cluster still being created keeps the
// new count for the pool it is to get.
func (c *Cloud) UpdateCluster(ctx context.Context, id string, update clients.ClusterUpdate) (*clients.Cluster, error) {
	if update.Name != nil {
		return nil, clients.Errorf(clients.ErrUnsupported, "CoreWeave cannot rename a CKS cluster: a new name replaces the cluster")
	}
	if update.NodeCount == nil {
		return c.GetCluster(ctx, id)
	}
	n := *update.NodeCount
	if n < ClusterMinNodes || n > ClusterMaxNodes {
		return nil, clients.Errorf(clients.ErrInvalid, "a CoreWeave cluster has %d to %d nodes, not %d", ClusterMinNodes, ClusterMaxNodes, n)
	}
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	cl, err := c.api.GetCluster(ctx, id)
	if err != nil {
		return nil, err
	}
	if update.Spec != nil && c.planFor(id) == nil {
		// The caller knows the whole cluster: enough to create a node pool that an earlier,
		// interrupted run never got to make.
		if err := c.ResumeCluster(id, *update.Spec); err != nil {
			return nil, err
		}
	}
	plan := c.planFor(id)
	if plan != nil {
		if err := checkRackMultiple(plan.InstanceType, n); err != nil {
			return nil, err
		}
	}
	if !apiServerUp(cl.Status) {
		if cl.Status == ClusterStatusCreating && plan != nil {
			plan.Nodes = n
			c.setPlan(id, *plan)
			return c.GetCluster(ctx, id)
		}
		return nil, clients.Errorf(clients.ErrConflict, "CKS cluster %s is %s: its node count can change once it is %s", id, cl.Status, ClusterStatusRunning)
	}
	kc, err := c.kube.For(cl.APIServerEndpoint)
	if err != nil {
		return nil, err
	}
	name := clusterPoolName(cl.Name)
	err = retryKube(ctx, c, func(ctx context.Context) error {
		_, err := kc.ScaleNodePool(ctx, name, n)
		return err
	})
	if clients.IsNotFound(err) {
		if plan == nil {
			return nil, clients.Errorf(clients.ErrConflict, "CKS cluster %s has no node pool %s, and this call does not know its instance type: "+
				"replace the cluster (terraform apply -replace=...)", id, name)
		}
		plan.Nodes, plan.Name = n, name
		c.setPlan(id, *plan)
		if _, err := c.ensurePool(ctx, kc, plan.nodePool(), func(*NodePool) bool { return true }); err != nil {
			return nil, err
		}
		c.dropPlan(id)
	} else if err != nil {
		return nil, err
	}
	c.clusters.Invalidate()
	return c.GetCluster(ctx, id)
}

// DeleteCluster deletes a cluster's node pool, the CKS cluster and, when it was made for the
// cluster, its VPC. It returns once CoreWeave has accepted the cluster's deletion, except
// that a VPC can only go once the cluster is gone: then it waits for that (bounded by ctx),
// deletes the VPC (again while CoreWeave still counts it as in use) and waits for the VPC to go.
// A cluster already gone counts as deleted.
func (c *Cloud) DeleteCluster(ctx context.Context, id string) error {
	if err := checkID("cluster", id); err != nil {
		return err
	}
	c.dropPlan(id)
	c.forgetShortages(id)
	cl, err := c.api.GetCluster(ctx, id)
	if clients.IsNotFound(err) {
		// Gone already; its VPC may still be there if an earlier delete stopped between the two.
		if k, ok := c.knownCluster(id); ok && k.vpcOwned {
			return c.deleteOwnedVPC(ctx, k.vpcID)
		}
		return nil
	}
	if err != nil {
		return err
	}
	owned, err := c.vpcOwnedBy(ctx, cl.VPCID, cl.Name)
	if err != nil {
		return err
	}
	c.rememberCluster(cl, owned)

	if apiServerUp(cl.Status) {
		// The nodes go with the cluster anyway; deleting the pool first stops them sooner.
		// Best effort, briefly: an API server that does not answer must not hold up the delete.
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		if kc, err := c.kube.For(cl.APIServerEndpoint); err == nil {
			_ = kc.DeleteNodePool(pctx, clusterPoolName(cl.Name))
		}
		cancel()
	}
	if cl.Status != ClusterStatusDeleting && cl.Status != ClusterStatusDeleted {
		if _, err := c.api.DeleteCluster(ctx, id); err != nil && !clients.IsNotFound(err) {
			return err
		}
	}
	c.clusters.Invalidate()
	if !owned {
		return nil
	}
	err = poll(ctx, c.pollInitial, c.pollMax, func(ctx context.Context) (bool, error) {
		cur, err := c.api.GetCluster(ctx, id)
		if clients.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, ignoreRateLimit(err)
		}
		return cur.Status == ClusterStatusDeleted, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for CKS cluster %s to be deleted before deleting its VPC %s: %w", id, cl.VPCID, err)
	}
	c.clusters.Invalidate()
	return c.deleteOwnedVPC(ctx, cl.VPCID)
}
