package clients

// CoreWeaveInstanceOptions place a one-node NodePool (a neutral instance) in a CKS cluster.
type CoreWeaveInstanceOptions struct {
	// ClusterID is the CKS cluster to add the node to (a neocloud_gpu_cluster's id, or any
	// existing CKS cluster's).
	ClusterID    string
	ComputeClass string // "default" or "spot"
}
