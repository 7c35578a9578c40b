package coreweave

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// A neutral gpu_instance on CoreWeave is a NodePool with targetNodes 1 in an existing CKS
// cluster (coreweave.cluster_id): CoreWeave has no stand-alone machine API. Its id is
// "<cluster id>/<node pool name>". The pool's name is the instance name made DNS-safe plus a
// short hash of the launch token, so a create whose answer was lost can be sent again: "already
// exists" then means it went through, which the pool's launch-token label confirms.
//
// CoreWeave nodes are reached through the cluster's Kubernetes API (kubectl with the cluster's
// kubeconfig, pods scheduled onto the node), not by SSH with account keys: instances leave the
// SSH fields empty, and SSH keys are not supported.

// maxPoolBase bounds the name part of an instance's pool name, so that the node names
// CoreWeave derives from it stay within a DNS label.
const maxPoolBase = 31

// instanceID is the neutral id of an instance: cluster id and pool name.
func instanceID(clusterID, pool string) string { return clusterID + "/" + pool }

// parseInstanceID splits an instance id.
func parseInstanceID(id string) (clusterID, pool string, err error) {
	clusterID, pool, ok := strings.Cut(id, "/")
	if !ok || !validID.MatchString(clusterID) || !namePattern.MatchString(pool) || len(pool) > 63 {
		return "", "", clients.Errorf(clients.ErrInvalid, "%q is not a CoreWeave instance id: it is <CKS cluster id>/<node pool name>", id)
	}
	return clusterID, pool, nil
}

// unsafeNameChars are the characters a NodePool name cannot have.
var unsafeNameChars = regexp.MustCompile(`[^a-z0-9-]+`)

// instancePoolName makes a NodePool name from an instance name and its launch token.
func instancePoolName(name, tokenValue string) string {
	base := unsafeNameChars.ReplaceAllString(strings.ToLower(name), "-")
	for strings.Contains(base, "--") {
		base = strings.ReplaceAll(base, "--", "-")
	}
	base = strings.Trim(base, "-")
	if len(base) > maxPoolBase {
		base = strings.TrimRight(base[:maxPoolBase], "-")
	}
	if base == "" {
		base = "gpu"
	}
	sum := sha256.Sum256([]byte(tokenValue))
	return base + "-" + hex.EncodeToString(sum[:4])
}

// reservedLabel reports label keys the adapter manages.
func reservedLabel(key string) bool {
	return key == labelManagedBy || strings.HasPrefix(key, labelPrefix)
}

