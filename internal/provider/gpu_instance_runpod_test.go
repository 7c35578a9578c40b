package provider

import (
	"encoding/json"
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
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/runpod"
)

const otherAccountKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJduWclJ/P4sMWwzilxdjktrglgisXYoSv9brwVNd7Ve someone@laptop"

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
	resp, err := callAPI(env, http.MethodPut, "/v2/account/ssh-keys", "runpod-test-key", []byte(fmt.Sprintf(`{"keys":[%q]}`, otherAccountKey)))
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
			adoptedTheOne("neocloud_gpu_instance.pod", "pod", "created",
				func() int { return len(env.emu.RunPod.Pods()) },
				func() string { return env.emu.RunPod.LivePods()[0].ID }),
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

// runpodAPI calls the RunPod emulator's API with the test key, outside Terraform (what a user
// does in RunPod's console), and decodes the answer.
func runpodAPI(t *testing.T, env *testEnv, method, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := callAPI(env, method, "/v2"+path, "runpod-test-key", b)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return out
}

// onlyPod is the one live pod of the emulator.
func onlyPod(env *testEnv) (runpod.PodView, error) {
	pods := env.emu.RunPod.LivePods()
	if len(pods) != 1 {
		return runpod.PodView{}, fmt.Errorf("want exactly one live pod, the emulator has %d: %+v", len(pods), pods)
	}
	return pods[0], nil
}

// RunPod opens a data center after this provider was released: it is not refused at plan time,
// because the provider reads RunPod's data centers from GET /v2/catalog/datacenters; pods and
// network volumes land there.
func TestAccGPUInstance_runpodNewDataCenterAccepted(t *testing.T) {
	env := accEnv(t)
	if err := env.emu.RunPod.AddDataCenter(runpod.DataCenterView{
		ID: "US-NV-1", Name: "US Nevada 1", Region: "NORTH_AMERICA", NetworkVolumeTypes: []string{"STANDARD"},
	}); err != nil {
		t.Fatal(err)
	}
	env.emu.RunPod.SetCapacity("NVIDIA RTX A6000", "US-NV-1", "SECURE", 4)
	addr := "neocloud_gpu_instance.pod"
	cfg := runpodPodConfig(env, "A6000_48GB", `region = "US-NV-1"`, "network_volume_id = neocloud_volume.data.id") + `
resource "neocloud_volume" "data" {
  cloud   = "runpod"
  name    = "acc-nv-data"
  region  = "US-NV-1"
  size_gb = 10
}
`
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config: cfg,
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(addr, "region", knownvalue.StringExact("US-NV-1")),
			stateValue("neocloud_volume.data", "region", knownvalue.StringExact("US-NV-1")),
		},
		ConfigPlanChecks: emptyPlanAfterApply(),
		Check: func(*terraform.State) error {
			p, err := onlyPod(env)
			if err != nil {
				return err
			}
			if p.DataCenterID != "US-NV-1" {
				return fmt.Errorf("pod in %s, want US-NV-1", p.DataCenterID)
			}
			if n := env.emu.RunPod.Core.Stats.Get("GET /v2/catalog/datacenters"); n == 0 {
				return fmt.Errorf("the data centers were never read from RunPod")
			}
			return nil
		},
	}})
}

