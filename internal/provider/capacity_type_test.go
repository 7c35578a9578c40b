package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
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

// runpodPodResource is a RunPod pod with extra attributes (no provider block).
func runpodPodResource(extra string) string {
	return fmt.Sprintf(`
resource "neocloud_gpu_instance" "pod" {
  name      = "acc-spot"
  cloud     = "runpod"
  gpu_type  = "A6000_48GB"
  gpu_count = 1
  %s
  runpod {
    image = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
  }
}
`, extra)
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
