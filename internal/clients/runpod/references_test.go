package runpod

import (
	"slices"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// At plan time a pod's template must be one the account can use (its own or a public one, both
// read through GET /templates/{id}) and a pod template; its registry credential must exist.
// Each template is looked up once.
func TestCheckInstanceReferences(t *testing.T) {
	f, c := newFakeCloud(t)
	f.json("GET", "/templates/runpod-torch-v240", 200, templateDoc("runpod-torch-v240", false, true, nil))
	f.json("GET", "/templates/runpod-worker-vllm", 200, templateDoc("runpod-worker-vllm", true, false, nil))
	f.problem("GET", "/templates/nope", 404, "Not Found", "template not found")
	f.json("GET", "/registries/reg_abc", 200, `{"id": "reg_abc", "name": "ghcr"}`)
	f.problem("GET", "/registries/gone", 404, "Not Found", "container registry credential not found")

	check := func(template, registry string) []string {
		t.Helper()
		errs, err := c.CheckInstanceReferences(t.Context(), clients.InstanceSpec{
			Options: &InstanceOptions{TemplateID: template, RegistryCredentialID: registry},
		})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range errs {
			out = append(out, e.Field+": "+e.Summary)
		}
		return out
	}
	if got := check("runpod-torch-v240", "reg_abc"); got != nil {
		t.Errorf("known template and credential: %v", got)
	}
	if got := check("nope", "gone"); !slices.Equal(got, []string{"runpod.template_id: Unknown RunPod template", "runpod.registry_credential_id: Unknown RunPod registry credential"}) {
		t.Errorf("unknown ones: %v", got)
	}
	if got := check("runpod-worker-vllm", ""); !slices.Equal(got, []string{"runpod.template_id: Serverless RunPod template"}) {
		t.Errorf("serverless template: %v", got)
	}
	check("runpod-torch-v240", "")
	check("nope", "")
	if n := f.Count("GET", "/templates/runpod-torch-v240") + f.Count("GET", "/templates/nope"); n != 2 {
		t.Errorf("%d template lookups, want one per template", n)
	}
	if got := check("", ""); got != nil {
		t.Errorf("nothing to check: %v", got)
	}

	// An API that does not answer is no verdict: the caller leaves it to the launch.
	f.problem("GET", "/templates/flaky", 503, "Service Unavailable", "try again")
	if _, err := c.CheckInstanceReferences(t.Context(), clients.InstanceSpec{Options: &InstanceOptions{TemplateID: "flaky"}}); err == nil {
		t.Error("a failed look was taken for a verdict")
	}
}

// A pod created from a template gets the template's environment and, when the template starts
// Jupyter, a generated JUPYTER_PASSWORD: the adapter lists those names in EnvTemplateKeys, so
// the pod's env reads back as the user's own, and a later change of the env keeps them.
func TestTemplateEnvIsTheTemplates(t *testing.T) {
	f, c := newFakeCloud(t)
	h100Catalog(f, map[string]string{"US-TX-3": "HIGH"})
	f.json("GET", "/templates/tpl1", 200, templateDoc("tpl1", false, true, map[string]string{"MODEL": "llama", "MINE": "template"}))
	f.problem("GET", "/templates/gone", 404, "Not Found", "template not found")
	created := podDoc("p1", "PROVISIONING", map[string]string{
		"MINE": "user", "MODEL": "llama", "JUPYTER_PASSWORD": "generated", EnvLaunchToken: "tok-123", EnvTemplateKeys: "JUPYTER_PASSWORD,MODEL",
	})
	f.json("POST", "/pods", 201, mustJSON(created))
	f.json("GET", "/pods", 200, podsJSON())
	spec := h100Spec()
	spec.Options = &InstanceOptions{TemplateID: "tpl1", Env: map[string]string{"MINE": "user"}}
	inst, err := c.CreateInstance(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	env, _ := decodeBody(t, f.Requests("POST", "/pods")[0].Body)["env"].(map[string]any)
	if env[EnvTemplateKeys] != "JUPYTER_PASSWORD,MODEL" || env["MINE"] != "user" || env["MODEL"] != nil {
		t.Errorf("create env %v", env)
	}
	if len(opts(inst.Options).Env) != 1 || opts(inst.Options).Env["MINE"] != "user" {
		t.Errorf("env read back %v, want only the user's", opts(inst.Options).Env)
	}

	f.json("GET", "/pods/p1", 200, mustJSON(created))
	f.json("PATCH", "/pods/p1", 200, mustJSON(created))
	if _, err := c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{Env: map[string]string{"MINE": "changed"}}); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Requests("PATCH", "/pods/p1")[0].Body, mustJSON(map[string]any{"env": map[string]string{
		"MINE": "changed", "MODEL": "llama", "JUPYTER_PASSWORD": "generated", EnvLaunchToken: "tok-123", EnvTemplateKeys: "JUPYTER_PASSWORD,MODEL",
	}}))

	// A template that vanished between plan and apply is bad input, not a launch attempt.
	opts(spec.Options).TemplateID = "gone"
	if _, err := c.CreateInstance(t.Context(), spec); err == nil || f.Count("POST", "/pods") != 1 {
		t.Errorf("create from a deleted template: %v", err)
	}
}
