package provider

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

const otherAccountKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJduWclJ/P4sMWwzilxdjktrglgisXYoSv9brwVNd7Ve someone@laptop"

func runpodPodConfig(env *testEnv, gpuType, extra, runpodExtra string) string {
	return env.providerConfig() + fmt.Sprintf(`
resource "neocloud_ssh_key" "me" {
  cloud      = "runpod"
  name       = "acc-key"
  public_key = %q
}

resource "neocloud_gpu_instance" "pod" {
  name        = "acc-pod"
  cloud       = "runpod"
  gpu_type    = %q
  gpu_count   = 1
  ssh_key_ids = [neocloud_ssh_key.me.id]
  %s
  runpod {
    image = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
    ports = ["22/tcp", "8888/http"]
    %s
  }
}
`, testPublicKey, gpuType, extra, runpodExtra)
}

func checkRunPodPods(env *testEnv, want int) func(*terraform.State) error {
	return func(*terraform.State) error {
		if got := len(env.emu.RunPod.LivePods()); got != want {
			return fmt.Errorf("expected %d live RunPod pod(s), the emulator has %d: %+v", want, got, env.emu.RunPod.LivePods())
		}
		return nil
	}
}

// seedRunPodKey puts a key in the RunPod account outside Terraform, as a user's laptop key.
func seedRunPodKey(t *testing.T, env *testEnv) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, env.url+"/v2/account/ssh-keys", bytes.NewBufferString(fmt.Sprintf(`{"keys":[%q]}`, otherAccountKey)))
	req.Header.Set("Authorization", "Bearer runpod-test-key")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("seeding a RunPod account key: %v %v", err, resp)
	}
	resp.Body.Close()
}

