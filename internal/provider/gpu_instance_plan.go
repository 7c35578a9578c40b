package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Plan-time checks of a machine on its cloud: settings blocks, region, type and count, the
// cloud's own rules, the price cap and references to keys, volumes and credentials.

// checkOnCloud runs the plan-time checks of one cloud on a plan: the settings blocks, the
// region, the GPU type and count, and the cloud's own rules. It fills in the resolved instance
// type and GPU count, and returns attribute-scoped diagnostics.
func checkOnCloud(ctx context.Context, cloud clients.Cloud, plan *gpuInstanceModel) (clients.InstanceType, diag.Diagnostics) {
	var diags diag.Diagnostics
	cloudName := cloud.Name()
	if plan.Placement == nil {
		checkBlocksOnCloud(instanceBlocksSet(plan), cloudName, "machine", &diags)
	}
	diags.Append(checkRegion(ctx, cloud, plan.Region, "Leave region out to let the provider pick one with capacity.")...)

	var resolved clients.InstanceType
	if !plan.GPUType.IsUnknown() && !plan.GPUCount.IsUnknown() {
		var err error
		resolved, err = cloud.ResolveInstanceType(plan.GPUType.ValueString(), int(plan.GPUCount.ValueInt64()))
		if err != nil {
			counts := countsSold(cloud, plan.GPUType.ValueString())
			switch {
			case plan.GPUCount.IsNull() && len(counts) > 0:
				// The type alone does not say how many GPUs: the cloud sells several shapes.
				diags.AddAttributeError(path.Root("gpu_count"), "GPU count needed",
					fmt.Sprintf("%s sells %s in machines of %s GPUs, so gpu_type alone does not say which machine to launch. Set gpu_count to one of these counts, "+
						"or set gpu_type to the cloud's instance type (which fixes the count).", displayName(cloudName), plan.GPUType.ValueString(), joinCounts(counts)))
			case len(counts) > 0:
				diags.AddAttributeError(path.Root("gpu_count"), "GPU type not available on "+cloudName, err.Error())
			default:
				diags.AddAttributeError(path.Root("gpu_type"), "GPU type not available on "+cloudName, err.Error())
			}
			return resolved, diags
		}
		plan.InstanceType = types.StringValue(resolved.Name)
		plan.GPUCount = types.Int64Value(int64(resolved.GPUCount))
	} else {
		plan.InstanceType = types.StringUnknown()
	}

	if v, ok := cloud.(clients.InstanceValidator); ok {
		spec := expandInstanceSpecOn(ctx, *plan, cloudName, &diags)
		unknown := plan.unknownAttributes()
		for _, fe := range v.ValidateInstanceSpec(spec) {
			if unknown[fe.Field] || unknown[strings.Split(fe.Field, ".")[0]] {
				continue // judged at apply, when the value is known
			}
			diags.AddAttributeError(attrPath(fe.Field), fe.Summary, fe.Detail)
		}
	}
	return resolved, diags
}

// checkPrice refuses, at plan time, a machine whose live price is above max_price_per_hour.
func (r *gpuInstanceResource) checkPrice(ctx context.Context, cloud clients.Cloud, plan gpuInstanceModel, resolved clients.InstanceType, resp *resource.ModifyPlanResponse) {
	if plan.MaxPricePerHour.IsNull() || plan.MaxPricePerHour.IsUnknown() || resolved.Name == "" {
		return
	}
	limit := plan.MaxPricePerHour.ValueFloat64()
	offers, err := cloud.Offers(ctx, clients.OfferFilter{GPUType: resolved.GPUType, GPUCount: resolved.GPUCount})
	if r.data.authFailed(&resp.Diagnostics, cloud.Name(), err, true) {
		return
	}
	if err != nil {
		resp.Diagnostics.AddAttributeWarning(path.Root("max_price_per_hour"), "Price not checked",
			"The price cap could not be checked at plan time ("+err.Error()+"); it is checked again at launch.")
		return
	}
	cheapest := -1.0
	for _, o := range offers {
		if o.InstanceType != resolved.Name {
			continue
		}
		if cheapest < 0 || o.PricePerHour < cheapest {
			cheapest = o.PricePerHour
		}
	}
	if cheapest > limit {
		resp.Diagnostics.AddAttributeError(path.Root("max_price_per_hour"), "Price cap below every offer",
			fmt.Sprintf("%s %s costs $%.2f per hour on %s, above max_price_per_hour = $%.2f. Raise the cap or choose a cheaper gpu_type.",
				plan.Cloud.ValueString(), resolved.Name, cheapest, plan.Cloud.ValueString(), limit))
	}
}

// checkReferences asks the cloud, at plan time, whether what the machine refers to in the
// account exists (clients.InstanceReferenceChecker: a RunPod template, a registry credential).
// On an existing machine only references that change are checked: a template deleted after the
// pod was made from it must not block every later plan. A reference known only at apply is
// checked then by the cloud itself; a check the cloud could not answer is a warning.
func checkReferences(ctx context.Context, cloud clients.Cloud, plan gpuInstanceModel, state *gpuInstanceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	rc, ok := cloud.(clients.InstanceReferenceChecker)
	if !ok {
		return diags
	}
	spec := expandInstanceSpecOn(ctx, plan, cloud.Name(), &diags)
	if !referencesToCheck(plan, state, &spec) {
		return diags
	}
	errs, err := rc.CheckInstanceReferences(ctx, spec)
	for _, fe := range errs {
		diags.AddAttributeError(attrPath(fe.Field), fe.Summary, fe.Detail)
	}
	if err != nil {
		diags.AddAttributeWarning(path.Root(cloud.Name()), "References not checked",
			fmt.Sprintf("%s could not be asked at plan time whether the template or registry credential exists (%v); it checks them itself when the machine is created.",
				displayName(cloud.Name()), err))
	}
	return diags
}
