package provider

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// namedCloud is a clients.Cloud that only has a name: enough for placement messages.
type namedCloud struct {
	clients.Cloud
	name string
}

func (c namedCloud) Name() string { return c.name }

func candidate(cloud, region, it string, price float64) placementCandidate {
	return placementCandidate{cloud: namedCloud{name: cloud}, region: region, resolved: clients.InstanceType{Name: it}, price: price}
}

// Landing on a later candidate warns where the resource went, why each earlier one was passed
// over, and the price difference; landing on the first says nothing.
func TestWarnPlacedElsewhere(t *testing.T) {
	candidates := []placementCandidate{
		candidate("lambda", "", "gpu_8x_h100_sxm5", 47.84),
		candidate("runpod", "US-TX-3", "NVIDIA H100 80GB HBM3", 43.04),
	}
	var diags diag.Diagnostics
	warnPlacedElsewhere(&diags, "cluster", candidates, placementOutcome{chosen: 0})
	if len(diags) != 0 {
		t.Fatalf("no warning when the first choice took it, got %v", diags)
	}
	out := placementOutcome{chosen: 1, attempts: []placementAttempt{{candidate: candidates[0], err: errors.New("capacity ran out at node 1 of 2")}}}
	warnPlacedElsewhere(&diags, "cluster", candidates, out)
	if len(diags) != 1 || diags[0].Severity() != diag.SeverityWarning {
		t.Fatalf("want one warning, got %v", diags)
	}
	got := diags[0].Summary() + "\n" + diags[0].Detail()
	for _, want := range []string{"Placed on RunPod", "runpod (US-TX-3)", "not on the first choice lambda", "lambda: capacity ran out at node 1 of 2", "$4.80 per hour less"} {
		if !strings.Contains(got, want) {
			t.Errorf("warning lacks %q:\n%s", want, got)
		}
	}
}

// The most a placement may cost: the highest candidate, never above the cap; the cap when a
// candidate's price is not known; unknown without either.
func TestPlannedPrices(t *testing.T) {
	a, b := candidate("lambda", "", "x", 0.80), candidate("runpod", "", "y", 0.49)
	unknown := candidate("coreweave", "", "z", math.NaN())
	for _, tc := range []struct {
		name       string
		candidates []placementCandidate
		limit      types.Float64
		price, max types.Float64
	}{
		{"two known", []placementCandidate{a, b}, types.Float64Null(), types.Float64Unknown(), types.Float64Value(0.80)},
		{"one left", []placementCandidate{b}, types.Float64Value(0.6), types.Float64Value(0.49), types.Float64Value(0.49)},
		{"unknown capped", []placementCandidate{b, unknown}, types.Float64Value(0.6), types.Float64Unknown(), types.Float64Value(0.6)},
		{"unknown uncapped", []placementCandidate{b, unknown}, types.Float64Null(), types.Float64Unknown(), types.Float64Unknown()},
	} {
		price, highest := plannedPrices(tc.candidates, tc.limit)
		if !price.Equal(tc.price) || !highest.Equal(tc.max) {
			t.Errorf("%s: got price %v, max %v; want %v, %v", tc.name, price, highest, tc.price, tc.max)
		}
	}
}

// A price summed node by node equals node price times count once rounded.
func TestRoundPrice(t *testing.T) {
	sum := 0.0
	for range 3 {
		sum += 2.49
	}
	if roundPrice(sum) != roundPrice(2.49*3) || roundPrice(0.1+0.2) != 0.3 {
		t.Errorf("roundPrice leaves floating-point noise: %v %v", roundPrice(sum), roundPrice(0.1+0.2))
	}
}
