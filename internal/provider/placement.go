package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Placement is shared by neocloud_gpu_instance and neocloud_gpu_cluster: the resource says how
// one cloud judges it (placementRequest.check) and prices it (placementRequest.price); this file
// turns the placement block into an ordered list of candidates (a cloud, and a region when
// placement.regions names some), and tries them in turn.

// Placement strategies.
const (
	strategyOrdered  = "ordered"
	strategyCheapest = "cheapest"
)

type placementModel struct {
	Clouds   types.List   `tfsdk:"clouds"`
	Regions  types.List   `tfsdk:"regions"`
	Strategy types.String `tfsdk:"strategy"`
}

// placementBlock is the placement block of a resource; what names the thing placed ("machine",
// "cluster").
func placementBlock(what string) schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "Let the provider choose the cloud: each listed cloud that can launch this " + what + " is tried in turn, " +
			"and on a capacity (or quota) refusal the next one is, within the create timeout. The chosen cloud is recorded in " +
			"`cloud` (and the region in `region`). A cloud that cannot take the " + what + " as configured (it does not sell the GPU, refuses a setting, or costs more than " +
			"`max_price_per_hour`) is skipped, and the plan says why. When the " + what + " lands anywhere but the first candidate, the apply warns where it went, " +
			"why the earlier candidates were passed over, and the price difference. Use instead of `cloud`; leave `region` out.",
		Attributes: map[string]schema.Attribute{
			"clouds": schema.ListAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Clouds to consider, in order of preference. Removing the " + what + "'s current cloud from the list replaces it.",
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(),
					listvalidator.ValueStringsAre(stringvalidator.OneOf(clients.Names()...)),
				},
			},
			"regions": schema.ListAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Regions to consider, in order of preference, across the listed clouds (Lambda `us-east-1`, RunPod `US-TX-3`, CoreWeave `US-EAST-04A`): " +
					"each cloud is tried in those of its own regions, in this order. A cloud with none of them is skipped. Left out, each cloud picks a region with capacity. " +
					"Only read when the " + what + " is created.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues()},
			},
			"strategy": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "`ordered` (default): try the clouds in the listed order. `cheapest`: try them cheapest first, " +
					"by the list price of this " + what + " on each (clouds reporting no capacity for it go last).",
				Validators: []validator.String{stringvalidator.OneOf(strategyOrdered, strategyCheapest)},
			},
		},
	}
}

// placementCandidate is one cloud (and region) that can take the resource, with its resolved
// machine type and the list price of what would be launched there.
type placementCandidate struct {
	cloud    clients.Cloud
	region   string // "" lets the cloud pick one with capacity
	resolved clients.InstanceType
	price    float64 // list price per hour of the whole resource; NaN when not known
	// available is false when the cloud's offers show no capacity for the type (in the region).
	available bool
}

func (c placementCandidate) priceKnown() bool { return !math.IsNaN(c.price) }

// where names a candidate in messages: "runpod (US-TX-3)".
func (c placementCandidate) where() string {
	if c.region == "" {
		return c.cloud.Name()
	}
	return c.cloud.Name() + " (" + c.region + ")"
}

func (c placementCandidate) priceText() string {
	if !c.priceKnown() {
		return "price unknown"
	}
	return fmt.Sprintf("$%.2f per hour", c.price)
}

// placementRequest is what a resource asks of placement.
type placementRequest struct {
	placement *placementModel
	limit     types.Float64 // max_price_per_hour
	what      string
	// check judges the resource on one cloud: the resolved machine type, or why the cloud
	// cannot take it (each reason a sentence).
	check func(cloud clients.Cloud) (clients.InstanceType, []string)
	// price is the list price per hour of the whole resource on the cloud.
	price func(cloud clients.Cloud, it clients.InstanceType) (float64, error)
	// extra rejects a candidate for a reason of the resource's own (interconnect); "" keeps it.
	extra func(c placementCandidate) string
}

