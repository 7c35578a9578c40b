package runpod

import (
	"slices"
	"testing"
)

// templateFields are the properties schema Template requires: every template answer has them all.
var templateFields = []string{"id", "name", "image", "args", "disk", "mounts", "ports", "env", "registry",
	"serverless", "public", "category", "startSsh", "startJupyter", "allowedCudaVersions"}

func (h *harness) wantTemplateShape(t obj) {
	h.t.Helper()
	for _, f := range templateFields {
		if _, ok := t[f]; !ok {
			h.t.Errorf("template %v lacks required field %q", t["id"], f)
		}
	}
}

// The public catalog: official by default, one slice per source, pod and serverless templates,
// registry always null; every catalog template reads through /v2/templates/{id} too but cannot
// be changed or deleted there.
func TestPublicTemplateCatalog(t *testing.T) {
	h := newHarness(t, fastOptions)
	official := h.want(h.do("GET", "/v2/catalog/templates", nil), 200).body.objs("templates")
	if findByID(official, "runpod-torch-v240") == nil || findByID(official, "axolotl-finetune") != nil {
		t.Fatalf("default source is not official: %v", official)
	}
	vllm := findByID(official, "runpod-worker-vllm")
	if vllm == nil || vllm["serverless"] != true {
		t.Fatalf("official catalog lacks the serverless vLLM worker: %v", vllm)
	}
	for _, tpl := range official {
		h.wantTemplateShape(tpl)
		if tpl["registry"] != nil || tpl["public"] != true {
			t.Errorf("catalog template %v: registry %v public %v", tpl["id"], tpl["registry"], tpl["public"])
		}
	}
	verified := h.want(h.do("GET", "/v2/catalog/templates?source=verified", nil), 200).body.objs("templates")
	if len(verified) != 1 || verified[0]["id"] != "axolotl-finetune" {
		t.Fatalf("verified: %v", verified)
	}
	if community := h.want(h.do("GET", "/v2/catalog/templates?source=community", nil), 200).body.objs("templates"); findByID(community, "comfyui-community") == nil {
		t.Fatalf("community: %v", community)
	}
	h.wantProblem(h.do("GET", "/v2/catalog/templates?source=everything", nil), 422)

	torch := h.want(h.do("GET", "/v2/templates/runpod-torch-v240", nil), 200).body
	h.wantTemplateShape(torch)
	if torch.obj("mounts").obj("persistent")["path"] != "/workspace" || !slices.Equal(torch.strs("ports"), []string{"8888/http", "22/tcp"}) {
		t.Fatalf("torch template %s", h.do("GET", "/v2/templates/runpod-torch-v240", nil).raw)
	}
	// Catalog templates are not the account's: not listed, not changeable, not deletable.
	if own := h.want(h.do("GET", "/v2/templates", nil), 200).body.objs("templates"); len(own) != 0 {
		t.Fatalf("GET /v2/templates lists %v; the account has no templates", own)
	}
	h.wantProblem(h.do("PATCH", "/v2/templates/runpod-torch-v240", map[string]any{"name": "mine"}), 404)
	h.wantProblem(h.do("DELETE", "/v2/templates/runpod-torch-v240", nil), 404)
	h.wantProblem(h.do("GET", "/v2/templates/nope", nil), 404)
}

// An account template's life: created with the document's defaults, listed, read, patched with
// PATCH semantics, deleted.
func TestAccountTemplates(t *testing.T) {
	h := newHarness(t, fastOptions)
	reg := h.want(h.do("POST", "/v2/registries", map[string]any{"name": "ghcr", "username": "bot", "password": "s3cret"}), 201).body.str("id")
	r := h.want(h.do("POST", "/v2/templates", map[string]any{
		"name": "trainer", "image": "ghcr.io/acme/trainer:1", "registry": reg,
		"env": map[string]string{"A": "1"}, "ports": []string{"22/tcp"},
		"mounts": map[string]any{"persistent": map[string]any{"size": 50, "path": "/data"}},
	}), 201).body
	h.wantTemplateShape(r)
	id := r.str("id")
	if r["category"] != "NVIDIA" || r["public"] != false || r["serverless"] != false || r["startSsh"] != true || r["startJupyter"] != true ||
		len(r.list("allowedCudaVersions")) != 0 || r["registry"] != reg || r["disk"] != float64(50) {
		t.Fatalf("created template without the documented defaults: %s", h.do("GET", "/v2/templates/"+id, nil).raw)
	}
	if own := h.want(h.do("GET", "/v2/templates", nil), 200).body.objs("templates"); len(own) != 1 || own[0]["id"] != id {
		t.Fatalf("GET /v2/templates: %v", own)
	}
	// PATCH: only what is sent changes; {} mounts leaves the mount; null registry clears it;
	// [] clears the CUDA constraint.
	p := h.want(h.do("PATCH", "/v2/templates/"+id, map[string]any{
		"name": "trainer-2", "mounts": map[string]any{}, "registry": nil, "allowedCudaVersions": []string{"12.8"},
	}), 200).body
	if p["name"] != "trainer-2" || p["image"] != "ghcr.io/acme/trainer:1" || p.obj("mounts").obj("persistent")["path"] != "/data" ||
		p["registry"] != nil || !slices.Equal(p.strs("allowedCudaVersions"), []string{"12.8"}) || p.obj("env")["A"] != "1" {
		t.Fatalf("patched template %v", p)
	}
	p = h.want(h.do("PATCH", "/v2/templates/"+id, map[string]any{"allowedCudaVersions": []string{}}), 200).body
	if len(p.list("allowedCudaVersions")) != 0 {
		t.Fatalf("[] did not clear the CUDA constraint: %v", p["allowedCudaVersions"])
	}

	// Contract violations: 422 for the schema, 400 for the rules the schema does not state.
	h.wantProblem(h.do("POST", "/v2/templates", map[string]any{"name": "x"}), 422)
	h.wantProblem(h.do("POST", "/v2/templates", map[string]any{"name": "x", "image": "i", "mounts": map[string]any{"network": []any{}}}), 422)
	h.wantProblem(h.do("POST", "/v2/templates", map[string]any{"name": "x", "image": "i", "containerRegistryAuthId": reg}), 422)
	h.wantProblem(h.do("POST", "/v2/templates", map[string]any{"name": "x", "image": "i", "category": "TPU"}), 422)
	h.wantProblem(h.do("POST", "/v2/templates", map[string]any{"name": "x", "image": "i", "ports": []string{"22"}}), 400)
	h.wantProblem(h.do("POST", "/v2/templates", map[string]any{"name": "x", "image": "i", "registry": "nope"}), 400)

	h.want(h.do("DELETE", "/v2/templates/"+id, nil), 204)
	h.wantProblem(h.do("GET", "/v2/templates/"+id, nil), 404)
	h.wantProblem(h.do("DELETE", "/v2/templates/"+id, nil), 404)
}

