package provider

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Prices in the plan come from the same place as neocloud_gpu_offers: each cloud's catalog
// through its client (Lambda GET /instance-types, RunPod GET /v2/catalog/gpus, CoreWeave's
// list prices), read once into the client's shared snapshot and reused by every resource the
// provider process plans. A price is known in the plan only when the cloud and the machine
// type fix it; the apply then records the price the cloud reports, which is the same list
// price.

// roundPrice drops floating-point noise (0.1+0.2) so that a price summed node by node equals
// the same price computed as node price times node count: a plan's price and the applied one
// must be equal to the last bit.
func roundPrice(p float64) float64 { return math.Round(p*1e6) / 1e6 }

// machinePrice is the list price per hour of one machine of type it on cloud: from the cloud's
// own pricer when the price depends on more than the type (spec may be nil: the defaults),
// else from its offers, whether or not they have capacity now.
func machinePrice(ctx context.Context, cloud clients.Cloud, it clients.InstanceType, spec *clients.InstanceSpec) (float64, error) {
	if p, ok := cloud.(clients.InstancePricer); ok {
		s := clients.InstanceSpec{GPUType: it.Name, GPUCount: it.GPUCount}
		if spec != nil {
			s = *spec
		}
		price, err := p.InstancePrice(ctx, s, it)
		return roundPrice(price), err
	}
	offers, err := cloud.Offers(ctx, clients.OfferFilter{GPUCount: it.GPUCount})
	if err != nil {
		return 0, err
	}
	for _, o := range offers {
		if strings.EqualFold(o.InstanceType, it.Name) {
			return roundPrice(o.PricePerHour), nil
		}
	}
	return 0, fmt.Errorf("%s lists no price for %s", displayName(cloud.Name()), it.Name)
}

// nodesPrice is the list price per hour of n machines of type it.
func nodesPrice(ctx context.Context, cloud clients.Cloud, it clients.InstanceType, n int) (float64, error) {
	p, err := machinePrice(ctx, cloud, it, nil)
	return roundPrice(p * float64(n)), err
}

// knownPrice is a price for the plan, or unknown when the cloud could not say (the apply
// records it then).
func knownPrice(ctx context.Context, price float64, err error) types.Float64 {
	if err != nil {
		tflog.Debug(ctx, "price not known at plan time", map[string]any{"error": err.Error()})
		return types.Float64Unknown()
	}
	return types.Float64Value(price)
}

// maxPossiblePrice is the highest price among the candidates a placement may choose, never more
// than the cap (a launch above it is refused): the cap when some candidate's price is not
// known, unknown when neither is.
func maxPossiblePrice(prices []float64, known bool, limit types.Float64) types.Float64 {
	capped := !limit.IsNull() && !limit.IsUnknown()
	if !known || len(prices) == 0 {
		if capped {
			return limit
		}
		return types.Float64Unknown()
	}
	highest := prices[0]
	for _, p := range prices[1:] {
		highest = math.Max(highest, p)
	}
	if capped {
		highest = math.Min(highest, limit.ValueFloat64())
	}
	return types.Float64Value(highest)
}

// maxPossiblePriceAttribute is max_possible_price_per_hour of instances and clusters.
func maxPossiblePriceAttribute(what string) schema.Attribute {
	return schema.Float64Attribute{
		Computed: true,
		MarkdownDescription: "The most this " + what + " can cost, USD per hour, known in the plan: with `placement`, the highest list price among the " +
			"candidates the placement may choose (never more than `max_price_per_hour`); on a fixed cloud, `price_per_hour`. " +
			"Kept after apply as planned; an import or a resource created before this attribute existed records `price_per_hour`. " +
			"`terraform show -json` of a saved plan carries it under `planned_values`, so CI can sum a stack's worst-case hourly cost.",
		PlanModifiers: []planmodifier.Float64{float64planmodifier.UseStateForUnknown()},
	}
}

// keepPlannedPrice records the price the plan showed when the cloud now reports another one
// (its list price changed between plan and apply): Terraform requires a value known in the
// plan to be the value applied. A warning says what the cloud charges now; the next refresh
// records it.
func keepPlannedPrice(planned types.Float64, got *types.Float64, what string, diags *diag.Diagnostics) {
	if planned.IsNull() || planned.IsUnknown() || got.IsUnknown() || got.Equal(planned) {
		return
	}
	diags.AddWarning("Price changed since the plan",
		fmt.Sprintf("%s is billed at $%.4f per hour now; the plan showed $%.4f. The state keeps the planned price until the next refresh records the new one.",
			what, got.ValueFloat64(), planned.ValueFloat64()))
	*got = planned
}
