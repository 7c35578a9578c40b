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

// A Lambda filesystem, mounted by an instance in its region, imported, and deleted after the
// instance is gone.
func TestAccVolume_lambdaFilesystemMountedByInstance(t *testing.T) {
	env := accEnv(t)
	cfg := lambdaInstanceConfig(env, "acc-fs", "A10_24GB", `gpu_count = 1
  region    = neocloud_volume.data.region
  lambda {
    file_system_names = [neocloud_volume.data.name]
  }`) + `
resource "neocloud_volume" "data" {
  cloud  = "lambda"
  name   = "acc-datasets"
  region = "us-east-1"
}
`
	checkDestroy := func(*terraform.State) error {
		if fs := env.emu.Lambda.FileSystems(); len(fs) != 0 {
			return fmt.Errorf("filesystems left behind: %+v", fs)
		}
		return checkNoLiveLambdaInstances(env)(nil)
	}
	accTest(t, checkDestroy, []resource.TestStep{
		{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("neocloud_volume.data", "id", knownvalue.NotNull()),
				stateValue("neocloud_volume.data", "size_gb", knownvalue.Null()),
				stateValue("neocloud_gpu_instance.test", "lambda.file_system_names",
					knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("acc-datasets")})),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
			Check: func(*terraform.State) error {
				insts := env.emu.Lambda.LiveInstances()
				if len(insts) != 1 || len(insts[0].FileSystemNames) != 1 || insts[0].FileSystemNames[0] != "acc-datasets" {
					return fmt.Errorf("the instance does not mount the filesystem: %+v", insts)
				}
				return nil
			},
		},
		// in_use follows the instance; it is not configuration.
		importByState("neocloud_volume.data", "lambda", "in_use"),
	})
}

func TestAccVolume_lambdaPlanTimeErrors(t *testing.T) {
	env := accEnv(t)
	vol := func(body string) string {
		return env.providerConfig() + "resource \"neocloud_volume\" \"v\" {\n  cloud = \"lambda\"\n  name = \"v\"\n" + body + "}\n"
	}
	accTest(t, nil, []resource.TestStep{
		planError(vol("  region = \"us-east-1\"\n  size_gb = 100\n"), `(?s)size_gb.*have no size`),
		planError(vol("  region = \"atlantis-1\"\n"), `(?s)region.*no region "atlantis-1"`),
		planError(vol("  region = \"us-east-1\"\n  type = \"SSD\"\n"), `(?s)type.*have no types`),
	})
}

// A RunPod network volume: created, grown in place, mounted by a pod placed in its data
// center, imported; shrinking is refused at plan time (it would be a new, empty volume).
func TestAccVolume_runpodNetworkVolume(t *testing.T) {
	env := accEnv(t)
	vol := func(size int, withPod bool) string {
		cfg := env.providerConfig() + fmt.Sprintf(`
resource "neocloud_volume" "data" {
  cloud   = "runpod"
  name    = "acc-data"
  region  = "US-KS-2"
  size_gb = %d
}
`, size)
		if withPod {
			cfg += `
resource "neocloud_gpu_instance" "pod" {
  name      = "acc-vol-pod"
  cloud     = "runpod"
  gpu_type  = "A6000_48GB"
  gpu_count = 1
  runpod {
    image             = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
    network_volume_id = neocloud_volume.data.id
  }
}
`
		}
		return cfg
	}
	addr := "neocloud_volume.data"
	checkDestroy := func(s *terraform.State) error {
		if v := env.emu.RunPod.NetworkVolumes(); len(v) != 0 {
			return fmt.Errorf("network volumes left behind: %+v", v)
		}
		return checkRunPodPods(env, 0)(s)
	}
	accTest(t, checkDestroy, []resource.TestStep{
		{
			Config: vol(50, false),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "size_gb", knownvalue.Int64Exact(50)),
				stateValue(addr, "type", knownvalue.NotNull()),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
		},
		{
			Config:           vol(100, true),
			ConfigPlanChecks: expectAction(addr, plancheck.ResourceActionUpdate),
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr(addr, "size_gb", "100"),
				resource.TestCheckResourceAttr("neocloud_gpu_instance.pod", "region", "US-KS-2"),
				func(*terraform.State) error {
					v := env.emu.RunPod.NetworkVolumes()
					if len(v) != 1 || v[0].Size != 100 {
						return fmt.Errorf("the volume was not grown in place: %+v", v)
					}
					return nil
				},
			),
		},
		importByState(addr, "runpod", "in_use"),
		planError(vol(20, true), `(?s)size_gb.*can only grow \(from 100 GB\)`),
	})
}
