package coreweave

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestClusterLifecycle(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	v := readyVPC(c, clk, "net")
	var created struct{ Cluster clusterJSON }
	res := c.ok(200, "POST", "/v1beta1/cks/clusters", standardCluster("train", v.ID, zone4A, false), &created)
	cl := created.Cluster
	if cl.ID == "" || cl.Status != ClusterStatusCreating || cl.VpcID != v.ID || cl.Version != "v1.35" || cl.Network == nil ||
		cl.Network.PodCidrName != "pod cidr" || cl.CreatedAt == "" || cl.UpdatedAt == "" {
		t.Fatalf("created cluster: %s", res.body)
	}
	if cl.APIServerEndpoint != c.base+"/k8s/"+cl.ID {
		t.Fatalf("apiServerEndpoint %q, want %q", cl.APIServerEndpoint, c.base+"/k8s/"+cl.ID)
	}
	// protobuf JSON leaves false booleans out.
	if strings.Contains(string(res.body), `"public"`) {
		t.Errorf("a private cluster should carry no \"public\" key: %s", res.body)
	}
	if _, err := time.Parse(time.RFC3339Nano, cl.CreatedAt); err != nil {
		t.Errorf("createdAt %q: %v", cl.CreatedAt, err)
	}

	// While creating, its API server does not answer.
	c.kubeStatusErr("GET", kpath(cl.ID, "/version"), nil, nil, 503, "ServiceUnavailable")
	clk.Advance(DefaultClusterCreateTime - time.Second)
	var got struct{ Cluster clusterJSON }
	c.ok(200, "GET", "/v1beta1/cks/clusters/"+cl.ID, nil, &got)
	if got.Cluster.Status != ClusterStatusCreating {
		t.Fatalf("a second before the create time: %s", got.Cluster.Status)
	}
	clk.Advance(time.Second)
	c.ok(200, "GET", "/v1beta1/cks/clusters/"+cl.ID, nil, &got)
	if got.Cluster.Status != ClusterStatusRunning {
		t.Fatalf("after the create time: %s", got.Cluster.Status)
	}
	var version map[string]string
	c.ok(200, "GET", kpath(cl.ID, "/version"), nil, &version)
	if version["major"] != "1" || version["minor"] != "35" || !strings.HasPrefix(version["gitVersion"], "v1.35.") {
		t.Fatalf("/version: %v", version)
	}
	var list struct{ Items []clusterJSON }
	c.ok(200, "GET", "/v1beta1/cks/clusters", nil, &list)
	if len(list.Items) != 1 || list.Items[0].ID != cl.ID {
		t.Fatalf("list: %+v", list)
	}

	// Upgrade one minor version: UPGRADING, then RUNNING; the API server stays up meanwhile.
	c.connectErr("PATCH", "/v1beta1/cks/clusters/"+cl.ID, map[string]any{"version": "v1.34"}, 400, "failed_precondition")
	c.connectErr("PATCH", "/v1beta1/cks/clusters/"+cl.ID, map[string]any{"version": "v9.99"}, 400, "invalid_argument")
	c.ok(200, "PATCH", "/v1beta1/cks/clusters/"+cl.ID, map[string]any{"public": true, "updateMask": "public"}, &got)
	if got.Cluster.Status != ClusterStatusUpdating || !got.Cluster.Public {
		t.Fatalf("after PATCH public: %+v", got.Cluster)
	}
	c.ok(200, "GET", kpath(cl.ID, "/version"), nil, nil)
	c.connectErr("PATCH", "/v1beta1/cks/clusters/"+cl.ID, map[string]any{"auditPolicy": "x"}, 400, "failed_precondition")
	clk.Advance(DefaultClusterUpdateTime)

	// A v1.35 cluster cannot go up; build a v1.34 one to upgrade.
	v2 := readyVPC(c, clk, "net2")
	body := standardCluster("old", v2.ID, zone4A, false)
	body["version"] = "v1.34"
	var old struct{ Cluster clusterJSON }
	c.ok(200, "POST", "/v1beta1/cks/clusters", body, &old)
	clk.Advance(DefaultClusterCreateTime)
	c.ok(200, "PATCH", "/v1beta1/cks/clusters/"+old.Cluster.ID, map[string]any{"version": "v1.35"}, &got)
	if got.Cluster.Status != ClusterStatusUpgrading || got.Cluster.Version != "v1.35" {
		t.Fatalf("after PATCH version: %+v", got.Cluster)
	}
	clk.Advance(DefaultClusterUpdateTime)
	c.ok(200, "GET", "/v1beta1/cks/clusters/"+old.Cluster.ID, nil, &got)
	if got.Cluster.Status != ClusterStatusRunning {
		t.Fatalf("after the upgrade: %s", got.Cluster.Status)
	}

	// Delete: DELETING (API server gone), then 404.
	c.ok(200, "DELETE", "/v1beta1/cks/clusters/"+cl.ID, nil, &got)
	if got.Cluster.Status != ClusterStatusDeleting {
		t.Fatalf("after DELETE: %s", got.Cluster.Status)
	}
	c.kubeStatusErr("GET", poolsPath(cl.ID), nil, nil, 503, "ServiceUnavailable")
	c.ok(200, "DELETE", "/v1beta1/cks/clusters/"+cl.ID, nil, nil)
	clk.Advance(DefaultClusterDeleteTime)
	c.connectErr("GET", "/v1beta1/cks/clusters/"+cl.ID, nil, 404, "not_found")
	c.connectErr("DELETE", "/v1beta1/cks/clusters/"+cl.ID, nil, 404, "not_found")
}