// ValidateInstanceSpec checks what CoreWeave allows without calling the API, so the provider
// can refuse bad input at plan time. CreateInstance checks the same again.
func (c *Cloud) ValidateInstanceSpec(spec clients.InstanceSpec) []clients.FieldError {
	var errs []clients.FieldError
	add := func(field, summary, detail string) {
		errs = append(errs, clients.FieldError{Field: field, Summary: summary, Detail: detail})
	}
	o, err := instanceOptions(spec)
	if err != nil {
		return []clients.FieldError{clients.OptionsField(cloudName, err)}
	}
	switch {
	case o == nil || strings.TrimSpace(o.ClusterID) == "":
		add("coreweave.cluster_id", "CoreWeave needs a CKS cluster",
			"A CoreWeave GPU machine is a one-node NodePool in a CKS cluster: set coreweave { cluster_id = neocloud_gpu_cluster.<name>.id } "+
				"(or the id of any CKS cluster of the organization).")
	case !validID.MatchString(o.ClusterID):
		add("coreweave.cluster_id", "Invalid cluster id", fmt.Sprintf("%q is not a CoreWeave CKS cluster id.", o.ClusterID))
	}
	if o != nil && !validComputeClass(o.ComputeClass) {
		add("coreweave.compute_class", "Unknown compute class", fmt.Sprintf("%q is neither %q nor %q.", o.ComputeClass, ComputeClassDefault, ComputeClassSpot))
	}
	if len(spec.SSHKeyIDs) > 0 {
		add("ssh_key_ids", "CoreWeave takes no SSH keys",
			"CoreWeave nodes are reached through the cluster's Kubernetes API (kubectl with the cluster's kubeconfig), not with account SSH keys: "+
				"leave ssh_key_ids out for CoreWeave.")
	}
	if spec.UserData != "" {
		add("user_data", "CoreWeave nodes take no user data",
			"CoreWeave nodes run CoreWeave's node image and are configured through Kubernetes (DaemonSets, pods): leave user_data out for CoreWeave.")
	}
	if spec.Image != "" {
		add("image", "CoreWeave nodes take no image",
			"CoreWeave nodes run CoreWeave's node image; run your container image as a pod on the node instead: leave image out for CoreWeave.")
	}
	if it, err := c.ResolveInstanceType(spec.GPUType, spec.GPUCount); err == nil && rackNodes(it.Name) > 0 {
		add("gpu_type", "Rack-scale node type", fmt.Sprintf(
			"%s is sold by the rack (%d nodes): use a neocloud_gpu_cluster with a node_count that is a multiple of %d.",
			it.Name, rackNodes(it.Name), rackNodes(it.Name)))
	}
	if spec.DesiredState == clients.DesiredStopped {
		add("desired_state", "CoreWeave cannot stop a node",
			"A CoreWeave node is billed until its node pool is deleted and has no stopped state: destroy the instance instead.")
	}
	for _, k := range slices.Sorted(maps.Keys(spec.Tags)) {
		v := spec.Tags[k]
		switch {
		case reservedLabel(k):
			add("tags", "Reserved tag key", fmt.Sprintf("The tag key %s is used by the provider for its own bookkeeping.", k))
		case len(validation.IsQualifiedName(k)) > 0:
			add("tags", "Invalid tag key", fmt.Sprintf("CoreWeave tags are Kubernetes labels; %q is not a valid label key: %s.",
				k, strings.Join(validation.IsQualifiedName(k), "; ")))
		case len(validation.IsValidLabelValue(v)) > 0:
			add("tags", "Invalid tag value", fmt.Sprintf("CoreWeave tags are Kubernetes labels; the value of %s is not a valid label value: %s.",
				k, strings.Join(validation.IsValidLabelValue(v), "; ")))
		}
	}
	return errs
}