// runpod.template_id is checked at plan time, on the attribute: a template the account cannot
// use, or a serverless one, never reaches a create. A pod made from a template (one of the
// account's own here) takes its image, ports, volume and variables without showing them as
// drift, and a later change of env keeps the template's variables.
func TestAccGPUInstance_runpodTemplate(t *testing.T) {
	env := accEnv(t)
	tpl, _ := runpodAPI(t, env, "POST", "/templates", map[string]any{
		"name": "acc-trainer", "image": "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04",
		"ports": []string{"22/tcp"}, "env": map[string]string{"MODEL": "llama-3.1-8b"},
		"mounts": map[string]any{"persistent": map[string]any{"size": 20, "path": "/workspace"}},
	})["id"].(string)
	if tpl == "" {
		t.Fatal("the emulator made a template without an id")
	}
	addr := "neocloud_gpu_instance.pod"
	podEnv := func(want map[string]string) func(*terraform.State) error {
		return func(*terraform.State) error {
			p, err := onlyPod(env)
			if err != nil {
				return err
			}
			for k, v := range want {
				if p.Env[k] != v {
					return fmt.Errorf("pod env %s = %q, want %q", k, p.Env[k], v)
				}
			}
			if p.Image != "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04" || p.VolumeMountPath != "/workspace" {
				return fmt.Errorf("the pod did not take the template's image and volume: %+v", p)
			}
			return nil
		}
	}
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{
		planError(templatePodConfig(env, "no-such-template", ""), `(?s)Error: Unknown RunPod template.*template_id\s+= "no-such-template".*RunPod has no template "no-such-template"`),
		planError(templatePodConfig(env, "runpod-worker-vllm", ""), `(?s)Error: Serverless RunPod template.*template_id\s+= "runpod-worker-vllm"`),
		{
			PreConfig: func() {
				if n := env.emu.RunPod.Core.Stats.Get("POST /v2/pods"); n != 0 {
					t.Errorf("a refused template reached a create: %d creates", n)
				}
			},
			Config: templatePodConfig(env, tpl, `env = { STAGE = "one" }`),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "status", knownvalue.StringExact("running")),
				stateValue(addr, "runpod.image", knownvalue.Null()),
				stateValue(addr, "runpod.ports", knownvalue.Null()),
				stateValue(addr, "runpod.volume_gb", knownvalue.Null()),
				stateValue(addr, "runpod.volume_mount_path", knownvalue.StringExact("/workspace")),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
			Check:            podEnv(map[string]string{"STAGE": "one", "MODEL": "llama-3.1-8b"}),
		},
		{
			Config:           templatePodConfig(env, tpl, `env = { STAGE = "two" }`),
			ConfigPlanChecks: emptyPlanAfterApply(plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)),
			Check:            podEnv(map[string]string{"STAGE": "two", "MODEL": "llama-3.1-8b"}),
		},
	})
}

// A public catalog template works the same way, and its generated JUPYTER_PASSWORD is not
// drift.
func TestAccGPUInstance_runpodPublicTemplate(t *testing.T) {
	env := accEnv(t)
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config:           templatePodConfig(env, "runpod-torch-v240", ""),
		ConfigPlanChecks: emptyPlanAfterApply(),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue("neocloud_gpu_instance.pod", "runpod.env", knownvalue.Null()),
		},
		Check: func(*terraform.State) error {
			p, err := onlyPod(env)
			if err != nil {
				return err
			}
			if p.Env["JUPYTER_PASSWORD"] == "" {
				return fmt.Errorf("the public template's Jupyter was not started: %v", p.Env)
			}
			return nil
		},
	}})
}

// registryPodConfig is a private image pulled with a credential the same configuration keeps
// (or, with ref, any credential id expression).
func registryPodConfig(env *testEnv, password, credExtra string, ref ...string) string {
	credID := "neocloud_container_registry_credential.ghcr.id"
	if len(ref) > 0 {
		credID = ref[0]
	}
	return env.providerConfig() + fmt.Sprintf(`
resource "neocloud_container_registry_credential" "ghcr" {
  cloud    = "runpod"
  name     = "acc-ghcr"
  username = "acme-bot"
  password = %q
  %s
}

resource "neocloud_gpu_instance" "pod" {
  name      = "acc-private-pod"
  cloud     = "runpod"
  gpu_type  = "A6000_48GB"
  gpu_count = 1
  runpod {
    image                  = "ghcr.io/acme/trainer:1"
    ports                  = ["22/tcp"]
    registry_credential_id = %s
  }
}
`, password, credExtra, credID)
}

