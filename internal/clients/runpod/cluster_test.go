package runpod

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// clusterSpec is a 4-node H100 training cluster.
func clusterSpec() clients.ClusterSpec {
	return clients.ClusterSpec{
		Name: "pretrain", GPUType: "H100_80GB_SXM", GPUsPerNode: 8, NodeCount: 4, LaunchToken: "tok-cl",
		Options: &ClusterOptions{
			ClusterType: "TRAINING", Image: "runpod/pytorch:2.4.0", Ports: []string{"22/tcp"},
			Env: map[string]string{"NCCL_DEBUG": "INFO"}, ContainerDiskGB: 100,
		},
	}
}

// clusterCatalog answers GET /catalog/gpus for product=CLUSTER with the H100's stock per data
// center, and fails the test for any other query.
func clusterCatalog(t *testing.T, f *fakeAPI, dcs map[string]string) {
	f.Handle("GET", "/catalog/gpus", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("product") != "CLUSTER" || q.Get("include") != "AVAILABILITY" || q.Get("count") != "8" {
			t.Errorf("catalog query %s", r.URL.RawQuery)
		}
		writeRaw(w, 200, catalogJSON(gpuDoc("NVIDIA H100 80GB HBM3", "H100 SXM", 80, 2.69, 1.99, 8, dcs)))
	})
}

func TestClusterRulesAndInterface(t *testing.T) {
	c := newTestCloud(t, newFake(t))
	var cc clients.ClusterCloud = c
	r := cc.ClusterRules()
	if r.MinNodes != 2 || r.MaxNodes != 8 || r.Resizable || !r.Renamable || len(r.GPUsPerNode) != 1 || r.GPUsPerNode[0] != 8 {
		t.Errorf("rules %+v", r)
	}
}

func TestValidateClusterSpec(t *testing.T) {
	c := newTestCloud(t, newFake(t))
	if errs := c.ValidateClusterSpec(clusterSpec()); len(errs) != 0 {
		t.Errorf("valid spec refused: %+v", errs)
	}
	bad := clusterSpec()
	bad.NodeCount = 9
	bad.GPUsPerNode = 4
	bad.GPUType = "NOPE"
	clusterOpts(bad.Options).ClusterType = "BATCH"
	clusterOpts(bad.Options).Ports = []string{"22"}
	clusterOpts(bad.Options).Env = map[string]string{EnvLaunchToken: "x"}
	fields := map[string]bool{}
	for _, e := range c.ValidateClusterSpec(bad) {
		fields[e.Field] = true
	}
	for _, f := range []string{"node_count", "gpus_per_node", "gpu_type", "runpod.cluster_type", "runpod.ports", "runpod.env"} {
		if !fields[f] {
			t.Errorf("no objection to %s: %v", f, fields)
		}
	}
	// Without an image RunPod picks one: no objection.
	noImage := clusterSpec()
	clusterOpts(noImage.Options).Image = ""
	if errs := c.ValidateClusterSpec(noImage); len(errs) != 0 {
		t.Errorf("image is optional: %+v", errs)
	}
}

