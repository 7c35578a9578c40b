package runpod

import (
	"slices"
	"testing"
)

func TestNetworkVolumes(t *testing.T) {
	h := newHarness(t, fastOptions)
	v := h.want(h.do("POST", "/v2/network-volumes", map[string]any{"name": "data", "size": 50, "dataCenter": "EU-RO-1"}), 201).body
	id := v.str("id")
	if v["type"] != "STANDARD" || v["dataCenter"] != "EU-RO-1" || v["size"] != float64(50) {
		t.Fatalf("volume %v", v)
	}
	v = h.want(h.do("PATCH", "/v2/network-volumes/"+id, map[string]any{"size": 100}), 200).body
	if v["size"] != float64(100) {
		t.Fatalf("grown volume %v", v)
	}
	h.wantProblem(h.do("PATCH", "/v2/network-volumes/"+id, map[string]any{"size": 60}), 400)
	h.wantProblem(h.do("PATCH", "/v2/network-volumes/"+id, map[string]any{}), 422)
	h.wantProblem(h.do("PATCH", "/v2/network-volumes/"+id, map[string]any{"size": 5000}), 422)
	h.wantProblem(h.do("POST", "/v2/network-volumes", map[string]any{"name": "d", "size": 10, "dataCenter": "US-GA-1", "type": "HIGH_PERFORMANCE"}), 400)
	h.wantProblem(h.do("POST", "/v2/network-volumes", map[string]any{"name": "d", "size": 10, "dataCenter": "NOWHERE"}), 400)
	h.wantProblem(h.do("GET", "/v2/network-volumes/nope", nil), 404)
	if got := h.want(h.do("GET", "/v2/network-volumes/"+id, nil), 200).body["size"]; got != float64(100) {
		t.Fatalf("size %v", got)
	}

	// A pod mounting the volume is placed in the volume's data center.
	mount := map[string]any{"network": []map[string]any{{"volumeId": id, "path": "/data"}}}
	p := h.want(h.do("POST", "/v2/pods", map[string]any{"name": "p", "image": "i", "gpu": map[string]any{"id": "NVIDIA L40S"}, "mounts": mount}), 201).body
	if p["dataCenterId"] != "EU-RO-1" {
		t.Fatalf("pod with volume placed in %v", p["dataCenterId"])
	}
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "p", "image": "i", "gpu": map[string]any{"id": "NVIDIA L40S"}, "mounts": mount, "dataCenterIds": []string{"US-TX-3"}}), 400)
	h.wantProblem(h.do("DELETE", "/v2/network-volumes/"+id, nil), 400)
	if vs := h.emu.NetworkVolumes(); len(vs) != 1 || len(vs[0].UsedBy) != 1 {
		t.Fatalf("NetworkVolumes %+v", vs)
	}
	h.want(h.do("DELETE", "/v2/pods/"+p.str("id"), nil), 204)
	h.want(h.do("DELETE", "/v2/network-volumes/"+id, nil), 204)
	if n := len(h.want(h.do("GET", "/v2/network-volumes", nil), 200).body.list("networkVolumes")); n != 0 {
		t.Fatalf("%d volumes after delete", n)
	}
}

func TestSSHKeysReplace(t *testing.T) {
	h := newHarness(t, fastOptions)
	r := h.want(h.do("GET", "/v2/account/ssh-keys", nil), 200)
	if keys := r.body.list("keys"); len(keys) != 0 {
		t.Fatalf("fresh account has keys %v", keys)
	}
	k1 := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1 one@example.com"
	k2 := "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY two"
	h.want(h.do("PUT", "/v2/account/ssh-keys", map[string]any{"keys": []string{k1}}), 200)
	// Read-modify-write: the PUT is a full replacement.
	keys := h.want(h.do("GET", "/v2/account/ssh-keys", nil), 200).body.strs("keys")
	r = h.want(h.do("PUT", "/v2/account/ssh-keys", map[string]any{"keys": append(keys, k2)}), 200)
	if !slices.Equal(r.body.strs("keys"), []string{k1, k2}) {
		t.Fatalf("keys %v", r.body["keys"])
	}
	if got := h.emu.SSHKeys(); len(got) != 2 || got[1] != k2 {
		t.Fatalf("SSHKeys %v", got)
	}
	r = h.do("PUT", "/v2/account/ssh-keys", map[string]any{"keys": []string{"not a key"}, "extra": 1})
	h.wantProblem(r, 422)
	if len(r.body.list("errors")) != 2 {
		t.Fatalf("errors %v", r.body["errors"])
	}
	h.want(h.do("PUT", "/v2/account/ssh-keys", map[string]any{"keys": []string{}}), 200)
	if len(h.emu.SSHKeys()) != 0 {
		t.Fatalf("[] did not remove the keys")
	}
}
