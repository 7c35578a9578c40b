package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// coreweaveH100 is the InfiniBand H100 type CoreWeave clusters of H100_80GB_SXM x 8 use.
const coreweaveH100 = "gd-8xh100ib-i128"

// A fixed-cloud CoreWeave cluster in a zone without H100 capacity: CKS accepts the cluster, its
// node pool waits with InsufficientCapacity, and the apply fails soon after (a short grace),
// not at the end of its create timeout, saying what had no capacity. The cluster is saved
// tainted; destroy removes it and its VPC.
func TestAccGPUCluster_coreweaveNoCapacityFailsQuickly(t *testing.T) {
	env := accEnv(t)
	env.emu.CoreWeave.SetCapacity(coreweaveH100, "US-EAST-04A", 0)
	var started time.Time
	accTest(t, checkCoreWeave(env, 0, 0, 0), []resource.TestStep{
		{
			PreConfig:   func() { started = time.Now() },
			Config:      coreweaveClusterConfig(env, 2, ""),
			ExpectError: regexp.MustCompile(`(?s)did not become ready.*no capacity for 2 x gd-8xh100ib-i128 in US-EAST-04A.*tainted`),
		},
		{
			// The failed create is in state, tainted: the next plan replaces it.
			Config:             coreweaveClusterConfig(env, 2, ""),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			PreConfig: func() {
				// The create timeout is 60 minutes (36 s on this clock); the failure must come long before.
				if d := time.Since(started); d > 30*time.Second {
					t.Errorf("the capacity failure took %s", d)
				}
			},
			Check: func(s *terraform.State) error {
				r, ok := s.RootModule().Resources["neocloud_gpu_cluster.cw"]
				if !ok || !r.Primary.Tainted {
					return fmt.Errorf("the cluster CKS accepted must be in state, tainted")
				}
				return nil
			},
		},
	})
}

// placedCoreWeaveFirstConfig is a 2-node H100 cluster placed on CoreWeave's US-EAST-04A first,
// then Lambda.
func placedCoreWeaveFirstConfig(env *testEnv) string {
	return placedOnCoreWeaveConfig(env, `["coreweave", "lambda"]`)
}

// placedOnCoreWeaveConfig is that cluster with the clouds in the given order.
func placedOnCoreWeaveConfig(env *testEnv, clouds string) string {
	return env.providerConfig() + fmt.Sprintf(`
resource "neocloud_ssh_key" "lambda" {
  cloud      = "lambda"
  name       = "acc-key"
  public_key = %q
}

resource "neocloud_gpu_cluster" "c" {
  name          = "acc-placed"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = 2
  ssh_key_ids   = [neocloud_ssh_key.lambda.id]
  placement {
    clouds  = %s
    regions = ["US-EAST-04A", "us-east-1"]
  }
}
`, testPublicKey, clouds)
}

// Ordered placement, CoreWeave first, but CoreWeave has no H100 capacity in the zone: CKS
// accepts the cluster, its node pool waits with InsufficientCapacity, and after the grace the
// provider deletes the CKS cluster (with its pool and the VPC it made), waits until CoreWeave
// shows it gone, and places the cluster on Lambda. A warning says why CoreWeave was passed
// over; the next plan is empty; destroy leaves nothing on either cloud.
func TestAccGPUCluster_placementFailsOverWhenCoreWeaveHasNoCapacity(t *testing.T) {
	env := accEnv(t)
	env.emu.CoreWeave.SetCapacity(coreweaveH100, "US-EAST-04A", 0)
	addr := "neocloud_gpu_cluster.c"
	accTest(t, resource.ComposeTestCheckFunc(checkNoLiveLambdaInstances(env), checkCoreWeave(env, 0, 0, 0)), []resource.TestStep{{
		Config:           placedCoreWeaveFirstConfig(env),
		ConfigPlanChecks: emptyPlanAfterApply(),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(addr, "cloud", knownvalue.StringExact("lambda")),
			stateValue(addr, "status", knownvalue.StringExact("running")),
			stateValue(addr, "nodes", knownvalue.ListSizeExact(2)),
		},
		Check: resource.ComposeTestCheckFunc(
			checkLambdaInstances(env, 2),
			checkCoreWeave(env, 0, 0, 0),
			func(*terraform.State) error {
				cw := env.emu.CoreWeave
				if n := len(cw.Clusters()); n != 1 {
					return fmt.Errorf("CoreWeave should have been asked for exactly one cluster (then deleted); it saw %d", n)
				}
				if n := len(cw.NodePools()); n != 0 {
					return fmt.Errorf("no node pool may be left on CoreWeave; %d are", n)
				}
				return nil
			},
		),
	}})
}

// A CKS cluster an earlier apply left (here: created, then forgotten by state with a removed
// block, as a crash would leave it) is found by its name and launch token when placement lists
// Lambda first: it is adopted on CoreWeave, nothing is launched on Lambda, and no second CKS
// cluster is made. The next plan is empty, and destroy removes it with its VPC.
func TestAccGPUCluster_placementAdoptsWhatAnInterruptedRunLeftOnCoreWeave(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.c"
	fixed := env.providerConfig() + `
resource "neocloud_gpu_cluster" "c" {
  name          = "acc-placed"
  cloud         = "coreweave"
  region        = "US-EAST-04A"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = 2
}
`
	forgotten := env.providerConfig() + `
removed {
  from = neocloud_gpu_cluster.c
  lifecycle {
    destroy = false
  }
}
`
	accTest(t, resource.ComposeTestCheckFunc(checkNoLiveLambdaInstances(env), checkCoreWeave(env, 0, 0, 0)), []resource.TestStep{
		{Config: fixed, Check: checkCoreWeave(env, 1, 1, 2)},
		{Config: forgotten, Check: checkCoreWeave(env, 1, 1, 2)},
		{
			Config:           placedOnCoreWeaveConfig(env, `["lambda", "coreweave"]`),
			ConfigPlanChecks: emptyPlanAfterApply(),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "cloud", knownvalue.StringExact("coreweave")),
				stateValue(addr, "region", knownvalue.StringExact("US-EAST-04A")),
				stateValue(addr, "status", knownvalue.StringExact("running")),
				stateValue(addr, "nodes", knownvalue.ListSizeExact(2)),
			},
			Check: resource.ComposeTestCheckFunc(checkCoreWeave(env, 1, 1, 2), func(*terraform.State) error {
				if n := len(env.emu.Lambda.Instances()); n != 0 {
					return fmt.Errorf("nothing may be launched on Lambda while the cluster exists on CoreWeave; %d were", n)
				}
				if n := len(env.emu.CoreWeave.Clusters()); n != 1 {
					return fmt.Errorf("want the one CKS cluster, adopted; the emulator has %d", n)
				}
				return nil
			}),
		},
	})
}