// A pod's whole life: ready only with its SSH mapping, no-op plan, environment changed in
// place, stopped and started through desired_state, imported, replaced on a GPU change.
// The user's other account key is never disturbed.
func TestAccGPUInstance_runpodLifecycle(t *testing.T) {
	env := accEnv(t)
	seedRunPodKey(t, env)
	addr := "neocloud_gpu_instance.pod"
	otherKeyKept := func(*terraform.State) error {
		if !slices.Contains(env.emu.RunPod.SSHKeys(), otherAccountKey) {
			return fmt.Errorf("the user's own account key was removed: %v", env.emu.RunPod.SSHKeys())
		}
		return nil
	}
	podEnv := func(key, want string) func(*terraform.State) error {
		return func(*terraform.State) error {
			pods := env.emu.RunPod.LivePods()
			if len(pods) != 1 || pods[0].Env[key] != want {
				return fmt.Errorf("pod env %s = %q, want %q (%+v)", key, pods[0].Env[key], want, pods)
			}
			return nil
		}
	}
	podStatus := func(want string) func(*terraform.State) error {
		return func(*terraform.State) error {
			pods := env.emu.RunPod.LivePods()
			if len(pods) != 1 || pods[0].Status != want {
				return fmt.Errorf("pod status is not %s: %+v", want, pods)
			}
			return nil
		}
	}

	checkDestroy := func(s *terraform.State) error {
		if err := checkRunPodPods(env, 0)(s); err != nil {
			return err
		}
		if keys := env.emu.RunPod.SSHKeys(); len(keys) != 1 || keys[0] != otherAccountKey {
			return fmt.Errorf("after destroy the account keys must be exactly the user's own: %v", keys)
		}
		return nil
	}
	accTest(t, checkDestroy, []resource.TestStep{
		{
			Config: runpodPodConfig(env, "A6000_48GB", "", `env = { STAGE = "one" }`),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "status", knownvalue.StringExact("running")),
				stateValue(addr, "instance_type", knownvalue.StringExact("NVIDIA RTX A6000")),
				stateValue(addr, "ssh_user", knownvalue.StringExact("root")),
				stateValue(addr, "ssh_host", knownvalue.StringRegexp(regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`))),
				stateValue(addr, "ssh_port", knownvalue.NotNull()),
				stateValue(addr, "region", knownvalue.NotNull()),
				stateValue(addr, "desired_state", knownvalue.StringExact("running")),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
			Check:            resource.ComposeTestCheckFunc(checkRunPodPods(env, 1), podEnv("STAGE", "one"), otherKeyKept),
		},
		{
			Config:           runpodPodConfig(env, "A6000_48GB", "", `env = { STAGE = "two" }`),
			ConfigPlanChecks: expectAction(addr, plancheck.ResourceActionUpdate),
			Check: resource.ComposeTestCheckFunc(checkRunPodPods(env, 1), podEnv("STAGE", "two"),
				resource.TestCheckResourceAttr(addr, "status", "running")),
		},
		{
			Config:           runpodPodConfig(env, "A6000_48GB", `desired_state = "stopped"`, `env = { STAGE = "two" }`),
			ConfigPlanChecks: emptyPlanAfterApply(plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)),
			Check:            resource.ComposeTestCheckFunc(podStatus("EXITED"), resource.TestCheckResourceAttr(addr, "status", "stopped")),
		},
		{
			Config: runpodPodConfig(env, "A6000_48GB", `desired_state = "running"`, `env = { STAGE = "two" }`),
			Check:  resource.ComposeTestCheckFunc(podStatus("RUNNING"), resource.TestCheckResourceAttr(addr, "status", "running")),
		},
		importByState(addr, "runpod", "timeouts"),
		{
			Config:           runpodPodConfig(env, "RTX_4090_24GB", "", `env = { STAGE = "two" }`),
			ConfigPlanChecks: expectAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
			Check: resource.ComposeTestCheckFunc(checkRunPodPods(env, 1),
				resource.TestCheckResourceAttr(addr, "instance_type", "NVIDIA GeForce RTX 4090"), otherKeyKept),
		},
	})
}

// Bad RunPod input fails at plan time on the attribute at fault.
func TestAccGPUInstance_runpodPlanTimeValidation(t *testing.T) {
	env := accEnv(t)
	cases := []struct{ gpu, extra, runpodExtra, want string }{
		{"H900_1TB", "", "", `(?s)gpu_type.*unknown GPU`},
		{"A6000_48GB", "gpu_count = 12", "", `(?s)gpu_count.*12`},
		{"A6000_48GB", `region = "MARS-1"`, "", `(?s)region.*no region "MARS-1"`},
		{"A6000_48GB", `tags = { a = "b" }`, "", `(?s)tags.*no tags`},
		{"A6000_48GB", "", `cloud_type = "SPOT"`, `(?s)cloud_type.*value must be one of`},
		{"A6000_48GB", "", `volume_mount_path = "workspace"`, `(?s)volume_mount_path.*must be an absolute path`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		cfg := runpodPodConfig(env, c.gpu, c.extra, c.runpodExtra)
		if c.extra == "gpu_count = 12" {
			cfg = regexp.MustCompile(`gpu_count   = 1\n`).ReplaceAllString(cfg, "")
		}
		steps = append(steps, resource.TestStep{Config: cfg, PlanOnly: true, ExpectError: regexp.MustCompile(c.want)})
	}
	accTest(t, nil, steps)
	if n := env.emu.RunPod.Core.Stats.Get("POST /v2/pods"); n != 0 {
		t.Errorf("plan-time errors must not create pods; saw %d", n)
	}
}

// No stock anywhere: the error lists what was tried, and no pod is left.
func TestAccGPUInstance_runpodCapacityError(t *testing.T) {
	env := accEnv(t)
	for _, dc := range []string{"US-KS-2", "EU-SE-1", "CA-MTL-1"} {
		env.emu.RunPod.SetCapacity("NVIDIA RTX A6000", dc, "SECURE", 0)
	}
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config:      runpodPodConfig(env, "A6000_48GB", `region = "US-KS-2"`, ""),
		ExpectError: regexp.MustCompile(`(?s)Unable to launch RunPod instance.*runpod US-KS-2 NVIDIA RTX A6000.*no longer any instances available`),
	}})
}

// A create whose answer is lost is adopted: exactly one pod, the one in state.
func TestAccGPUInstance_runpodLostCreateAnswerAdopts(t *testing.T) {
	env := accEnv(t)
	env.emu.RunPod.Core.AddFault(emucore.Fault{Route: "POST /v2/pods", Action: emucore.FaultDropAfterCommit, Times: 1})
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config: runpodPodConfig(env, "A6000_48GB", "", ""),
		Check: resource.ComposeTestCheckFunc(
			checkRunPodPods(env, 1),
			func(s *terraform.State) error {
				// Every pod ever created, terminated ones included: exactly one.
				if n := len(env.emu.RunPod.Pods()); n != 1 {
					return fmt.Errorf("expected exactly one pod ever created, the emulator has %d", n)
				}
				if id := s.RootModule().Resources["neocloud_gpu_instance.pod"].Primary.ID; id != env.emu.RunPod.LivePods()[0].ID {
					return fmt.Errorf("state holds %s, not the adopted pod", id)
				}
				return nil
			},
		),
	}})
}

// A pod the cloud reports in ERROR is planned for replacement (with a warning), and the apply
// leaves exactly one healthy pod.
func TestAccGPUInstance_runpodFailedPodIsReplaced(t *testing.T) {
	env := accEnv(t)
	cfg := runpodPodConfig(env, "A6000_48GB", "", "")
	addr := "neocloud_gpu_instance.pod"
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{
		{Config: cfg, Check: checkRunPodPods(env, 1)},
		{
			PreConfig: func() {
				for _, p := range env.emu.RunPod.LivePods() {
					_ = env.emu.RunPod.FailPod(p.ID)
				}
			},
			Config:           cfg,
			ConfigPlanChecks: expectAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr(addr, "status", "running"),
				func(*terraform.State) error {
					pods := env.emu.RunPod.LivePods()
					if len(pods) != 1 || pods[0].Status != "RUNNING" {
						return fmt.Errorf("want exactly one running pod after the replacement: %+v", pods)
					}
					return nil
				},
			),
		},
	})
}
