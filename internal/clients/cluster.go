package clients

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Neutral cluster statuses.
const (
	ClusterPending  = "pending"  // being created
	ClusterRunning  = "running"  // every node up
	ClusterUpdating = "updating" // scaling or upgrading
	ClusterDegraded = "degraded" // some nodes missing or broken (e.g. capacity ran out midway)
	ClusterFailed   = "failed"   // the cloud gave up on it
	ClusterDeleting = "deleting"
)

// ClusterCloud is implemented by clouds that run multi-node GPU clusters. The provider asks for
// it with a type assertion and says at plan time when a cloud has none.
type ClusterCloud interface {
	ClusterRules() ClusterRules
	// CreateCluster returns as soon as the cloud has accepted the cluster and its id is
	// known, without waiting for nodes: the provider saves the id, then waits with
	// GetCluster. A create whose answer was lost is resolved by finding the cluster (by its
	// launch token or name), never by creating another.
	CreateCluster(ctx context.Context, spec ClusterSpec) (*Cluster, error)
	// GetCluster reads a cluster and its nodes; ErrNotFound when it does not exist.
	GetCluster(ctx context.Context, id string) (*Cluster, error)
	// UpdateCluster changes what ClusterRules allow in place (name, node count) and returns
	// once the change is accepted; the provider waits with GetCluster.
	UpdateCluster(ctx context.Context, id string, update ClusterUpdate) (*Cluster, error)
	// DeleteCluster deletes every node and what the cluster created (its VPC, ruleset);
	// an already deleted cluster counts as deleted. It returns once deletion is accepted.
	DeleteCluster(ctx context.Context, id string) error
}

// ClusterRules say what a cloud's clusters can be, for plan-time checks.
type ClusterRules struct {
	MinNodes, MaxNodes int
	// Resizable clusters change node_count in place; others are replaced.
	Resizable bool
	Renamable bool
	// GPUsPerNode lists the allowed GPUs per node (empty: whatever the instance type fixes).
	GPUsPerNode []int
}

// ClusterSpec is the neutral description of a cluster.
type ClusterSpec struct {
	Name        string
	Region      string
	GPUType     string // neutral name or native instance type
	GPUsPerNode int
	NodeCount   int
	SSHKeyIDs   []string
	// LaunchToken identifies what this create made, for adoption after a lost answer and for
	// finding nodes that state lost.
	LaunchToken string
	// AdoptSince is as in InstanceSpec: nodes (or a cluster) carrying LaunchToken launched at or
	// after it are adopted, older ones are an ErrConflict with an import hint.
	AdoptSince time.Time

	// Options are the cloud's own settings, a value of a type from that cloud's package
	// (coreweave.ClusterOptions, runpod.ClusterOptions, lambda.ClusterOptions); nil when none.
	// The cloud reads them with OptionsOf.
	Options any
}

// ClusterUpdate lists in-place changes; nil fields are left alone.
type ClusterUpdate struct {
	Name      *string
	NodeCount *int
	// Spec is the whole desired cluster, for adapters that must launch new nodes like the
	// old ones with settings the cloud does not report back (Lambda user data).
	Spec *ClusterSpec
}

// ClusterSettler is implemented by clouds that must finish a cluster's setup while its nodes
// come up (Lambda: the cluster's firewall ruleset learns the nodes' private addresses, known
// only once they boot). The provider calls it from its create and update waits, so that
// GetCluster stays read-only and a refresh never changes anything.
type ClusterSettler interface {
	SettleCluster(ctx context.Context, id string) error
}

// ClusterValidator is implemented by clouds with rules on cluster specs that can be checked
// without calling the API; the provider calls it at plan time.
type ClusterValidator interface {
	ValidateClusterSpec(spec ClusterSpec) []FieldError
}