// CreateInstance adds a one-node NodePool to the CKS cluster InstanceOptions.ClusterID and
// returns as soon as the cluster's API server has accepted it, without waiting for the node.
// A cluster still being created is waited for (its API server answers only once it runs),
// for as long as ctx lasts.
func (c *Cloud) CreateInstance(ctx context.Context, spec clients.InstanceSpec) (*clients.Instance, error) {
	if errs := c.ValidateInstanceSpec(spec); len(errs) > 0 {
		return nil, clients.Invalid(errs)
	}
	it, err := c.ResolveInstanceType(spec.GPUType, spec.GPUCount)
	if err != nil {
		return nil, err
	}
	price := priceOf(it.Name)
	if spec.MaxPricePerHour > 0 && price > spec.MaxPricePerHour {
		return nil, clients.Errorf(clients.ErrInvalid, "a CoreWeave %s node costs $%.2f per hour, above max_price_per_hour $%.2f", it.Name, price, spec.MaxPricePerHour)
	}
	o, _ := instanceOptions(spec) // checked by ValidateInstanceSpec: set, with a cluster id
	clusterID := o.ClusterID
	cl, err := c.runningCluster(ctx, clusterID)
	if err != nil {
		return nil, err
	}
	if spec.Region != "" && !strings.EqualFold(spec.Region, cl.Zone) {
		return nil, clients.Errorf(clients.ErrInvalid, "CKS cluster %s (%s) is in zone %s, not %s: a CoreWeave instance is placed in its cluster's zone; leave region out or set it to %s",
			cl.Name, cl.ID, cl.Zone, spec.Region, cl.Zone)
	}
	token := cmp.Or(spec.LaunchToken, clients.RandomToken())
	tokenValue := clients.TokenValue(token)
	name := instancePoolName(spec.Name, tokenValue)
	labels := maps.Clone(spec.Tags)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[labelManagedBy] = managedByValue
	labels[labelRole] = roleInstance
	labels[labelLaunchToken] = tokenValue
	pool := NodePool{
		Metadata: ObjectMeta{Name: name, Labels: labels, Annotations: map[string]string{annotationName: spec.Name}},
		Spec:     NodePoolSpec{InstanceType: it.Name, TargetNodes: 1},
	}
	pool.Spec.ComputeClass = wireComputeClass(o.ComputeClass)
	kc, err := c.kube.For(cl.APIServerEndpoint)
	if err != nil {
		return nil, err
	}
	if spec.LaunchToken != "" {
		// A rerun after a crash: the pool an interrupted apply created is this resource's.
		l := clients.Launch[*clients.Instance]{
			Cloud: cloudName, What: "node pool", Token: tokenValue, Where: "label " + labelLaunchToken, AdoptSince: spec.AdoptSince,
			IDOf: func(i *clients.Instance) string { return i.ID }, Taken: &c.taken,
			Find: func(ctx context.Context, _ time.Time) ([]clients.Claim[*clients.Instance], error) {
				p, err := kc.GetNodePool(ctx, name)
				switch {
				case clients.IsNotFound(err):
					return nil, nil // the pool's own URL: proof there is none
				case err != nil:
					return nil, err
				case p.Metadata.Labels[labelLaunchToken] != tokenValue || p.Metadata.DeletionTimestamp != nil:
					return nil, nil // not ours, or going away: the create below says so
				}
				var at time.Time
				if p.Metadata.CreationTimestamp != nil {
					at = *p.Metadata.CreationTimestamp
				}
				return []clients.Claim[*clients.Instance]{{Value: instanceFromPool(cl, p, nil), ID: instanceID(cl.ID, name), LaunchedAt: at}}, nil
			},
		}
		if inst, err := clients.FindLaunched(ctx, l); inst != nil || err != nil {
			return inst, err
		}
	}
	created, err := c.ensurePool(ctx, kc, pool, func(p *NodePool) bool { return p.Metadata.Labels[labelLaunchToken] == tokenValue })
	if err != nil {
		if clients.IsNotFound(err) {
			return nil, clients.WithKind(err, clients.ErrInvalid)
		}
		return nil, err
	}
	return instanceFromPool(cl, created, nil), nil
}

// runningCluster reads the cluster an instance goes into, waiting (while ctx lasts) for one
// that is still being created. A cluster that does not exist is bad input.
//
// The first look is at the shared cluster snapshot (so that a hundred instances created at once
// in one cluster read it once); later ones, made while the cluster is still coming up, ask the
// cluster's own URL.
func (c *Cloud) runningCluster(ctx context.Context, id string) (*Cluster, error) {
	var cl *Cluster
	first := true
	err := poll(ctx, c.pollInitial, c.pollMax, func(ctx context.Context) (bool, error) {
		var cur *Cluster
		var err error
		if first {
			first = false
			cur, err = c.cluster(ctx, id, time.Time{})
		} else {
			cur, err = c.api.GetCluster(ctx, id)
		}
		if clients.IsNotFound(err) {
			return false, clients.Errorf(clients.ErrInvalid, "CoreWeave has no CKS cluster with id %s (coreweave.cluster_id)", id)
		}
		if err != nil {
			return false, ignoreRateLimit(err)
		}
		cl = cur
		switch {
		case apiServerUp(cur.Status) && cur.APIServerEndpoint != "":
			return true, nil
		case cur.Status == ClusterStatusCreating || apiServerUp(cur.Status):
			return false, nil
		}
		return false, clients.Errorf(clients.ErrConflict, "CKS cluster %s (%s) is %s: nodes can only be added to a running cluster", cur.Name, cur.ID, cur.Status)
	})
	if err != nil && cl != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("waiting for CKS cluster %s (%s) to run (it is %s): %w", cl.Name, cl.ID, cl.Status, err)
	}
	return cl, err
}

