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

// The matrix of every resource on every cloud that has it, written the way a new user writes
// it first: no vendor block (lambda {}, runpod {}, coreweave {}) at all. Each one is created,
// has nothing left to do after apply (the vendor block stays absent in state), and is
// destroyed. Where a cloud cannot do without its block, the plan says so on the attribute.

// noVendorBlockCase is one cell of the matrix.
type noVendorBlockCase struct {
	addr string
	// config is the resources, without the provider block.
	config string
	// block is the vendor block that must stay absent ("" when the resource has none).
	block string
	// gone checks the emulator after destroy.
	gone func(env *testEnv) func(*terraform.State) error
}

// plainHCL is the resource typ "label" named acc-plain on cloud, with attrs in its block.
func plainHCL(typ, label, cloud, attrs string) string {
	return fmt.Sprintf(`
resource %q %q {
  name  = "acc-plain"
  cloud = %q
  %s
}
`, typ, label, cloud, attrs)
}

var noVendorBlockCases = map[string]noVendorBlockCase{
	"gpu_instance/lambda": {
		addr:   "neocloud_gpu_instance.m",
		block:  "lambda",
		config: sshKeyHCL("me", "lambda", "acc-key") + lambdaMachineHCL("m", "acc-plain", ""),
		gone:   checkNoLiveLambdaInstances,
	},
	"gpu_instance/runpod": {
		addr:  "neocloud_gpu_instance.m",
		block: "runpod",
		config: sshKeyHCL("me", "runpod", "acc-key") + plainHCL("neocloud_gpu_instance", "m", "runpod", `gpu_type    = "A6000_48GB"
  gpu_count   = 1
  image       = "`+runpodImage+`"
  ssh_key_ids = [neocloud_ssh_key.me.id]`),
		gone: func(env *testEnv) func(*terraform.State) error { return checkRunPodPods(env, 0) },
	},
	"gpu_cluster/lambda": {
		addr:  "neocloud_gpu_cluster.c",
		block: "lambda",
		config: sshKeyHCL("me", "lambda", "acc-key") + plainHCL("neocloud_gpu_cluster", "c", "lambda", `gpu_type      = "A10_24GB"
  gpus_per_node = 1
  node_count    = 2
  ssh_key_ids   = [neocloud_ssh_key.me.id]`),
		gone: checkNoLiveLambdaInstances,
	},
	"gpu_cluster/runpod": {
		addr:   "neocloud_gpu_cluster.c",
		block:  "runpod",
		config: h100ClusterHCL("acc-plain", `cloud = "runpod"`),
		gone:   func(env *testEnv) func(*terraform.State) error { return checkRunPodPods(env, 0) },
	},
	"gpu_cluster/coreweave": {
		addr:  "neocloud_gpu_cluster.c",
		block: "coreweave",
		config: h100ClusterHCL("acc-plain", `cloud  = "coreweave"
  region = "US-EAST-04A"`),
		gone: func(env *testEnv) func(*terraform.State) error { return checkCoreWeave(env, 0, 0, 0) },
	},
	"volume/lambda": {
		addr:   "neocloud_volume.v",
		config: plainHCL("neocloud_volume", "v", "lambda", `region = "us-east-1"`),
		gone:   noneLeft("filesystems", func(env *testEnv) int { return len(env.emu.Lambda.FileSystems()) }),
	},
	"volume/runpod": {
		addr: "neocloud_volume.v",
		config: plainHCL("neocloud_volume", "v", "runpod", `region  = "US-KS-2"
  size_gb = 10`),
		gone: noneLeft("network volumes", func(env *testEnv) int { return len(env.emu.RunPod.NetworkVolumes()) }),
	},
	"ssh_key/lambda": {
		addr:   "neocloud_ssh_key.me",
		config: sshKeyHCL("me", "lambda", "acc-key"),
		gone:   noneLeft("SSH keys", func(env *testEnv) int { return len(env.emu.Lambda.SSHKeys()) }),
	},
	"ssh_key/runpod": {
		addr:   "neocloud_ssh_key.me",
		config: sshKeyHCL("me", "runpod", "acc-key"),
		gone:   noneLeft("SSH keys", func(env *testEnv) int { return len(env.emu.RunPod.SSHKeys()) }),
	},
}

// testNoVendorBlock runs one cell: create, an empty plan after apply with the vendor block
// still absent, destroy with nothing left behind.
func testNoVendorBlock(t *testing.T, name string) {
	testAccPreCheck(t)
	c, ok := noVendorBlockCases[name]
	if !ok {
		t.Fatalf("no matrix case %q", name)
	}
	env := newTestEnv(t)
	checks := []statecheck.StateCheck{stateValue(c.addr, "id", knownvalue.NotNull())}
	if c.block != "" {
		checks = append(checks, stateValue(c.addr, c.block, knownvalue.Null()))
	}
	accTest(t, c.gone(env), []resource.TestStep{{
		Config:            env.providerConfig() + c.config,
		ConfigStateChecks: checks,
		ConfigPlanChecks:  emptyPlanAfterApply(plancheck.ExpectResourceAction(c.addr, plancheck.ResourceActionCreate)),
	}})
}

func TestAccNoVendorBlock_gpuInstanceLambda(t *testing.T) {
	testNoVendorBlock(t, "gpu_instance/lambda")
}
func TestAccNoVendorBlock_gpuInstanceRunPod(t *testing.T) {
	testNoVendorBlock(t, "gpu_instance/runpod")
}
func TestAccNoVendorBlock_gpuClusterLambda(t *testing.T) { testNoVendorBlock(t, "gpu_cluster/lambda") }
func TestAccNoVendorBlock_gpuClusterRunPod(t *testing.T) { testNoVendorBlock(t, "gpu_cluster/runpod") }
func TestAccNoVendorBlock_gpuClusterCoreWeave(t *testing.T) {
	testNoVendorBlock(t, "gpu_cluster/coreweave")
}
func TestAccNoVendorBlock_volumeLambda(t *testing.T) { testNoVendorBlock(t, "volume/lambda") }
func TestAccNoVendorBlock_volumeRunPod(t *testing.T) { testNoVendorBlock(t, "volume/runpod") }
func TestAccNoVendorBlock_sshKeyLambda(t *testing.T) { testNoVendorBlock(t, "ssh_key/lambda") }
func TestAccNoVendorBlock_sshKeyRunPod(t *testing.T) { testNoVendorBlock(t, "ssh_key/runpod") }

// A CoreWeave machine is a node pool in a CKS cluster: without the coreweave block there is
// no cluster to put it in, and the plan says so on coreweave.cluster_id, before anything is
// created.
func TestAccNoVendorBlock_gpuInstanceCoreWeave(t *testing.T) {
	env := accEnv(t)
	accTest(t, nil, []resource.TestStep{planError(env.providerConfig()+plainHCL("neocloud_gpu_instance", "m", "coreweave", `gpu_type  = "H100_80GB_SXM"
  gpu_count = 8`), `(?s)CoreWeave needs a CKS cluster.*coreweave \{ cluster_id`)})
}

// noneLeft is a destroy check: the emulator holds none of what count counts.
func noneLeft(what string, count func(env *testEnv) int) func(env *testEnv) func(*terraform.State) error {
	return func(env *testEnv) func(*terraform.State) error {
		return func(*terraform.State) error {
			if n := count(env); n != 0 {
				return fmt.Errorf("%d %s left behind", n, what)
			}
			return nil
		}
	}
}
