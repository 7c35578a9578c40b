package runpod

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// A credential is stored with the document's field names, read back as id and name only, and
// deleted; a delete RunPod refuses because a pod uses the credential is a conflict, one of a
// credential already gone is success. The password never reaches the logs.
func TestRegistryCredentialLifecycle(t *testing.T) {
	ctx, buf := apifake.TraceLog(t, "runpod") // not parallel
	const password = "ghp_5ecretT0kenValue"
	f, c := newFakeCloud(t)
	f.json("GET", "/registries", 200, `{"registries": [{"id": "old1", "name": "ghcr"}]}`)
	f.json("POST", "/registries", 201, `{"id": "reg_abc", "name": "ghcr"}`)
	f.json("GET", "/registries/reg_abc", 200, `{"id": "reg_abc", "name": "ghcr"}`)

	got, err := c.CreateRegistryCredential(ctx, clients.RegistryCredentialSpec{Name: "ghcr", Username: "acme-bot", Password: password})
	if err != nil || got.ID != "reg_abc" || got.Name != "ghcr" {
		t.Fatalf("create: %+v %v", got, err)
	}
	assertJSON(t, f.Requests("POST", "/registries")[0].Body, `{"name": "ghcr", "username": "acme-bot", "password": "`+password+`"}`)
	if strings.Contains(buf.String(), password) || !strings.Contains(buf.String(), "/registries") {
		t.Errorf("the password is in the log, or nothing was logged:\n%s", buf.String())
	}
	if r, err := c.GetRegistryCredential(ctx, "reg_abc"); err != nil || r.Name != "ghcr" {
		t.Fatalf("get: %+v %v", r, err)
	}
	f.problem("GET", "/registries/gone", 404, "Not Found", "container registry credential not found")
	if _, err := c.GetRegistryCredential(ctx, "gone"); !clients.IsNotFound(err) {
		t.Errorf("get of a deleted credential: %v", err)
	}

	f.problem("DELETE", "/registries/reg_abc", 400, "Bad Request", "Registry credential is in use by a pod and cannot be deleted")
	if err := c.DeleteRegistryCredential(ctx, "reg_abc"); !errors.Is(err, clients.ErrConflict) {
		t.Errorf("delete while in use: %v, want a conflict", err)
	}
	f.problem("DELETE", "/registries/gone", 404, "Not Found", "container registry credential not found")
	if err := c.DeleteRegistryCredential(ctx, "gone"); err != nil {
		t.Errorf("delete of a deleted credential: %v", err)
	}
	f.Handle("DELETE", "/registries/reg_abc", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	if err := c.DeleteRegistryCredential(ctx, "reg_abc"); err != nil {
		t.Errorf("delete: %v", err)
	}
	for _, bad := range []clients.RegistryCredentialSpec{{Username: "u", Password: "p"}, {Name: "n", Password: "p"}, {Name: "n", Username: "u"}} {
		if _, err := c.CreateRegistryCredential(ctx, bad); !errors.Is(err, clients.ErrInvalid) {
			t.Errorf("create %+v: %v", bad, err)
		}
	}
}

// A create whose answer is lost is never sent again: the one new credential of that name is
// adopted.
func TestCreateRegistryCredentialLostAnswerAdopts(t *testing.T) {
	f, c := newFakeCloud(t)
	lists := 0
	f.Handle("GET", "/registries", func(w http.ResponseWriter, _ *http.Request) {
		lists++
		if lists == 1 {
			writeRaw(w, 200, `{"registries": [{"id": "old1", "name": "ghcr"}]}`)
			return
		}
		writeRaw(w, 200, `{"registries": [{"id": "old1", "name": "ghcr"}, {"id": "new2", "name": "ghcr"}, {"id": "x", "name": "quay"}]}`)
	})
	f.problem("POST", "/registries", 502, "Bad Gateway", "upstream timed out")
	got, err := c.CreateRegistryCredential(t.Context(), clients.RegistryCredentialSpec{Name: "ghcr", Username: "u", Password: "p"})
	if err != nil || got.ID != "new2" {
		t.Fatalf("adopted %+v %v", got, err)
	}
	f.WantCount(t, "POST", "/registries", 1, "creates")
}

// A pod names its credential in the document's `registry` field; it reads back into the
// options, and an update changes or clears it with a PATCH (null clears).
func TestPodRegistryCredential(t *testing.T) {
	f, c := newFakeCloud(t)
	h100Catalog(f, map[string]string{"US-TX-3": "HIGH"})
	created := podDoc("p1", "PROVISIONING", nil)
	created["registry"] = "reg_abc"
	f.json("POST", "/pods", 201, mustJSON(created))
	f.json("GET", "/pods", 200, podsJSON())
	spec := h100Spec()
	opts(spec.Options).Image = "ghcr.io/acme/trainer:1"
	opts(spec.Options).RegistryCredentialID = "reg_abc"
	inst, err := c.CreateInstance(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	body := decodeBody(t, f.Requests("POST", "/pods")[0].Body)
	if body["registry"] != "reg_abc" || body["image"] != "ghcr.io/acme/trainer:1" {
		t.Errorf("create body %v", body)
	}
	if _, ok := body["containerRegistryAuthId"]; ok {
		t.Error("the body uses a field name the document does not have")
	}
	if opts(inst.Options).RegistryCredentialID != "reg_abc" {
		t.Errorf("read back %q", opts(inst.Options).RegistryCredentialID)
	}

	f.json("PATCH", "/pods/p1", 200, mustJSON(podDoc("p1", "RUNNING", nil)))
	other, none := "reg_def", ""
	if _, err := c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{Options: &InstanceUpdate{RegistryCredentialID: &other}}); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Requests("PATCH", "/pods/p1")[0].Body, `{"registry": "reg_def"}`)
	if _, err := c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{Options: &InstanceUpdate{RegistryCredentialID: &none}}); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Requests("PATCH", "/pods/p1")[1].Body, `{"registry": null}`)
	bad := "../pods"
	if _, err := c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{Options: &InstanceUpdate{RegistryCredentialID: &bad}}); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("a malformed id: %v", err)
	}
}

