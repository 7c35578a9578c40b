package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// A machine on a fixed cloud shows its list price in the plan, equal to what the apply
// records: Lambda per instance type, RunPod per GPU type, count and cloud tier.
func TestAccGPUInstance_priceInPlan(t *testing.T) {
	env := accEnv(t)
	config := env.providerConfig() + fmt.Sprintf(`
resource "neocloud_ssh_key" "me" {
  cloud      = "lambda"
  name       = "acc-key"
  public_key = %q
}

resource "neocloud_gpu_instance" "lambda" {
  name        = "acc-price-lambda"
  cloud       = "lambda"
  gpu_type    = "A10_24GB"
  gpu_count   = 1
  ssh_key_ids = [neocloud_ssh_key.me.id]
}

resource "neocloud_gpu_instance" "community" {
  name      = "acc-price-community"
  cloud     = "runpod"
  gpu_type  = "H100_80GB_SXM"
  gpu_count = 2
  runpod {
    image      = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
    cloud_type = "COMMUNITY"
  }
}
`, testPublicKey)
	lambda, community := "neocloud_gpu_instance.lambda", "neocloud_gpu_instance.community"
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config: config,
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply: []plancheck.PlanCheck{
				planValue(lambda, "price_per_hour", knownvalue.Float64Exact(0.75)),
				planValue(lambda, "max_possible_price_per_hour", knownvalue.Float64Exact(0.75)),
				// RunPod's community price of the H100 SXM is $2.39 per GPU-hour.
				planValue(community, "price_per_hour", knownvalue.Float64Exact(4.78)),
			},
			PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
		},
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(lambda, "price_per_hour", knownvalue.Float64Exact(0.75)),
			stateValue(community, "price_per_hour", knownvalue.Float64Exact(4.78)),
		},
	}})
}

// With placement the plan shows the highest price the placement may choose (Lambda's A6000 at
// $0.80 over RunPod's at $0.49), and the price itself only after apply.
func TestAccGPUInstance_placementMaxPossiblePrice(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_instance.placed"
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{{
		Config: placedConfig(env, "A6000_48GB", `clouds = ["lambda", "runpod"]`),
		ConfigPlanChecks: emptyPlanAfterApply(
			plancheck.ExpectUnknownValue(addr, tfjsonpath.New("price_per_hour")),
			planValue(addr, "max_possible_price_per_hour", knownvalue.Float64Exact(0.80)),
		),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(addr, "cloud", knownvalue.StringExact("lambda")),
			stateValue(addr, "price_per_hour", knownvalue.Float64Exact(0.80)),
			stateValue(addr, "max_possible_price_per_hour", knownvalue.Float64Exact(0.80)),
		},
	}})
}

// A cap below Lambda's A6000 ($0.80) leaves RunPod alone: its price is known in the plan, and
// the most the placement may choose is never above the cap.
func TestAccGPUInstance_placementCapFiltersCandidates(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_instance.placed"
	config := strings.Replace(placedConfig(env, "A6000_48GB", `clouds = ["lambda", "runpod"]`),
		"gpu_count   = 1", "gpu_count   = 1\n  max_price_per_hour = 0.6", 1)
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config: config,
		ConfigPlanChecks: emptyPlanAfterApply(
			planValue(addr, "price_per_hour", knownvalue.Float64Exact(0.49)),
			planValue(addr, "max_possible_price_per_hour", knownvalue.Float64Exact(0.49)),
		),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(addr, "cloud", knownvalue.StringExact("runpod")),
		},
		Check: checkLambdaInstances(env, 0),
	}})
}

// placement.regions: each cloud is tried in those of the listed regions that are its own; Lambda
// has none of them and is skipped, so the machine lands on RunPod in the listed data center.
func TestAccGPUInstance_placementRegions(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_instance.placed"
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config: placedConfig(env, "A6000_48GB", `clouds  = ["lambda", "runpod"]
    regions = ["US-KS-2"]`),
		ConfigPlanChecks: emptyPlanAfterApply(
			planValue(addr, "instance_type", knownvalue.StringExact("NVIDIA RTX A6000")),
			planValue(addr, "price_per_hour", knownvalue.Float64Exact(0.49)),
		),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(addr, "cloud", knownvalue.StringExact("runpod")),
			stateValue(addr, "region", knownvalue.StringExact("US-KS-2")),
		},
		Check: checkLambdaInstances(env, 0),
	}})
}
