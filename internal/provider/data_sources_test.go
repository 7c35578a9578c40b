package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// Offers come from every configured cloud, cheapest first, filtered by type, count and price,
// with the regions that have capacity now.
func TestAccGPUOffers(t *testing.T) {
	env := accEnv(t)
	accTest(t, nil, []resource.TestStep{
		{
			Config: env.providerConfig() + `
data "neocloud_gpu_offers" "h100" {
  gpu_type  = "H100_80GB_SXM"
  gpu_count = 8
}
data "neocloud_gpu_offers" "cheap" {
  gpu_type           = "H100_80GB_SXM"
  gpu_count          = 8
  max_price_per_hour = 22
}
data "neocloud_gpu_offers" "lambda_only" {
  gpu_type  = "H100_80GB_SXM"
  gpu_count = 8
  clouds    = ["lambda"]
}`,
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr("data.neocloud_gpu_offers.h100", "offers.#", "3"),
				// RunPod: 8 x $2.69 = $21.52 beats Lambda's $23.92, which beats a CoreWeave node's $49.24.
				resource.TestCheckResourceAttr("data.neocloud_gpu_offers.h100", "offers.0.cloud", "runpod"),
				resource.TestCheckResourceAttr("data.neocloud_gpu_offers.h100", "offers.1.cloud", "lambda"),
				resource.TestCheckResourceAttr("data.neocloud_gpu_offers.h100", "offers.1.instance_type", "gpu_8x_h100_sxm5"),
				resource.TestCheckResourceAttr("data.neocloud_gpu_offers.h100", "offers.1.price_per_hour", "23.92"),
				resource.TestCheckResourceAttr("data.neocloud_gpu_offers.h100", "offers.2.cloud", "coreweave"),
				resource.TestCheckResourceAttr("data.neocloud_gpu_offers.h100", "offers.2.instance_type", "gd-8xh100ib-i128"),
				resource.TestCheckResourceAttr("data.neocloud_gpu_offers.cheap", "offers.#", "1"),
				resource.TestCheckResourceAttr("data.neocloud_gpu_offers.lambda_only", "offers.#", "1"),
				resource.TestCheckResourceAttr("data.neocloud_gpu_offers.lambda_only", "offers.0.regions.#", "3"),
			),
		},
		{
			PreConfig: func() {
				for _, r := range []string{"us-east-1", "us-west-1", "us-south-1"} {
					env.emu.Lambda.SetCapacity("gpu_8x_h100_sxm5", r, 0)
				}
			},
			Config: env.providerConfig() + `
data "neocloud_gpu_offers" "lambda_only" {
  gpu_type  = "H100_80GB_SXM"
  gpu_count = 8
  clouds    = ["lambda"]
}`,
			// Sold out everywhere: no offer, since include_sold_out defaults to false.
			Check: resource.TestCheckResourceAttr("data.neocloud_gpu_offers.lambda_only", "offers.#", "0"),
		},
	})
}

// A machine is found by name (or id) with its live attributes; an ambiguous or unknown name
// is an error that says so.
func TestAccGPUInstanceDataSource(t *testing.T) {
	env := accEnv(t)
	cfg := lambdaInstanceConfig(env, "acc-lookup", "A10_24GB", "gpu_count = 1")
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		{Config: cfg},
		{
			Config: cfg + `
data "neocloud_gpu_instance" "by_name" {
  cloud = "lambda"
  name  = "acc-lookup"
}`,
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("data.neocloud_gpu_instance.by_name", "gpu_type", knownvalue.StringExact("A10_24GB")),
				stateValue("data.neocloud_gpu_instance.by_name", "status", knownvalue.StringExact("running")),
			},
			Check: func(s *terraform.State) error {
				ds := s.RootModule().Resources["data.neocloud_gpu_instance.by_name"].Primary.ID
				rs := s.RootModule().Resources["neocloud_gpu_instance.test"].Primary.ID
				if ds != rs {
					return fmt.Errorf("data source found %s, the resource is %s", ds, rs)
				}
				return nil
			},
		},
		{
			Config: cfg + `
data "neocloud_gpu_instance" "missing" {
  cloud = "lambda"
  name  = "no-such-machine"
}`,
			ExpectError: regexp.MustCompile(`no live Lambda Cloud machine is named "no-such-machine"`),
		},
	})
}
