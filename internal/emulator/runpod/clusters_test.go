package runpod

import (
	"strconv"
	"testing"
)

func TestClusterCreateAndDelete(t *testing.T) {
	h := newHarness(t, fastOptions)
	const gpu = "NVIDIA H100 80GB HBM3"
	before := h.emu.Capacity(gpu, "US-TX-3", "SECURE")
	c := h.want(h.do("POST", "/v2/clusters", map[string]any{
		"name": "train", "type": "SLURM", "image": "img", "ports": []string{"22/tcp"},
		"compute":       map[string]any{"gpuTypeId": gpu, "gpuCountPerPod": 8, "podCount": 3},
		"dataCenterIds": []string{"US-TX-3"}, "env": map[string]string{"X": "y"},
	}), 201).body
	id := c.str("id")
	pods := c.obj("pods")
	if pods["total"] != float64(3) || pods.obj("byStatus")["PROVISIONING"] != float64(3) {
		t.Fatalf("cluster pods summary %v", pods)
	}
	if c.obj("network")["cidr"] != "10.65.0.0/16" || c["dataCenterId"] != "US-TX-3" || c["primary"] == nil {
		t.Fatalf("cluster %v", c)
	}
	if got := h.emu.Capacity(gpu, "US-TX-3", "SECURE"); got != before-24 {
		t.Fatalf("cluster took %d GPUs, want 24", before-got)
	}

	members := h.want(h.do("GET", "/v2/clusters/"+id+"/pods", nil), 200).body.objs("pods")
	if len(members) != 3 {
		t.Fatalf("%d members", len(members))
	}
	for rank, p := range members {
		cl := p.obj("cluster")
		env := p.obj("env")
		wantRole := "SLURM_COMPUTE"
		if rank == 0 {
			wantRole = "SLURM_CONTROLLER"
		}
		if cl["id"] != id || cl["rank"] != float64(rank) || cl["role"] != wantRole || cl["ip"] == nil {
			t.Errorf("member %d cluster block %v", rank, cl)
		}
		if env["NODE_RANK"] != strconv.Itoa(rank) || env["NUM_NODES"] != "3" || env["WORLD_SIZE"] != "24" || env["MASTER_ADDR"] != "10.65.0.2" || env["X"] != "y" {
			t.Errorf("member %d env %v", rank, env)
		}
		if p.obj("gpu")["count"] != float64(8) {
			t.Errorf("member %d gpu %v", rank, p["gpu"])
		}
	}
	member := members[1].str("id")

	// Members are hidden from the pod list unless asked for, and are managed via the cluster.
	if n := len(h.want(h.do("GET", "/v2/pods", nil), 200).body.list("pods")); n != 0 {
		t.Fatalf("default pod list shows %d cluster members", n)
	}
	if n := len(h.want(h.do("GET", "/v2/pods?includeClusterPods=true", nil), 200).body.list("pods")); n != 3 {
		t.Fatalf("includeClusterPods list shows %d", n)
	}
	h.wantProblem(h.do("DELETE", "/v2/pods/"+member, nil), 409)
	h.wantProblem(h.do("PATCH", "/v2/pods/"+member, map[string]any{"name": "x"}), 409)

	// Primary gets an SSH endpoint once RUNNING with ports.
	eventually(t, "primary ssh", func() bool {
		c = h.want(h.do("GET", "/v2/clusters/"+id, nil), 200).body
		return c.obj("primary")["sshEndpoint"] != nil
	})
	c = h.want(h.do("PATCH", "/v2/clusters/"+id, map[string]any{"name": "renamed"}), 200).body
	if c["name"] != "renamed" {
		t.Fatalf("rename %v", c["name"])
	}
	h.wantProblem(h.do("PATCH", "/v2/clusters/"+id, map[string]any{}), 422)
	if n := len(h.want(h.do("GET", "/v2/clusters", nil), 200).body.list("clusters")); n != 1 {
		t.Fatalf("%d clusters listed", n)
	}

	h.want(h.do("DELETE", "/v2/clusters/"+id, nil), 204)
	h.wantProblem(h.do("GET", "/v2/clusters/"+id, nil), 404)
	if got := h.emu.Capacity(gpu, "US-TX-3", "SECURE"); got != before {
		t.Fatalf("cluster delete returned %d GPUs, want all 24", got-(before-24))
	}
	if n := len(h.emu.LivePods()); n != 0 {
		t.Fatalf("%d members survive the cluster", n)
	}
}

func TestClusterLimits(t *testing.T) {
	h := newHarness(t, fastOptions)
	body := func(gpu string, perPod, count int) map[string]any {
		return map[string]any{"name": "c", "type": "TRAINING", "compute": map[string]any{"gpuTypeId": gpu, "gpuCountPerPod": perPod, "podCount": count}}
	}
	h.wantProblem(h.do("POST", "/v2/clusters", body("NVIDIA H200", 8, 1)), 422)
	h.wantProblem(h.do("POST", "/v2/clusters", body("NVIDIA H200", 8, 9)), 403)
	h.wantProblem(h.do("POST", "/v2/clusters", body("NVIDIA H200", 4, 2)), 400)
	h.wantProblem(h.do("POST", "/v2/clusters", body("NVIDIA GeForce RTX 4090", 8, 2)), 400)
	// Capacity for all nodes in one data center, or nothing is taken.
	h.emu.SetCapacity("NVIDIA H200", "US-TX-3", "SECURE", 8)
	h.emu.SetCapacity("NVIDIA H200", "US-GA-1", "SECURE", 8)
	h.emu.SetCapacity("NVIDIA H200", "EUR-IS-1", "SECURE", 8)
	if d := h.wantProblem(h.do("POST", "/v2/clusters", body("NVIDIA H200", 8, 2)), 400); d != capacityDetail {
		t.Fatalf("detail %q", d)
	}
	if h.emu.Capacity("NVIDIA H200", "US-TX-3", "SECURE") != 8 || len(h.emu.Pods()) != 0 {
		t.Fatalf("a failed cluster create took capacity")
	}
	h.emu.SetCapacity("NVIDIA H200", "EUR-IS-1", "SECURE", 16)
	c := h.want(h.do("POST", "/v2/clusters", body("NVIDIA H200", 8, 2)), 201).body
	if c["dataCenterId"] != "EUR-IS-1" {
		t.Fatalf("placed in %v", c["dataCenterId"])
	}
	// TRAINING members carry no role.
	members := h.want(h.do("GET", "/v2/clusters/"+c.str("id")+"/pods", nil), 200).body.objs("pods")
	if _, ok := members[0].obj("cluster")["role"]; ok || len(members) != 2 {
		t.Fatalf("TRAINING member has a role")
	}
}
