package coreweave

import (
	"bytes"
	"testing"
)

// TestStateSurvivesARestart saves an organization in the middle of a node pool's scale-up (one
// node Ready, the next registered but not Ready), loads it into a fresh emulator (a restarted
// process) on the same clock, and checks that the controller carries on where it was.
func TestStateSurvivesARestart(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "gpu", true)
	free := e.Capacity("gd-8xh100ib-i128", zone4A)
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("h100", "gd-8xh100ib-i128", 3), nil)
	clk.Advance(controllerLag + DefaultNodeJoinTime + DefaultNodeJoinTime*9/10)
	before := c.pool(cl.ID, "h100")
	if before.Status == nil || before.Status.CurrentNodes != 1 || len(c.poolNodes(cl.ID, "h100")) != 2 {
		t.Fatalf("setup: want 1 Ready node and 1 registered, got %+v", before.Status)
	}
	e.SetClusterQuota(3)

	saved, err := e.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := e.ExportState(); !bytes.Equal(saved, again) {
		t.Fatal("two exports of the same state differ")
	}

	e2 := New(Options{TimeScale: 1})
	e2.now = clk.Now
	if err := e2.ImportState(saved); err != nil {
		t.Fatal(err)
	}
	c2 := serve(t, e2)
	if reexport, _ := e2.ExportState(); !bytes.Equal(saved, reexport) {
		t.Fatalf("import then export changed the state:\n%s\n%s", saved, reexport)
	}

	after := c2.pool(cl.ID, "h100")
	if after.Metadata.UID != before.Metadata.UID || after.Metadata.ResourceVersion != before.Metadata.ResourceVersion ||
		after.Status.CurrentNodes != 1 {
		t.Fatalf("restored pool %+v, was %+v", after, before)
	}
	var got struct{ Cluster clusterJSON }
	c2.ok(200, "GET", "/v1beta1/cks/clusters/"+cl.ID, nil, &got)
	if got.Cluster.Status != ClusterStatusRunning || got.Cluster.VpcID != cl.VpcID {
		t.Fatalf("restored cluster %+v", got.Cluster)
	}
	if e2.ClusterQuota() != 3 {
		t.Fatalf("cluster quota %d after the restart", e2.ClusterQuota())
	}

	// The controller finishes the scale-up from the saved provisioning state.
	clk.Advance(2 * DefaultNodeJoinTime)
	if n := c2.pool(cl.ID, "h100").Status.CurrentNodes; n != 3 {
		t.Fatalf("currentNodes %d after the restart, want 3", n)
	}
	if got := e2.Capacity("gd-8xh100ib-i128", zone4A); got != free-3 {
		t.Fatalf("capacity %d, want %d", got, free-3)
	}
	// Spec numbers still work as numbers: a scale-down through a merge patch.
	if r := c2.mergePatch(poolPath(cl.ID, "h100"), map[string]any{"spec": map[string]any{"targetNodes": 1}}); r.status != 200 {
		t.Fatalf("merge patch after the restart: %d %s", r.status, r.body)
	}
	clk.Advance(controllerLag)
	if n := len(c2.poolNodes(cl.ID, "h100")); n != 1 {
		t.Fatalf("%d nodes after scaling down to 1", n)
	}
	// A watch from a resourceVersion saved before the restart still replays what followed it.
	r := c2.request("GET", poolsPath(cl.ID)+"?watch=true&timeoutSeconds=1&resourceVersion="+before.Metadata.ResourceVersion, nil, nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"MODIFIED"`)) {
		t.Fatalf("watch from a saved resourceVersion: %d %s", r.status, r.body)
	}
}

func TestImportStateRefusesBadInput(t *testing.T) {
	e := New(Options{})
	for _, bad := range []string{`not json`, `{"format": 0}`,
		`{"format": 1, "vpcs": [{"id": "v", "zone": "MARS-1"}]}`,
		`{"format": 1, "clusters": [{"id": "c", "zone": "US-EAST-04A", "vpc_id": "missing"}]}`} {
		if err := e.ImportState([]byte(bad)); err == nil {
			t.Errorf("ImportState(%s) accepted", bad)
		}
	}
}
