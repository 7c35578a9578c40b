package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

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
