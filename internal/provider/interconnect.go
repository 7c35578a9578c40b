package provider

import "github.com/neocloud/terraform-provider-neocloud/internal/clients"

// interconnects are the networks between machines, as each cloud documents them for an instance
// type or cluster product: each cloud says which in its registration (clients.CloudInfo's
// Interconnect and ClusterInterconnect), ethernet when it says nothing.
var interconnects = []string{clients.InterconnectInfiniBand, clients.InterconnectFabric, clients.InterconnectEthernet}

// machineInterconnect is the network between machines of an instance type on a cloud.
func machineInterconnect(cloud, instanceType string) string {
	return clients.MachineInterconnect(cloud, instanceType)
}

// clusterInterconnect is the network between the nodes of a neocloud_gpu_cluster of an instance
// type on a cloud.
func clusterInterconnect(cloud, instanceType string) string {
	return clients.ClusterInterconnect(cloud, instanceType)
}

// interconnectDescription says where each value comes from, for the schema descriptions.
const interconnectDescription = "`infiniband` for CoreWeave's InfiniBand node types (the `ib` in `gd-8xh100ib-i128`, and the B200, GB200 and GB300 " +
	"node types CoreWeave sells InfiniBand-connected); `high_speed_fabric` for RunPod Instant Clusters, which RunPod documents as pods on a " +
	"high-speed fabric without naming it; `ethernet` for everything else: Lambda Cloud instances (Lambda's API documents no InfiniBand for them, " +
	"so a Lambda cluster's nodes talk over its private network), RunPod pods, and CoreWeave types without InfiniBand."
