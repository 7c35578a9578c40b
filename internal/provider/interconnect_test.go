package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// interconnect = "infiniband" on a cluster: a plan-time error, on the attribute, for a fixed
// cloud and type without it (a Lambda node group); with placement, only the candidates that have
// it are tried (CoreWeave's InfiniBand H100 nodes, not Lambda's), which the plan already knows.
// Offers say which network each machine type has.
func TestAccGPUCluster_interconnect(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.ib"
	placed := env.providerConfig() + fmt.Sprintf(`
resource "neocloud_ssh_key" "lambda" {
  cloud      = "lambda"
  name       = "acc-key"
  public_key = %q
}

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
`, testPublicKey)
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
