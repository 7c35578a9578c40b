package provider

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// A rejected key is one error per cloud and run, naming the setting to fix; later failures
// for the same reason add nothing at plan and refresh, and a short error at apply.
func TestAuthFailedReportsOnce(t *testing.T) {
	rejected := &clients.APIError{Kind: clients.ErrAuth, Cloud: "lambda", Operation: "list SSH keys", StatusCode: 401, Code: "global/invalid-api-key", Message: "API key was invalid, expired, or deleted."}
	cases := []struct {
		name string
		src  keySource
		want []string
	}{
		{"from the provider block", keySource{block: "lambda", attribute: "api_key", env: "LAMBDA_API_KEY"},
			[]string{"`lambda.api_key` in the provider configuration", "Set `lambda.api_key` in the provider's `lambda` block", "HTTP 401", "invalid-api-key"}},
		{"from the environment", keySource{block: "lambda", attribute: "api_key", env: "LAMBDA_API_KEY", fromEnv: true},
			[]string{"the LAMBDA_API_KEY environment variable", "Set LAMBDA_API_KEY to a valid Lambda Cloud API key"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &providerData{keyFrom: map[string]keySource{"lambda": c.src}}
			var diags diag.Diagnostics
			for range 3 {
				if !d.authFailed(&diags, "lambda", rejected, true) {
					t.Fatal("an ErrAuth error was not taken as an authentication failure")
				}
			}
			if diags.ErrorsCount() != 1 {
				t.Fatalf("want exactly one error, got %d: %v", diags.ErrorsCount(), diags)
			}
			e := diags.Errors()[0]
			if e.Summary() != "Lambda Cloud rejected the API key" {
				t.Errorf("summary %q", e.Summary())
			}
			for _, w := range c.want {
				if !strings.Contains(e.Detail(), w) {
					t.Errorf("detail lacks %q:\n%s", w, e.Detail())
				}
			}
			// An apply-time operation must still fail on its own, briefly.
			d.cloudError(&diags, "", "Unable to launch Lambda Cloud instance", fmt.Errorf("launching: %w", rejected))
			if diags.ErrorsCount() != 2 || !strings.Contains(diags.Errors()[1].Detail(), "see the first error") {
				t.Errorf("want a short second error at apply, got %v", diags)
			}
		})
	}
	var diags diag.Diagnostics
	d := &providerData{}
	if d.authFailed(&diags, "lambda", errors.New("boom"), true) || diags.HasError() {
		t.Error("a failure other than authentication is not authFailed's to report")
	}
}

// A wrong Lambda key fails the plan with one error naming lambda.api_key, however many Lambda
// resources there are (and not the "Price not checked" warning of old); once resources exist,
// their refresh fails the same way, once.
func TestAccProvider_wrongAPIKeyFailsPlanOnce(t *testing.T) {
	env := accEnv(t)
	good := env.providerConfig()
	bad := strings.Replace(good, `api_key  = "lambda-test-key"`, `api_key  = "not-the-lambda-key"`, 1)
	if bad == good {
		t.Fatal("the provider configuration no longer sets the Lambda key this way")
	}
	resources := sshKeyHCL("me", "lambda", "acc-key") + `
resource "neocloud_volume" "data" {
  cloud  = "lambda"
  name   = "acc-data"
  region = "us-east-1"
}
`
	machines := lambdaMachineHCL("a", "acc-a", "max_price_per_hour = 5") + lambdaMachineHCL("b", "acc-b", "max_price_per_hour = 5")
	summary := regexp.MustCompile(`Lambda Cloud rejected the API key`)
	failures := 0
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy: func(*terraform.State) error {
			if fs := env.emu.Lambda.FileSystems(); len(fs) != 0 {
				return fmt.Errorf("filesystems left behind: %+v", fs)
			}
			return nil
		},
		ErrorCheck: func(err error) error {
			msg := err.Error()
			switch {
			case len(summary.FindAllStringIndex(msg, -1)) != 1:
				return fmt.Errorf("want the key's rejection reported exactly once, got %d times: %w", len(summary.FindAllStringIndex(msg, -1)), err)
			case !strings.Contains(msg, "lambda.api_key"):
				return fmt.Errorf("the error does not name lambda.api_key: %w", err)
			case strings.Contains(msg, "Price not checked"):
				return fmt.Errorf("the price cap warning still shows: %w", err)
			}
			failures++
			return nil
		},
		Steps: []resource.TestStep{
			{Config: bad + resources + machines, PlanOnly: true},
			{
				Config:           good + resources,
				ConfigPlanChecks: emptyPlanAfterApply(),
			},
			{Config: bad + resources, PlanOnly: true},
			{Config: good + resources, PlanOnly: true},
		},
	})
	if failures != 2 {
		t.Errorf("want both plans with the wrong key to fail, %d did", failures)
	}
}
