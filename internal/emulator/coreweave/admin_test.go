package coreweave

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// admin calls the admin API the way the combined server exposes it (mounted with StripPrefix).
func admin(t *testing.T, e *Emulator) func(method, path, body string) (int, []byte) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/_emulator/coreweave/", http.StripPrefix("/_emulator/coreweave", e.AdminHandler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return func(method, path, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+"/_emulator/coreweave"+path, bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
}

func TestAdminAPI(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	call := admin(t, e)
	cl := runningCluster(c, clk, "adm", false)
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("p", "gd-8xh100ib-i128", 2), nil)
	clk.Advance(controllerLag + 2*DefaultNodeJoinTime)

	var clusters []ClusterView
	code, body := call("GET", "/clusters", "")
	if code != 200 || json.Unmarshal(body, &clusters) != nil || len(clusters) != 1 || clusters[0].ID != cl.ID ||
		clusters[0].Status != ClusterStatusRunning || clusters[0].NodePools != 1 || clusters[0].Nodes != 2 || clusters[0].APIServerPath != "/k8s/"+cl.ID {
		t.Fatalf("GET /clusters: %d %s", code, body)
	}
	var vpcs []VPCView
	if code, body := call("GET", "/vpcs", ""); code != 200 || json.Unmarshal(body, &vpcs) != nil || len(vpcs) != 1 || vpcs[0].VPCPrefixes["pod cidr"] != "10.0.0.0/13" {
		t.Fatalf("GET /vpcs: %d %s", code, body)
	}
	var pools []NodePoolView
	if code, body := call("GET", "/nodepools", ""); code != 200 || json.Unmarshal(body, &pools) != nil || len(pools) != 1 ||
		pools[0].Cluster != cl.ID || pools[0].Name != "p" || pools[0].InstanceType != "gd-8xh100ib-i128" || pools[0].TargetNodes != 2 || pools[0].CurrentNodes != 2 {
		t.Fatalf("GET /nodepools: %d %s", code, body)
	}
	var nodes []NodeView
	if code, body := call("GET", "/clusters/"+cl.ID+"/nodes", ""); code != 200 || json.Unmarshal(body, &nodes) != nil || len(nodes) != 2 || !nodes[0].Ready {
		t.Fatalf("GET nodes: %d %s", code, body)
	}
	if code, _ := call("GET", "/clusters/nope/nodes", ""); code != 404 {
		t.Fatalf("nodes of an unknown cluster: %d", code)
	}

	if code, body := call("PUT", "/capacity", `{"instance_type":"gd-8xa100-i128","zone":"LGA1","available":1}`); code != 200 {
		t.Fatalf("PUT /capacity: %d %s", code, body)
	}
	if e.Capacity("gd-8xa100-i128", "LGA1") != 1 {
		t.Fatal("PUT /capacity did not set the cell")
	}
	for _, bad := range []string{`{"instance_type":"nope","zone":"LGA1","available":1}`, `{"instance_type":"gd-8xa100-i128","zone":"nope","available":1}`,
		`{"instance_type":"gd-8xa100-i128","zone":"LGA1","available":-1}`, `not json`} {
		if code, _ := call("PUT", "/capacity", bad); code != 400 {
			t.Errorf("PUT /capacity %s: %d, want 400", bad, code)
		}
	}
	if code, body := call("GET", "/capacity", ""); code != 200 || !bytes.Contains(body, []byte(`"zone":"LGA1"`)) {
		t.Fatalf("GET /capacity: %d %s", code, body)
	}
	if code, body := call("GET", "/instance-types", ""); code != 200 || !bytes.Contains(body, []byte(`"price_per_hour":49.24`)) {
		t.Fatalf("GET /instance-types: %d %s", code, body)
	}
	if code, _ := call("PUT", "/quota", `{"clusters": 1}`); code != 200 || e.ClusterQuota() != 1 {
		t.Fatalf("PUT /quota: %d", code)
	}
	if code, body := call("GET", "/stats", ""); code != 200 || !bytes.Contains(body, []byte("POST /v1beta1/cks/clusters")) {
		t.Fatalf("GET /stats: %d %s", code, body)
	}

	if code, _ := call("DELETE", "/clusters/"+cl.ID, ""); code != 204 {
		t.Fatalf("out-of-band delete: %d", code)
	}
	c.connectErr("GET", "/v1beta1/cks/clusters/"+cl.ID, nil, 404, "not_found")
	if code, _ := call("DELETE", "/clusters/"+cl.ID, ""); code != 404 {
		t.Fatalf("second out-of-band delete: %d", code)
	}

	if code, _ := call("POST", "/reset", ""); code != 204 {
		t.Fatalf("reset: %d", code)
	}
	if len(e.Clusters()) != 0 || len(e.VPCs()) != 0 || e.ClusterQuota() != DefaultClusterQuota ||
		e.Capacity("gd-8xa100-i128", "LGA1") != 8 || e.Core.Stats.Total() != 0 {
		t.Fatal("reset left state behind")
	}
}

// POST /clusters/{id}/status puts a cluster in any status of the API's enum, on demand.
func TestAdminSetClusterStatus(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	call := admin(t, e)
	cl := runningCluster(c, clk, "st", false)
	get := func() string {
		var got struct{ Cluster clusterJSON }
		c.ok(200, "GET", "/v1beta1/cks/clusters/"+cl.ID, nil, &got)
		return got.Cluster.Status
	}
	for _, st := range []string{ClusterStatusError, ClusterStatusRunning, ClusterStatusUpgradeFailed, ClusterStatusUpgrading, ClusterStatusFailed, ClusterStatusUpdating} {
		if code, body := call("POST", "/clusters/"+cl.ID+"/status", `{"status":"`+st+`"}`); code != http.StatusNoContent {
			t.Fatalf("%s: %d %s", st, code, body)
		}
		if got := get(); got != st {
			t.Fatalf("after %s: %s", st, got)
		}
	}
	// UPDATING set on demand ends in RUNNING after the usual update time.
	clk.Advance(DefaultClusterUpdateTime)
	if got := get(); got != ClusterStatusRunning {
		t.Fatalf("after the update time: %s", got)
	}
	if code, _ := call("POST", "/clusters/"+cl.ID+"/status", `{"status":"STATUS_BOGUS"}`); code != http.StatusBadRequest {
		t.Errorf("bogus status: %d", code)
	}
	if code, _ := call("POST", "/clusters/nope/status", `{"status":"STATUS_ERROR"}`); code != http.StatusNotFound {
		t.Errorf("unknown cluster: %d", code)
	}
	// The state file (-state) keeps a failure's status.
	if code, _ := call("POST", "/clusters/"+cl.ID+"/status", `{"status":"STATUS_UPGRADE_FAILED"}`); code != http.StatusNoContent {
		t.Fatalf("upgrade failed: %d", code)
	}
	doc, err := e.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	restored := New(Options{})
	restored.now = e.now
	if err := restored.ImportState(doc); err != nil {
		t.Fatal(err)
	}
	if cs := restored.Clusters(); len(cs) != 1 || cs[0].Status != ClusterStatusUpgradeFailed {
		t.Fatalf("restored %+v", cs)
	}
	if code, _ := call("POST", "/clusters/"+cl.ID+"/status", `{"status":"STATUS_DELETING"}`); code != http.StatusNoContent || get() != ClusterStatusDeleting {
		t.Errorf("deleting: %d", code)
	}
}
