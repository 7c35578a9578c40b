package lambda

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestStateSurvivesARestart saves an account with every kind of object, loads it into a fresh
// emulator (a restarted process) and reads it back through the API: same objects, same capacity
// and quota, and the lifecycle carries on from the saved timestamps.
func TestStateSurvivesARestart(t *testing.T) {
	e, c, clk := newClockedEmulator(t)
	c.addKey("k")
	c.ok("POST", "/api/v1/filesystems", map[string]string{"name": "data", "region": "us-east-1"}, nil)
	var rs struct {
		ID string `json:"id"`
	}
	c.ok("POST", "/api/v1/firewall-rulesets", map[string]any{"name": "mesh", "region": "us-east-1",
		"rules": []map[string]any{{"protocol": "all", "source_network": "10.0.0.0/8", "description": "mesh"}}}, &rs)
	e.SetQuota(40)
	e.SetCapacity("gpu_8x_h100_sxm5", "us-west-1", 7)
	booting := c.launch(launchReq("gpu_1x_a10", "us-east-1", "name", "b", "file_system_names", []string{"data"},
		"firewall_rulesets", []map[string]string{{"id": rs.ID}}, "tags", []map[string]string{{"key": "t", "value": "v"}}))
	clk.Advance(90 * time.Second)
	active := c.launch(launchReq("gpu_1x_a10", "us-east-1", "name", "a"))
	gone := c.launch(launchReq("gpu_1x_a10", "us-west-1"))
	c.ok("POST", "/api/v1/instance-operations/terminate", map[string][]string{"instance_ids": {gone}}, nil)
	clk.Advance(45 * time.Second) // "active" is still booting, "booting" is active by now

	saved, err := e.ExportState()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := e.ExportState()
	if !bytes.Equal(saved, again) {
		t.Fatal("two exports of the same state differ")
	}

	e2 := New(Options{TimeScale: 1})
	e2.Core.SetRateLimitEnabled(false)
	e2.now = clk.Now
	if err := e2.ImportState(saved); err != nil {
		t.Fatal(err)
	}
	c2 := serve(t, e2)
	if reexport, _ := e2.ExportState(); !bytes.Equal(saved, reexport) {
		t.Fatalf("import then export changed the state:\n%s\n%s", saved, reexport)
	}

	before, after := c.instance(booting), c2.instance(booting)
	if after.Status != StatusActive || after.IP != before.IP || after.JupyterToken != before.JupyterToken ||
		len(after.FileSystemNames) != 1 || len(after.FirewallRulesets) != 1 || len(after.Tags) != 1 {
		t.Fatalf("restored instance %+v, was %+v", after, before)
	}
	if s := c2.instance(active).Status; s != StatusBooting {
		t.Fatalf("instance booting when saved: %s after the restart", s)
	}
	clk.Advance(45 * time.Second)
	if s := c2.instance(active).Status; s != StatusActive {
		t.Fatalf("instance saved while booting did not finish its boot: %s", s)
	}
	clk.Advance(time.Minute)
	c2.fail("GET", "/api/v1/instances/"+gone, nil, 404, "global/object-does-not-exist")

	if e2.Quota() != 40 || e2.Capacity("gpu_8x_h100_sxm5", "us-west-1") != 7 ||
		e2.Capacity("gpu_1x_a10", "us-east-1") != e.Capacity("gpu_1x_a10", "us-east-1") {
		t.Fatal("capacity or quota not restored")
	}
	if len(e2.SSHKeys()) != 1 || len(e2.FileSystems()) != 1 {
		t.Fatalf("keys %v, filesystems %v", e2.SSHKeys(), e2.FileSystems())
	}
	// The restored objects still constrain the API: the key name is taken, the filesystem in use.
	c2.fail("POST", "/api/v1/ssh-keys", map[string]string{"name": "k", "public_key": testKey}, 409, "global/duplicate")
	var fs []struct {
		ID      string `json:"id"`
		IsInUse bool   `json:"is_in_use"`
	}
	c2.ok("GET", "/api/v1/file-systems", nil, &fs)
	if len(fs) != 1 || !fs[0].IsInUse {
		t.Fatalf("file systems after restart: %+v", fs)
	}
}

func TestImportStateRefusesBadInput(t *testing.T) {
	e := New(Options{})
	for _, bad := range []string{`not json`, `{"format": 99}`,
		`{"format": 1, "instances": [{"id": "x", "instance_type": "gpu_9x_nope", "region": "us-east-1"}]}`,
		`{"format": 1, "capacity": [{"instance_type": "gpu_1x_a10", "region": "mars-1", "available": 1}]}`} {
		if err := e.ImportState([]byte(bad)); err == nil {
			t.Errorf("ImportState(%s) accepted", bad)
		} else if !strings.HasPrefix(err.Error(), "lambda emulator state") {
			t.Errorf("error %q does not say whose state it is", err)
		}
	}
}
