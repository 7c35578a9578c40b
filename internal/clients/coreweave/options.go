package coreweave

import "github.com/neocloud/terraform-provider-neocloud/internal/clients"

// InstanceOptions place a one-node NodePool (a neutral instance) in a CKS cluster
// (clients.InstanceSpec.Options). In an Instance they are what the pool reports.
type InstanceOptions struct {
	// ClusterID is the CKS cluster to add the node to (a neocloud_gpu_cluster's id, or any
	// existing CKS cluster's).
	ClusterID    string
	ComputeClass string // ComputeClassDefault or ComputeClassSpot
}

// ClusterOptions are CKS settings (clients.ClusterSpec.Options).
type ClusterOptions struct {
	KubernetesVersion string
	// VPCID places the cluster in an existing VPC; empty creates one (and deletes it with
	// the cluster).
	VPCID        string
	Public       bool
	ComputeClass string // ComputeClassDefault or ComputeClassSpot
}

// ClusterInfo is what a CKS cluster reports beyond the neutral fields (clients.Cluster.Options).
type ClusterInfo struct {
	VPCID             string
	VPCCreated        bool // the provider made the VPC and deletes it with the cluster
	KubernetesVersion string
	Public            bool
	ComputeClass      string
}

// instanceOptions reads the spec's CoreWeave settings: nil when it has none, an error when it
// holds another cloud's.
func instanceOptions(spec clients.InstanceSpec) (*InstanceOptions, error) {
	return clients.OptionsOf[InstanceOptions](cloudName, spec.Options)
}
