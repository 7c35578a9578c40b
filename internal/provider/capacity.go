package provider

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Capacity types: on demand, or spot capacity the cloud may reclaim. Only CoreWeave's API offers
// spot (a NodePool's computeClass Spot). Lambda Cloud API 1.8 has no spot instances, and RunPod's
// REST v2 document has no interruptible field on pods or clusters, so both refuse spot at plan
// time until their APIs offer it.
const (
	capacityOnDemand = "on_demand"
	capacitySpot     = "spot"
	// statusPreempted is the status of a machine the cloud reclaimed (Lambda reports it as
	// preempted): kept in state so that the next plan replaces it, saying why.
	statusPreempted = "preempted"
)

// spotClouds are the clouds whose API offers spot capacity.
var spotClouds = map[string]bool{"coreweave": true}

func capacityTypeAttribute(what string) schema.Attribute {
	return schema.StringAttribute{
		Optional: true, Computed: true,
		MarkdownDescription: "`on_demand` (default) or `spot`: capacity the cloud may reclaim, for less. Only CoreWeave offers spot (its Spot compute class); " +
			"Lambda Cloud's API has no spot instances and RunPod's REST API no interruptible pods, so `spot` there fails the plan on this attribute " +
			"(with `placement`, those clouds are skipped). Replaces `coreweave.compute_class`, which is deprecated. A " + what + " the cloud reclaims " +
			"is planned for replacement with a message that says so. Changing it replaces the " + what + ".",
		Validators:    []validator.String{stringvalidator.OneOf(capacityOnDemand, capacitySpot)},
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplaceIfConfigured()},
	}
}

// plannedCapacityType is capacity_type for the plan: as configured, else what the deprecated
// coreweave.compute_class says, else on demand. It refuses the two disagreeing.
func plannedCapacityType(configured, computeClass types.String, diags *diag.Diagnostics) types.String {
	fromClass := types.StringNull()
	switch computeClass.ValueString() {
	case "spot":
		fromClass = types.StringValue(capacitySpot)
	case "default":
		fromClass = types.StringValue(capacityOnDemand)
	}
	if configured.IsUnknown() || configured.IsNull() {
		if !fromClass.IsNull() {
			return fromClass
		}
		return types.StringValue(capacityOnDemand)
	}
	if !fromClass.IsNull() && !fromClass.Equal(configured) {
		diags.AddAttributeError(path.Root("capacity_type"), "capacity_type and coreweave.compute_class disagree",
			fmt.Sprintf("capacity_type is %s but coreweave.compute_class is %s. Remove coreweave.compute_class (deprecated): capacity_type replaces it.",
				configured.ValueString(), computeClass.ValueString()))
	}
	return configured
}

// spotRefusal says why a cloud cannot take spot capacity, or "" when it can or none is asked.
func spotRefusal(cloud string, capacityType types.String) string {
	if capacityType.ValueString() != capacitySpot || spotClouds[cloud] {
		return ""
	}
	switch cloud {
	case "lambda":
		return "Lambda Cloud's API (1.8) has no spot instances: only on-demand capacity."
	case "runpod":
		return "RunPod's REST API (v2) has no interruptible pods or clusters: only on-demand capacity (secure or community cloud)."
	}
	return displayName(cloud) + " offers no spot capacity."
}

// checkCapacityType refuses spot on a cloud without it, on capacity_type.
func checkCapacityType(cloud string, capacityType types.String, diags *diag.Diagnostics) {
	if why := spotRefusal(cloud, capacityType); why != "" {
		diags.AddAttributeError(path.Root("capacity_type"), "No spot capacity on "+displayName(cloud),
			why+" Use capacity_type = \"on_demand\", or a cloud with spot capacity (CoreWeave).")
	}
}