// A private training image: the credential is created (its password sent, never read back,
// sensitive in state), the pod names it in RunPod's `registry` field, the credential imports,
// and a new password replaces the credential while the pod moves to the new one in place.
// Destroy removes the pod before the credential RunPod would not delete while in use.
func TestAccContainerRegistryCredential_runpodPrivateImage(t *testing.T) {
	env := accEnv(t)
	cred, pod := "neocloud_container_registry_credential.ghcr", "neocloud_gpu_instance.pod"
	var firstID string
	podUses := func(password string) func(*terraform.State) error {
		return func(s *terraform.State) error {
			regs := env.emu.RunPod.Registries()
			if len(regs) != 1 || regs[0].Username != "acme-bot" || regs[0].Password != password || regs[0].Name != "acc-ghcr" {
				return fmt.Errorf("credentials in the account: %+v", regs)
			}
			id := s.RootModule().Resources[cred].Primary.ID
			if regs[0].ID != id {
				return fmt.Errorf("state holds credential %s, the account %s", id, regs[0].ID)
			}
			p, err := onlyPod(env)
			if err != nil {
				return err
			}
			if p.Registry != id || p.Image != "ghcr.io/acme/trainer:1" {
				return fmt.Errorf("pod pulls %s with %q, want credential %s", p.Image, p.Registry, id)
			}
			return nil
		}
	}
	checkDestroy := func(*terraform.State) error {
		if regs := env.emu.RunPod.Registries(); len(regs) != 0 {
			return fmt.Errorf("credentials left in the account: %+v", regs)
		}
		return checkRunPodPods(env, 0)(nil)
	}
	accTest(t, checkDestroy, []resource.TestStep{
		planError(registryPodConfig(env, "ghp_first", "", `"nope12345"`), `(?s)Error: Unknown RunPod registry credential.*registry_credential_id\s+= "nope12345"`),
		{
			Config: registryPodConfig(env, "ghp_first", ""),
			ConfigStateChecks: []statecheck.StateCheck{
				stateSensitive(cred, "password"),
				stateValue(pod, "status", knownvalue.StringExact("running")),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
			Check: resource.ComposeTestCheckFunc(podUses("ghp_first"),
				resource.TestCheckResourceAttrPair(pod, "runpod.registry_credential_id", cred, "id"),
				func(s *terraform.State) error { firstID = s.RootModule().Resources[cred].Primary.ID; return nil }),
		},
		importByState(cred, "runpod", "username", "password"),
		{
			// A credential cannot change: a new one is made first, the pod moves to it in
			// place, and the old one goes once nothing uses it.
			Config: registryPodConfig(env, "ghp_second", "lifecycle {\n    create_before_destroy = true\n  }"),
			ConfigPlanChecks: emptyPlanAfterApply(
				plancheck.ExpectResourceAction(cred, plancheck.ResourceActionCreateBeforeDestroy),
				plancheck.ExpectResourceAction(pod, plancheck.ResourceActionUpdate),
			),
			Check: resource.ComposeTestCheckFunc(podUses("ghp_second"), func(s *terraform.State) error {
				if s.RootModule().Resources[cred].Primary.ID == firstID {
					return fmt.Errorf("the credential was not replaced")
				}
				return nil
			}),
		},
	})
}

// With Terraform 1.11 or later the password can be write-only: sent at create, never in plan or
// state; raising password_wo_version sends a new one.
func TestAccContainerRegistryCredential_runpodWriteOnlyPassword(t *testing.T) {
	env := accEnv(t)
	cred := "neocloud_container_registry_credential.ghcr"
	cfg := func(password string, version int) string {
		return env.providerConfig() + fmt.Sprintf(`
resource "neocloud_container_registry_credential" "ghcr" {
  cloud               = "runpod"
  name                = "acc-ghcr-wo"
  username            = "acme-bot"
  password_wo         = %q
  password_wo_version = %d
}
`, password, version)
	}
	stored := func(password string) func(*terraform.State) error {
		return func(s *terraform.State) error {
			regs := env.emu.RunPod.Registries()
			if len(regs) != 1 || regs[0].Password != password {
				return fmt.Errorf("credentials in the account: %+v", regs)
			}
			if _, ok := s.RootModule().Resources[cred].Primary.Attributes["password_wo"]; ok {
				return fmt.Errorf("the write-only password is in state")
			}
			return nil
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		CheckDestroy: func(*terraform.State) error {
			if regs := env.emu.RunPod.Registries(); len(regs) != 0 {
				return fmt.Errorf("credentials left in the account: %+v", regs)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				// One password, and a write-only one only with its version.
				Config: env.providerConfig() + `resource "neocloud_container_registry_credential" "both" {
  cloud       = "runpod"
  name        = "both"
  username    = "u"
  password    = "p"
  password_wo = "p"
}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Exactly one of these attributes must be configured: \[password,password_wo\].*must be configured together:\s+\[password_wo,password_wo_version\]`),
			},
			{
				Config: cfg("ghp_wo_first", 1),
				ConfigStateChecks: []statecheck.StateCheck{
					stateValue(cred, "password_wo", knownvalue.Null()),
					stateValue(cred, "password", knownvalue.Null()),
				},
				ConfigPlanChecks: emptyPlanAfterApply(),
				Check:            stored("ghp_wo_first"),
			},
			{
				// Only the version tells Terraform the password changed.
				Config:           cfg("ghp_wo_second", 2),
				ConfigPlanChecks: expectAction(cred, plancheck.ResourceActionDestroyBeforeCreate),
				Check:            stored("ghp_wo_second"),
			},
		},
	})
}

