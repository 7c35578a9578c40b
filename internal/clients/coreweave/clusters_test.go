package coreweave

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

func h100Cluster() clients.ClusterSpec {
	return clients.ClusterSpec{
		Name: "pretrain", Region: "US-EAST-04A", GPUType: "H100_80GB_SXM", GPUsPerNode: 8, NodeCount: 4,
		LaunchToken: "tok-1", Options: &ClusterOptions{Public: true},
	}
}

func TestOwnedVPCName(t *testing.T) {
	for _, name := range []string{"pretrain", "a", "exactly-thirty-characters-long", "abcdefghijklmnopqrs-uvw"} {
		got := ownedVPCName(name)
		if len(got) > maxNameLen || !namePattern.MatchString(got) {
			t.Errorf("ownedVPCName(%q) = %q: not a valid VPC name", name, got)
		}
		if ownedVPCName(name) != got {
			t.Errorf("ownedVPCName(%q) is not stable", name)
		}
	}
	// Two names that share the kept prefix still get different VPCs.
	a, b := ownedVPCName("training-cluster-number-1"), ownedVPCName("training-cluster-number-2")
	if a == b {
		t.Errorf("both names map to %q", a)
	}
	if !strings.HasPrefix(ownedVPCName("pretrain"), "pretrain-vpc-") {
		t.Errorf("got %q", ownedVPCName("pretrain"))
	}
}

func TestCreateClusterRequestBodies(t *testing.T) {
	f := newFake(t)
	f.vpcReadyAfter = 2 // the VPC is CREATING for two reads
	c := newTestCloud(t, f)

	cl, err := c.CreateCluster(t.Context(), h100Cluster())
	if err != nil {
		t.Fatal(err)
	}
	vpcName := ownedVPCName("pretrain")
	posts := f.Requests("POST", "/v1beta1/networking/vpcs")
	if len(posts) != 1 {
		t.Fatalf("%d VPC creates", len(posts))
	}
	assertJSON(t, posts[0].Body, `{
		"name": "`+vpcName+`", "zone": "US-EAST-04A",
		"hostPrefixes": [{"name": "primary", "type": "PRIMARY", "prefixes": ["10.0.0.0/16"]}],
		"vpcPrefixes": [
			{"name": "pod-cidr", "value": "10.128.0.0/13"},
			{"name": "service-cidr", "value": "10.96.0.0/16"},
			{"name": "internal-lb-cidr", "value": "10.1.0.0/22"}
		]}`)
	if posts[0].Auth != "Bearer "+testToken || posts[0].ContentType != "application/json" {
		t.Errorf("auth %q, content type %q", posts[0].Auth, posts[0].ContentType)
	}
	// The cluster is created only once the VPC is ready.
	seq := f.Sequence("/v1beta1/")
	iCreate := slices.Index(seq, "POST /v1beta1/cks/clusters")
	if iCreate < 0 || f.Count("GET", "/v1beta1/networking/vpcs/vpc-0001") < 3 {
		t.Fatalf("requests %v", seq)
	}
	if last := slices.Index(seq, "GET /v1beta1/networking/vpcs/vpc-0001"); last > iCreate {
		t.Errorf("cluster created before the VPC was read ready: %v", seq)
	}
	// Without a configured version the first create leaves it out; CoreWeave refuses it naming
	// the versions it offers, and the create is sent again with the newest.
	clusterPosts := f.Requests("POST", "/v1beta1/cks/clusters")
	if len(clusterPosts) != 2 {
		t.Fatalf("%d cluster creates", len(clusterPosts))
	}
	assertJSON(t, clusterPosts[0].Body, `{
		"name": "pretrain", "zone": "US-EAST-04A", "vpcId": "vpc-0001", "public": true,
		"network": {"podCidrName": "pod-cidr", "serviceCidrName": "service-cidr", "internalLbCidrNames": ["internal-lb-cidr"]}}`)
	assertJSON(t, clusterPosts[1].Body, `{
		"name": "pretrain", "zone": "US-EAST-04A", "vpcId": "vpc-0001", "version": "v1.36", "public": true,
		"network": {"podCidrName": "pod-cidr", "serviceCidrName": "service-cidr", "internalLbCidrNames": ["internal-lb-cidr"]}}`)

	if cl.ID != "cl-0002" || cl.Cloud != "coreweave" || cl.Status != clients.ClusterPending || cl.NativeStatus != "STATUS_CREATING" ||
		cl.NodeCount != 4 || cl.InstanceType != "gd-8xh100ib-i128" || cl.GPUType != "H100_80GB_SXM" || cl.GPUsPerNode != 8 ||
		cl.PricePerHour != 4*49.24 || cl.Region != "US-EAST-04A" || cl.Ready {
		t.Errorf("cluster %+v", cl)
	}
	if cw := info(cl.Options); cw == nil || cw.VPCID != "vpc-0001" || !cw.VPCCreated || cw.KubernetesVersion != "v1.36" {
		t.Errorf("coreweave info %+v", info(cl.Options))
	}
	if !strings.Contains(cl.Kubeconfig, "server: "+f.URL()+"/k8s/cl-0002") || !strings.Contains(cl.Kubeconfig, "token: "+testToken) {
		t.Errorf("kubeconfig:\n%s", cl.Kubeconfig)
	}
	// Returned at once: no node pool yet, no Kubernetes call.
	if n := len(f.Sequence("/k8s/")); n != 0 {
		t.Errorf("%d Kubernetes calls during create", n)
	}
}

