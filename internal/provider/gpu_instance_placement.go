package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// placementRequest is the machine's request to the shared placement (placement.go): each cloud
// checks the plan on its own copy (its own keys, its own resolution of the type) and prices the
// machine with its settings.
func (r *gpuInstanceResource) placementRequest(ctx context.Context, plan gpuInstanceModel) placementRequest {
	return placementRequest{
		placement: plan.Placement, limit: plan.MaxPricePerHour, what: "machine",
		check: func(cloud clients.Cloud) (clients.InstanceType, []string) {
			var kd diag.Diagnostics
			p := plan
			p.SSHKeyIDs = keySetOnCloud(ctx, cloud, plan.SSHKeyIDs, &kd)
			resolved, cd := checkOnCloud(ctx, cloud, &p)
			if !cd.HasError() {
				cd.Append(checkReferences(ctx, cloud, p, nil)...)
			}
			return resolved, errorDetails(cd)
		},
		extra: func(c placementCandidate) string { return spotRefusal(c.cloud.Name(), plan.CapacityType) },
		price: func(cloud clients.Cloud, it clients.InstanceType) (float64, error) {
			var d diag.Diagnostics
			spec := expandInstanceSpecOn(ctx, plan, cloud.Name(), &d)
			spec.GPUType, spec.GPUCount = it.Name, it.GPUCount
			return machinePrice(ctx, cloud, it, &spec)
		},
	}
}

// modifyPlanPlacement checks a new machine with a placement block: at least one listed cloud
// can take it; the others are named in a warning. The plan shows the highest price the
// placement may choose.
func (r *gpuInstanceResource) modifyPlanPlacement(ctx context.Context, plan *gpuInstanceModel, resp *resource.ModifyPlanResponse) {
	candidates, skipped, ok := r.data.startPlacement(ctx, plan.Region, " with capacity", plan.Placement, instanceBlocksSet(plan),
		r.placementRequest(ctx, *plan), &resp.Diagnostics)
	if !ok {
		return
	}
	if len(candidates) == 0 {
		resp.Diagnostics.AddAttributeError(path.Root("placement"), "No cloud in placement can launch this machine",
			"Every listed cloud refuses it:\n  - "+strings.Join(skipped, "\n  - "))
		return
	}
	if len(skipped) > 0 {
		resp.Diagnostics.AddAttributeWarning(path.Root("placement"), "Some clouds in placement are skipped",
			"These clouds cannot launch this machine as configured and will not be tried:\n  - "+strings.Join(skipped, "\n  - "))
	}
	plan.Cloud = types.StringUnknown()
	plan.InstanceType = types.StringUnknown()
	if plan.GPUCount.IsNull() {
		plan.GPUCount = types.Int64Unknown() // a native type on the chosen cloud fixes it
	}
	if len(candidates) == 1 {
		plan.InstanceType = types.StringValue(candidates[0].resolved.Name)
		plan.GPUCount = types.Int64Value(int64(candidates[0].resolved.GPUCount))
	}
	plan.Status = types.StringUnknown()
	plan.PricePerHour, plan.MaxPossible = plannedPrices(candidates, plan.MaxPricePerHour)
	if plan.DesiredState.ValueString() == clients.DesiredStopped {
		plan.PricePerHour = types.Float64Unknown() // a stopped machine bills no GPUs
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// launchPlaced tries the placement candidates in turn, moving on after a capacity or quota
// refusal, and returns the cloud that accepted the machine. When all refuse, the error lists
// every attempt. A landing anywhere but the first candidate adds a warning to diags.
func (r *gpuInstanceResource) launchPlaced(ctx context.Context, plan gpuInstanceModel, spec clients.InstanceSpec, diags *diag.Diagnostics) (clients.Cloud, *clients.Instance, error) {
	candidates, skipped, cd := r.data.placementCandidates(ctx, r.placementRequest(ctx, plan))
	if cd.HasError() {
		return nil, nil, errors.New(cd.Errors()[0].Detail())
	}
	// Look on every candidate cloud before launching on any: a rerun after a crash must find
	// the machine wherever the interrupted run placed it.
	looked := map[string]bool{}
	for _, c := range candidates {
		f, ok := c.cloud.(clients.LaunchFinder)
		if !ok || looked[c.cloud.Name()] {
			continue
		}
		looked[c.cloud.Name()] = true
		inst, err := f.FindLaunched(ctx, spec)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", displayName(c.cloud.Name()), err)
		}
		if inst != nil {
			return c.cloud, inst, nil
		}
	}
	out := placementOutcome{chosen: -1}
	for i, c := range candidates {
		s := spec
		s.Region = c.region
		s.SSHKeyIDs = keysOnCloud(ctx, c.cloud, spec.SSHKeyIDs)
		var d diag.Diagnostics
		s.Options = instanceOptions(ctx, plan, c.cloud.Name(), &d)
		if v, ok := c.cloud.(clients.InstanceValidator); ok {
			if errs := v.ValidateInstanceSpec(s); len(errs) > 0 {
				skipped = append(skipped, fmt.Sprintf("%s: %s", c.cloud.Name(), errs[0].Detail))
				continue
			}
		}
		tflog.Info(ctx, "placing instance", map[string]any{"cloud": c.cloud.Name(), "region": c.region, "instance_type": c.resolved.Name})
		inst, err := c.cloud.CreateInstance(ctx, s)
		if err == nil {
			out.chosen = i
			warnPlacedElsewhere(diags, "machine", candidates, out)
			return c.cloud, inst, nil
		}
		switch {
		case refusedForCapacity(err):
			out.attempts = append(out.attempts, placementAttempt{candidate: c, err: err})
		case errors.Is(err, clients.ErrOutcomeUnknown):
			// Sent, unanswered: no other candidate may be tried while this one may exist.
			return c.cloud, nil, fmt.Errorf("%s: %w", displayName(c.cloud.Name()), err)
		default:
			return nil, nil, fmt.Errorf("%s refused the machine: %w", displayName(c.cloud.Name()), err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, nil, placementError("machine", out, skipped)
}
