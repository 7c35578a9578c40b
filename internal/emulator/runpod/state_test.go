package runpod

import (
	"bytes"
	"slices"
	"testing"
	"time"
)

// TestStateSurvivesARestart saves an account with pods, a cluster, a volume, keys and a balance,
// loads it into a fresh emulator (a restarted process) and reads it back through the API.
func TestStateSurvivesARestart(t *testing.T) {
	// Pods boot in 100 ms, so one saved while PROVISIONING is RUNNING soon after the restart.
	opts := Options{TimeScale: 0.001, ProvisionTime: 50 * time.Second, StartTime: 50 * time.Second, PortsDelay: -1}
	h := newHarness(t, opts)
	const gpu = "NVIDIA GeForce RTX 4090"
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA1 one@example.com"
	h.want(h.do("PUT", "/v2/account/ssh-keys", map[string]any{"keys": []string{key}}), 200)
	vol := h.want(h.do("POST", "/v2/network-volumes", map[string]any{"name": "data", "size": 50, "dataCenter": "EU-RO-1"}), 201).body.str("id")
	running := h.createPod(map[string]any{"name": "a", "image": "img", "gpu": map[string]any{"id": gpu, "count": 2},
		"ports": []string{"22/tcp"}, "env": map[string]string{"A": "1"}})
	h.waitRunning(running)
	booting := h.createPod(map[string]any{"name": "b", "image": "img", "gpu": map[string]any{"id": gpu, "count": 1},
		"mounts": map[string]any{"network": []map[string]any{{"volumeId": vol, "path": "/data"}}}})
	cl := h.want(h.do("POST", "/v2/clusters", map[string]any{"name": "train", "type": "TRAINING", "image": "img",
		"compute": map[string]any{"gpuTypeId": "NVIDIA H100 80GB HBM3", "gpuCountPerPod": 8, "podCount": 2}}), 201).body.str("id")
	h.emu.SetBalance(1)
	h.emu.SetCapacity("NVIDIA B200", "EU-RO-1", "SECURE", 3)

	saved, err := h.emu.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := h.emu.ExportState(); !bytes.Equal(saved, again) {
		t.Fatal("two exports of the same state differ")
	}

	h2 := newHarness(t, opts)
	if err := h2.emu.ImportState(saved); err != nil {
		t.Fatal(err)
	}
	if reexport, _ := h2.emu.ExportState(); !bytes.Equal(saved, reexport) {
		t.Fatalf("import then export changed the state:\n%s\n%s", saved, reexport)
	}

	before, after := h.getPod(running), h2.getPod(running)
	if after["status"] != "RUNNING" || after.obj("ssh")["direct"] == nil ||
		after.obj("ssh").obj("direct")["port"] != before.obj("ssh").obj("direct")["port"] || after.obj("env")["A"] != "1" {
		t.Fatalf("restored pod %v, was %v", after, before)
	}
	h2.waitRunning(booting)
	if n := len(h2.want(h2.do("GET", "/v2/clusters/"+cl+"/pods", nil), 200).body.objs("pods")); n != 2 {
		t.Fatalf("restored cluster has %d pods", n)
	}
	if got := h2.want(h2.do("GET", "/v2/network-volumes/"+vol, nil), 200).body["size"]; got != float64(50) {
		t.Fatalf("restored volume size %v", got)
	}
	if !slices.Equal(h2.emu.SSHKeys(), []string{key}) {
		t.Fatalf("restored keys %v", h2.emu.SSHKeys())
	}
	for _, c := range []struct{ gpu, dc string }{{gpu, "EU-RO-1"}, {gpu, "US-TX-3"}, {"NVIDIA B200", "EU-RO-1"}} {
		if a, b := h.emu.Capacity(c.gpu, c.dc, "SECURE"), h2.emu.Capacity(c.gpu, c.dc, "SECURE"); a != b {
			t.Errorf("capacity of %s in %s: %d before, %d after", c.gpu, c.dc, a, b)
		}
	}
	// The balance came back: a pod costing more than $1/hour is refused.
	h2.wantProblem(h2.do("POST", "/v2/pods", map[string]any{"name": "c", "image": "img",
		"gpu": map[string]any{"id": gpu, "count": 2}}), 402)
}

func TestImportStateRefusesBadInput(t *testing.T) {
	e := New(Options{})
	for _, bad := range []string{`not json`, `{"format": 2}`,
		`{"format": 1, "pods": [{"id": "x", "gpu_type_id": "NVIDIA Nope"}]}`,
		`{"format": 1, "capacity": [{"gpu_type_id": "NVIDIA B200", "data_center_id": "MARS-1", "cloud_type": "SECURE"}]}`} {
		if err := e.ImportState([]byte(bad)); err == nil {
			t.Errorf("ImportState(%s) accepted", bad)
		}
	}
}

// A data center the admin API opened survives a restart with the pods, volumes and capacity in
// it; the state file lists only the opened ones, not the defaults.
func TestStateKeepsOpenedDataCenters(t *testing.T) {
	opts := Options{TimeScale: 0.001, PortsDelay: -1}
	h := newHarness(t, opts)
	if err := h.emu.AddDataCenter(DataCenterView{ID: "US-NV-9", Region: "NORTH_AMERICA", NetworkVolumeTypes: []string{"STANDARD"}}); err != nil {
		t.Fatal(err)
	}
	h.emu.SetCapacity("NVIDIA GeForce RTX 4090", "US-NV-9", "SECURE", 4)
	vol := h.want(h.do("POST", "/v2/network-volumes", map[string]any{"name": "data", "size": 20, "dataCenter": "US-NV-9"}), 201).body.str("id")
	saved, err := h.emu.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(saved, []byte(`"id":"US-TX-3"`)) != 0 {
		t.Fatalf("the state lists a default data center: %s", saved)
	}

	h2 := newHarness(t, opts)
	if err := h2.emu.ImportState(saved); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(h2.emu.DataCenters(), func(v DataCenterView) bool { return v.ID == "US-NV-9" }) {
		t.Fatalf("the opened data center is gone after a restart: %+v", h2.emu.DataCenters())
	}
	if n := h2.emu.Capacity("NVIDIA GeForce RTX 4090", "US-NV-9", "SECURE"); n != 4 {
		t.Errorf("capacity in the opened data center after a restart: %d, want 4", n)
	}
	if dc := h2.want(h2.do("GET", "/v2/network-volumes/"+vol, nil), 200).body["dataCenter"]; dc != "US-NV-9" {
		t.Errorf("restored volume is in %v", dc)
	}
	if reexport, _ := h2.emu.ExportState(); !bytes.Equal(saved, reexport) {
		t.Fatalf("import then export changed the state:\n%s\n%s", saved, reexport)
	}
}
