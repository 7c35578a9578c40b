package runpod

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// createPod creates a pod and returns its id.
func (h *harness) createPod(body map[string]any) string {
	h.t.Helper()
	r := h.want(h.do("POST", "/v2/pods", body), 201)
	return r.body.str("id")
}

func (h *harness) getPod(id string) obj {
	h.t.Helper()
	return h.want(h.do("GET", "/v2/pods/"+id, nil), 200).body
}

// waitRunning polls until the pod is RUNNING.
func (h *harness) waitRunning(id string) {
	h.t.Helper()
	eventually(h.t, "pod "+id+" RUNNING", func() bool { return h.getPod(id)["status"] == "RUNNING" })
}

func runtimePorts(p obj) []obj { return p.obj("runtime").objs("ports") }

func actions(p obj, want ...string) bool { return slices.Equal(p.strs("actions"), want) }

func TestPodLifecycleRunningBeforePorts(t *testing.T) {
	// 50 ms provisioning, 50 ms starting, then 500 ms RUNNING without ports.
	h := newHarness(t, Options{TimeScale: 0.001, ProvisionTime: 50 * time.Second, StartTime: 50 * time.Second, PortsDelay: 500 * time.Second})
	r := h.want(h.do("POST", "/v2/pods", map[string]any{
		"name": "trainer", "image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404",
		"gpu":   map[string]any{"id": "NVIDIA GeForce RTX 4090", "count": 2},
		"ports": []string{"8888/http", "22/tcp"}, "env": map[string]string{"A": "1"},
	}), 201)
	p := r.body
	id := p.str("id")
	if p["status"] != "PROVISIONING" || !actions(p, "stop", "terminate") {
		t.Fatalf("created pod: status %v actions %v", p["status"], p["actions"])
	}
	if p["runtime"] != nil || p["startedAt"] != nil || p["dataCenterId"] == nil || p["cudaVersion"] != "12.8" {
		t.Fatalf("created pod: runtime %v startedAt %v dc %v cuda %v", p["runtime"], p["startedAt"], p["dataCenterId"], p["cudaVersion"])
	}
	ssh := p.obj("ssh")
	if ssh["direct"] != nil || ssh["proxy"] == nil {
		t.Fatalf("ssh before running: %v", ssh)
	}
	if p["cost"] != 1.38 || p["cloud"] != "SECURE" || p["disk"] != float64(50) {
		t.Fatalf("cost %v cloud %v disk %v", p["cost"], p["cloud"], p["disk"])
	}
	for _, field := range []string{"id", "name", "status", "actions", "image", "args", "disk", "mounts", "ports", "env", "registry", "cloud", "dataCenterId", "cudaVersion", "ssh", "template", "cost", "locked", "runtime", "createdAt", "startedAt", "globalNetworking"} {
		if _, ok := p[field]; !ok {
			t.Errorf("required Pod field %q missing", field)
		}
	}

	var seen []string
	var running obj
	eventually(t, "RUNNING", func() bool {
		running = h.getPod(id)
		s := running.str("status")
		if len(seen) == 0 || seen[len(seen)-1] != s {
			seen = append(seen, s)
		}
		return s == "RUNNING"
	})
	// Polling may miss a phase on a loaded machine, but never sees one out of order.
	order := []string{"PROVISIONING", "STARTING", "RUNNING"}
	for i := 1; i < len(seen); i++ {
		if slices.Index(order, seen[i]) <= slices.Index(order, seen[i-1]) {
			t.Fatalf("status sequence %v", seen)
		}
	}
	// RUNNING, but no public mapping yet: readiness needs both.
	if len(runtimePorts(running)) != 0 || running.obj("ssh")["direct"] != nil {
		t.Fatalf("RUNNING pod already has ports: %v", running["runtime"])
	}
	if running["startedAt"] == nil || !actions(running, "stop", "restart", "terminate") {
		t.Fatalf("running pod: startedAt %v actions %v", running["startedAt"], running["actions"])
	}
	if gpus := running.obj("runtime").list("gpus"); len(gpus) != 2 {
		t.Fatalf("runtime gpus %v", gpus)
	}

	var ready obj
	eventually(t, "ports", func() bool {
		ready = h.getPod(id)
		return len(runtimePorts(ready)) > 0
	})
	var tcp obj
	for _, rp := range runtimePorts(ready) {
		if rp["type"] == "tcp" {
			tcp = rp
		}
	}
	direct := ready.obj("ssh").obj("direct")
	if tcp == nil || tcp["private"] != float64(22) || tcp["ip"] == nil || tcp["public"] == nil || direct == nil {
		t.Fatalf("ready pod: ports %v ssh %v", runtimePorts(ready), ready["ssh"])
	}
	if direct["host"] != tcp["ip"] || direct["port"] != tcp["public"] || direct["username"] != "root" ||
		!strings.HasPrefix(direct.str("command"), "ssh root@") {
		t.Fatalf("direct ssh %v does not match the 22/tcp mapping %v", direct, tcp)
	}
}

