package provider

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Placement strategies.
const (
	strategyOrdered  = "ordered"
	strategyCheapest = "cheapest"
)

type placementModel struct {
	Clouds   types.List   `tfsdk:"clouds"`
	Strategy types.String `tfsdk:"strategy"`
}

func placementBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Let the provider choose the cloud: each listed cloud that can launch this machine is tried in turn, " +
			"and on a capacity (or quota) refusal the next one is, within the create timeout. The chosen cloud is recorded in " +
			"`cloud`. A cloud that cannot take the machine as configured (it does not sell the GPU, or refuses a setting) is " +
			"skipped, and the plan says why. Use instead of `cloud`; leave `region` out (each cloud picks one with capacity).",
		Attributes: map[string]schema.Attribute{
			"clouds": schema.ListAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Clouds to consider, in order of preference. Removing the machine's current cloud from the list replaces the machine.",
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.OneOf(clients.Names()...)),
				},
			},
			"strategy": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "`ordered` (default): try the clouds in the listed order. `cheapest`: try them cheapest first, " +
					"by the live price of this machine on each (clouds with no capacity anywhere go last).",
				Validators: []validator.String{stringvalidator.OneOf(strategyOrdered, strategyCheapest)},
			},
		},
	}
}

// placementCandidate is a cloud that can take the machine, with its resolved type and price.
type placementCandidate struct {
	cloud    clients.Cloud
	resolved clients.InstanceType
	price    float64 // +Inf when the cloud reports no capacity for it, or the price is unknown
}

// candidates checks every listed cloud against the plan and returns those that can take the
// machine, in the order the strategy asks for, plus why each other one cannot.
func (r *gpuInstanceResource) candidates(ctx context.Context, plan gpuInstanceModel) ([]placementCandidate, []string, diag.Diagnostics) {
	var diags diag.Diagnostics
	names := stringsFromList(ctx, plan.Placement.Clouds, &diags)
	if len(names) == 0 {
		diags.AddAttributeError(path.Root("placement").AtName("clouds"), "No cloud to place on", "List at least one cloud in placement.clouds.")
		return nil, nil, diags
	}
	var out []placementCandidate
	var skipped []string
	for _, name := range names {
		cloud, err := r.data.cloud(name)
		if err != nil {
			diags.AddAttributeError(path.Root("placement").AtName("clouds"), "Cloud not configured", err.Error())
			continue
		}
		p := plan // each cloud resolves the type and sees its keys on its own copy
		p.SSHKeyIDs = keySetOnCloud(ctx, cloud, plan.SSHKeyIDs, &diags)
		resolved, cd := checkOnCloud(ctx, cloud, &p)
		if !cd.HasError() {
			cd.Append(checkReferences(ctx, cloud, p, nil)...)
		}
		if cd.HasError() {
			var why []string
			for _, d := range cd.Errors() {
				why = append(why, d.Detail())
			}
			skipped = append(skipped, fmt.Sprintf("%s: %s", name, strings.Join(why, " ")))
			continue
		}
		out = append(out, placementCandidate{cloud: cloud, resolved: resolved, price: math.Inf(1)})
	}
	if plan.Placement.Strategy.ValueString() == strategyCheapest || !plan.MaxPricePerHour.IsNull() {
		for i := range out {
			out[i].price = livePrice(ctx, out[i])
		}
	}
	if plan.Placement.Strategy.ValueString() == strategyCheapest {
		sort.SliceStable(out, func(i, j int) bool { return out[i].price < out[j].price })
	}
	if limit := plan.MaxPricePerHour; !limit.IsNull() && !limit.IsUnknown() {
		kept := out[:0]
		for _, c := range out {
			if !math.IsInf(c.price, 1) && c.price > limit.ValueFloat64() {
				skipped = append(skipped, fmt.Sprintf("%s: %s costs $%.2f per hour, above max_price_per_hour", c.cloud.Name(), c.resolved.Name, c.price))
				continue
			}
			kept = append(kept, c)
		}
		out = kept
	}
	return out, skipped, diags
}

// livePrice is the cheapest price of the resolved machine among the cloud's offers with
// capacity, or +Inf.
func livePrice(ctx context.Context, c placementCandidate) float64 {
	offers, err := c.cloud.Offers(ctx, clients.OfferFilter{GPUType: c.resolved.GPUType, GPUCount: c.resolved.GPUCount, OnlyAvailable: true})
	if err != nil {
		tflog.Warn(ctx, "offers unavailable, placing this cloud last", map[string]any{"cloud": c.cloud.Name(), "error": err.Error()})
		return math.Inf(1)
	}
	best := math.Inf(1)
	for _, o := range offers {
		if o.InstanceType == c.resolved.Name && len(o.Regions) > 0 {
			best = math.Min(best, o.PricePerHour)
		}
	}
	return best
}

