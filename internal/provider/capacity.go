package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Capacity types: on demand, or spot capacity the cloud may reclaim. A cloud says in its
// registration whether its API offers spot (clients.CloudInfo.Spot) and, when not, why
// (NoSpotReason); spot on a cloud without it is refused at plan time.
const (
	capacityOnDemand = "on_demand"
	capacitySpot     = "spot"
	// statusPreempted is the status of a machine the cloud reclaimed (Lambda reports it as
	// preempted): kept in state so that the next plan replaces it, saying why.
	statusPreempted = "preempted"
)

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
	info, _ := clients.Lookup(cloud)
	if capacityType.ValueString() != capacitySpot || info.Spot {
		return ""
	}
	if info.NoSpotReason != "" {
		return info.NoSpotReason
	}
	return displayName(cloud) + " offers no spot capacity."
}

// checkCapacityType refuses spot on a cloud without it, on capacity_type.
func checkCapacityType(cloud string, capacityType types.String, diags *diag.Diagnostics) {
	if why := spotRefusal(cloud, capacityType); why != "" {
		diags.AddAttributeError(path.Root("capacity_type"), "No spot capacity on "+displayName(cloud),
			why+" Use capacity_type = \"on_demand\", or a cloud with spot capacity ("+strings.Join(spotClouds(), ", ")+").")
	}
}

// spotClouds are the display names of the registered clouds whose API offers spot capacity.
func spotClouds() []string {
	var out []string
	for _, name := range clients.Names() {
		if info, _ := clients.Lookup(name); info.Spot {
			out = append(out, info.DisplayName)
		}
	}
	return out
}