func TestStopStartAndInvalidAction(t *testing.T) {
	h := newHarness(t, fastOptions)
	h.emu.SetCapacity("NVIDIA A40", "US-KS-2", "SECURE", 4)
	id := h.createPod(map[string]any{"name": "p", "image": "img", "gpu": map[string]any{"id": "NVIDIA A40", "count": 4}, "dataCenterIds": []string{"US-KS-2"}})
	if n := h.emu.Capacity("NVIDIA A40", "US-KS-2", "SECURE"); n != 0 {
		t.Fatalf("create left %d free", n)
	}
	h.waitRunning(id)

	p := h.want(h.do("POST", "/v2/pods/"+id+"/action", map[string]any{"action": "stop"}), 200).body
	if p["status"] != "EXITED" || p["cost"] != float64(0) || p["runtime"] != nil || !actions(p, "start", "terminate") {
		t.Fatalf("stopped pod: %v %v %v %v", p["status"], p["cost"], p["runtime"], p["actions"])
	}
	if n := h.emu.Capacity("NVIDIA A40", "US-KS-2", "SECURE"); n != 4 {
		t.Fatalf("stop returned %d GPUs, want 4", n)
	}
	// Stopping an EXITED pod is not a valid transition.
	if d := h.wantProblem(h.do("POST", "/v2/pods/"+id+"/action", map[string]any{"action": "stop"}), 409); !strings.Contains(d, "EXITED") {
		t.Errorf("409 detail %q", d)
	}
	h.wantProblem(h.do("POST", "/v2/pods/"+id+"/action", map[string]any{"action": "restart"}), 409)
	h.wantProblem(h.do("POST", "/v2/pods/"+id+"/action", map[string]any{"action": "reboot"}), 422)

	// Someone else takes the host's GPUs: the pod cannot resume.
	h.emu.SetCapacity("NVIDIA A40", "US-KS-2", "SECURE", 2)
	if d := h.wantProblem(h.do("POST", "/v2/pods/"+id+"/action", map[string]any{"action": "start"}), 400); d != hostCapacityDetail {
		t.Errorf("start without capacity: %q", d)
	}
	h.emu.SetCapacity("NVIDIA A40", "US-KS-2", "SECURE", 4)
	p = h.want(h.do("POST", "/v2/pods/"+id+"/action", map[string]any{"action": "start"}), 200).body
	if p["status"] != "PROVISIONING" || h.emu.Capacity("NVIDIA A40", "US-KS-2", "SECURE") != 0 {
		t.Fatalf("started pod %v, %d free", p["status"], h.emu.Capacity("NVIDIA A40", "US-KS-2", "SECURE"))
	}
	h.wantProblem(h.do("POST", "/v2/pods/"+id+"/action", map[string]any{"action": "restart"}), 409)
	h.waitRunning(id)
	p = h.want(h.do("POST", "/v2/pods/"+id+"/action", map[string]any{"action": "restart"}), 200).body
	if p["status"] != "STARTING" {
		t.Fatalf("restart: %v", p["status"])
	}

	// A locked pod cannot be stopped.
	h.waitRunning(id)
	h.want(h.do("PATCH", "/v2/pods/"+id, map[string]any{"locked": true}), 200)
	if d := h.wantProblem(h.do("POST", "/v2/pods/"+id+"/action", map[string]any{"action": "stop"}), 409); !strings.Contains(d, "locked") {
		t.Errorf("locked stop detail %q", d)
	}
	h.wantProblem(h.do("POST", "/v2/pods/nope/action", map[string]any{"action": "stop"}), 404)
}