// placementCandidates lists the candidates in the order the strategy tries them, and why each
// other cloud (or region) is not one.
func (d *providerData) placementCandidates(ctx context.Context, req placementRequest) ([]placementCandidate, []string, diag.Diagnostics) {
	var diags diag.Diagnostics
	names := stringsFromList(ctx, req.placement.Clouds, &diags)
	regions := stringsFromList(ctx, req.placement.Regions, &diags)
	if len(names) == 0 {
		diags.AddAttributeError(path.Root("placement").AtName("clouds"), "No cloud to place on", "List at least one cloud in placement.clouds.")
		return nil, nil, diags
	}
	var out []placementCandidate
	var skipped []string
	for _, name := range names {
		cloud, err := d.cloud(name)
		if err != nil {
			diags.AddAttributeError(path.Root("placement").AtName("clouds"), "Cloud not configured", err.Error())
			continue
		}
		resolved, why := req.check(cloud)
		if len(why) > 0 {
			skipped = append(skipped, fmt.Sprintf("%s: %s", name, strings.Join(why, " ")))
			continue
		}
		where := []string{""}
		if len(regions) > 0 {
			known, err := clients.CloudRegions(ctx, cloud)
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: its regions could not be read (%v).", name, err))
				continue
			}
			where = nil
			for _, r := range regions {
				if i := slices.IndexFunc(known, func(k string) bool { return strings.EqualFold(k, r) }); i >= 0 {
					where = append(where, known[i])
				}
			}
			if len(where) == 0 {
				skipped = append(skipped, fmt.Sprintf("%s: none of placement.regions is a %s region.", name, displayName(name)))
				continue
			}
		}
		price, err := req.price(cloud, resolved)
		if err != nil {
			if d.authFailed(&diags, name, err, true) {
				continue
			}
			tflog.Warn(ctx, "price not known at plan time", map[string]any{"cloud": name, "error": err.Error()})
			price = math.NaN()
		}
		for _, region := range where {
			c := placementCandidate{cloud: cloud, region: region, resolved: resolved, price: price, available: true}
			if limit := req.limit; !limit.IsNull() && !limit.IsUnknown() && c.priceKnown() && c.price > limit.ValueFloat64() {
				skipped = append(skipped, fmt.Sprintf("%s: %s costs $%.2f per hour, above max_price_per_hour ($%.2f).", c.where(), resolved.Name, c.price, limit.ValueFloat64()))
				continue
			}
			if req.extra != nil {
				if why := req.extra(c); why != "" {
					skipped = append(skipped, fmt.Sprintf("%s: %s", c.where(), why))
					continue
				}
			}
			out = append(out, c)
		}
	}
	if req.placement.Strategy.ValueString() == strategyCheapest {
		for i := range out {
			out[i].available = hasCapacity(ctx, out[i])
		}
		key := func(c placementCandidate) float64 {
			if !c.available || !c.priceKnown() {
				return math.Inf(1)
			}
			return c.price
		}
		sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	}
	return out, skipped, diags
}

// hasCapacity reports whether the cloud's offers show capacity for the candidate's machine type
// (in its region); an answer that could not be had counts as capacity (the launch finds out).
func hasCapacity(ctx context.Context, c placementCandidate) bool {
	offers, err := c.cloud.Offers(ctx, clients.OfferFilter{GPUCount: c.resolved.GPUCount, Region: c.region, OnlyAvailable: true})
	if err != nil {
		tflog.Warn(ctx, "offers unavailable, assuming capacity", map[string]any{"cloud": c.cloud.Name(), "error": err.Error()})
		return true
	}
	return slices.ContainsFunc(offers, func(o clients.Offer) bool {
		return strings.EqualFold(o.InstanceType, c.resolved.Name) && len(o.Regions) > 0
	})
}

// plannedPrices fills price_per_hour and max_possible_price_per_hour of a plan with placement:
// the price is known when one candidate is left, the highest possible price always when every
// candidate's price is known (or the cap bounds it).
func plannedPrices(candidates []placementCandidate, limit types.Float64) (price, highest types.Float64) {
	prices := make([]float64, 0, len(candidates))
	known := true
	for _, c := range candidates {
		if !c.priceKnown() {
			known = false
			continue
		}
		prices = append(prices, c.price)
	}
	price = types.Float64Unknown()
	if len(candidates) == 1 && known {
		price = types.Float64Value(candidates[0].price)
	}
	return price, maxPossiblePrice(prices, known, limit)
}

// placementAttempt is one candidate tried at apply, and the cloud's answer.
type placementAttempt struct {
	candidate placementCandidate
	err       error
}

// placementOutcome says how the candidates were tried: the index of the one that took the
// resource (-1 when none did), every refusal before it, and the candidates never tried.
type placementOutcome struct {
	chosen   int
	attempts []placementAttempt
}

