package provider

import (
	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/coreweave"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/runpod"
)

// runpodOpts is the RunPod options a spec carries or a machine reports (nil when none).
func runpodOpts(v any) *runpod.InstanceOptions {
	o, _ := v.(*runpod.InstanceOptions)
	return o
}

// runpodUpdate is the RunPod part of an update (nil when none).
func runpodUpdate(u clients.InstanceUpdate) *runpod.InstanceUpdate {
	o, _ := u.Options.(*runpod.InstanceUpdate)
	return o
}

// cwClusterOpts is the CoreWeave options a cluster spec carries (nil when none).
func cwClusterOpts(v any) *coreweave.ClusterOptions {
	o, _ := v.(*coreweave.ClusterOptions)
	return o
}
