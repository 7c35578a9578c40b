package lambda

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitStatus polls GET /instances/{id} until the instance reports want, recording each status
// seen on the way, and fails after timeout.
func waitStatus(t *testing.T, c *client, id, want string, timeout time.Duration) (wireInstance, []string) {
	t.Helper()
	var seen []string
	deadline := time.Now().Add(timeout)
	for {
		in := c.instance(id)
		if len(seen) == 0 || seen[len(seen)-1] != in.Status {
			seen = append(seen, in.Status)
		}
		if in.Status == want {
			return in, seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s still %s after %v (saw %v), want %s", id, in.Status, timeout, seen, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLifecycleInRealTime(t *testing.T) {
	// Scale 0.005: booting 450 ms, terminating 100 ms, then listed as terminated for 300 ms.
	_, c := newTestEmulator(t, Options{TimeScale: 0.005})
	c.addKey("k")
	id := c.launch(launchReq("gpu_1x_h100_sxm5", "us-east-1", "name", "trainer"))

	in := c.instance(id)
	if in.Status != StatusBooting || in.IP != "" || in.PrivateIP != "" || in.JupyterURL != "" {
		t.Fatalf("right after launch: status %s ip %q private %q jupyter %q; want booting with no addresses",
			in.Status, in.IP, in.PrivateIP, in.JupyterURL)
	}
	if in.Actions["restart"].Available || in.Actions["restart"].ReasonCode != "vm-has-not-launched" || !in.Actions["terminate"].Available {
		t.Fatalf("booting actions: %+v", in.Actions)
	}

	in, _ = waitStatus(t, c, id, StatusActive, 3*time.Second)
	if in.IP == "" || in.PrivateIP == "" || in.Hostname != strings.ReplaceAll(in.IP, ".", "-") || in.JupyterToken == "" ||
		!strings.Contains(in.JupyterURL, in.JupyterToken) {
		t.Fatalf("active instance lacks addresses: %+v", in)
	}

	var renamed wireInstance
	c.ok("POST", "/api/v1/instances/"+id, map[string]string{"name": "renamed"}, &renamed)
	if renamed.Name != "renamed" || c.instance(id).Name != "renamed" {
		t.Fatalf("rename did not stick: %q", renamed.Name)
	}

	var term struct {
		TerminatedInstances []wireInstance `json:"terminated_instances"`
	}
	c.ok("POST", "/api/v1/instance-operations/terminate", map[string][]string{"instance_ids": {id}}, &term)
	if len(term.TerminatedInstances) != 1 || term.TerminatedInstances[0].Status != StatusTerminating {
		t.Fatalf("terminate answered %+v", term.TerminatedInstances)
	}
	_, seen := waitStatus(t, c, id, StatusTerminated, 3*time.Second)
	if seen[0] != StatusTerminating {
		t.Fatalf("statuses after terminate: %v, want terminating first", seen)
	}

	deadline := time.Now().Add(3 * time.Second)
	for c.do("GET", "/api/v1/instances/"+id, nil).status != http.StatusNotFound {
		if time.Now().After(deadline) {
			t.Fatal("terminated instance never vanished")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.fail("GET", "/api/v1/instances/"+id, nil, 404, "global/object-does-not-exist")
	var list []wireInstance
	c.ok("GET", "/api/v1/instances", nil, &list)
	if len(list) != 0 {
		t.Fatalf("vanished instance still listed: %+v", list)
	}
}

func TestLifecycleOnAFakeClock(t *testing.T) {
	e, c, clk := newClockedEmulator(t)
	c.addKey("k")
	id := c.launch(launchReq("gpu_1x_a10", "us-east-1", "hostname", "trainer-1"))
	if in := c.instance(id); in.Status != StatusBooting || in.Hostname != "trainer-1" || in.IP != "" {
		t.Fatalf("booting: %+v", in)
	}
	clk.Advance(89 * time.Second)
	if s := c.instance(id).Status; s != StatusBooting {
		t.Fatalf("at 89s: %s", s)
	}
	clk.Advance(time.Second)
	in := c.instance(id)
	if in.Status != StatusActive || in.IP == "" || in.Hostname != "trainer-1" {
		t.Fatalf("at 90s: %+v", in)
	}
	ip := in.IP

	// Restart: booting again for a third of the boot time, keeping the address.
	var rs struct {
		RestartedInstances []wireInstance `json:"restarted_instances"`
	}
	c.ok("POST", "/api/v1/instance-operations/restart", map[string][]string{"instance_ids": {id}}, &rs)
	if len(rs.RestartedInstances) != 1 || rs.RestartedInstances[0].Status != StatusBooting || rs.RestartedInstances[0].IP != ip {
		t.Fatalf("restart answered %+v", rs.RestartedInstances)
	}
	clk.Advance(30 * time.Second)
	if s := c.instance(id).Status; s != StatusActive {
		t.Fatalf("30s after restart: %s", s)
	}

	// Unhealthy until restarted.
	if err := e.MarkUnhealthy(id); err != nil {
		t.Fatal(err)
	}
	if s := c.instance(id).Status; s != StatusUnhealthy {
		t.Fatalf("after MarkUnhealthy: %s", s)
	}
	c.ok("POST", "/api/v1/instance-operations/restart", map[string][]string{"instance_ids": {id}}, nil)
	clk.Advance(30 * time.Second)
	if s := c.instance(id).Status; s != StatusActive {
		t.Fatalf("restart did not heal: %s", s)
	}

	// Terminate: terminating 20 s, terminated 60 s more, then gone.
	c.ok("POST", "/api/v1/instance-operations/terminate", map[string][]string{"instance_ids": {id}}, nil)
	c.fail("POST", "/api/v1/instance-operations/restart", map[string][]string{"instance_ids": {id}}, 400, "global/invalid-parameters")
	if in := c.instance(id); in.Status != StatusTerminating || in.Actions["terminate"].ReasonCode != "vm-is-terminating" {
		t.Fatalf("after terminate: %+v", in)
	}
	clk.Advance(20 * time.Second)
	if s := c.instance(id).Status; s != StatusTerminated {
		t.Fatalf("20s after terminate: %s", s)
	}
	// A second terminate is accepted and changes nothing.
	c.ok("POST", "/api/v1/instance-operations/terminate", map[string][]string{"instance_ids": {id}}, nil)
	clk.Advance(60 * time.Second)
	c.fail("GET", "/api/v1/instances/"+id, nil, 404, "global/object-does-not-exist")
	c.fail("POST", "/api/v1/instance-operations/terminate", map[string][]string{"instance_ids": {id}}, 404, "global/object-does-not-exist")

	views := e.Instances()
	if len(views) != 1 || !views[0].Gone || views[0].Status != StatusTerminated || views[0].Terminated == nil {
		t.Fatalf("admin view of a vanished instance: %+v", views)
	}
}

func TestInstanceWireShape(t *testing.T) {
	_, c, clk := newClockedEmulator(t)
	c.addKey("k")
	c.ok("POST", "/api/v1/filesystems", map[string]string{"name": "data", "region": "us-east-1"}, nil)
	id := c.launch(launchReq("gpu_8x_h100_sxm5", "us-east-1",
		"file_system_names", []string{"data"},
		"tags", []map[string]string{{"key": "team", "value": "ml"}},
		"user_data", "#cloud-config\n"))
	clk.Advance(2 * time.Minute)
	res := c.do("GET", "/api/v1/instances/"+id, nil)
	for _, field := range []string{`"private_ip"`, `"ssh_key_names":["k"]`, `"file_system_names":["data"]`,
		`"file_system_mounts":[{"mount_point":"/lambda/nfs/data"`, `"region":{"name":"us-east-1","description":"Virginia, USA"}`,
		`"price_cents_per_hour":2392`, `"gpu_description":"H100 (80 GB SXM5)"`, `"specs":{"vcpus":208`, `"cold_reboot":{"available":true}`,
		`"tags":[{"key":"team","value":"ml"}]`, `"firewall_rulesets":[]`} {
		if !strings.Contains(string(res.body), field) {
			t.Errorf("instance JSON lacks %s: %s", field, res.body)
		}
	}
	// Fields the document marks optional are left out, not null, when there is nothing.
	id2 := c.launch(launchReq("gpu_1x_a10", "us-east-1"))
	var fields map[string]json.RawMessage
	c.ok("GET", "/api/v1/instances/"+id2, nil, &fields)
	for _, field := range []string{"ip", "private_ip", "name", "hostname", "jupyter_url", "jupyter_token", "file_system_mounts"} {
		if v, ok := fields[field]; ok {
			t.Errorf("booting unnamed instance JSON has %s: %s", field, v)
		}
	}
}

func TestLaunchValidation(t *testing.T) {
	e, c := newTestEmulator(t, Options{})
	c.addKey("k")
	c.addKey("k2")
	launch := "/api/v1/instance-operations/launch"
	bad := func(req map[string]any, status int, code, wantInMessage string) {
		t.Helper()
		e := c.fail("POST", launch, req, status, code)
		if !strings.Contains(e.Message, wantInMessage) {
			t.Errorf("message %q lacks %q", e.Message, wantInMessage)
		}
	}
	bad(map[string]any{"region_name": "us-east-1", "ssh_key_names": []string{"k"}}, 400, "global/invalid-parameters", "instance_type_name")
	bad(launchReq("gpu_1x_a10", "mars-1"), 400, "global/invalid-parameters", "mars-1")
	bad(launchReq("gpu_1x_a10", "us-east-1", "ssh_key_names", []string{}), 400, "global/invalid-parameters", "exactly one")
	bad(launchReq("gpu_1x_a10", "us-east-1", "ssh_key_names", []string{"k", "k2"}), 400, "global/invalid-parameters", "exactly one")
	bad(launchReq("gpu_1x_a10", "us-east-1", "name", strings.Repeat("n", 65)), 400, "global/invalid-parameters", "64")
	bad(launchReq("gpu_1x_a10", "us-east-1", "user_data", strings.Repeat("x", 1<<20+1)), 400, "global/invalid-parameters", "1MB")
	bad(launchReq("gpu_1x_a10", "us-east-1", "hostname", "not a host"), 400, "global/invalid-parameters", "hostname")
	bad(launchReq("gpu_1x_a10", "us-east-1", "tags", []map[string]string{{"key": "", "value": "x"}}), 400, "global/invalid-parameters", "tag")
	bad(launchReq("gpu_1x_a10", "us-east-1", "image", map[string]string{"id": "a", "family": "b"}), 400, "global/invalid-parameters", "image")
	bad(launchReq("gpu_9x_imaginary", "us-east-1"), 404, "global/object-does-not-exist", "gpu_9x_imaginary")
	bad(launchReq("gpu_1x_a10", "us-east-1", "ssh_key_names", []string{"missing"}), 404, "global/object-does-not-exist", "missing")
	bad(launchReq("gpu_1x_a10", "us-east-1", "file_system_names", []string{"nofs"}), 404, "global/object-does-not-exist", "nofs")
	bad(launchReq("gpu_1x_a10", "us-east-1", "image", map[string]string{"family": "windows-95"}), 404, "global/object-does-not-exist", "windows-95")
	bad(launchReq("gpu_1x_a10", "us-east-1", "firewall_rulesets", []map[string]string{{"id": "nope"}}), 404, "global/object-does-not-exist", "nope")
	if res := c.do("POST", launch, nil); res.status != 400 {
		t.Errorf("empty body: %d", res.status)
	}
	if res := c.request("POST", launch, nil, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+c.key)
		r.Body = http.NoBody
	}); res.status != 400 {
		t.Errorf("no body: %d", res.status)
	}
	if n := len(e.Instances()); n != 0 || e.Capacity("gpu_1x_a10", "us-east-1") != 8 {
		t.Fatalf("refused launches left %d instances or took capacity", n)
	}
	// A name of exactly 64 characters and 1 MB of user data are fine.
	c.launch(launchReq("gpu_1x_a10", "us-east-1", "name", strings.Repeat("n", 64), "user_data", strings.Repeat("x", 1<<20)))
}

func TestLaunchImages(t *testing.T) {
	e, c := newTestEmulator(t, Options{})
	c.addKey("k")
	var imgs []struct {
		ID, Family, Architecture string
		Region                   struct{ Name string }
	}
	c.ok("GET", "/api/v1/images", nil, &imgs)
	var x86East, x86West, armEast string
	for _, img := range imgs {
		switch {
		case img.Family == "lambda-stack-24-04" && img.Architecture == "x86_64" && img.Region.Name == "us-east-1":
			x86East = img.ID
		case img.Family == "lambda-stack-24-04" && img.Architecture == "x86_64" && img.Region.Name == "us-west-1":
			x86West = img.ID
		case img.Family == "lambda-stack-24-04" && img.Architecture == "arm64" && img.Region.Name == "us-east-1":
			armEast = img.ID
		}
	}
	if x86East == "" || x86West == "" || armEast == "" {
		t.Fatalf("images list lacks lambda-stack-24-04 per region and architecture (%d images)", len(imgs))
	}
	c.launch(launchReq("gpu_1x_a10", "us-east-1", "image", map[string]string{"id": x86East}))
	c.launch(launchReq("gpu_1x_gh200", "us-east-1", "image", map[string]string{"family": "lambda-stack-24-04"}))
	c.fail("POST", "/api/v1/instance-operations/launch", launchReq("gpu_1x_a10", "us-east-1", "image", map[string]string{"id": x86West}), 400, "global/invalid-parameters")
	c.fail("POST", "/api/v1/instance-operations/launch", launchReq("gpu_1x_gh200", "us-east-1", "image", map[string]string{"id": x86East}), 400, "global/invalid-parameters")
	c.fail("POST", "/api/v1/instance-operations/launch", launchReq("gpu_1x_gh200", "us-east-1", "image", map[string]string{"family": "ubuntu-22-04"}), 400, "global/invalid-parameters")
	views := e.Instances()
	if views[0].Image != x86East || views[1].Image != "lambda-stack-24-04" {
		t.Fatalf("admin view images: %q %q", views[0].Image, views[1].Image)
	}
}

func TestCapacityExhaustion(t *testing.T) {
	e, c := newTestEmulator(t, Options{})
	c.addKey("k")
	e.SetCapacity("gpu_8x_h100_sxm5", "us-west-1", 1)
	id := c.launch(launchReq("gpu_8x_h100_sxm5", "us-west-1"))
	if e.Capacity("gpu_8x_h100_sxm5", "us-west-1") != 0 {
		t.Fatal("launch did not take a machine")
	}
	ce := c.fail("POST", "/api/v1/instance-operations/launch", launchReq("gpu_8x_h100_sxm5", "us-west-1"),
		400, "instance-operations/launch/insufficient-capacity")
	if ce.Message != "Not enough capacity to fulfill launch request." || ce.Suggestion == "" {
		t.Fatalf("capacity error %+v", ce)
	}
	// Regions with no machines of a type at all answer the same.
	c.fail("POST", "/api/v1/instance-operations/launch", launchReq("gpu_8x_h100_sxm5", "asia-south-1"),
		400, "instance-operations/launch/insufficient-capacity")
	// A terminate gives the machine back at once.
	c.ok("POST", "/api/v1/instance-operations/terminate", map[string][]string{"instance_ids": {id}}, nil)
	if e.Capacity("gpu_8x_h100_sxm5", "us-west-1") != 1 {
		t.Fatal("terminate did not give the machine back")
	}
	c.launch(launchReq("gpu_8x_h100_sxm5", "us-west-1"))
}

func TestInstanceTypesFollowCapacity(t *testing.T) {
	e, c := newTestEmulator(t, Options{})
	type item struct {
		InstanceType struct {
			Name              string `json:"name"`
			Description       string `json:"description"`
			GPUDescription    string `json:"gpu_description"`
			PriceCentsPerHour int    `json:"price_cents_per_hour"`
			Specs             struct {
				GPUs int `json:"gpus"`
			} `json:"specs"`
		} `json:"instance_type"`
		Regions []struct {
			Name, Description string
		} `json:"regions_with_capacity_available"`
	}
	read := func() map[string]item {
		var out map[string]item
		c.ok("GET", "/api/v1/instance-types", nil, &out)
		return out
	}
	types := read()
	prices := map[string]int{"gpu_1x_a10": 75, "gpu_1x_a6000": 80, "gpu_1x_a100": 129, "gpu_1x_a100_sxm4": 129,
		"gpu_8x_a100_80gb_sxm4": 1432, "gpu_1x_h100_pcie": 249, "gpu_1x_h100_sxm5": 329, "gpu_8x_h100_sxm5": 2392,
		"gpu_1x_gh200": 149, "gpu_8x_b200_sxm6": 3992}
	for name, cents := range prices {
		if it, ok := types[name]; !ok || it.InstanceType.Name != name || it.InstanceType.PriceCentsPerHour != cents {
			t.Errorf("%s: %+v, want %d cents", name, it.InstanceType, cents)
		}
	}
	for _, name := range []string{"gpu_2x_a6000", "gpu_4x_a6000", "gpu_2x_a100", "gpu_4x_a100", "gpu_8x_a100",
		"gpu_2x_h100_sxm5", "gpu_4x_h100_sxm5", "gpu_1x_b200_sxm6", "gpu_8x_v100"} {
		if _, ok := types[name]; !ok {
			t.Errorf("catalog lacks %s", name)
		}
	}
	h100 := types["gpu_8x_h100_sxm5"]
	var names []string
	for _, r := range h100.Regions {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "us-east-1,us-south-1,us-west-1" || h100.Regions[0].Description != "Virginia, USA" {
		t.Fatalf("gpu_8x_h100_sxm5 regions: %+v", h100.Regions)
	}
	e.SetCapacity("gpu_8x_h100_sxm5", "us-east-1", 0)
	e.SetCapacity("gpu_8x_h100_sxm5", "europe-central-1", 3)
	names = nil
	for _, r := range read()["gpu_8x_h100_sxm5"].Regions {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "europe-central-1,us-south-1,us-west-1" {
		t.Fatalf("regions after SetCapacity: %v", names)
	}
	// A type with no machines anywhere still appears, with an empty list (not null).
	e.SetCapacity("gpu_8x_v100", "us-south-1", 0)
	res := c.do("GET", "/api/v1/instance-types", nil)
	if !strings.Contains(string(res.body), `"regions_with_capacity_available":[]`) {
		t.Fatal("a type without capacity should list no regions as []")
	}
}

func TestQuota(t *testing.T) {
	e, c := newTestEmulator(t, Options{Quota: 9})
	c.addKey("k")
	big := c.launch(launchReq("gpu_8x_h100_sxm5", "us-east-1"))
	c.launch(launchReq("gpu_1x_a10", "us-east-1"))
	qe := c.fail("POST", "/api/v1/instance-operations/launch", launchReq("gpu_1x_a10", "us-east-1"), 400, "global/quota-exceeded")
	if qe.Message != "Quota exceeded." || qe.Suggestion != "Contact Support to increase your quota." {
		t.Fatalf("quota error %+v", qe)
	}
	if e.Capacity("gpu_1x_a10", "us-east-1") != 7 {
		t.Fatal("a refused launch took a machine")
	}
	// Terminating frees the GPUs at once; SetQuota moves the ceiling.
	c.ok("POST", "/api/v1/instance-operations/terminate", map[string][]string{"instance_ids": {big}}, nil)
	c.launch(launchReq("gpu_4x_h100_sxm5", "us-east-1"))
	e.SetQuota(5)
	c.fail("POST", "/api/v1/instance-operations/launch", launchReq("gpu_1x_a10", "us-east-1"), 400, "global/quota-exceeded")
}

func TestPreemptAndOutOfBandDelete(t *testing.T) {
	e, c, clk := newClockedEmulator(t)
	c.addKey("k")
	a := c.launch(launchReq("gpu_1x_a10", "us-west-1"))
	b := c.launch(launchReq("gpu_1x_a10", "us-west-1"))
	clk.Advance(2 * time.Minute)
	if e.Capacity("gpu_1x_a10", "us-west-1") != 4 {
		t.Fatal("launches did not take machines")
	}
	if err := e.Preempt(a); err != nil {
		t.Fatal(err)
	}
	if in := c.instance(a); in.Status != StatusPreempted || in.Actions["restart"].Available {
		t.Fatalf("preempted: %+v", in)
	}
	if err := e.Preempt(a); err == nil {
		t.Fatal("preempting a preempted instance should fail")
	}
	if err := e.DeleteOutOfBand(b); err != nil {
		t.Fatal(err)
	}
	c.fail("GET", "/api/v1/instances/"+b, nil, 404, "global/object-does-not-exist")
	if e.Capacity("gpu_1x_a10", "us-west-1") != 6 {
		t.Fatal("preemption and deletion should give the machines back")
	}
	if live := e.LiveInstances(); len(live) != 0 {
		t.Fatalf("live instances: %+v", live)
	}
	clk.Advance(time.Minute)
	c.fail("GET", "/api/v1/instances/"+a, nil, 404, "global/object-does-not-exist")
	if err := e.DeleteOutOfBand("nope"); err == nil {
		t.Fatal("deleting an unknown instance should fail")
	}
}

func TestInstanceNotFound(t *testing.T) {
	_, c := newTestEmulator(t, Options{})
	for _, req := range []struct{ method, path string }{{"GET", "/api/v1/instances/abc"}, {"POST", "/api/v1/instances/abc"}} {
		e := c.fail(req.method, req.path, map[string]string{"name": "x"}, 404, "global/object-does-not-exist")
		if e.Message != "Specified instance does not exist." {
			t.Errorf("%s %s: %q", req.method, req.path, e.Message)
		}
	}
	c.fail("POST", "/api/v1/instance-operations/terminate", map[string][]string{"instance_ids": {}}, 400, "global/invalid-parameters")
	c.fail("POST", "/api/v1/instance-operations/restart", map[string][]string{"instance_ids": {"abc"}}, 404, "global/object-does-not-exist")
	c.fail("POST", "/api/v1/instances/abc", map[string]string{"name": strings.Repeat("n", 65)}, 400, "global/invalid-parameters")
}
