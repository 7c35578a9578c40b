package runpod

import (
	"errors"
	"net/http"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

func volumeDoc(id, name string, size int, dc string) map[string]any {
	return map[string]any{"id": id, "name": name, "size": size, "dataCenter": dc, "type": "STANDARD"}
}

func TestClusters(t *testing.T) {
	f, c := newFakeCloud(t)
	cluster := map[string]any{
		"id": "cl1", "name": "pretrain", "type": "TRAINING",
		"compute":   map[string]any{"gpuTypeId": "NVIDIA H100 80GB HBM3", "gpuCountPerPod": 8, "podCount": 2},
		"pods":      map[string]any{"total": 2, "byStatus": map[string]int{"RUNNING": 2}},
		"createdAt": "2026-06-29T20:00:00Z",
	}
	f.json("GET", "/clusters", 200, `{"clusters":[]}`)
	f.json("POST", "/clusters", 201, mustJSON(cluster))
	f.json("GET", "/clusters/cl1", 200, mustJSON(cluster))
	node0 := withSSHMapping(podDoc("n0", "RUNNING", nil), "38.80.152.10", 22001)
	node0["cluster"] = map[string]any{"id": "cl1", "rank": 0, "ip": "10.65.0.2"}
	node1 := podDoc("n1", "STARTING", nil)
	node1["cluster"] = map[string]any{"id": "cl1", "rank": nil}
	f.json("GET", "/clusters/cl1/pods", 200, podsJSON(node0, node1))
	f.Handle("DELETE", "/clusters/cl1", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	f.problem("DELETE", "/clusters/gone", 404, "Not Found", "cluster not found")

	cl, err := c.CreateInstantCluster(t.Context(), CreateClusterRequest{
		Name: "pretrain", Image: "runpod/pytorch:2.4.0", StartSSH: true, Ports: []string{"22/tcp"},
		Compute: ClusterCompute{GPUTypeID: "H100_80GB_SXM", GPUCountPerPod: 8, PodCount: 2},
	})
	if err != nil || cl.ID != "cl1" || cl.Pods.Total != 2 {
		t.Fatalf("%+v %v", cl, err)
	}
	// The neutral GPU name goes out as RunPod's id, with the default type.
	assertJSON(t, f.Requests("POST", "/clusters")[0].Body, `{"name":"pretrain","type":"TRAINING",
		"compute":{"gpuTypeId":"NVIDIA H100 80GB HBM3","gpuCountPerPod":8,"podCount":2},
		"image":"runpod/pytorch:2.4.0","ports":["22/tcp"],"startSsh":true}`)

	nodes, err := c.ClusterInstances(t.Context(), "cl1")
	if err != nil || len(nodes) != 2 {
		t.Fatalf("%+v %v", nodes, err)
	}
	if n := nodes[0]; !n.Ready || n.PrivateIP != "10.65.0.2" || n.PublicIP != "38.80.152.10" || n.GPUCount != 8 {
		t.Errorf("node 0 %+v", n)
	}
	if n := nodes[1]; n.Ready || n.Status != clients.StatusPending {
		t.Errorf("node 1 %+v", n)
	}
	if _, err := c.CreateInstantCluster(t.Context(), CreateClusterRequest{Name: "x", Image: "i",
		Compute: ClusterCompute{GPUTypeID: "H100_80GB_SXM", GPUCountPerPod: 8, PodCount: 1}}); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("one node: %v", err)
	}
	if err := c.DeleteInstantCluster(t.Context(), "cl1"); err != nil {
		t.Error(err)
	}
	if err := c.DeleteInstantCluster(t.Context(), "gone"); err != nil {
		t.Errorf("already gone: %v", err)
	}
}