func TestPatchPod(t *testing.T) {
	h := newHarness(t, fastOptions)
	id := h.createPod(map[string]any{"name": "p", "image": "img:1", "gpu": map[string]any{"id": "NVIDIA L40S"}, "env": map[string]string{"A": "1", "B": "2"}})
	h.waitRunning(id)

	// A rename does not touch the container.
	p := h.want(h.do("PATCH", "/v2/pods/"+id, map[string]any{"name": "renamed"}), 200).body
	if p["name"] != "renamed" || p["status"] != "RUNNING" {
		t.Fatalf("rename: %v %v", p["name"], p["status"])
	}
	// env is replaced as a whole, and the container is recreated to apply it.
	p = h.want(h.do("PATCH", "/v2/pods/"+id, map[string]any{"env": map[string]string{"C": "3"}, "image": "img:2"}), 200).body
	env := p.obj("env")
	if len(env) != 1 || env["C"] != "3" || p["image"] != "img:2" || p["status"] != "STARTING" {
		t.Fatalf("patched pod: env %v image %v status %v", env, p["image"], p["status"])
	}
	views := h.emu.LivePods()
	if len(views) != 1 || views[0].Env["C"] != "3" || views[0].Image != "img:2" || views[0].Name != "renamed" {
		t.Fatalf("PodView %+v", views)
	}
	h.waitRunning(id)

	r := h.do("PATCH", "/v2/pods/"+id, map[string]any{"name": "", "gpu": map[string]any{"id": "x"}})
	h.wantProblem(r, 422)
	if errs := r.body.list("errors"); len(errs) != 2 {
		t.Fatalf("errors %v", errs)
	}
	h.wantProblem(h.do("PATCH", "/v2/pods/"+id, map[string]any{"ports": []string{"22"}}), 400)
	h.wantProblem(h.do("PATCH", "/v2/pods/"+id, map[string]any{"mounts": map[string]any{"persistent": map[string]any{"size": 20, "path": "/workspace"}}}), 400)
	h.wantProblem(h.do("PATCH", "/v2/pods/nope", map[string]any{"name": "x"}), 404)
}

func TestTerminatePod(t *testing.T) {
	h := newHarness(t, fastOptions)
	before := h.emu.Capacity("NVIDIA GeForce RTX 5090", "EU-RO-1", "SECURE")
	id := h.createPod(map[string]any{"name": "p", "image": "img", "gpu": map[string]any{"id": "NVIDIA GeForce RTX 5090"}, "dataCenterIds": []string{"EU-RO-1"}})
	r := h.do("DELETE", "/v2/pods/"+id, nil)
	h.want(r, 204)
	if len(r.raw) != 0 {
		t.Fatalf("204 with a body: %q", r.raw)
	}
	if h.emu.Capacity("NVIDIA GeForce RTX 5090", "EU-RO-1", "SECURE") != before {
		t.Fatalf("terminate did not return the GPU")
	}
	if pods := h.want(h.do("GET", "/v2/pods", nil), 200).body.list("pods"); len(pods) != 0 {
		t.Fatalf("terminated pod still listed")
	}
	// GET shows TERMINATED for a short while, then the pod is gone.
	eventually(t, "404", func() bool {
		r := h.do("GET", "/v2/pods/"+id, nil)
		if r.status == 200 && r.body["status"] != "TERMINATED" {
			t.Fatalf("status %v after delete", r.body["status"])
		}
		return r.status == 404
	})
	h.wantProblem(h.do("DELETE", "/v2/pods/"+id, nil), 404)

	// The terminate action is the same thing.
	id = h.createPod(map[string]any{"name": "q", "image": "img", "gpu": map[string]any{"id": "NVIDIA GeForce RTX 5090"}})
	h.want(h.do("POST", "/v2/pods/"+id+"/action", map[string]any{"action": "terminate"}), 204)
	if v := h.emu.Pods(); len(v) != 2 || v[1].Status != "TERMINATED" {
		t.Fatalf("Pods() %+v", v)
	}
}