func TestCreateClusterRequestBody(t *testing.T) {
	f, c := newFakeCloud(t)
	keys := &keyStore{}
	keys.install(f, key1)
	clusterCatalog(t, f, map[string]string{"US-TX-3": "LOW", "EU-RO-1": "HIGH", "US-KS-2": "NONE", "CA-MTL-1": "MEDIUM"})
	var s clusterStore
	s.install(f, func(w http.ResponseWriter, create func() map[string]any) { writeRaw(w, 201, mustJSON(create())) })

	spec := clusterSpec()
	spec.SSHKeyIDs = []string{key1FP}
	cl, err := c.CreateCluster(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	// Data centers with cluster stock, best stocked first, as one preference list.
	assertJSON(t, f.Requests("POST", "/clusters")[0].Body, mustJSON(map[string]any{
		"name": "pretrain", "type": "TRAINING",
		"compute": map[string]any{"gpuTypeId": "NVIDIA H100 80GB HBM3", "gpuCountPerPod": 8, "podCount": 4},
		"image":   "runpod/pytorch:2.4.0", "disk": 100,
		"env": map[string]string{
			"NCCL_DEBUG": "INFO", EnvLaunchToken: "tok-cl", EnvSSHKeyIDs: key1FP, EnvPublicKey: key1,
		},
		"ports":         []string{"22/tcp"},
		"dataCenterIds": []string{"EU-RO-1", "CA-MTL-1", "US-TX-3"},
		"startSsh":      true,
	}))
	if cl.ID != "new" || cl.Cloud != "runpod" || cl.Status != clients.ClusterPending || cl.Ready || cl.NodeCount != 4 ||
		cl.GPUsPerNode != 8 || cl.GPUType != "H100_80GB_SXM" || len(cl.Nodes) != 0 {
		t.Errorf("cluster %+v", cl)
	}
	// Returned on acceptance: no read of the new cluster.
	if n := f.Count("GET", "/clusters/new") + f.Count("GET", "/clusters/new/pods"); n != 0 {
		t.Errorf("%d reads of the new cluster", n)
	}
}

func TestCreateClusterRegionAndVolume(t *testing.T) {
	f, c := newFakeCloud(t)
	var s clusterStore
	s.install(f, func(w http.ResponseWriter, create func() map[string]any) { writeRaw(w, 201, mustJSON(create())) })
	f.json("GET", "/network-volumes/vol1", 200, mustJSON(volumeDoc("vol1", "datasets", 500, "EU-RO-1")))

	spec := clusterSpec()
	spec.LaunchToken = ""
	clusterOpts(spec.Options).NetworkVolumeID = "vol1"
	clusterOpts(spec.Options).ClusterType = "slurm"
	if _, err := c.CreateCluster(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	body := decodeBody(t, f.Requests("POST", "/clusters")[0].Body)
	if body["type"] != "SLURM" || mustJSON(body["dataCenterIds"]) != `["EU-RO-1"]` ||
		mustJSON(body["mounts"]) != `{"network":[{"path":"/workspace","volumeId":"vol1"}]}` {
		t.Errorf("body %v", body)
	}
	// No token from the caller: none is looked for before creating, and no catalog is needed.
	if f.Count("GET", "/pods")+f.Count("GET", "/catalog/gpus") != 0 {
		t.Errorf("unexpected reads")
	}
	// A region other than the volume's is refused before anything is sent.
	spec.Region = "US-TX-3"
	if _, err := c.CreateCluster(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("volume elsewhere: %v", err)
	}
	f.WantCount(t, "POST", "/clusters", 1, "creates")
}

// TestCreateClusterLostAnswer: the cluster whose pods carry the token is adopted, not a new
// same-named cluster of someone else, and the create is not repeated.
func TestCreateClusterLostAnswer(t *testing.T) {
	f, c := newFakeCloud(t)
	var s clusterStore
	s.add("old", "pretrain", 2, nil) // there before: never adopted
	s.install(f, func(w http.ResponseWriter, create func() map[string]any) {
		s.add("theirs", "pretrain", 2, map[string]string{EnvLaunchToken: "someone-else"})
		create()
		writeProblem(w, 502, "Bad Gateway", "upstream reset")
	})
	spec := clusterSpec()
	spec.Region = "US-TX-3"
	cl, err := c.CreateCluster(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if cl.ID != "new" || len(cl.Nodes) != 4 || cl.Nodes[0].ID != "new-n0" {
		t.Errorf("adopted %+v", cl)
	}
	f.WantCount(t, "POST", "/clusters", 1, "creates")

	// The same create again in this process (a second resource of the same name) must not
	// take the cluster the first one got, nor create another.
	f.json("GET", "/clusters/new", 200, mustJSON(clusterDoc("new", "pretrain", 4)))
	f.json("GET", "/clusters/new/pods", 200, podsJSON(memberDoc("new-n0", "new", 0, "RUNNING", nil)))
	if cl, err = c.CreateCluster(t.Context(), spec); !clients.IsConflict(err) || !strings.Contains(err.Error(), "unique name") {
		t.Fatalf("second create of the same name: %+v %v", cl, err)
	}
	f.WantCount(t, "POST", "/clusters", 1, "creates after a second create of the same name")
}

func TestCreateClusterLostAnswerNothingCreatedIsSentAgain(t *testing.T) {
	f, c := newFakeCloud(t)
	var s clusterStore
	s.install(f, func(w http.ResponseWriter, _ func() map[string]any) {
		writeProblem(w, 504, "Gateway Timeout", "upstream timed out")
	})
	spec := clusterSpec()
	spec.Region = "US-TX-3"
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	cl, err := c.CreateCluster(ctx, spec)
	if cl != nil || err == nil {
		t.Fatalf("%+v %v", cl, err)
	}
	// Each 504 was followed by looks that proved nothing was made, so it was sent again.
	if n := f.Count("POST", "/clusters"); n < 2 {
		t.Errorf("%d creates, want the create sent again after each proof that it did not happen", n)
	}
}

func TestCreateClusterCapacity(t *testing.T) {
	f, c := newFakeCloud(t)
	clusterCatalog(t, f, map[string]string{"US-TX-3": "LOW"})
	var s clusterStore
	s.install(f, func(w http.ResponseWriter, _ func() map[string]any) { capacityProblem(w) })
	spec := clusterSpec()
	spec.LaunchToken = ""
	_, err := c.CreateCluster(t.Context(), spec)
	var ce *clients.CapacityError
	if !errors.As(err, &ce) || !clients.IsCapacity(err) || len(ce.Attempts) != 1 || ce.Attempts[0].Region != "US-TX-3" ||
		ce.Attempts[0].InstanceType != "NVIDIA H100 80GB HBM3" {
		t.Fatalf("%v", err)
	}
}

func TestGetClusterNodes(t *testing.T) {
	f, c := newFakeCloud(t)
	cl := clusterDoc("cl1", "pretrain", 3)
	cl["type"] = "SLURM"
	cl["dataCenterId"] = "US-TX-3"
	cl["primary"] = map[string]any{"podId": "p0", "status": "RUNNING", "sshEndpoint": "38.80.152.10:22001"}
	cl["pods"] = map[string]any{"total": 3, "byStatus": map[string]int{"RUNNING": 3}}
	f.json("GET", "/clusters/cl1", 200, mustJSON(cl))
	member := func(id string, rank int, role, ip string, port int) map[string]any {
		p := withSSHMapping(podDoc(id, "RUNNING", nil), ip, port)
		p["cluster"] = map[string]any{"id": "cl1", "rank": rank, "role": role, "ip": "10.65.0." + string(rune('2'+rank))}
		return p
	}
	// Listed out of rank order, as nothing promises otherwise.
	pods := []map[string]any{
		member("p2", 2, "SLURM_COMPUTE", "38.80.152.12", 22003),
		member("p0", 0, "SLURM_CONTROLLER", "38.80.152.10", 22001),
		member("p1", 1, "SLURM_COMPUTE", "38.80.152.11", 22002),
	}
	f.json("GET", "/clusters/cl1/pods", 200, podsJSON(pods...))

	got, err := c.GetCluster(t.Context(), "cl1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != clients.ClusterRunning || !got.Ready || got.HeadNodeIP != "10.65.0.2" || got.Region != "US-TX-3" ||
		got.NodeCount != 3 || got.PricePerHour != 3*21.52 || got.NativeStatus != "RUNNING=3" || got.Problem != "" {
		t.Errorf("cluster %+v", got)
	}
	if len(got.Nodes) != 3 {
		t.Fatalf("nodes %+v", got.Nodes)
	}
	for i, n := range got.Nodes {
		wantRole := "SLURM_COMPUTE"
		if i == 0 {
			wantRole = "SLURM_CONTROLLER"
		}
		if n.Rank != i || n.ID != "p"+string(rune('0'+i)) || n.Role != wantRole || n.PrivateIP != "10.65.0."+string(rune('2'+i)) ||
			n.PublicIP != "38.80.152.1"+string(rune('0'+i)) || n.SSHHost != n.PublicIP || n.SSHPort != 22001+i || n.SSHUser != "root" || n.Status != clients.StatusRunning {
			t.Errorf("node %d: %+v", i, n)
		}
	}
	env := got.LaunchEnv(got.Nodes[2])
	if env["MASTER_ADDR"] != "10.65.0.2" || env["NODE_RANK"] != "2" || env["WORLD_SIZE"] != "24" {
		t.Errorf("launch env %v", env)
	}

	// A member still starting: pending. A TRAINING cluster has no roles from RunPod.
	pods[1] = memberDoc("p0", "cl1", 0, "STARTING", nil)
	pods[0]["cluster"] = map[string]any{"id": "cl1", "rank": 2, "ip": "10.65.0.4"}
	f.json("GET", "/clusters/cl1/pods", 200, podsJSON(pods...))
	got, _ = c.GetCluster(t.Context(), "cl1")
	if got.Status != clients.ClusterPending || got.Ready || got.Nodes[0].Role != "head" {
		t.Errorf("starting: %+v", got)
	}
	if got.Nodes[2].Role != "worker" {
		t.Errorf("role without RunPod's: %+v", got.Nodes[2])
	}

	// A member lost while the others run: degraded, with the reason.
	f.json("GET", "/clusters/cl1/pods", 200, podsJSON(pods[0], pods[2]))
	got, _ = c.GetCluster(t.Context(), "cl1")
	if got.Status != clients.ClusterDegraded || got.Problem != "only 2 of 3 nodes exist" {
		t.Errorf("missing node: %+v", got)
	}

	// A member in ERROR: failed.
	f.json("GET", "/clusters/cl1/pods", 200, podsJSON(pods[0], memberDoc("p0", "cl1", 0, "ERROR", nil), pods[2]))
	got, _ = c.GetCluster(t.Context(), "cl1")
	if got.Status != clients.ClusterFailed || !strings.Contains(got.Problem, "node 0 (pod p0)") {
		t.Errorf("error: %+v", got)
	}

	// Ranks not assigned yet: the primary is rank 0, the others come last with rank -1.
	f.json("GET", "/clusters/cl1/pods", 200, podsJSON(memberDoc("px", "cl1", -1, "PROVISIONING", nil), memberDoc("p0", "cl1", -1, "PROVISIONING", nil)))
	got, _ = c.GetCluster(t.Context(), "cl1")
	if got.Nodes[0].ID != "p0" || got.Nodes[0].Rank != 0 || got.Nodes[0].Role != "head" || got.Nodes[1].Rank != -1 || got.Nodes[1].Role != "" {
		t.Errorf("unranked: %+v", got.Nodes)
	}

	f.problem("GET", "/clusters/gone", 404, "Not Found", "cluster not found")
	if _, err := c.GetCluster(t.Context(), "gone"); !clients.IsNotFound(err) {
		t.Errorf("gone: %v", err)
	}
}

func TestUpdateCluster(t *testing.T) {
	f, c := newFakeCloud(t)
	f.json("GET", "/clusters/cl1", 200, mustJSON(clusterDoc("cl1", "pretrain", 4)))
	f.json("GET", "/clusters/cl1/pods", 200, podsJSON())
	f.json("PATCH", "/clusters/cl1", 200, mustJSON(clusterDoc("cl1", "renamed", 4)))
	ic := c

	five := 5
	if _, err := ic.UpdateCluster(t.Context(), "cl1", clients.ClusterUpdate{NodeCount: &five}); !errors.Is(err, clients.ErrUnsupported) {
		t.Errorf("resize: %v", err)
	}
	f.WantCount(t, "PATCH", "/clusters/cl1", 0, "patches for a resize")
	name, four := "renamed", 4
	if _, err := ic.UpdateCluster(t.Context(), "cl1", clients.ClusterUpdate{Name: &name, NodeCount: &four}); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Requests("PATCH", "/clusters/cl1")[0].Body, `{"name":"renamed"}`)
}

func TestDeleteCluster(t *testing.T) {
	f, c := newFakeCloud(t)
	f.Handle("DELETE", "/clusters/cl1", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	f.problem("DELETE", "/clusters/gone", 404, "Not Found", "cluster not found")
	f.problem("DELETE", "/clusters/busy", 500, "Internal Server Error", "boom")
	ic := c
	if err := ic.DeleteCluster(t.Context(), "cl1"); err != nil {
		t.Error(err)
	}
	if err := ic.DeleteCluster(t.Context(), "gone"); err != nil {
		t.Errorf("already gone: %v", err)
	}
	if err := ic.DeleteCluster(t.Context(), "busy"); err == nil || clients.IsNotFound(err) {
		t.Errorf("5xx must not count as deleted: %v", err)
	}
}