// modifyPlanPlacement checks a new machine with a placement block: at least one listed cloud
// can take it; the others are named in a warning.
func (r *gpuInstanceResource) modifyPlanPlacement(ctx context.Context, plan *gpuInstanceModel, resp *resource.ModifyPlanResponse) {
	if !plan.Region.IsNull() && !plan.Region.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("region"), "Region with placement",
			"Clouds name their regions differently: with a placement block, leave region out and each cloud picks one with capacity.")
		return
	}
	if plan.Placement.Clouds.IsUnknown() {
		return
	}
	names := stringsFromList(ctx, plan.Placement.Clouds, &resp.Diagnostics)
	for block, set := range map[string]bool{"lambda": plan.Lambda != nil, "runpod": plan.RunPod != nil, "coreweave": plan.CoreWeave != nil} {
		if set && !slices.Contains(names, block) {
			resp.Diagnostics.AddAttributeError(path.Root(block), "Settings for a cloud not in placement",
				fmt.Sprintf("The `%s` block only applies when %q is in placement.clouds. Remove the block or add the cloud.", block, block))
		}
	}
	candidates, skipped, diags := r.candidates(ctx, *plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
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
	plan.PricePerHour = types.Float64Unknown()
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// launchPlaced tries the placement candidates in turn, moving on after a capacity or quota
// refusal, and returns the cloud that accepted the machine. When all refuse, the error lists
// every attempt.
func (r *gpuInstanceResource) launchPlaced(ctx context.Context, plan gpuInstanceModel, spec clients.InstanceSpec) (clients.Cloud, *clients.Instance, error) {
	var diags diag.Diagnostics
	candidates, skipped, cd := r.candidates(ctx, plan)
	diags.Append(cd...)
	if diags.HasError() {
		return nil, nil, errors.New(diags.Errors()[0].Detail())
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
	var attempts []clients.CapacityAttempt
	for _, c := range candidates {
		s := spec
		s.SSHKeyIDs = keysOnCloud(ctx, c.cloud, spec.SSHKeyIDs)
		if v, ok := c.cloud.(clients.InstanceValidator); ok {
			if errs := v.ValidateInstanceSpec(s); len(errs) > 0 {
				skipped = append(skipped, fmt.Sprintf("%s: %s", c.cloud.Name(), errs[0].Detail))
				continue
			}
		}
		tflog.Info(ctx, "placing instance", map[string]any{"cloud": c.cloud.Name(), "instance_type": c.resolved.Name})
		inst, err := c.cloud.CreateInstance(ctx, s)
		if err == nil {
			return c.cloud, inst, nil
		}
		var capErr *clients.CapacityError
		switch {
		case errors.As(err, &capErr):
			attempts = append(attempts, capErr.Attempts...)
		case clients.IsCapacity(err) || errors.Is(err, clients.ErrQuota):
			attempts = append(attempts, clients.CapacityAttempt{Cloud: c.cloud.Name(), InstanceType: c.resolved.Name, Err: err})
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
	err := error(&clients.CapacityError{Attempts: attempts})
	if len(skipped) > 0 {
		err = fmt.Errorf("%w\nnot tried:\n  - %s", err, strings.Join(skipped, "\n  - "))
	}
	return nil, nil, err
}

// keySetOnCloud is keysOnCloud for a planned set: when an id is not known yet (a key created
// in the same run), the whole set is left unknown so plan-time checks of keys wait for apply.
func keySetOnCloud(ctx context.Context, cloud clients.Cloud, set types.Set, diags *diag.Diagnostics) types.Set {
	if set.IsNull() || set.IsUnknown() {
		return set
	}
	ids := stringsFromSet(ctx, set, diags)
	if slices.Contains(ids, unknownElement) {
		return types.SetUnknown(types.StringType)
	}
	return setOrNull(ctx, keysOnCloud(ctx, cloud, ids), diags)
}

// keysOnCloud keeps the SSH key ids that belong to the cloud's account: a machine placed by
// `placement` may list keys of several clouds (one neocloud_ssh_key per cloud).
func keysOnCloud(ctx context.Context, cloud clients.Cloud, ids []string) []string {
	keys, ok := cloud.(clients.SSHKeyCloud)
	if !ok {
		return nil
	}
	var out []string
	for _, id := range ids {
		if _, err := keys.GetSSHKey(ctx, id); err == nil {
			out = append(out, id)
		}
	}
	return out
}