// A mount path is moved with one PATCH carrying the pod's whole mount entry, as the document
// requires; a pod without a volume has no path to move.
func TestUpdateInstanceMovesTheMount(t *testing.T) {
	f, c := newFakeCloud(t)
	persistent := podDoc("p1", "RUNNING", map[string]string{EnvLaunchToken: "tok"})
	persistent["mounts"] = map[string]any{"persistent": map[string]any{"size": 40, "path": "/workspace"}}
	network := podDoc("p2", "RUNNING", nil)
	network["mounts"] = map[string]any{"network": []map[string]any{{"volumeId": "vol_xyz", "path": "/workspace"}}}
	f.json("GET", "/pods/p1", 200, mustJSON(persistent))
	f.json("GET", "/pods/p2", 200, mustJSON(network))
	f.json("GET", "/pods/p3", 200, mustJSON(podDoc("p3", "RUNNING", nil)))
	f.json("PATCH", "/pods/p1", 200, mustJSON(persistent))
	f.json("PATCH", "/pods/p2", 200, mustJSON(network))

	data := "/data"
	move := clients.InstanceUpdate{Options: &InstanceUpdate{VolumeMountPath: &data}}
	if _, err := c.UpdateInstance(t.Context(), "p1", move); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Requests("PATCH", "/pods/p1")[0].Body, `{"mounts": {"persistent": {"size": 40, "path": "/data"}}}`)
	if _, err := c.UpdateInstance(t.Context(), "p2", move); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Requests("PATCH", "/pods/p2")[0].Body, `{"mounts": {"network": [{"volumeId": "vol_xyz", "path": "/data"}]}}`)
	if _, err := c.UpdateInstance(t.Context(), "p3", move); !errors.Is(err, clients.ErrInvalid) || f.Count("PATCH", "/pods/p3") != 0 {
		t.Errorf("moving the mount of a pod without a volume: %v", err)
	}
	relative := "data"
	if _, err := c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{Options: &InstanceUpdate{VolumeMountPath: &relative}}); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("a relative path: %v", err)
	}
}