func TestClusterValidation(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{ClusterQuota: 2})
	v := readyVPC(c, clk, "net")
	var rno struct{ VPC vpcJSON }
	c.ok(200, "POST", "/v1beta1/networking/vpcs", standardVPC("rno", "RNO2A"), &rno)
	clk.Advance(DefaultVPCCreateTime)
	post := func(mutate func(map[string]any), status int, code string) connectError {
		t.Helper()
		body := standardCluster("c1", v.ID, zone4A, false)
		mutate(body)
		return c.connectErr("POST", "/v1beta1/cks/clusters", body, status, code)
	}
	ce := post(func(b map[string]any) { b["name"] = strings.Repeat("x", 31) }, 400, "invalid_argument")
	if !strings.Contains(ce.Message, "name") || ce.Details[0].Type != "google.rpc.BadRequest" {
		t.Errorf("long name: %+v", ce)
	}
	var debug struct {
		FieldViolations []fieldViolation `json:"fieldViolations"`
	}
	_ = json.Unmarshal(ce.Details[0].Debug, &debug)
	if len(debug.FieldViolations) != 1 || debug.FieldViolations[0].Field != "name" || !strings.Contains(debug.FieldViolations[0].Description, "30") {
		t.Errorf("field violations: %+v", debug)
	}
	post(func(b map[string]any) { b["zone"] = "EU-WEST-01A" }, 400, "invalid_argument")
	post(func(b map[string]any) { b["version"] = "v1.20" }, 400, "invalid_argument")
	post(func(b map[string]any) { delete(b, "network") }, 400, "invalid_argument")
	post(func(b map[string]any) { b["vpcId"] = "" }, 400, "invalid_argument")

	// State preconditions.
	ce = post(func(b map[string]any) { b["vpcId"] = "6b1c1e0e-0000-4000-8000-000000000000" }, 400, "failed_precondition")
	if ce.Details[0].Type != "google.rpc.PreconditionFailure" {
		t.Errorf("missing VPC details: %+v", ce.Details)
	}
	post(func(b map[string]any) { b["zone"] = "RNO2A" }, 400, "failed_precondition")
	post(func(b map[string]any) { b["vpcId"] = rno.VPC.ID }, 400, "failed_precondition")
	post(func(b map[string]any) {
		b["network"] = map[string]any{"podCidrName": "nope", "serviceCidrName": "service cidr"}
	}, 400, "failed_precondition")
	var creating struct{ VPC vpcJSON }
	c.ok(200, "POST", "/v1beta1/networking/vpcs", standardVPC("fresh", zone4A), &creating)
	post(func(b map[string]any) { b["vpcId"] = creating.VPC.ID }, 400, "failed_precondition")

	// Names are unique; the organization's quota holds.
	c.ok(200, "POST", "/v1beta1/cks/clusters", standardCluster("c1", v.ID, zone4A, false), nil)
	post(func(map[string]any) {}, 409, "already_exists")
	c.ok(200, "POST", "/v1beta1/cks/clusters", standardCluster("rno", rno.VPC.ID, "RNO2A", false), nil)
	ce = post(func(b map[string]any) { b["name"] = "c2" }, 429, "resource_exhausted")
	if ce.Details[0].Type != "google.rpc.QuotaFailure" {
		t.Errorf("quota details: %+v", ce.Details)
	}
}

