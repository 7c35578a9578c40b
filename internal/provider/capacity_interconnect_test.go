package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// Spot where the cloud has none (Lambda, RunPod) fails the plan on capacity_type; on CoreWeave a
// spot cluster gets a NodePool of the Spot compute class, and the next plan is empty.
func TestAccGPUCluster_capacityType(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.cw"
	accTest(t, checkCoreWeave(env, 0, 0, 0), []resource.TestStep{
		planError(lambdaClusterConfig(env, 2, `capacity_type = "spot"`), `(?s)No spot capacity on Lambda Cloud.*capacity_type.*Lambda Cloud's API \(1\.8\) has no spot instances`),
		planError(env.providerConfig()+runpodPodResource(`capacity_type = "spot"`), `(?s)No spot capacity on RunPod.*RunPod's REST API \(v2\) has no interruptible`),
		{
			Config:            env.providerConfig() + coreweaveClusterResource(2, `capacity_type = "spot"`),
			ConfigPlanChecks:  emptyPlanAfterApply(planValue(addr, "capacity_type", knownvalue.StringExact("spot"))),
			ConfigStateChecks: []statecheck.StateCheck{stateValue(addr, "capacity_type", knownvalue.StringExact("spot"))},
			Check: func(*terraform.State) error {
				for _, p := range env.emu.CoreWeave.NodePools() {
					if p.ComputeClass != "Spot" {
						return fmt.Errorf("node pool %s has compute class %q, want Spot", p.Name, p.ComputeClass)
					}
				}
				return nil
			},
		},
	})
}

// A machine the cloud reclaims (Lambda reports it preempted) stays in state as preempted, and
// the next plan replaces it (saying so in a warning); the apply brings up a new one.
func TestAccGPUInstance_preemptedIsReplaced(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_instance.test"
	config := lambdaInstanceConfig(env, "acc-preempt", "A10_24GB", "gpu_count = 1")
	var first string
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		{
			Config: config,
			Check: func(s *terraform.State) error {
				first = s.RootModule().Resources[addr].Primary.ID
				return nil
			},
		},
		{
			PreConfig: func() {
				if err := env.emu.Lambda.Preempt(first); err != nil {
					t.Fatal(err)
				}
			},
			RefreshState:       true,
			ExpectNonEmptyPlan: true,
			Check:              resource.TestCheckResourceAttr(addr, "status", "preempted"),
		},
		{
			Config:            config,
			ConfigPlanChecks:  emptyPlanAfterApply(plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)),
			ConfigStateChecks: []statecheck.StateCheck{stateValue(addr, "status", knownvalue.StringExact("running"))},
			Check: resource.ComposeTestCheckFunc(checkLambdaInstances(env, 1), func(s *terraform.State) error {
				if id := s.RootModule().Resources[addr].Primary.ID; id == first {
					return fmt.Errorf("the preempted instance %s was kept", id)
				}
				return nil
			}),
		},
	})
}

// interconnect = "infiniband" on a cluster: a plan-time error, on the attribute, for a fixed
// cloud and type without it (a Lambda node group); with placement, only the candidates that have
// it are tried (CoreWeave's InfiniBand H100 nodes, not Lambda's), which the plan already knows.
// Offers say which network each machine type has.
func TestAccGPUCluster_interconnect(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.ib"
	placed := env.providerConfig() + sshKeyHCL("lambda", "lambda", "acc-key") + `
resource "neocloud_gpu_cluster" "ib" {
  name          = "acc-ib"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = 2
  ssh_key_ids   = [neocloud_ssh_key.lambda.id]
  interconnect  = "infiniband"
  placement {
    clouds  = ["lambda", "coreweave"]
    regions = ["us-east-1", "US-EAST-04A"]
  }
}

data "neocloud_gpu_offers" "h100" {
  gpu_type         = "H100_80GB_SXM"
  gpu_count        = 8
  clouds           = ["lambda", "coreweave"]
  include_sold_out = true
}
`
	accTest(t, checkCoreWeave(env, 0, 0, 0), []resource.TestStep{
		planError(lambdaClusterConfig(env, 2, `interconnect = "infiniband"`), `(?s)Interconnect not available.*interconnect.*Lambda Cloud cluster of gpu_1x_a10 has ethernet between its nodes, not\s+infiniband`),
		{
			Config: placed,
			ConfigPlanChecks: emptyPlanAfterApply(
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("cloud")),
				planValue(addr, "interconnect", knownvalue.StringExact("infiniband")),
				planValue(addr, "instance_type", knownvalue.StringExact("gd-8xh100ib-i128")),
				planValue(addr, "price_per_hour", knownvalue.Float64Exact(98.48)),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "cloud", knownvalue.StringExact("coreweave")),
				stateValue(addr, "region", knownvalue.StringExact("US-EAST-04A")),
				stateValue(addr, "status", knownvalue.StringExact("running")),
			},
			Check: resource.ComposeTestCheckFunc(
				checkLambdaInstances(env, 0),
				checkCoreWeave(env, 1, 1, 2),
				resource.TestCheckTypeSetElemNestedAttrs("data.neocloud_gpu_offers.h100", "offers.*", map[string]string{"cloud": "coreweave", "interconnect": "infiniband"}),
				resource.TestCheckTypeSetElemNestedAttrs("data.neocloud_gpu_offers.h100", "offers.*", map[string]string{"cloud": "lambda", "interconnect": "ethernet"}),
			),
		},
	})
}
