package runpod

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// Registry credentials: write-only username and password (only id and name ever come back),
// used by pods through the ContainerConfig field `registry`, changed and cleared by PATCH, not
// deletable while a pod pulls with them.
func TestRegistryCredentials(t *testing.T) {
	h := newHarness(t, fastOptions)
	r := h.want(h.do("POST", "/v2/registries", map[string]any{"name": "ghcr", "username": "bot", "password": "s3cret"}), 201)
	id := r.body.str("id")
	if len(r.body) != 2 || r.body["name"] != "ghcr" || id == "" {
		t.Fatalf("create answered %s; want exactly id and name", r.raw)
	}
	if strings.Contains(string(r.raw), "s3cret") || strings.Contains(string(r.raw), "bot") {
		t.Fatalf("the answer repeats the write-only credentials: %s", r.raw)
	}
	got := h.want(h.do("GET", "/v2/registries/"+id, nil), 200)
	if len(got.body) != 2 || got.body["id"] != id || strings.Contains(string(got.raw), "s3cret") {
		t.Fatalf("GET answered %s", got.raw)
	}
	list := h.want(h.do("GET", "/v2/registries", nil), 200).body.objs("registries")
	if len(list) != 1 || list[0]["id"] != id {
		t.Fatalf("list %v", list)
	}
	if v := h.emu.Registries(); len(v) != 1 || v[0].Username != "bot" || v[0].Password != "s3cret" {
		t.Fatalf("the emulator did not keep the credentials: %+v", v)
	}

	// The schema: every field required and non-empty, nothing else allowed.
	h.wantProblem(h.do("POST", "/v2/registries", map[string]any{"name": "x", "username": "u"}), 422)
	h.wantProblem(h.do("POST", "/v2/registries", map[string]any{"name": "x", "username": "u", "password": ""}), 422)
	h.wantProblem(h.do("POST", "/v2/registries", map[string]any{"name": "x", "username": "u", "password": "p", "url": "ghcr.io"}), 422)

	// Pods name the credential in `registry`; an unknown one is a 404, and the document's name
	// is the only one accepted.
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "p", "image": "ghcr.io/acme/x:1", "registry": "nope", "gpu": map[string]any{"id": "NVIDIA L40S"}}), 404)
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "p", "image": "ghcr.io/acme/x:1", "containerRegistryAuthId": id, "gpu": map[string]any{"id": "NVIDIA L40S"}}), 422)
	pod := h.want(h.do("POST", "/v2/pods", map[string]any{"name": "p", "image": "ghcr.io/acme/x:1", "registry": id, "gpu": map[string]any{"id": "NVIDIA L40S"}}), 201).body
	if pod["registry"] != id {
		t.Fatalf("pod registry %v, want %s", pod["registry"], id)
	}
	if v := h.emu.Registries(); !slices.Equal(v[0].UsedBy, []string{pod.str("id")}) {
		t.Fatalf("used by %v", v[0].UsedBy)
	}
	// Clusters take no credential (CreateClusterRequest has no registry field).
	h.wantProblem(h.do("POST", "/v2/clusters", map[string]any{"name": "c", "type": "TRAINING", "registry": id,
		"compute": map[string]any{"gpuTypeId": "NVIDIA H100 80GB HBM3", "gpuCountPerPod": 8, "podCount": 2}}), 422)

	// In use: the delete is refused with the document's 400.
	if d := h.wantProblem(h.do("DELETE", "/v2/registries/"+id, nil), 400); !strings.Contains(d, "in use") {
		t.Fatalf("in-use detail %q", d)
	}
	// PATCH to another credential, then to null.
	other := h.want(h.do("POST", "/v2/registries", map[string]any{"name": "dockerhub", "username": "u", "password": "p"}), 201).body.str("id")
	h.wantProblem(h.do("PATCH", "/v2/pods/"+pod.str("id"), map[string]any{"registry": "nope"}), 404)
	if p := h.want(h.do("PATCH", "/v2/pods/"+pod.str("id"), map[string]any{"registry": other}), 200).body; p["registry"] != other {
		t.Fatalf("PATCH registry: %v", p["registry"])
	}
	h.want(h.do("DELETE", "/v2/registries/"+id, nil), 204)
	if p := h.want(h.do("PATCH", "/v2/pods/"+pod.str("id"), map[string]any{"registry": nil}), 200).body; p["registry"] != nil {
		t.Fatalf("PATCH registry null: %v", p["registry"])
	}
	h.want(h.do("DELETE", "/v2/registries/"+other, nil), 204)
	h.wantProblem(h.do("GET", "/v2/registries/"+id, nil), 404)
	h.wantProblem(h.do("DELETE", "/v2/registries/"+id, nil), 404)

	// A template that names a deleted credential loses the reference.
	third := h.want(h.do("POST", "/v2/registries", map[string]any{"name": "quay", "username": "u", "password": "p"}), 201).body.str("id")
	tpl := h.want(h.do("POST", "/v2/templates", map[string]any{"name": "t", "image": "quay.io/x", "registry": third}), 201).body.str("id")
	h.want(h.do("DELETE", "/v2/registries/"+third, nil), 204)
	if got := h.want(h.do("GET", "/v2/templates/"+tpl, nil), 200).body; got["registry"] != nil {
		t.Fatalf("template kept a deleted credential: %v", got["registry"])
	}

	// The admin view never shows a password.
	a := h.send(h.admin.URL, "GET", "/registries", nil, false)
	if strings.Contains(string(a.raw), `"password"`) {
		t.Fatalf("admin /registries shows passwords: %s", a.raw)
	}
}

