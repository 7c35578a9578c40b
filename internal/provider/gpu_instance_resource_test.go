package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// The whole life of a Lambda instance: create, nothing to do after apply, rename in place,
// import, respell the GPU type without replacing, replace on a real type change, destroy.
func TestAccGPUInstance_lambdaLifecycle(t *testing.T) {
	env := accEnv(t)
	lam := env.emu.Lambda
	addr := "neocloud_gpu_instance.test"

	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		{
			Config: lambdaInstanceConfig(env, "acc-1", "A10_24GB", "gpu_count = 1"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "status", knownvalue.StringExact("running")),
				stateValue(addr, "instance_type", knownvalue.StringExact("gpu_1x_a10")),
				stateValue(addr, "gpu_count", knownvalue.Int64Exact(1)),
				stateValue(addr, "ssh_user", knownvalue.StringExact("ubuntu")),
				stateValue(addr, "ssh_port", knownvalue.Int64Exact(22)),
				stateValue(addr, "public_ip", knownvalue.StringRegexp(regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`))),
				stateValue(addr, "region", knownvalue.NotNull()),
				stateValue(addr, "price_per_hour", knownvalue.NotNull()),
				stateValue(addr, "tags", knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("research")})),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
			Check: resource.ComposeTestCheckFunc(
				checkLambdaInstances(env, 1),
				func(s *terraform.State) error {
					rs := s.RootModule().Resources[addr]
					for _, inst := range lam.LiveInstances() {
						if inst.ID == rs.Primary.ID {
							if inst.Name != "acc-1" || inst.Region != rs.Primary.Attributes["region"] || inst.Tags["team"] != "research" {
								return fmt.Errorf("emulator instance %+v does not match state", inst)
							}
							return nil
						}
					}
					return fmt.Errorf("instance %s not found in the emulator", rs.Primary.ID)
				},
			),
		},
		{
			Config:           lambdaInstanceConfig(env, "acc-1-renamed", "A10_24GB", "gpu_count = 1"),
			ConfigPlanChecks: expectAction(addr, plancheck.ResourceActionUpdate),
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr(addr, "name", "acc-1-renamed"),
				checkLambdaInstances(env, 1),
				func(*terraform.State) error {
					if got := lam.LiveInstances()[0].Name; got != "acc-1-renamed" {
						return fmt.Errorf("the cloud still calls the instance %q", got)
					}
					return nil
				},
			),
		},
		importByState(addr, "lambda", "timeouts"),
		{
			// The same through an `import {}` block: the plan imports and changes nothing.
			Config:            lambdaInstanceConfig(env, "acc-1-renamed", "A10_24GB", "gpu_count = 1"),
			ResourceName:      addr,
			ImportState:       true,
			ImportStateKind:   resource.ImportBlockWithID,
			ImportStateIdFunc: importID(addr, "lambda"),
		},
		{
			// The native spelling of the same machine is not a change of machine.
			Config:           lambdaInstanceConfig(env, "acc-1-renamed", "gpu_1x_a10", ""),
			ConfigPlanChecks: expectAction(addr, plancheck.ResourceActionUpdate),
			Check:            checkLambdaInstances(env, 1),
		},
		{
			Config:           lambdaInstanceConfig(env, "acc-1-renamed", "A6000_48GB", "gpu_count = 1"),
			ConfigPlanChecks: expectAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr(addr, "instance_type", "gpu_1x_a6000"),
				checkLambdaInstances(env, 1),
			),
		},
	})
}

// Bad input fails at plan time, on the attribute at fault, before anything is launched.
func TestAccGPUInstance_lambdaPlanTimeValidation(t *testing.T) {
	env := accEnv(t)
	cases := []struct {
		name  string
		extra string
		gpu   string
		want  string
	}{
		{"count not sold", "gpu_count = 3", "H100_80GB_SXM", `(?s)gpu_count.*counts of 1, 2, 4, 8 per Lambda Cloud instance, not 3`},
		{"gpu not sold", "gpu_count = 1", "MI300X_192GB", `(?s)gpu_type.*MI300X_192GB is not sold by Lambda Cloud`},
		{"unknown gpu", "gpu_count = 1", "H900_1TB", `(?s)gpu_type.*unknown GPU type "H900_1TB"`},
		{"unknown region", "gpu_count = 1\n  region = \"mars-north-1\"", "A10_24GB", `(?s)region.*no region "mars-north-1"`},
		{"price cap", "gpu_count = 1\n  max_price_per_hour = 0.05", "A10_24GB", `(?s)max_price_per_hour.*costs \$0\.75 per hour`},
		{"other cloud's block", "gpu_count = 1\n  lambda {}\n", "A10_24GB", ``},
	}
	steps := []resource.TestStep{}
	for _, c := range cases {
		if c.want == "" {
			continue
		}
		steps = append(steps, resource.TestStep{
			Config:      lambdaInstanceConfig(env, "acc-bad", c.gpu, c.extra),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(c.want),
		})
	}
	accTest(t, nil, steps)
	if n := env.emu.Lambda.Core.Stats.Get("POST /api/v1/instance-operations/launch"); n != 0 {
		t.Errorf("plan-time errors must not launch anything; saw %d launches", n)
	}
}

// No capacity anywhere: the error names what was tried and what to do, and nothing is saved.
func TestAccGPUInstance_lambdaCapacityError(t *testing.T) {
	env := accEnv(t)
	for _, region := range []string{"us-east-1", "us-west-1", "us-south-1"} {
		env.emu.Lambda.SetCapacity("gpu_1x_a10", region, 0)
	}
	env.emu.Lambda.SetCapacity("gpu_1x_a10", "us-west-2", 0)
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{{
		Config:      lambdaInstanceConfig(env, "acc-cap", "A10_24GB", "gpu_count = 1\n  region = \"us-west-2\""),
		ExpectError: regexp.MustCompile(`(?s)Unable to launch Lambda Cloud instance.*tried:.*lambda us-west-2 gpu_1x_a10.*insufficient-capacity.*neocloud_gpu_offers`),
	}})
}

// A launch whose answer is lost is adopted, not repeated: exactly one machine exists.
func TestAccGPUInstance_lambdaLostLaunchAnswerAdopts(t *testing.T) {
	env := accEnv(t)
	env.emu.Lambda.Core.AddFault(emucore.Fault{
		Route: "POST /api/v1/instance-operations/launch", Action: emucore.FaultDropAfterCommit, Times: 1,
	})
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{{
		Config: lambdaInstanceConfig(env, "acc-lost", "A10_24GB", "gpu_count = 1"),
		Check: resource.ComposeTestCheckFunc(
			checkLambdaInstances(env, 1),
			adoptedTheOne("neocloud_gpu_instance.test", "instance", "launched",
				func() int { return len(env.emu.Lambda.Instances()) },
				func() string { return env.emu.Lambda.LiveInstances()[0].ID }),
		),
	}})
}

// A machine deleted behind Terraform's back is planned for creation again, not an error.
func TestAccGPUInstance_lambdaDeletedOutOfBand(t *testing.T) {
	env := accEnv(t)
	cfg := lambdaInstanceConfig(env, "acc-drift", "A10_24GB", "gpu_count = 1")
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		{Config: cfg},
		{
			PreConfig: func() {
				for _, inst := range env.emu.Lambda.LiveInstances() {
					_ = env.emu.Lambda.DeleteOutOfBand(inst.ID)
				}
			},
			Config:             cfg,
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		},
		{Config: cfg, Check: checkLambdaInstances(env, 1)},
	})
}

// A machine that fails while booting is saved tainted (never leaked) and replaced next apply.
func TestAccGPUInstance_lambdaFailedBootIsTaintedAndReplaced(t *testing.T) {
	env := accEnv(t)
	cfg := lambdaInstanceConfig(env, "acc-fail", "A10_24GB", "gpu_count = 1")
	stop := breakWhileBooting(env, 1)
	defer stop()
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		{Config: cfg, ExpectError: regexp.MustCompile(`(?s)did not become ready.*tainted`)},
		{
			Config:           cfg,
			ConfigPlanChecks: expectAction("neocloud_gpu_instance.test", plancheck.ResourceActionDestroyBeforeCreate),
			Check:            checkLambdaInstances(env, 1),
		},
	})
}

// A resource naming a cloud without credentials says what to set.
func TestAccGPUInstance_unconfiguredCloud(t *testing.T) {
	testAccPreCheck(t)
	t.Setenv("LAMBDA_API_KEY", "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{planError(`
provider "neocloud" {}
resource "neocloud_gpu_instance" "test" {
  name        = "x"
  cloud       = "lambda"
  gpu_type    = "A10_24GB"
  gpu_count   = 1
  ssh_key_ids = ["k"]
}`, `(?s)Lambda Cloud is not configured.*api_key.*LAMBDA_API_KEY`)},
	})
}

// Under a burst of 429s and 503s on reads, and a 503 answer to the launch itself, nothing is
// duplicated or leaked: the reads are retried (honouring Retry-After), and the launch is sent
// again only once a successful look after the commit horizon shows it did not happen.
func TestAccGPUInstance_lambdaFaults(t *testing.T) {
	env := accEnv(t)
	lam := env.emu.Lambda
	lam.Core.AddFault(emucore.Fault{Route: "POST /api/v1/instance-operations/launch", Action: emucore.FaultStatus, Status: 503, Times: 1})
	cfg := lambdaInstanceConfig(env, "acc-faults", "A10_24GB", "gpu_count = 1")
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		{
			// A 503 on the launch: looks after the commit horizon prove nothing was made, so
			// the launch is sent again. Reads ride out 429s and 5xx on the way.
			PreConfig: func() {
				lam.Core.AddFault(emucore.Fault{Route: "GET /api/v1/instances", Action: emucore.FaultRateLimit, RetryAfter: 1, Times: 2})
				lam.Core.AddFault(emucore.Fault{Route: "GET /api/v1/instances", Action: emucore.FaultStatus, Status: 503, Times: 2})
				lam.Core.AddFault(emucore.Fault{Route: "GET /api/v1/ssh-keys", Action: emucore.FaultStatus, Status: 502, Times: 1})
			},
			Config: cfg,
			Check: resource.ComposeTestCheckFunc(
				checkLambdaInstances(env, 1),
				func(*terraform.State) error {
					if n := len(lam.Instances()); n != 1 {
						return fmt.Errorf("expected exactly one instance ever launched, the emulator has %d", n)
					}
					// A launch the rate limiter turned away (429) was never processed; count
					// only the launches the cloud took up.
					route := "POST /api/v1/instance-operations/launch"
					n := lam.Core.Stats.Get(route) - lam.Core.Stats.GetStatus(route, 429)
					if n != 2 {
						return fmt.Errorf("expected the refused launch and one more, got %d launch calls (%v)", n, lam.Core.Stats.ByStatus()[route])
					}
					return nil
				},
			),
		},
	})
}

// gpu_count left out: a GPU Lambda sells in several sizes fails at plan time on gpu_count,
// naming the sizes (also for a placement that only lists Lambda); a GPU Lambda sells in one
// size plans that count and launches it, with nothing to do after apply.
func TestAccGPUInstance_gpuCountLeftOut(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_instance.test"
	placedOnLambda := env.providerConfig() + sshKeyHCL("me", "lambda", "acc-key") + `
resource "neocloud_gpu_instance" "test" {
  name        = "acc-count"
  gpu_type    = "H100_80GB_SXM"
  ssh_key_ids = [neocloud_ssh_key.me.id]
  placement {
    clouds = ["lambda"]
  }
}
`
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		planError(lambdaInstanceConfig(env, "acc-count", "H100_80GB_SXM", ""), `(?s)GPU count needed.*Lambda Cloud sells H100_80GB_SXM in machines of 1, 2, 4\s+or\s+8\s+GPUs.*Set\s+gpu_count`),
		planError(placedOnLambda, `(?s)No cloud in placement can launch this machine.*lambda: Lambda Cloud sells\s+H100_80GB_SXM in machines of 1, 2, 4 or 8 GPUs`),
		{
			Config: lambdaInstanceConfig(env, "acc-count", "GH200_96GB", ""),
			ConfigPlanChecks: emptyPlanAfterApply(
				planValue(addr, "gpu_count", knownvalue.Int64Exact(1)),
				planValue(addr, "instance_type", knownvalue.StringExact("gpu_1x_gh200")),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "gpu_count", knownvalue.Int64Exact(1)),
				stateValue(addr, "status", knownvalue.StringExact("running")),
			},
			Check: checkLambdaInstances(env, 1),
		},
	})
	if n := env.emu.Lambda.Core.Stats.Get("POST /api/v1/instance-operations/launch"); n != 1 {
		t.Errorf("only the GH200 machine should have been launched; saw %d launches", n)
	}
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