// A pod created from a template takes every container setting the body leaves out, merges env
// with the body winning, and keeps no link to the template; serverless templates are refused.
func TestPodFromTemplate(t *testing.T) {
	h := newHarness(t, fastOptions)
	reg := h.want(h.do("POST", "/v2/registries", map[string]any{"name": "ghcr", "username": "bot", "password": "s3cret"}), 201).body.str("id")
	tpl := h.want(h.do("POST", "/v2/templates", map[string]any{
		"name": "trainer", "image": "ghcr.io/acme/trainer:1", "registry": reg, "args": "train.py", "disk": 80,
		"env": map[string]string{"A": "template", "B": "template"}, "ports": []string{"22/tcp"},
		"mounts":              map[string]any{"persistent": map[string]any{"size": 40, "path": "/data"}},
		"allowedCudaVersions": []string{"12.6"}, "startJupyter": false,
	}), 201).body.str("id")

	p := h.want(h.do("POST", "/v2/pods", map[string]any{
		"name": "from-template", "templateId": tpl, "env": map[string]string{"B": "body"},
		"gpu": map[string]any{"id": "NVIDIA GeForce RTX 4090"},
	}), 201).body
	if p["image"] != "ghcr.io/acme/trainer:1" || p["args"] != "train.py" || p["disk"] != float64(80) || p["registry"] != reg ||
		!slices.Equal(p.strs("ports"), []string{"22/tcp"}) || p.obj("mounts").obj("persistent")["path"] != "/data" ||
		p["cudaVersion"] != "12.6" || p["template"] != nil {
		t.Fatalf("pod from template: %s", h.do("GET", "/v2/pods/"+p.str("id"), nil).raw)
	}
	if env := p.obj("env"); env["A"] != "template" || env["B"] != "body" || env["JUPYTER_PASSWORD"] != nil {
		t.Fatalf("env %v: want A from the template, B from the body, no Jupyter", env)
	}
	// Body fields override; a catalog template works the same way.
	p = h.want(h.do("POST", "/v2/pods", map[string]any{
		"name": "override", "templateId": "runpod-torch-v240", "image": "runpod/pytorch:mine", "ports": []string{"8888/http"},
		"gpu": map[string]any{"id": "NVIDIA GeForce RTX 4090"},
	}), 201).body
	if p["image"] != "runpod/pytorch:mine" || !slices.Equal(p.strs("ports"), []string{"8888/http"}) || p.obj("mounts").obj("persistent")["size"] != float64(20) {
		t.Fatalf("pod overriding a catalog template: %v", p)
	}
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "x", "templateId": "runpod-worker-vllm", "gpu": map[string]any{"id": "NVIDIA L40S"}}), 422)
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "x", "templateId": "nope", "gpu": map[string]any{"id": "NVIDIA L40S"}}), 404)

	// PATCH with a template applies its container settings, never its mounts.
	plain := h.createPod(map[string]any{"name": "plain", "image": "img", "gpu": map[string]any{"id": "NVIDIA L40S"}, "env": map[string]string{"C": "pod"}})
	u := h.want(h.do("PATCH", "/v2/pods/"+plain, map[string]any{"templateId": tpl, "env": map[string]string{"A": "body"}}), 200).body
	if u["image"] != "ghcr.io/acme/trainer:1" || u["registry"] != reg || len(u.obj("mounts")) != 0 {
		t.Fatalf("patched with a template: %v", u)
	}
	if env := u.obj("env"); env["A"] != "body" || env["B"] != "template" || env["C"] != nil {
		t.Fatalf("patched env %v: want the template's and the body's, replacing the pod's", env)
	}
}