// GetInstance reads an instance's NodePool and its node. The cluster comes from the shared
// cluster snapshot (for its endpoint and zone). When the cluster's API server does not answer,
// the cluster's status explains the instance: gone with a deleted cluster (ErrNotFound),
// terminating with a deleting one, failed with a failed one.
func (c *Cloud) GetInstance(ctx context.Context, id string) (*clients.Instance, error) {
	clusterID, poolName, err := parseInstanceID(id)
	if err != nil {
		return nil, err
	}
	cl, err := c.cluster(ctx, clusterID, time.Time{})
	if clients.IsNotFound(err) {
		return nil, clients.Errorf(clients.ErrNotFound, "CKS cluster %s of instance %s no longer exists", clusterID, id)
	}
	if err != nil {
		return nil, err
	}
	if inst, done, err := instanceOfClusterState(cl, id, poolName); done {
		return inst, err
	}
	kc, err := c.kube.For(cl.APIServerEndpoint)
	if err != nil {
		return nil, err
	}
	var pool *NodePool
	var nodes []Node
	err = retryKube(ctx, c, func(ctx context.Context) error {
		var err error
		pool, nodes, err = c.poolAndNodes(ctx, kc, poolName)
		return err
	})
	if IsAPIServerUnavailable(err) {
		// Did the cluster change under us? Look again, fresh.
		if fresh, ferr := c.cluster(ctx, clusterID, time.Now()); ferr == nil {
			if inst, done, serr := instanceOfClusterState(fresh, id, poolName); done {
				return inst, serr
			}
		} else if clients.IsNotFound(ferr) {
			return nil, clients.Errorf(clients.ErrNotFound, "CKS cluster %s of instance %s no longer exists", clusterID, id)
		}
	}
	if err != nil {
		return nil, err
	}
	return instanceFromPool(cl, pool, nodes), nil
}

var (
	_ clients.InstanceLooker   = (*Cloud)(nil)
	_ clients.TerminationTimer = (*Cloud)(nil)
)

// poolTerminationTime is how long a deleted node pool typically takes to be gone: its
// controller sees the deletion after about 2 s and drains its node for about 2 minutes.
const poolTerminationTime = 2*time.Second + 2*time.Minute

// TerminationTime implements clients.TerminationTimer: a waiter for a deleted instance's end
// looks first when its node pool has likely drained.
func (c *Cloud) TerminationTime() time.Duration { return poolTerminationTime }

// LookInstance reads an instance's NodePool from the cluster's shared NodePool list whose fetch
// started at or after notBefore (its nodes too, unless the pool is being deleted), and never
// asks the pool's own URL: waiters for many instances of a cluster share one list (see
// clients.Cadence.WaitGone). The cluster itself comes from the cluster snapshot as it is (its
// endpoint and zone do not change); only when its API server stops answering is it read again,
// fresh: a deleted cluster is ErrNotFound (a 404 on the cluster's own URL), a deleting one makes
// the instance terminating.
func (c *Cloud) LookInstance(ctx context.Context, id string, notBefore time.Time) (clients.Look, error) {
	clusterID, poolName, err := parseInstanceID(id)
	if err != nil {
		return clients.Look{}, err
	}
	cl, err := c.lastSeenCluster(ctx, clusterID)
	if err != nil {
		return clients.Look{}, err
	}
	if inst, done, err := instanceOfClusterState(cl, id, poolName); done {
		return clients.Look{Instance: inst, ListedAt: time.Now()}, err
	}
	kc, err := c.kube.For(cl.APIServerEndpoint)
	if err != nil {
		return clients.Look{}, err
	}
	pools, at, err := kc.pools.GetAt(ctx, notBefore)
	if IsAPIServerUnavailable(err) {
		// Did the cluster change under us? Look again, fresh.
		fresh, ferr := c.cluster(ctx, clusterID, time.Now())
		switch {
		case clients.IsNotFound(ferr):
			return clients.Look{}, clients.Errorf(clients.ErrNotFound, "CKS cluster %s of instance %s no longer exists", clusterID, id)
		case ferr == nil:
			if inst, done, serr := instanceOfClusterState(fresh, id, poolName); done {
				return clients.Look{Instance: inst, ListedAt: time.Now()}, serr
			}
		}
	}
	if err != nil {
		return clients.Look{}, err
	}
	pool := poolNamed(pools, poolName)
	if pool == nil {
		// ListNodePools sends no resourceVersion: the API server answers with the cluster's
		// latest state, so a pool it lacks is as gone as a 404 on its own URL would say.
		return clients.Look{ListedAt: at, Consistent: true}, nil
	}
	var nodes []Node
	if pool.Metadata.DeletionTimestamp == nil {
		all, err := kc.nodes.Get(ctx, notBefore)
		if err != nil {
			return clients.Look{}, err
		}
		for _, n := range all {
			if n.Metadata.Labels[LabelNodePool] == poolName {
				nodes = append(nodes, n)
			}
		}
	}
	return clients.Look{Instance: instanceFromPool(cl, pool, nodes), ListedAt: at}, nil
}

