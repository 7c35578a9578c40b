package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

func noLambdaCapacity(env *testEnv, instanceType string) {
	for _, r := range env.emu.Lambda.Regions() {
		env.emu.Lambda.SetCapacity(instanceType, r, 0)
	}
}

// Ordered placement: Lambda first, but it has no A6000 anywhere, so the machine goes to RunPod,
// with the RunPod key only; nothing is launched on Lambda; the chosen cloud is recorded and the
// next plan is empty.
func TestAccGPUInstance_placementFailsOverOnCapacity(t *testing.T) {
	env := accEnv(t)
	noLambdaCapacity(env, "gpu_1x_a6000")
	addr := "neocloud_gpu_instance.placed"
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config: placedConfig(env, "A6000_48GB", `clouds = ["lambda", "runpod"]`),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(addr, "cloud", knownvalue.StringExact("runpod")),
			stateValue(addr, "instance_type", knownvalue.StringExact("NVIDIA RTX A6000")),
			stateValue(addr, "status", knownvalue.StringExact("running")),
		},
		ConfigPlanChecks: emptyPlanAfterApply(),
		Check: resource.ComposeTestCheckFunc(
			checkRunPodPods(env, 1),
			checkLambdaInstances(env, 0),
		),
	}})
	if n := len(env.emu.Lambda.Instances()); n != 0 {
		t.Errorf("nothing may be launched on Lambda without capacity; %d were", n)
	}
}

// Cheapest placement: RunPod's A6000 ($0.49/h) beats Lambda's ($0.80/h) although Lambda is
// listed first and has capacity.
func TestAccGPUInstance_placementCheapest(t *testing.T) {
	env := accEnv(t)
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config: placedConfig(env, "A6000_48GB", `clouds = ["lambda", "runpod"]
    strategy = "cheapest"`),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue("neocloud_gpu_instance.placed", "cloud", knownvalue.StringExact("runpod")),
			stateValue("neocloud_gpu_instance.placed", "price_per_hour", knownvalue.Float64Exact(0.49)),
		},
		Check: resource.ComposeTestCheckFunc(checkRunPodPods(env, 1), checkLambdaInstances(env, 0)),
	}})
}

// Every listed cloud refuses: the error names each attempt; a cloud that cannot sell the GPU is
// refused at plan time.
func TestAccGPUInstance_placementExhaustedAndPlanErrors(t *testing.T) {
	env := accEnv(t)
	noLambdaCapacity(env, "gpu_1x_a6000")
	for _, dc := range []string{"US-KS-2", "EU-SE-1", "CA-MTL-1"} {
		env.emu.RunPod.SetCapacity("NVIDIA RTX A6000", dc, "SECURE", 0)
	}
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{
		planError(placedConfig(env, "V100_16GB", `clouds = ["runpod"]`), `(?s)No cloud in placement can launch this machine.*runpod`),
		{
			Config:      placedConfig(env, "A6000_48GB", `clouds = ["lambda", "runpod"]`),
			ExpectError: regexp.MustCompile(`(?s)Unable to place GPU instance.*tried:.*lambda.*gpu_1x_a6000.*runpod.*NVIDIA RTX A6000`),
		},
	})
}

// Ordered placement with capacity on the first cloud: Lambda takes the machine with its own key
// only (it launches with exactly one), although the configuration lists a key of each cloud.
func TestAccGPUInstance_placementOrderedPrefersFirst(t *testing.T) {
	env := accEnv(t)
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{{
		Config: placedConfig(env, "A6000_48GB", `clouds = ["lambda", "runpod"]`),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue("neocloud_gpu_instance.placed", "cloud", knownvalue.StringExact("lambda")),
			stateValue("neocloud_gpu_instance.placed", "ssh_key_ids", knownvalue.SetSizeExact(2)),
		},
		ConfigPlanChecks: emptyPlanAfterApply(),
		Check: resource.ComposeTestCheckFunc(
			checkLambdaInstances(env, 1),
			checkRunPodPods(env, 0),
			func(*terraform.State) error {
				if keys := env.emu.Lambda.LiveInstances()[0].SSHKeyNames; len(keys) != 1 || keys[0] != "acc-key" {
					return fmt.Errorf("the Lambda instance must have exactly its Lambda key, has %v", keys)
				}
				return nil
			},
		),
	}})
}

// A machine on a fixed cloud shows its list price in the plan, equal to what the apply
// records: Lambda per instance type, RunPod per GPU type, count and cloud tier.
func TestAccGPUInstance_priceInPlan(t *testing.T) {
	env := accEnv(t)
	config := env.providerConfig() + sshKeyHCL("me", "lambda", "acc-key") + lambdaMachineHCL("lambda", "acc-price-lambda", "") + `

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
`
	lambda, community := "neocloud_gpu_instance.lambda", "neocloud_gpu_instance.community"
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config: config,
		ConfigPlanChecks: emptyPlanAfterApply(
			planValue(lambda, "price_per_hour", knownvalue.Float64Exact(0.75)),
			planValue(lambda, "max_possible_price_per_hour", knownvalue.Float64Exact(0.75)),
			// RunPod's community price of the H100 SXM is $2.39 per GPU-hour.
			planValue(community, "price_per_hour", knownvalue.Float64Exact(4.78)),
		),
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
			planUnknown(addr, "price_per_hour"),
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
