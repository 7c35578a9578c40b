package provider

import (
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
)

// The network between machines, as each cloud documents it for an instance type or cluster
// product. Where a value comes from:
//
//   - infiniband: CoreWeave's InfiniBand node types (the "ib" in gd-8xh100ib-i128; the GPU
//     catalog's InfiniBand flag), and its rack-scale and B200 node types that CoreWeave sells
//     InfiniBand-connected (b200-8x, gb200-4x, gb300-4x).
//   - high_speed_fabric: RunPod Instant Clusters, which RunPod documents as pods "with a
//     high-speed fabric" between them without naming the technology in its API documents.
//   - ethernet: everything else: Lambda Cloud instances (Lambda's API documents no InfiniBand
//     for on-demand instances, so a Lambda cluster's nodes talk over its private network), RunPod
//     pods outside an Instant Cluster, CoreWeave node types without InfiniBand.
const (
	interconnectInfiniBand = "infiniband"
	interconnectFabric     = "high_speed_fabric"
	interconnectEthernet   = "ethernet"
)

var interconnects = []string{interconnectInfiniBand, interconnectFabric, interconnectEthernet}

// coreweaveInfiniBandTypes are CoreWeave node types outside the GPU catalog that CoreWeave sells
// InfiniBand-connected.
var coreweaveInfiniBandTypes = map[string]bool{"b200-8x": true, "gb200-4x": true, "gb300-4x": true}

// machineInterconnect is the network between machines of an instance type on a cloud.
func machineInterconnect(cloud, instanceType string) string {
	if cloud != "coreweave" {
		return interconnectEthernet
	}
	t := strings.ToLower(instanceType)
	if _, cw, ok := gpus.ByCoreWeaveInstanceType(t); ok && cw.InfiniBand {
		return interconnectInfiniBand
	}
	if coreweaveInfiniBandTypes[t] || strings.Contains(t, "ib-") || strings.HasSuffix(t, "ib") {
		return interconnectInfiniBand
	}
	return interconnectEthernet
}

// clusterInterconnect is the network between the nodes of a neocloud_gpu_cluster of an instance
// type on a cloud.
func clusterInterconnect(cloud, instanceType string) string {
	if cloud == "runpod" {
		return interconnectFabric
	}
	return machineInterconnect(cloud, instanceType)
}

// interconnectDescription says where each value comes from, for the schema descriptions.
const interconnectDescription = "`infiniband` for CoreWeave's InfiniBand node types (the `ib` in `gd-8xh100ib-i128`, and the B200, GB200 and GB300 " +
	"node types CoreWeave sells InfiniBand-connected); `high_speed_fabric` for RunPod Instant Clusters, which RunPod documents as pods on a " +
	"high-speed fabric without naming it; `ethernet` for everything else: Lambda Cloud instances (Lambda's API documents no InfiniBand for them, " +
	"so a Lambda cluster's nodes talk over its private network), RunPod pods, and CoreWeave types without InfiniBand."