func TestClusterFailedThroughAdmin(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "doomed", false)
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("p", "gd-8xh100ib-i128", 1), nil)
	call := admin(t, e)
	if code, body := call("POST", "/clusters/"+cl.ID+"/fail", ""); code != 204 {
		t.Fatalf("admin fail: %d %s", code, body)
	}
	if code, _ := call("POST", "/clusters/nope/fail", ""); code != 404 {
		t.Fatalf("admin fail of an unknown cluster: %d", code)
	}
	var got struct{ Cluster clusterJSON }
	c.ok(200, "GET", "/v1beta1/cks/clusters/"+cl.ID, nil, &got)
	if got.Cluster.Status != ClusterStatusFailed {
		t.Fatalf("status %s, want FAILED", got.Cluster.Status)
	}
	s := c.kubeStatusErr("GET", poolsPath(cl.ID), nil, nil, 503, "ServiceUnavailable")
	if !strings.Contains(s.Message, ClusterStatusFailed) {
		t.Errorf("503 message: %s", s.Message)
	}
	// The pool's node never joins (the control plane is gone), and a failed cluster cannot be updated.
	clk.Advance(time.Hour)
	if nodes := e.Nodes(cl.ID); len(nodes) != 0 {
		t.Fatalf("nodes joined a failed cluster: %+v", nodes)
	}
	c.connectErr("PATCH", "/v1beta1/cks/clusters/"+cl.ID, map[string]any{"public": true}, 400, "failed_precondition")
	before := e.Capacity("gd-8xh100ib-i128", zone4A)
	c.ok(200, "DELETE", "/v1beta1/cks/clusters/"+cl.ID, nil, nil)
	if after := e.Capacity("gd-8xh100ib-i128", zone4A); after != before {
		t.Fatalf("capacity %d -> %d: the failed cluster held none", before, after)
	}
}

func TestClusterDeleteCascades(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "cascade", false)
	free := e.Capacity("gd-8xh100ib-i128", zone4A)
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("gpus", "gd-8xh100ib-i128", 3), nil)
	clk.Advance(controllerLag + 2*DefaultNodeJoinTime + DefaultNodeJoinTime/2)
	if got := e.Capacity("gd-8xh100ib-i128", zone4A); got != free-3 {
		t.Fatalf("capacity with 2 nodes up and 1 provisioning: %d, want %d", got, free-3)
	}
	c.ok(200, "DELETE", "/v1beta1/cks/clusters/"+cl.ID, nil, nil)
	if got := e.Capacity("gd-8xh100ib-i128", zone4A); got != free {
		t.Fatalf("capacity after the cluster's deletion: %d, want %d", got, free)
	}
	if pools := e.NodePools(); len(pools) != 0 {
		t.Fatalf("pools survive their cluster: %+v", pools)
	}
	// Out-of-band deletion: gone at once.
	cl2 := runningCluster(c, clk, "oob", false)
	if err := e.DeleteClusterOutOfBand(cl2.ID); err != nil {
		t.Fatal(err)
	}
	c.connectErr("GET", "/v1beta1/cks/clusters/"+cl2.ID, nil, 404, "not_found")
	views := e.Clusters()
	if len(views) != 2 || !views[0].Gone || views[0].Status != ClusterStatusDeleted || !views[1].Gone {
		t.Fatalf("admin views: %+v", views)
	}
}

// TestClusterOnTheRealClock runs a whole flow with a tiny time scale and no fake clock.
func TestClusterOnTheRealClock(t *testing.T) {
	e, c := newFastEmulator(t)
	var v struct{ VPC vpcJSON }
	c.ok(200, "POST", "/v1beta1/networking/vpcs", standardVPC("fast", zone4A), &v)
	waitFor(t, func() bool {
		var got struct{ VPC vpcJSON }
		c.ok(200, "GET", "/v1beta1/networking/vpcs/"+v.VPC.ID, nil, &got)
		return got.VPC.Status == VPCStatusReady
	})
	var cl struct{ Cluster clusterJSON }
	c.ok(200, "POST", "/v1beta1/cks/clusters", standardCluster("fast", v.VPC.ID, zone4A, true), &cl)
	waitFor(t, func() bool {
		var got struct{ Cluster clusterJSON }
		c.ok(200, "GET", "/v1beta1/cks/clusters/"+cl.Cluster.ID, nil, &got)
		return got.Cluster.Status == ClusterStatusRunning
	})
	// The endpoint the API hands out is where the Kubernetes API answers.
	ep := strings.TrimPrefix(cl.Cluster.APIServerEndpoint, c.base)
	c.ok(201, "POST", ep+"/apis/compute.coreweave.com/v1alpha1/nodepools", poolManifest("p", "gd-8xa100-i128", 2), nil)
	waitFor(t, func() bool {
		pools := e.NodePools()
		return len(pools) == 1 && pools[0].CurrentNodes == 2
	})
}

// waitFor polls cond on the real clock for up to five seconds.
func waitFor(t *testing.T, cond func() bool) {
	const limit = 5 * time.Second
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