// A mount path is changed by PATCH, with the full mount entry the document requires; the volume
// itself cannot change, and a partial entry is a 422.
func TestPodMountPathPatch(t *testing.T) {
	h := newHarness(t, fastOptions)
	id := h.createPod(map[string]any{"name": "m", "image": "img", "gpu": map[string]any{"id": "NVIDIA L40S"},
		"mounts": map[string]any{"persistent": map[string]any{"size": 20, "path": "/workspace"}}})
	p := h.want(h.do("PATCH", "/v2/pods/"+id, map[string]any{"mounts": map[string]any{"persistent": map[string]any{"size": 20, "path": "/data"}}}), 200).body
	if p.obj("mounts").obj("persistent")["path"] != "/data" {
		t.Fatalf("mount after PATCH %v", p["mounts"])
	}
	h.wantProblem(h.do("PATCH", "/v2/pods/"+id, map[string]any{"mounts": map[string]any{"persistent": map[string]any{"path": "/x"}}}), 422)
	h.wantProblem(h.do("PATCH", "/v2/pods/"+id, map[string]any{"mounts": map[string]any{"network": []any{map[string]any{"volumeId": "v", "path": "/x"}}}}), 400)
	if v := h.emu.LivePods(); len(v) != 1 || v[0].VolumeMountPath != "/data" {
		t.Fatalf("admin view %+v", v)
	}
}

// A data center opened through the admin API is listed by the catalog at once, and pods and
// volumes can be placed there once it has capacity; a reset closes it again.
func TestAddDataCenter(t *testing.T) {
	h := newHarness(t, fastOptions)
	a := h.admin.URL
	h.want(h.send(a, "POST", "/datacenters", map[string]any{"id": "US-NV-1", "name": "US Nevada 1", "region": "NORTH_AMERICA",
		"networkVolumeTypes": []string{"STANDARD"}, "compliance": []string{"SOC_2_TYPE_2"}}, false), 201)
	for _, bad := range []map[string]any{
		{"id": "US-NV-1"},                              // exists
		{"id": "lowercase"},                            // not an id
		{"id": "US-NV-2", "region": "MARS"},            // not a region
		{"id": "US-NV-3", "compliance": []string{"X"}}, // not a certification
	} {
		h.want(h.send(a, "POST", "/datacenters", bad, false), 400)
	}
	dc := findByID(h.want(h.do("GET", "/v2/catalog/datacenters", nil), 200).body.objs("dataCenters"), "US-NV-1")
	if dc == nil || dc["name"] != "US Nevada 1" || dc["region"] != "NORTH_AMERICA" || !slices.Equal(dc.strs("networkVolumeTypes"), []string{"STANDARD"}) {
		t.Fatalf("new data center in the catalog: %v", dc)
	}
	h.want(h.do("GET", "/v2/catalog/datacenters/US-NV-1", nil), 200)

	// Without capacity a pod cannot be placed there; with it, it can.
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "p", "image": "i", "gpu": map[string]any{"id": "NVIDIA L40S"}, "dataCenterIds": []string{"US-NV-1"}}), 400)
	h.want(h.send(a, "PUT", "/capacity", map[string]any{"gpu_type_id": "NVIDIA L40S", "data_center_id": "US-NV-1", "cloud_type": "SECURE", "available": 4}, false), 200)
	p := h.want(h.do("POST", "/v2/pods", map[string]any{"name": "p", "image": "i", "gpu": map[string]any{"id": "NVIDIA L40S"}, "dataCenterIds": []string{"US-NV-1"}}), 201).body
	if p["dataCenterId"] != "US-NV-1" {
		t.Fatalf("pod placed in %v", p["dataCenterId"])
	}
	gpus := h.want(h.do("GET", "/v2/catalog/gpus/NVIDIA%20L40S?include=AVAILABILITY&product=POD", nil), 200).body
	if findByID(gpus.objs("dataCenters"), "US-NV-1") == nil {
		t.Fatalf("the GPU catalog does not list the new data center's stock: %v", gpus["dataCenters"])
	}
	h.want(h.do("POST", "/v2/network-volumes", map[string]any{"name": "v", "size": 10, "dataCenter": "US-NV-1"}), 201)

	var views []DataCenterView
	if err := json.Unmarshal(h.send(a, "GET", "/datacenters", nil, false).raw, &views); err != nil || views[len(views)-1].ID != "US-NV-1" {
		t.Fatalf("admin /datacenters: %v %v", views, err)
	}
	h.want(h.send(a, "POST", "/reset", nil, false), 204)
	h.wantProblem(h.do("GET", "/v2/catalog/datacenters/US-NV-1", nil), 404)
}
