package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// A key with the user's public key, and a key Lambda generates (private key returned once,
// kept in state as a sensitive value); both import, and destroy removes them from the account.
func TestAccSSHKey_lambda(t *testing.T) {
	env := accEnv(t)
	cfg := env.providerConfig() + fmt.Sprintf(`
resource "neocloud_ssh_key" "mine" {
  cloud      = "lambda"
  name       = "acc-mine"
  public_key = "%s\n"
}

resource "neocloud_ssh_key" "generated" {
  cloud = "lambda"
  name  = "acc-generated"
}
`, testPublicKey)
	checkDestroy := func(*terraform.State) error {
		if keys := env.emu.Lambda.SSHKeys(); len(keys) != 0 {
			return fmt.Errorf("keys left in the account: %+v", keys)
		}
		return nil
	}
	accTest(t, checkDestroy, []resource.TestStep{
		{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("neocloud_ssh_key.mine", "private_key", knownvalue.Null()),
				stateValue("neocloud_ssh_key.generated", "private_key", knownvalue.StringRegexp(regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`))),
				stateValue("neocloud_ssh_key.generated", "public_key", knownvalue.StringRegexp(regexp.MustCompile(`^ssh-`))),
				stateSensitive("neocloud_ssh_key.generated", "private_key"),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
			Check: func(*terraform.State) error {
				if n := len(env.emu.Lambda.SSHKeys()); n != 2 {
					return fmt.Errorf("expected 2 keys in the account, found %d", n)
				}
				return nil
			},
		},
		{
			ResourceName:      "neocloud_ssh_key.mine",
			ImportState:       true,
			ImportStateVerify: true,
			ImportStateIdFunc: importID("neocloud_ssh_key.mine", "lambda"),
			// The configuration carries the newline that file() keeps; the cloud may not.
			ImportStateVerifyIgnore: []string{"public_key"},
			ImportStateCheck: func(states []*terraform.InstanceState) error {
				if got := states[0].Attributes["public_key"]; strings.TrimSpace(got) != strings.TrimSpace(testPublicKey) {
					return fmt.Errorf("imported public_key = %q", got)
				}
				return nil
			},
		},
		importByState("neocloud_ssh_key.generated", "lambda", "private_key"), // the cloud never returns it again
	})
}

func TestAccSSHKey_badPublicKeyFailsAtPlan(t *testing.T) {
	env := accEnv(t)
	accTest(t, nil, []resource.TestStep{planError(env.providerConfig()+`
resource "neocloud_ssh_key" "bad" {
  cloud      = "lambda"
  name       = "bad"
  public_key = "AAAAC3NzaC1lZDI1NTE5 not-a-key"
}`, `(?s)Invalid SSH public key.*public_key.*must be an OpenSSH public key`)})
}

// A RunPod account key is added without disturbing the user's other keys, imports by its
// fingerprint id, and a key without public_key fails at plan time (RunPod cannot generate one).
func TestAccSSHKey_runpod(t *testing.T) {
	env := accEnv(t)
	seedRunPodKey(t, env)
	cfg := env.providerConfig() + sshKeyHCL("mine", "runpod", "acc-mine")
	checkDestroy := func(*terraform.State) error {
		if keys := env.emu.RunPod.SSHKeys(); len(keys) != 1 || keys[0] != otherAccountKey {
			return fmt.Errorf("after destroy the account must hold exactly the user's own key: %v", keys)
		}
		return nil
	}
	accTest(t, checkDestroy, []resource.TestStep{
		planError(env.providerConfig()+`
resource "neocloud_ssh_key" "generated" {
  cloud = "runpod"
  name  = "acc-generated"
}`, `(?s)RunPod needs a public key.*cannot generate a key`),
		{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("neocloud_ssh_key.mine", "id", knownvalue.StringRegexp(regexp.MustCompile(`^SHA256:`))),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
			Check: func(*terraform.State) error {
				keys := env.emu.RunPod.SSHKeys()
				if len(keys) != 2 || keys[0] != otherAccountKey {
					return fmt.Errorf("expected the user's key untouched plus ours, got %v", keys)
				}
				return nil
			},
		},
		importByState("neocloud_ssh_key.mine", "runpod"),
	})
}

// A cloud that cannot hold a kind of resource is refused at plan time, on `cloud`, with the
// reason and the clouds that can: SSH keys and volumes on CoreWeave, registry credentials on
// Lambda. Nothing reaches any cloud.
func TestAccCloudsLackingAKindFailAtPlan(t *testing.T) {
	env := accEnv(t)
	cases := []struct{ resource, body, want string }{
		{"neocloud_ssh_key", `name = "k"`, `(?s)CoreWeave\s+cannot\s+hold\s+neocloud_ssh_key.*kubeconfig.*Clouds\s+that\s+can:\s+.lambda., .runpod.`},
		{"neocloud_volume", "name = \"v\"\n  region = \"US-EAST-04A\"", `(?s)CoreWeave\s+cannot\s+hold\s+neocloud_volume.*Clouds\s+that\s+can:\s+.lambda., .runpod.`},
	}
	steps := []resource.TestStep{}
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config: env.providerConfig() + fmt.Sprintf(`
resource %q "x" {
  cloud = "coreweave"
  %s
}
`, c.resource, c.body),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(c.want),
		})
	}
	steps = append(steps, resource.TestStep{
		Config: env.providerConfig() + `
resource "neocloud_container_registry_credential" "x" {
  cloud    = "lambda"
  name     = "r"
  username = "u"
  password = "p"
}
`,
		PlanOnly:    true,
		ExpectError: regexp.MustCompile(`(?s)Lambda\s+Cloud\s+cannot\s+hold\s+neocloud_container_registry_credential.*Clouds\s+that\s+can:\s+.runpod.`),
	})
	accTest(t, nil, steps)
	if n := env.emu.CoreWeave.Core.Stats.Total() + env.emu.Lambda.Core.Stats.Total(); n != 0 {
		t.Errorf("a refused plan reached the clouds %d times", n)
	}
}

// lambdaKeyAt is an SSH key on Lambda with the provider's Lambda endpoint at base (relative to
// the emulator's URL).
func lambdaKeyAt(env *testEnv, base string) string {
	return fmt.Sprintf(`
provider "neocloud" {
  lambda {
    api_key  = "lambda-test-key"
    endpoint = "%s%s"
  }
}

resource "neocloud_ssh_key" "k" {
  cloud      = "lambda"
  name       = "acc-routes"
  public_key = %q
}
`, env.url, base, testPublicKey)
}

// A misconfigured endpoint reaches paths Lambda does not have, or a path with a method it does
// not take: the emulator answers in Lambda's JSON error shape, so the provider reports Lambda's
// code and message instead of a Go mux's plain-text "404 page not found".
func TestAccLambdaEmulator_unknownPathAndMethodAreLambdaErrors(t *testing.T) {
	env := accEnv(t)
	accTest(t, nil, []resource.TestStep{
		{
			// POST /api/v2/ssh-keys: no such path.
			Config:      lambdaKeyAt(env, "/api/v2"),
			ExpectError: regexp.MustCompile(`HTTP 404 \(global/object-does-not-exist\):\s+There\s+is\s+no\s+API\s+endpoint\s+at\s+/api/v2/ssh-keys`),
		},
		{
			// POST /api/v1/firewall-rulesets/ssh-keys: the path of one ruleset, which takes
			// GET, PATCH and DELETE.
			Config:      lambdaKeyAt(env, "/api/v1/firewall-rulesets"),
			ExpectError: regexp.MustCompile(`HTTP 405 \(global/invalid-parameters\):\s+POST\s+is\s+not\s+allowed\s+for\s+/api/v1/firewall-rulesets/ssh-keys`),
		},
	})
	byStatus := env.emu.Lambda.Core.Stats.ByStatus()
	if n := byStatus["unmatched POST /api/v2/ssh-keys"]["404"]; n != 1 {
		t.Errorf("POST /api/v2/ssh-keys answered 404 %d times, want 1: %v", n, byStatus)
	}
	if n := byStatus["unmatched POST /api/v1/firewall-rulesets/ssh-keys"]["405"]; n != 1 {
		t.Errorf("POST /api/v1/firewall-rulesets/ssh-keys answered 405 %d times, want 1: %v", n, byStatus)
	}
	if keys := env.emu.Lambda.SSHKeys(); len(keys) != 0 {
		t.Errorf("no key can have been added: %+v", keys)
	}
}