// lastSeenCluster is a cluster as the cluster snapshot last saw it, whatever its age (read fresh
// when the snapshot has none, or lacks the cluster); ErrNotFound when it no longer exists.
func (c *Cloud) lastSeenCluster(ctx context.Context, id string) (*Cluster, error) {
	if err := checkID("cluster", id); err != nil {
		return nil, err
	}
	list, err := c.clusters.Get(ctx, time.Time{})
	if err == nil {
		for i := range list {
			if list[i].ID == id {
				cl := list[i]
				return &cl, nil
			}
		}
	}
	cl, err := c.cluster(ctx, id, time.Now())
	if clients.IsNotFound(err) {
		return nil, clients.Errorf(clients.ErrNotFound, "CKS cluster %s no longer exists", id)
	}
	return cl, err
}

// instanceOfClusterState answers for an instance from its cluster's status alone when the
// cluster's API server cannot answer; done is false when it should be asked.
func instanceOfClusterState(cl *Cluster, id, poolName string) (*clients.Instance, bool, error) {
	inst := &clients.Instance{
		ID: id, Cloud: cloudName, Name: poolName, Region: cl.Zone, NativeStatus: "cluster " + cl.Status,
		Options: &InstanceOptions{ClusterID: cl.ID},
	}
	switch cl.Status {
	case ClusterStatusDeleted:
		return nil, true, clients.Errorf(clients.ErrNotFound, "CKS cluster %s of instance %s has been deleted", cl.ID, id)
	case ClusterStatusDeleting:
		inst.Status = clients.StatusTerminating // the cluster takes its node pools with it
	case ClusterStatusFailed:
		inst.Status = clients.StatusError
	case ClusterStatusCreating:
		inst.Status = clients.StatusPending
	default:
		if apiServerUp(cl.Status) && cl.APIServerEndpoint != "" {
			return nil, false, nil
		}
		inst.Status = clients.StatusPending
	}
	return inst, true, nil
}