// Cluster is the neutral view of a cluster.
type Cluster struct {
	ID           string
	Cloud        string
	Name         string
	Region       string
	Status       string // one of the Cluster* constants
	NativeStatus string
	InstanceType string
	GPUType      string
	GPUsPerNode  int
	// NodeCount is the number of nodes asked for; len(Nodes) is how many exist.
	NodeCount    int
	Nodes        []ClusterNode
	HeadNodeIP   string
	PricePerHour float64 // all nodes
	CreatedAt    time.Time
	// Ready is true when every asked-for node is up and reachable.
	Ready bool
	// Problem says why a degraded or failed cluster is so (capacity ran out at node 3 of 4).
	Problem string
	// Adopted is as in Instance: why the create found an existing cluster (or nodes).
	Adopted string
	// Stalled means the cloud will not make progress without a change (no capacity for the
	// missing nodes, the node pool gone): waiting longer is pointless.
	Stalled bool
	// Shortage is set when the cloud will not get the missing nodes for lack of capacity or
	// quota (CoreWeave: a node pool that has waited for capacity past a short grace): an error
	// wrapping ErrCapacity or ErrQuota that names what was short, so that a wait stops with it
	// and cluster placement tries its next candidate. Stalled is set with it.
	Shortage error
	// SSHKeyIDs are the account keys the nodes were launched with, where the cloud reports
	// them (Lambda: the nodes' key names, mapped to key ids), so that an import knows them.
	SSHKeyIDs []string

	APIServerEndpoint string
	Kubeconfig        string // sensitive
	// Options are what the cloud reports beyond the neutral fields, a pointer to a value of a
	// type from that cloud's package (*coreweave.ClusterInfo); nil when none.
	Options any
}

// ClusterNode is one machine of a cluster, in rank order (rank 0 is the head).
type ClusterNode struct {
	ID        string
	Name      string
	Rank      int
	Role      string // "head"/"worker", or the cloud's (Slurm controller, Ray head)
	Status    string // neutral instance status
	PublicIP  string
	PrivateIP string
	// SSHHost, SSHPort and SSHUser are how to log in to the node, as for an Instance (RunPod's
	// SSH proxy: its host, port 22 and the routing user name it needs); empty where nodes are
	// reached otherwise (CoreWeave: Kubernetes).
	SSHHost string
	SSHPort int
	SSHUser string
}

// LaunchEnv is what a distributed-training launcher needs on each node (torchrun, Slurm).
func (c *Cluster) LaunchEnv(n ClusterNode) map[string]string {
	gpus := c.GPUsPerNode
	return map[string]string{
		"MASTER_ADDR":    c.HeadNodeIP,
		"MASTER_PORT":    "29500",
		"NODE_RANK":      itoa(n.Rank),
		"NUM_NODES":      itoa(len(c.Nodes)),
		"NPROC_PER_NODE": itoa(gpus),
		"WORLD_SIZE":     itoa(gpus * len(c.Nodes)),
	}
}

// Hostfile is the cluster as DeepSpeed and MPI launchers read it: one line per node in rank
// order, "<address> slots=<GPUs per node>". The address is the node's private address (the
// cluster network the ranks talk over), or its name while the cloud has not assigned one.
func (c *Cluster) Hostfile() string {
	var b strings.Builder
	for _, n := range c.Nodes {
		fmt.Fprintf(&b, "%s slots=%d\n", cmp.Or(n.PrivateIP, n.Name, n.ID), c.GPUsPerNode)
	}
	return b.String()
}

// PrivateIPs are the nodes' private addresses in rank order ("" where not assigned yet).
func (c *Cluster) PrivateIPs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.PrivateIP
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// ClusterFinder is implemented by clouds that can look for the cluster an earlier, interrupted
// apply created for a resource (by spec.LaunchToken, launched at or after spec.AdoptSince)
// without creating anything: cluster placement looks on every candidate cloud before creating
// on any, so that a rerun never creates on one cloud what an interrupted run left on another.
// It returns the cluster to adopt, or nil when there is none.
type ClusterFinder interface {
	FindCluster(ctx context.Context, spec ClusterSpec) (*Cluster, error)
}