// refusedForCapacity reports whether a launch's error lets placement move on to the next
// candidate: the cloud had no capacity, or the account's quota is used up.
func refusedForCapacity(err error) bool {
	return clients.IsCapacity(err) || errors.Is(err, clients.ErrQuota)
}

// placementError is the error when no candidate took the resource: each candidate with its
// cloud's answer, then the clouds never tried and why.
func placementError(what string, out placementOutcome, skipped []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "no candidate could take the %s; tried:", what)
	for _, a := range out.attempts {
		fmt.Fprintf(&b, "\n  - %s %s: %v", a.candidate.where(), a.candidate.resolved.Name, a.err)
	}
	if len(out.attempts) == 0 {
		b.WriteString(" none")
	}
	if len(skipped) > 0 {
		fmt.Fprintf(&b, "\nnot tried:\n  - %s", strings.Join(skipped, "\n  - "))
	}
	return &clients.KindError{Kind: clients.ErrCapacity, Msg: b.String()}
}

// warnPlacedElsewhere warns, when placement landed anywhere but its first candidate, where the
// resource went, why each earlier candidate was passed over, and the price difference.
func warnPlacedElsewhere(diags *diag.Diagnostics, what string, candidates []placementCandidate, out placementOutcome) {
	if out.chosen <= 0 || out.chosen >= len(candidates) {
		return
	}
	first, got := candidates[0], candidates[out.chosen]
	var b strings.Builder
	fmt.Fprintf(&b, "The %s was placed on %s (%s, %s), not on the first choice %s (%s, %s).\nPassed over:",
		what, got.where(), got.resolved.Name, got.priceText(), first.where(), first.resolved.Name, first.priceText())
	for _, a := range out.attempts {
		fmt.Fprintf(&b, "\n  - %s: %v", a.candidate.where(), a.err)
	}
	if first.priceKnown() && got.priceKnown() {
		diff := got.price - first.price
		switch {
		case diff > 0:
			fmt.Fprintf(&b, "\nIt costs $%.2f per hour more than the first choice.", diff)
		case diff < 0:
			fmt.Fprintf(&b, "\nIt costs $%.2f per hour less than the first choice.", -diff)
		default:
			b.WriteString("\nIt costs the same as the first choice.")
		}
	}
	diags.AddWarning(fmt.Sprintf("Placed on %s, not the first choice", displayName(got.cloud.Name())), b.String())
}

// startPlacement begins the plan of a new resource with a placement block: a region is refused
// (pickOne ends the message: how each cloud picks one), as are the settings blocks of clouds
// placement does not list (blocks: set or not, by cloud), and every listed cloud checks the
// plan. ok is false when the plan goes no further (an error, or the clouds not known yet).
func (d *providerData) startPlacement(ctx context.Context, region types.String, pickOne string, p *placementModel, blocks map[string]bool,
	req placementRequest, diags *diag.Diagnostics,
) (candidates []placementCandidate, skipped []string, ok bool) {
	if !region.IsNull() && !region.IsUnknown() {
		diags.AddAttributeError(path.Root("region"), "Region with placement",
			"Clouds name their regions differently: with a placement block, leave region out and list regions in placement.regions, or let each cloud pick one"+pickOne+".")
		return nil, nil, false
	}
	if p.Clouds.IsUnknown() || p.Regions.IsUnknown() {
		return nil, nil, false
	}
	checkPlacementBlocks(stringsFromList(ctx, p.Clouds, diags), blocks, diags)
	candidates, skipped, cd := d.placementCandidates(ctx, req)
	diags.Append(cd...)
	return candidates, skipped, !diags.HasError()
}

// errorDetails lists the details of the errors among diags: why a candidate refuses.
func errorDetails(diags diag.Diagnostics) []string {
	var why []string
	for _, d := range diags.Errors() {
		why = append(why, d.Detail())
	}
	return why
}

// checkPlacementBlocks refuses a cloud's settings block for a cloud placement does not list.
func checkPlacementBlocks(names []string, blocks map[string]bool, diags *diag.Diagnostics) {
	for _, block := range slices.Sorted(maps.Keys(blocks)) {
		if blocks[block] && !slices.Contains(names, block) {
			diags.AddAttributeError(path.Root(block), "Settings for a cloud not in placement",
				fmt.Sprintf("The `%s` block only applies when %q is in placement.clouds. Remove the block or add the cloud.", block, block))
		}
	}
}
