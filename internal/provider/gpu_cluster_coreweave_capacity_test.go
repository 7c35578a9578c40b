package provider

import (
	"fmt"
	"regexp"
	"testing"
	"time"

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
	testAccPreCheck(t)
	env := newTestEnv(t)
	env.emu.CoreWeave.SetCapacity(coreweaveH100, "US-EAST-04A", 0)
	var started time.Time
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             checkCoreWeave(env, 0, 0, 0),
		Steps: []resource.TestStep{
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
		},
	})
}
