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
	testAccPreCheck(t)
	env := newTestEnv(t)
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
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkRunPodPods(env, 0),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(lambda, tfjsonpath.New("price_per_hour"), knownvalue.Float64Exact(0.75)),
					plancheck.ExpectKnownValue(lambda, tfjsonpath.New("max_possible_price_per_hour"), knownvalue.Float64Exact(0.75)),
					// RunPod's community price of the H100 SXM is $2.39 per GPU-hour.
					plancheck.ExpectKnownValue(community, tfjsonpath.New("price_per_hour"), knownvalue.Float64Exact(4.78)),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(lambda, tfjsonpath.New("price_per_hour"), knownvalue.Float64Exact(0.75)),
				statecheck.ExpectKnownValue(community, tfjsonpath.New("price_per_hour"), knownvalue.Float64Exact(4.78)),
			},
		}},
	})
}

// With placement the plan shows the highest price the placement may choose (Lambda's A6000 at
// $0.80 over RunPod's at $0.49), and the price itself only after apply.
func TestAccGPUInstance_placementMaxPossiblePrice(t *testing.T) {
	testAccPreCheck(t)
	env := newTestEnv(t)
	addr := "neocloud_gpu_instance.placed"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkNoLiveLambdaInstances(env),
		Steps: []resource.TestStep{{
			Config: placedConfig(env, "A6000_48GB", `clouds = ["lambda", "runpod"]`),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectUnknownValue(addr, tfjsonpath.New("price_per_hour")),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("max_possible_price_per_hour"), knownvalue.Float64Exact(0.80)),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("cloud"), knownvalue.StringExact("lambda")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("price_per_hour"), knownvalue.Float64Exact(0.80)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("max_possible_price_per_hour"), knownvalue.Float64Exact(0.80)),
			},
		}},
	})
}

// A cap below Lambda's A6000 ($0.80) leaves RunPod alone: its price is known in the plan, and
// the most the placement may choose is never above the cap.
func TestAccGPUInstance_placementCapFiltersCandidates(t *testing.T) {
	testAccPreCheck(t)
	env := newTestEnv(t)
	addr := "neocloud_gpu_instance.placed"
	config := strings.Replace(placedConfig(env, "A6000_48GB", `clouds = ["lambda", "runpod"]`),
		"gpu_count   = 1", "gpu_count   = 1\n  max_price_per_hour = 0.6", 1)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkRunPodPods(env, 0),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("price_per_hour"), knownvalue.Float64Exact(0.49)),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("max_possible_price_per_hour"), knownvalue.Float64Exact(0.49)),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("cloud"), knownvalue.StringExact("runpod")),
			},
			Check: checkLambdaInstances(env, 0),
		}},
	})
}

// placement.regions: each cloud is tried in those of the listed regions that are its own; Lambda
// has none of them and is skipped, so the machine lands on RunPod in the listed data center.
func TestAccGPUInstance_placementRegions(t *testing.T) {
	testAccPreCheck(t)
	env := newTestEnv(t)
	addr := "neocloud_gpu_instance.placed"
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkRunPodPods(env, 0),
		Steps: []resource.TestStep{{
			Config: placedConfig(env, "A6000_48GB", `clouds  = ["lambda", "runpod"]
    regions = ["US-KS-2"]`),
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("instance_type"), knownvalue.StringExact("NVIDIA RTX A6000")),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("price_per_hour"), knownvalue.Float64Exact(0.49)),
				},
				PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
			},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("cloud"), knownvalue.StringExact("runpod")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("region"), knownvalue.StringExact("US-KS-2")),
			},
			Check: checkLambdaInstances(env, 0),
		}},
	})
}