func TestCreateValidationAndCapacity(t *testing.T) {
	h := newHarness(t, fastOptions)

	r := h.do("POST", "/v2/pods", map[string]any{"name": "", "bogus": 1, "gpu": map[string]any{"id": 5, "count": 0}})
	h.wantProblem(r, 422)
	if r.body["detail"] != "Request validation failed." {
		t.Errorf("422 detail %v", r.body["detail"])
	}
	errs := r.body.strs("errors")
	for _, want := range []string{
		"$: missing property 'image'",
		"$: additional properties 'bogus' not allowed",
		"$.gpu.count: must be >= 1 but found 0",
		"$.gpu.id: got integer, want string",
		"$.name: length must be >= 1, but got 0",
	} {
		if !slices.Contains(errs, want) {
			t.Errorf("422 errors %q lack %q", errs, want)
		}
	}
	h.wantProblem(h.do("POST", "/v2/pods", `{"name":`), 400)
	// Cross-field rules are 400s.
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "x", "image": "i", "gpu": map[string]any{"id": "NVIDIA L40"}, "cpu": map[string]any{"id": "cpu3c", "vcpuCount": 2}}), 400)
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "x", "image": "i", "gpu": map[string]any{"id": "NVIDIA L40", "count": 9}}), 400)
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "x", "image": "i", "gpu": map[string]any{"id": "NVIDIA B200"}, "cloud": "COMMUNITY"}), 400)
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "x", "image": "i", "gpu": map[string]any{"id": "NVIDIA L40"}, "dataCenterIds": []string{"MARS-1"}}), 400)
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "x", "templateId": "tpl"}), 404)

	// Not offered where asked: RunPod's capacity answer.
	if d := h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "x", "image": "i", "gpu": map[string]any{"id": "NVIDIA B200"}, "dataCenterIds": []string{"US-KS-2"}}), 400); d != capacityDetail {
		t.Errorf("capacity detail %q", d)
	}
	// Sold out everywhere.
	h.emu.SetCapacity("NVIDIA B200", "US-TX-3", "SECURE", 0)
	h.emu.SetCapacity("NVIDIA B200", "EU-RO-1", "SECURE", 1)
	b200 := map[string]any{"name": "x", "image": "i", "gpu": map[string]any{"id": "NVIDIA B200", "count": 2}}
	if d := h.wantProblem(h.do("POST", "/v2/pods", b200), 400); d != "There are no longer any instances available with the requested specifications. Please refresh and try again." {
		t.Errorf("capacity detail %q", d)
	}
	// Capacity comes back: the scheduler places the pod where it fits and says where.
	h.emu.SetCapacity("NVIDIA B200", "EU-RO-1", "SECURE", 2)
	p := h.want(h.do("POST", "/v2/pods", b200), 201).body
	if p["dataCenterId"] != "EU-RO-1" || h.emu.Capacity("NVIDIA B200", "EU-RO-1", "SECURE") != 0 {
		t.Fatalf("placed in %v", p["dataCenterId"])
	}
	// A CUDA constraint no host meets is a capacity error too.
	if d := h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "x", "image": "i", "gpu": map[string]any{"id": "NVIDIA L40S", "allowedCudaVersions": []string{"11.8"}}}), 400); d != capacityDetail {
		t.Errorf("cuda detail %q", d)
	}
	// 402 when the account cannot pay.
	h.emu.SetBalance(0.5)
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "x", "image": "i", "gpu": map[string]any{"id": "NVIDIA L40S"}}), 402)
}

func TestStartSSHAndCPUPod(t *testing.T) {
	h := newHarness(t, fastOptions)
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILXGDN/SclOozk1xsDztpmhGiKkkrfQB9SKoO8dSIQQZ me@example.com"
	h.want(h.do("PUT", "/v2/account/ssh-keys", map[string]any{"keys": []string{key}}), 200)
	p := h.want(h.do("POST", "/v2/pods", map[string]any{"name": "c", "image": "i", "cpu": map[string]any{"id": "cpu3c", "vcpuCount": 4}, "startSsh": true, "startJupyter": true}), 201).body
	env := p.obj("env")
	if env["PUBLIC_KEY"] != key || env["JUPYTER_PASSWORD"] == nil {
		t.Fatalf("injected env %v", env)
	}
	cpu := p.obj("cpu")
	if _, hasGPU := p["gpu"]; hasGPU || cpu["memory"] != float64(8) || p["cudaVersion"] != nil {
		t.Fatalf("cpu pod gpu=%v cpu=%v cuda=%v", p["gpu"], cpu, p["cudaVersion"])
	}
	h.wantProblem(h.do("POST", "/v2/pods", map[string]any{"name": "c", "image": "i", "cpu": map[string]any{"id": "cpu3c", "vcpuCount": 6}}), 400)
}