// A mount path change is a PATCH of the pod's mount (RunPod's document allows it): the same
// pod, its volume kept, updated in place, never replaced.
func TestAccGPUInstance_runpodMountPathPatchedInPlace(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_instance.pod"
	var podID string
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{
		{
			Config: runpodPodConfig(env, "A6000_48GB", "", "volume_gb = 20"),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "runpod.volume_mount_path", knownvalue.StringExact("/workspace")),
			},
			Check: func(s *terraform.State) error {
				podID = s.RootModule().Resources[addr].Primary.ID
				return nil
			},
		},
		{
			Config:           runpodPodConfig(env, "A6000_48GB", "", "volume_gb = 20\n    volume_mount_path = \"/data\""),
			ConfigPlanChecks: emptyPlanAfterApply(plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "runpod.volume_mount_path", knownvalue.StringExact("/data")),
				stateValue(addr, "status", knownvalue.StringExact("running")),
			},
			Check: func(s *terraform.State) error {
				p, err := onlyPod(env)
				if err != nil {
					return err
				}
				if p.ID != podID || s.RootModule().Resources[addr].Primary.ID != podID {
					return fmt.Errorf("the pod was replaced: %s, then %s", podID, p.ID)
				}
				if p.VolumeMountPath != "/data" {
					return fmt.Errorf("mount path %q in RunPod, want /data", p.VolumeMountPath)
				}
				if n := env.emu.RunPod.Core.Stats.Get("PATCH /v2/pods/{id}"); n != 1 {
					return fmt.Errorf("%d PATCHes of the pod, want 1", n)
				}
				return nil
			},
		},
	})
}

// A no-change plan of a healthy pod does not check it against RunPod's catalog again: its
// refresh reads the pod list and nothing else, in particular not the data center list that
// the region check of a new or changed pod reads.
func TestAccGPUInstance_runpodNoChangePlanSkipsCatalogChecks(t *testing.T) {
	env := accEnv(t)
	cfg := runpodPodConfig(env, "A6000_48GB", "", "")
	route := "GET /v2/catalog/datacenters"
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{
		{Config: cfg},
		{PreConfig: env.emu.RunPod.Core.Stats.Reset, Config: cfg, PlanOnly: true},
		{
			PreConfig: func() {
				if n := env.emu.RunPod.Core.Stats.Get(route); n != 0 {
					t.Errorf("the no-change plan read the data center list %d times, want 0", n)
				}
			},
			Config:   cfg,
			PlanOnly: true,
		},
	})
}
