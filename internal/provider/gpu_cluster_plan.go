package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Plan-time checks of a cluster on its cloud: settings blocks, region, node count, type, the
// cloud's own rules and the price cap.

// checkClusterOnCloud runs the plan-time checks of one cloud on a cluster plan: the settings
// blocks, the region, the node count, the GPU type and count, and the cloud's own rules. It
// fills in the resolved instance type and GPUs per node.
func checkClusterOnCloud(ctx context.Context, cloud clients.Cloud, cc clients.ClusterCloud, plan *gpuClusterModel) (clients.InstanceType, diag.Diagnostics) {
	var diags diag.Diagnostics
	cloudName := cloud.Name()
	if plan.Placement == nil {
		checkBlocksOnCloud(clusterBlocksSet(plan), cloudName, "cluster", &diags)
	}
	diags.Append(checkRegion(ctx, cloud, plan.Region, "")...)
	rules := cc.ClusterRules()
	if n := plan.NodeCount; !n.IsUnknown() && !n.IsNull() {
		if int(n.ValueInt64()) < rules.MinNodes || (rules.MaxNodes > 0 && int(n.ValueInt64()) > rules.MaxNodes) {
			diags.AddAttributeError(path.Root("node_count"), "Node count out of range",
				fmt.Sprintf("%s clusters have %d to %d nodes; %d was given.", displayName(cloudName), rules.MinNodes, rules.MaxNodes, n.ValueInt64()))
		}
	}
	var resolved clients.InstanceType
	if !plan.GPUType.IsUnknown() && !plan.GPUsPerNode.IsUnknown() {
		it, err := cloud.ResolveInstanceType(plan.GPUType.ValueString(), int(plan.GPUsPerNode.ValueInt64()))
		if err != nil {
			at := path.Root("gpu_type")
			if !plan.GPUsPerNode.IsNull() && soldInSomeCount(cloud, plan.GPUType.ValueString()) {
				at = path.Root("gpus_per_node")
			}
			diags.AddAttributeError(at, "GPU type not available for a "+displayName(cloudName)+" cluster", err.Error())
		} else {
			if len(rules.GPUsPerNode) > 0 && !slices.Contains(rules.GPUsPerNode, it.GPUCount) {
				diags.AddAttributeError(path.Root("gpus_per_node"), "GPUs per node not supported",
					fmt.Sprintf("%s clusters have %v GPUs per node; %s with %d was asked.", displayName(cloudName), rules.GPUsPerNode, it.Name, it.GPUCount))
			}
			resolved = it
			plan.InstanceType = types.StringValue(it.Name)
			plan.GPUsPerNode = types.Int64Value(int64(it.GPUCount))
		}
	}
	if v, ok := cc.(clients.ClusterValidator); ok && !diags.HasError() {
		unknown := plan.unknownAttributes()
		for _, fe := range v.ValidateClusterSpec(expandClusterSpecOn(ctx, *plan, cloud.Name(), &diags)) {
			if !unknown[fe.Field] && !unknown[strings.Split(fe.Field, ".")[0]] {
				diags.AddAttributeError(attrPath(fe.Field), fe.Summary, fe.Detail)
			}
		}
	}
	return resolved, diags
}

// planPrice is the planned price of the cluster on a fixed cloud (unknown when the cloud cannot
// say at plan time), refusing it above max_price_per_hour.
func (r *gpuClusterResource) planPrice(ctx context.Context, cloud clients.Cloud, resolved clients.InstanceType, plan gpuClusterModel, resp *resource.ModifyPlanResponse) types.Float64 {
	if resolved.Name == "" || plan.NodeCount.IsUnknown() {
		return types.Float64Unknown()
	}
	price, err := nodesPrice(ctx, cloud, resolved, int(plan.NodeCount.ValueInt64()))
	if err != nil {
		if r.data.authFailed(&resp.Diagnostics, cloud.Name(), err, true) {
			return types.Float64Unknown()
		}
		if !plan.MaxPricePerHour.IsNull() {
			resp.Diagnostics.AddAttributeWarning(path.Root("max_price_per_hour"), "Price not checked",
				"The price cap could not be checked at plan time ("+err.Error()+"); it is checked again when the cluster is created.")
		}
		return knownPrice(ctx, price, err)
	}
	r.checkClusterCap(plan, cloud.Name(), resolved, price, resp)
	return types.Float64Value(price)
}

// checkClusterCap refuses a cluster whose price is above max_price_per_hour.
func (r *gpuClusterResource) checkClusterCap(plan gpuClusterModel, cloudName string, resolved clients.InstanceType, price float64, resp *resource.ModifyPlanResponse) {
	limit := plan.MaxPricePerHour
	if limit.IsNull() || limit.IsUnknown() || price <= limit.ValueFloat64() {
		return
	}
	resp.Diagnostics.AddAttributeError(path.Root("max_price_per_hour"), "Cluster costs more than max_price_per_hour",
		fmt.Sprintf("%d node(s) of %s on %s cost $%.2f per hour together, above max_price_per_hour = $%.2f. Raise the cap, use fewer nodes or choose a cheaper gpu_type.",
			plan.NodeCount.ValueInt64(), resolved.Name, displayName(cloudName), price, limit.ValueFloat64()))
}

// checkCapAtApply checks max_price_per_hour again right before the create: the list price may
// have changed since the plan.
func (r *gpuClusterResource) checkCapAtApply(ctx context.Context, cloud clients.Cloud, spec clients.ClusterSpec, plan gpuClusterModel) error {
	if plan.MaxPricePerHour.IsNull() || plan.InstanceType.IsUnknown() || plan.InstanceType.IsNull() {
		return nil
	}
	it := clients.InstanceType{Name: plan.InstanceType.ValueString(), GPUCount: spec.GPUsPerNode}
	price, err := nodesPrice(ctx, cloud, it, spec.NodeCount)
	if err != nil {
		tflog.Warn(ctx, "price cap not checked again at apply", map[string]any{"error": err.Error()})
		return nil //nolint:nilerr // an unanswered price check leaves the decision to the plan's
	}
	if price <= plan.MaxPricePerHour.ValueFloat64() {
		return nil
	}
	return fmt.Errorf("%d node(s) of %s on %s now cost $%.2f per hour together, above max_price_per_hour = $%.2f; nothing was created",
		spec.NodeCount, it.Name, displayName(cloud.Name()), price, plan.MaxPricePerHour.ValueFloat64())
}