func TestCreateClusterInExistingVPC(t *testing.T) {
	f := newFake(t)
	f.addVPC("vpc-mine", "team-net", "US-EAST-04A", "pods=10.200.0.0/16", "services=10.201.0.0/16")
	c := newTestCloud(t, f)
	spec := h100Cluster()
	spec.Options = &ClusterOptions{VPCID: "vpc-mine", KubernetesVersion: "v1.34", ComputeClass: "Spot"}
	cl, err := c.CreateCluster(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	f.WantCount(t, "POST", "/v1beta1/networking/vpcs", 0, "VPC creates")
	assertJSON(t, f.Requests("POST", "/v1beta1/cks/clusters")[0].Body, `{
		"name": "pretrain", "zone": "US-EAST-04A", "vpcId": "vpc-mine", "version": "v1.34",
		"network": {"podCidrName": "pods", "serviceCidrName": "services"}}`)
	if info(cl.Options).VPCCreated || info(cl.Options).VPCID != "vpc-mine" || info(cl.Options).ComputeClass != "spot" {
		t.Errorf("coreweave info %+v", info(cl.Options))
	}

	// A VPC in another zone, or without usable prefixes, is refused before anything is created.
	f.addVPC("vpc-west", "west-net", "US-WEST-04A", "pod-cidr=10.0.0.0/16", "service-cidr=10.1.0.0/16")
	f.addVPC("vpc-bare", "bare-net", "US-EAST-04A", "a=10.0.0.0/16")
	for _, id := range []string{"vpc-west", "vpc-bare"} {
		spec := h100Cluster()
		spec.Name = "other"
		spec.Options = &ClusterOptions{VPCID: id}
		_, err := c.CreateCluster(t.Context(), spec)
		if !errors.Is(err, clients.ErrInvalid) {
			t.Errorf("%s: %v", id, err)
		}
	}
	f.WantCount(t, "POST", "/v1beta1/cks/clusters", 1, "cluster creates")
}

func TestCreateClusterLostAnswerAdoptedByName(t *testing.T) {
	f := newFake(t)
	// The platform creates the cluster, then the connection drops before the answer.
	f.Script("POST", "/v1beta1/cks/clusters", apifake.Lost(f.create(f.clusterCollection())))
	c := newTestCloud(t, f)
	// A configured version, so that the one create sent is the one whose answer is lost.
	spec := h100Cluster()
	spec.Options = &ClusterOptions{KubernetesVersion: "v1.35"}
	cl, err := c.CreateCluster(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if cl.ID != "cl-0002" || cl.Name != "pretrain" || !info(cl.Options).VPCCreated {
		t.Errorf("adopted %+v", cl)
	}
	if n := f.Count("POST", "/v1beta1/cks/clusters"); n != 1 {
		t.Errorf("the create was sent %d times", n)
	}

	// The provider retrying the create (same name) adopts the same cluster: it lives in the VPC
	// made for it. Nothing new is created.
	again, err := c.CreateCluster(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != cl.ID || f.Count("POST", "/v1beta1/cks/clusters") != 1 || f.Count("POST", "/v1beta1/networking/vpcs") != 1 {
		t.Errorf("retry gave %s; creates: %d clusters, %d VPCs", again.ID, f.Count("POST", "/v1beta1/cks/clusters"), f.Count("POST", "/v1beta1/networking/vpcs"))
	}
}

func TestCreateClusterNameTakenByAnotherCluster(t *testing.T) {
	f := newFake(t)
	f.addVPC("vpc-other", "someone-else", "US-EAST-04A", "pod-cidr=10.0.0.0/16", "service-cidr=10.1.0.0/16")
	f.addCluster("cl-theirs", "pretrain", "US-EAST-04A", "vpc-other", "STATUS_RUNNING")
	c := newTestCloud(t, f)
	_, err := c.CreateCluster(t.Context(), h100Cluster())
	if !clients.IsConflict(err) || !strings.Contains(err.Error(), "cl-theirs") {
		t.Fatalf("got %v", err)
	}
	if n := f.Count("POST", "/v1beta1/networking/vpcs") + f.Count("POST", "/v1beta1/cks/clusters"); n != 0 {
		t.Errorf("%d creates", n)
	}
}

func TestCreateClusterRefusedDropsTheNewVPC(t *testing.T) {
	f := newFake(t)
	f.before = func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if r.Method == "POST" && r.URL.Path == "/v1beta1/cks/clusters" {
			connectErr(w, http.StatusTooManyRequests, "resource_exhausted", "quota exceeded: the organization may have 5 CKS clusters",
				[]any{map[string]any{"type": "google.rpc.QuotaFailure", "value": ""}})
			return true
		}
		return false
	}
	c := newTestCloud(t, f)
	_, err := c.CreateCluster(t.Context(), h100Cluster())
	if !errors.Is(err, clients.ErrQuota) {
		t.Fatalf("got %v", err)
	}
	// A quota refusal is final: not retried like a rate limit.
	if n := f.Count("POST", "/v1beta1/cks/clusters"); n != 1 {
		t.Errorf("quota refusal sent %d times", n)
	}
	var apiErr *clients.APIError
	if !errors.As(err, &apiErr) || apiErr.RetryAfter != 0 {
		t.Errorf("error %#v", err)
	}
	if n := f.Count("DELETE", "/v1beta1/networking/vpcs/vpc-0001"); n != 1 {
		t.Errorf("the VPC made for the refused cluster was deleted %d times", n)
	}
}

// runningCluster sets up a RUNNING cluster "pretrain" (id cl-1) in a VPC made for it.
func runningCluster(f *fakeCW) {
	f.addVPC("vpc-1", ownedVPCName("pretrain"), "US-EAST-04A", "pod-cidr=10.128.0.0/13", "service-cidr=10.96.0.0/16")
	f.addCluster("cl-1", "pretrain", "US-EAST-04A", "vpc-1", "STATUS_RUNNING")
}

// h100Pool is the NodePool pretrain-gpu of H100 nodes with targetNodes; the other fields of
// metadata and spec (either may be nil) are added to it.
func h100Pool(targetNodes int, metadata, spec map[string]any) map[string]any {
	md := map[string]any{"name": "pretrain-gpu"}
	maps.Copy(md, metadata)
	sp := map[string]any{"instanceType": "gd-8xh100ib-i128", "targetNodes": targetNodes}
	maps.Copy(sp, spec)
	return map[string]any{"metadata": md, "spec": sp}
}

// newPoolFake is a fake with cluster cl-1 running (runningCluster) and pool in it.
func newPoolFake(t *testing.T, pool map[string]any) *fakeCW {
	t.Helper()
	f := newFake(t)
	runningCluster(f)
	f.addPool("cl-1", pool)
	return f
}

// newRunningCloud is a fake with cluster cl-1 running (runningCluster) and a Cloud against it.
func newRunningCloud(t *testing.T) (*fakeCW, *Cloud) {
	t.Helper()
	f, c := newFakeCloud(t)
	runningCluster(f)
	return f, c
}

func TestGetClusterCreatesNodePoolOnceRunning(t *testing.T) {
	f, c := newFakeCloud(t)
	spec := h100Cluster()
	clusterOpts(spec.Options).ComputeClass = "default"
	created, err := c.CreateCluster(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	id := created.ID
	poolPath := poolsPath(id)

	// Still creating: pending, with the planned shape, and no Kubernetes call.
	cl, err := settledGet(t, c, id)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Status != clients.ClusterPending || cl.NodeCount != 4 || cl.InstanceType != "gd-8xh100ib-i128" || len(f.Sequence("/k8s/")) != 0 {
		t.Fatalf("creating: %+v, k8s calls %v", cl, f.Sequence("/k8s/"))
	}

	// Running: a read alone creates nothing (a refresh never writes); settling creates the
	// pool, once.
	f.setClusterStatus(id, "STATUS_RUNNING")
	c.clusters.Invalidate()
	if _, err := c.GetCluster(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("POST", poolPath); n != 0 {
		t.Fatalf("GetCluster created %d pools: reads must not write", n)
	}
	cl, err = settledGet(t, c, id)
	if err != nil {
		t.Fatal(err)
	}
	posts := f.Requests("POST", poolPath)
	if len(posts) != 1 {
		t.Fatalf("%d pool creates", len(posts))
	}
	assertJSON(t, posts[0].Body, `{
		"apiVersion": "compute.coreweave.com/v1alpha1", "kind": "NodePool",
		"metadata": {"name": "pretrain-gpu", "labels": {"app.kubernetes.io/managed-by": "terraform-provider-neocloud",
			"terraform-provider-neocloud/role": "cluster", "terraform-provider-neocloud/launch-token": "tok-1"}},
		"spec": {"instanceType": "gd-8xh100ib-i128", "targetNodes": 4, "computeClass": "default"}}`)
	if posts[0].Auth != "Bearer "+testToken {
		t.Errorf("Kubernetes auth %q", posts[0].Auth)
	}
	if cl.Status != clients.ClusterPending || cl.Ready || cl.NodeCount != 4 {
		t.Errorf("just created pool: %+v", cl)
	}
	for range 3 {
		c.clusters.Invalidate()
		if _, err := settledGet(t, c, id); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.Count("POST", poolPath); n != 1 {
		t.Errorf("the pool was created %d times", n)
	}

	// Another process (no plan) never creates a pool: it reports the missing one instead.
	f.mu.Lock()
	delete(f.pools[id], "pretrain-gpu")
	f.mu.Unlock()
	other := newTestCloud(t, f)
	cl, err = settledGet(t, other, id)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Status != clients.ClusterDegraded || !strings.Contains(cl.Problem, "pretrain-gpu") || f.Count("POST", poolPath) != 1 {
		t.Errorf("missing pool: %+v", cl)
	}
}

func TestGetClusterPoolCreateAnswerLost(t *testing.T) {
	f, c := newFakeCloud(t)
	created := apifake.MustCreate(t, c.CreateCluster, h100Cluster())
	f.setClusterStatus(created.ID, "STATUS_RUNNING")
	f.Script("POST", poolsPath(created.ID), apifake.Lost(f.kube(f.createPool)))
	c.clusters.Invalidate()
	cl, err := settledGet(t, c, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cl.NodeCount != 4 || cl.Status != clients.ClusterPending {
		t.Errorf("cluster %+v", cl)
	}
	if n := len(f.pools[created.ID]); n != 1 {
		t.Errorf("%d pools", n)
	}
}

func TestGetClusterNodes(t *testing.T) {
	f := newPoolFake(t, h100Pool(3, nil, map[string]any{"computeClass": "default"}))
	// Listed out of order; a node of another pool is not the cluster's.
	f.addNode("pretrain-gpu", "g1a2b3c-pretrain-gpu-2", true, "10.0.0.12", "166.19.0.3")
	f.addNode("pretrain-gpu", "g1a2b3c-pretrain-gpu-0", true, "10.0.0.10", "166.19.0.1")
	f.addNode("pretrain-gpu", "g1a2b3c-pretrain-gpu-1", true, "10.0.0.11", "")
	f.addNode("someone-else", "g1a2b3c-someone-else-0", true, "10.0.0.99", "")
	c := newTestCloud(t, f)

	cl, err := settledGet(t, c, "cl-1")
	if err != nil {
		t.Fatal(err)
	}
	if cl.Status != clients.ClusterRunning || !cl.Ready || len(cl.Nodes) != 3 || cl.HeadNodeIP != "10.0.0.10" ||
		cl.PricePerHour != 3*49.24 || cl.NodeCount != 3 || cl.GPUsPerNode != 8 || cl.Problem != "" {
		t.Fatalf("cluster %+v", cl)
	}
	want := []clients.ClusterNode{
		{ID: "g1a2b3c-pretrain-gpu-0", Name: "g1a2b3c-pretrain-gpu-0", Rank: 0, Role: "head", Status: clients.StatusRunning, PublicIP: "166.19.0.1", PrivateIP: "10.0.0.10"},
		{ID: "g1a2b3c-pretrain-gpu-1", Name: "g1a2b3c-pretrain-gpu-1", Rank: 1, Role: "worker", Status: clients.StatusRunning, PrivateIP: "10.0.0.11"},
		{ID: "g1a2b3c-pretrain-gpu-2", Name: "g1a2b3c-pretrain-gpu-2", Rank: 2, Role: "worker", Status: clients.StatusRunning, PublicIP: "166.19.0.3", PrivateIP: "10.0.0.12"},
	}
	if !slices.Equal(cl.Nodes, want) {
		t.Errorf("nodes\n got %+v\nwant %+v", cl.Nodes, want)
	}
	if !info(cl.Options).VPCCreated || info(cl.Options).ComputeClass != "default" || cl.APIServerEndpoint != f.URL()+"/k8s/cl-1" {
		t.Errorf("coreweave %+v", info(cl.Options))
	}
	// The node list is asked for by label.
	lists := f.Requests("GET", "/k8s/cl-1/api/v1/nodes")
	if len(lists) != 1 || !strings.Contains(lists[0].RawQuery, "labelSelector=compute.coreweave.com%2Fnode-pool&") {
		t.Errorf("node lists %+v", lists)
	}
	env := cl.LaunchEnv(cl.Nodes[2])
	if env["MASTER_ADDR"] != "10.0.0.10" || env["NODE_RANK"] != "2" || env["WORLD_SIZE"] != "24" {
		t.Errorf("launch env %v", env)
	}

	// A node that is not Ready yet: the cluster is not ready either.
	f.addNode("pretrain-gpu", "g1a2b3c-pretrain-gpu-10", false, "10.0.0.20", "")
	f.mu.Lock()
	jsonObj(f.pools["cl-1"]["pretrain-gpu"], "spec")["targetNodes"] = 4
	f.mu.Unlock()
	cl, err = settledGet(t, c, "cl-1")
	if err != nil {
		t.Fatal(err)
	}
	if cl.Ready || cl.Status != clients.ClusterPending || cl.Nodes[3].Name != "g1a2b3c-pretrain-gpu-10" || cl.Nodes[3].Status != clients.StatusPending {
		t.Errorf("scaling: %+v", cl)
	}

	// Out of capacity: degraded, with CoreWeave's reason.
	f.setPoolStatus("cl-1", "pretrain-gpu", 3,
		map[string]any{"type": "AtTarget", "status": "False", "reason": "ScalingUp", "message": "3 of 4 nodes ready"},
		map[string]any{"type": "CapacityAvailable", "status": "False", "reason": "InsufficientCapacity",
			"message": "no free gd-8xh100ib-i128 nodes in US-EAST-04A"})
	cl, err = settledGet(t, c, "cl-1")
	if err != nil {
		t.Fatal(err)
	}
	// Within the grace CoreWeave may still find the nodes: the cluster is pending, with the
	// reason (TestGetClusterCapacityShortage covers the rest).
	if cl.Status != clients.ClusterPending || cl.Stalled || cl.Shortage != nil || !strings.Contains(cl.Problem, "InsufficientCapacity: no free gd-8xh100ib-i128") {
		t.Errorf("capacity: %s %q", cl.Status, cl.Problem)
	}
}

func TestGetClusterAPIServerUnreachableIsAState(t *testing.T) {
	f, c := newRunningCloud(t)
	f.kubeDown("the server is currently unable to handle the request")
	cl, err := settledGet(t, c, "cl-1")
	if err != nil {
		t.Fatalf("an unreachable API server must not fail a read: %v", err)
	}
	if cl.Status != clients.ClusterPending || cl.Ready || !strings.Contains(cl.Problem, "Kubernetes API server") {
		t.Errorf("cluster %+v", cl)
	}
}

func TestGetClusterStatuses(t *testing.T) {
	for native, want := range map[string]string{
		"STATUS_CREATING": clients.ClusterPending, "STATUS_FAILED": clients.ClusterFailed,
		"STATUS_DELETING": clients.ClusterDeleting, "STATUS_ERROR": clients.ClusterFailed,
		"STATUS_UPGRADE_FAILED": clients.ClusterFailed, "STATUS_UNSPECIFIED": clients.ClusterPending,
		// A status newer than the SDK arrives as its number.
		"42": clients.ClusterPending,
	} {
		f := newFake(t)
		runningCluster(f)
		f.setClusterStatus("cl-1", native)
		if native == "42" {
			f.mu.Lock()
			f.clusters["cl-1"]["status"] = 42
			f.mu.Unlock()
		}
		c := newTestCloud(t, f)
		cl, err := settledGet(t, c, "cl-1")
		if err != nil {
			t.Fatal(err)
		}
		if cl.Status != want || cl.NativeStatus != native {
			t.Errorf("%s: %s", native, cl.Status)
		}
	}
	_, c := newFakeCloud(t)
	if _, err := settledGet(t, c, "cl-nope"); !clients.IsNotFound(err) {
		t.Errorf("unknown cluster: %v", err)
	}
}

func TestUpdateClusterScalesWithMergePatch(t *testing.T) {
	f := newPoolFake(t, h100Pool(2, nil, nil))
	f.addNode("pretrain-gpu", "n-0", true, "10.0.0.10", "")
	f.addNode("pretrain-gpu", "n-1", true, "10.0.0.11", "")
	c := newTestCloud(t, f)

	n := 5
	cl, err := c.UpdateCluster(t.Context(), "cl-1", clients.ClusterUpdate{NodeCount: &n})
	if err != nil {
		t.Fatal(err)
	}
	patches := f.Requests("PATCH", poolsPath("cl-1")+"/pretrain-gpu")
	if len(patches) != 1 {
		t.Fatalf("%d patches", len(patches))
	}
	if patches[0].ContentType != "application/merge-patch+json" {
		t.Errorf("content type %q", patches[0].ContentType)
	}
	assertJSON(t, patches[0].Body, `{"spec": {"targetNodes": 5}}`)
	if cl.NodeCount != 5 || cl.Status != clients.ClusterUpdating || cl.Ready || cl.PricePerHour != 5*49.24 {
		t.Errorf("after scaling: %+v", cl)
	}

	name := "renamed"
	if _, err := c.UpdateCluster(t.Context(), "cl-1", clients.ClusterUpdate{Name: &name}); !errors.Is(err, clients.ErrUnsupported) {
		t.Errorf("rename: %v", err)
	}
	zero := 0
	if _, err := c.UpdateCluster(t.Context(), "cl-1", clients.ClusterUpdate{NodeCount: &zero}); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("0 nodes: %v", err)
	}
	if rules := c.ClusterRules(); !rules.Resizable || rules.Renamable || rules.MinNodes != 1 || rules.MaxNodes != 64 {
		t.Errorf("rules %+v", rules)
	}
}

func TestUpdateClusterWhileCreatingKeepsTheCount(t *testing.T) {
	f, c := newFakeCloud(t)
	created := apifake.MustCreate(t, c.CreateCluster, h100Cluster())
	n := 2
	cl, err := c.UpdateCluster(t.Context(), created.ID, clients.ClusterUpdate{NodeCount: &n})
	if err != nil {
		t.Fatal(err)
	}
	if cl.NodeCount != 2 {
		t.Errorf("count %d", cl.NodeCount)
	}
	f.setClusterStatus(created.ID, "STATUS_RUNNING")
	c.clusters.Invalidate()
	if _, err := settledGet(t, c, created.ID); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Requests("POST", poolsPath(created.ID))[0].Body, `{
		"apiVersion": "compute.coreweave.com/v1alpha1", "kind": "NodePool",
		"metadata": {"name": "pretrain-gpu", "labels": {"app.kubernetes.io/managed-by": "terraform-provider-neocloud",
			"terraform-provider-neocloud/role": "cluster", "terraform-provider-neocloud/launch-token": "tok-1"}},
		"spec": {"instanceType": "gd-8xh100ib-i128", "targetNodes": 2}}`)
}

func TestDeleteClusterCascadeWithOwnedVPC(t *testing.T) {
	f := newPoolFake(t, h100Pool(2, nil, nil))
	f.clusterGoneAfter = 2
	f.vpcInUseRefusals = 1 // CoreWeave still counts the VPC as used just after the cluster went
	c := newTestCloud(t, f)
	if err := c.DeleteCluster(t.Context(), "cl-1"); err != nil {
		t.Fatal(err)
	}
	seq := f.Sequence("/v1beta1/cks/clusters/cl-1", "/v1beta1/networking/vpcs/vpc-1", "/k8s/")
	iPool := slices.Index(seq, "DELETE "+poolsPath("cl-1")+"/pretrain-gpu")
	iCluster := slices.Index(seq, "DELETE /v1beta1/cks/clusters/cl-1")
	iVPC := slices.Index(seq, "DELETE /v1beta1/networking/vpcs/vpc-1")
	if iPool < 0 || iCluster < iPool || iVPC < iCluster {
		t.Fatalf("order: %v", seq)
	}
	// The VPC is deleted only after the cluster answered not found.
	gone := -1
	for i, s := range seq {
		if s == "GET /v1beta1/cks/clusters/cl-1" && i > iCluster {
			gone = i
		}
	}
	if gone < 0 || gone > iVPC {
		t.Errorf("VPC deleted before the cluster was gone: %v", seq)
	}
	if n := f.Count("DELETE", "/v1beta1/networking/vpcs/vpc-1"); n != 2 {
		t.Errorf("VPC delete sent %d times (one refusal expected)", n)
	}
	f.mu.Lock()
	_, vpcLeft := f.vpcs["vpc-1"]
	f.mu.Unlock()
	if vpcLeft {
		t.Error("VPC still there")
	}
	// Deleting again is a no-op success.
	if err := c.DeleteCluster(t.Context(), "cl-1"); err != nil {
		t.Fatal(err)
	}
}

func TestDeleteClusterKeepsAVPCItDidNotCreate(t *testing.T) {
	f := newFake(t)
	f.addVPC("vpc-team", "team-net", "US-EAST-04A", "pod-cidr=10.128.0.0/13", "service-cidr=10.96.0.0/16")
	f.addCluster("cl-1", "pretrain", "US-EAST-04A", "vpc-team", "STATUS_CREATING")
	c := newTestCloud(t, f)
	if err := c.DeleteCluster(t.Context(), "cl-1"); err != nil {
		t.Fatal(err)
	}
	if f.Count("DELETE", "/v1beta1/cks/clusters/cl-1") != 1 || f.Count("DELETE", "/v1beta1/networking/vpcs/vpc-team") != 0 {
		t.Errorf("requests %v", f.Sequence("/v1beta1/"))
	}
	// A creating cluster has no API server: no Kubernetes call is attempted.
	if n := len(f.Sequence("/k8s/")); n != 0 {
		t.Errorf("%d Kubernetes calls", n)
	}
	if err := c.DeleteCluster(t.Context(), "cl-unknown"); err != nil {
		t.Errorf("unknown cluster: %v", err)
	}
}

func TestValidateClusterSpec(t *testing.T) {
	c := newTestCloud(t, newFake(t))
	spec := h100Cluster()
	if errs := c.ValidateClusterSpec(spec); len(errs) != 0 {
		t.Fatalf("valid spec: %+v", errs)
	}
	bad := clients.ClusterSpec{
		Name: "Bad_Name", GPUType: "A100_80GB_SXM", GPUsPerNode: 8, NodeCount: 65, SSHKeyIDs: []string{"k"},
		Options: &ClusterOptions{ComputeClass: "cheap", KubernetesVersion: "1.35"},
	}
	fields := map[string]bool{}
	for _, e := range c.ValidateClusterSpec(bad) {
		fields[e.Field] = true
	}
	for _, f := range []string{"name", "region", "node_count", "gpu_type", "ssh_key_ids", "coreweave.compute_class", "coreweave.kubernetes_version"} {
		if !fields[f] {
			t.Errorf("no error for %s (got %v)", f, fields)
		}
	}
	rack := h100Cluster()
	rack.GPUType, rack.GPUsPerNode, rack.NodeCount = "gb200-4x", 4, 4
	if errs := c.ValidateClusterSpec(rack); len(errs) != 1 || errs[0].Field != "node_count" || !strings.Contains(errs[0].Detail, "multiple of 18") {
		t.Errorf("rack-scale: %+v", errs)
	}
	rack.NodeCount = 36
	if errs := c.ValidateClusterSpec(rack); len(errs) != 0 {
		t.Errorf("two racks: %+v", errs)
	}
	spec.GPUsPerNode = 4
	errs := c.ValidateClusterSpec(spec)
	if len(errs) != 1 || errs[0].Field != "gpus_per_node" || !strings.Contains(errs[0].Detail, "8 (gd-8xh100ib-i128)") {
		t.Errorf("4 GPUs per node: %+v", errs)
	}
}

// settledGet is what the provider's waiter does on each look: settle the cluster (create the
// node pool once it is RUNNING), then read it.
func settledGet(t *testing.T, c *Cloud, id string) (*clients.Cluster, error) {
	t.Helper()
	if err := c.SettleCluster(t.Context(), id); err != nil {
		return nil, err
	}
	return c.GetCluster(t.Context(), id)
}