// instanceFromPool maps a one-node pool and its node onto the neutral instance.
func instanceFromPool(cl *Cluster, p *NodePool, nodes []Node) *clients.Instance {
	gpu, count := gpuOfType(p.Spec.InstanceType)
	inst := &clients.Instance{
		ID:           instanceID(cl.ID, p.Metadata.Name),
		Cloud:        cloudName,
		Name:         cmp.Or(p.Metadata.Annotations[annotationName], p.Metadata.Name),
		Region:       cl.Zone,
		InstanceType: p.Spec.InstanceType,
		GPUType:      gpu,
		GPUCount:     count,
		PricePerHour: nodesPrice(p.Spec.InstanceType, max(poolTarget(p), 1)),
		Options:      &InstanceOptions{ClusterID: cl.ID, ComputeClass: neutralComputeClass(p.Spec.ComputeClass)},
		// SSH fields stay empty: CoreWeave nodes are reached through Kubernetes.
	}
	if p.Metadata.CreationTimestamp != nil {
		inst.CreatedAt = *p.Metadata.CreationTimestamp
	}
	for k, v := range p.Metadata.Labels {
		if reservedLabel(k) {
			continue
		}
		if inst.Tags == nil {
			inst.Tags = map[string]string{}
		}
		inst.Tags[k] = v
	}
	// A one-node pool has one node; while a replacement joins there may be two: the Ready one
	// counts, else the first by name.
	var node *Node
	for i := range nodes {
		if node == nil || (nodes[i].Ready() && !node.Ready()) || (nodes[i].Ready() == node.Ready() && nodes[i].Metadata.Name < node.Metadata.Name) {
			node = &nodes[i]
		}
	}
	if node != nil {
		inst.PublicIP = node.Address("ExternalIP")
		inst.PrivateIP = node.Address("InternalIP")
	}
	reason, blocked := capacityReason(p)
	switch {
	case p.Metadata.DeletionTimestamp != nil:
		inst.Status, inst.NativeStatus = clients.StatusTerminating, "Deleting"
	case poolTarget(p) == 0:
		inst.Status, inst.NativeStatus = clients.StatusStopped, "ScaledToZero"
	case node != nil && nodeStatus(*node) == clients.StatusRunning:
		inst.Status, inst.NativeStatus = clients.StatusRunning, "Ready"
		inst.Ready = true
	case node != nil && nodeStatus(*node) == clients.StatusTerminating:
		inst.Status, inst.NativeStatus = clients.StatusTerminating, "Draining"
	case node != nil:
		inst.Status, inst.NativeStatus = clients.StatusPending, "NotReady"
	case blocked:
		// CoreWeave keeps the pool waiting for a node; the provider should say so now rather
		// than at the end of its timeout.
		inst.Status, inst.NativeStatus = clients.StatusError, reason
	default:
		inst.Status, inst.NativeStatus = clients.StatusPending, "Provisioning"
	}
	return inst
}

// UpdateInstance changes nothing in place: a CoreWeave node's type and pool are fixed, and it
// has no name of its own to change.
func (c *Cloud) UpdateInstance(ctx context.Context, id string, update clients.InstanceUpdate) (*clients.Instance, error) {
	if update.IsZero() {
		return c.GetInstance(ctx, id)
	}
	return nil, clients.Errorf(clients.ErrUnsupported, "CoreWeave cannot change a node in place: a change to it replaces the instance")
}

// NotInPlace: a CoreWeave machine is a node pool named after the instance, so a new name is a
// new machine (clients.InPlaceLimiter). Nothing else reaches an update: plan-time rules refuse it.
func (c *Cloud) NotInPlace(u clients.InstanceUpdate) []string {
	var fields []string
	if u.Name != nil {
		fields = append(fields, "name")
	}
	return fields
}

// DeleteInstance deletes the instance's NodePool (its node is drained, then goes). A pool or
// cluster already gone, or a cluster being deleted (which takes its pools along), counts as
// deleted.
func (c *Cloud) DeleteInstance(ctx context.Context, id string) error {
	clusterID, poolName, err := parseInstanceID(id)
	if err != nil {
		return err
	}
	cl, err := c.cluster(ctx, clusterID, time.Time{})
	if clients.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cl.Status == ClusterStatusDeleting || cl.Status == ClusterStatusDeleted {
		return nil
	}
	kc, err := c.kube.For(cl.APIServerEndpoint)
	if err != nil {
		return err
	}
	err = retryKube(ctx, c, func(ctx context.Context) error { return kc.DeleteNodePool(ctx, poolName) })
	if err == nil || clients.IsNotFound(err) {
		return nil
	}
	if IsAPIServerUnavailable(err) {
		fresh, ferr := c.cluster(ctx, clusterID, time.Now())
		if clients.IsNotFound(ferr) || (ferr == nil && (fresh.Status == ClusterStatusDeleting || fresh.Status == ClusterStatusDeleted)) {
			return nil
		}
	}
	return err
}
