package lambda

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
	mux.Handle("/_emulator/lambda/", http.StripPrefix("/_emulator/lambda", e.AdminHandler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return func(method, path, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+"/_emulator/lambda"+path, bytes.NewBufferString(body))
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
	e, c := newTestEmulator(t, Options{})
	call := admin(t, e)
	c.addKey("k")

	if code, body := call("PUT", "/capacity", `{"instance_type":"gpu_1x_a10","region":"us-east-1","available":1}`); code != 200 {
		t.Fatalf("PUT /capacity: %d %s", code, body)
	}
	if e.Capacity("gpu_1x_a10", "us-east-1") != 1 {
		t.Fatal("PUT /capacity did not set the cell")
	}
	for _, bad := range []string{`{"instance_type":"nope","region":"us-east-1","available":1}`,
		`{"instance_type":"gpu_1x_a10","region":"nope","available":1}`,
		`{"instance_type":"gpu_1x_a10","region":"us-east-1","available":-1}`, `not json`} {
		if code, _ := call("PUT", "/capacity", bad); code != 400 {
			t.Errorf("PUT /capacity %s: %d, want 400", bad, code)
		}
	}
	code, body := call("GET", "/capacity", "")
	var cells []capacityCell
	if code != 200 || json.Unmarshal(body, &cells) != nil || len(cells) == 0 {
		t.Fatalf("GET /capacity: %d %s", code, body)
	}

	a := c.launch(launchReq("gpu_1x_a10", "us-east-1", "tags", []map[string]string{{"key": "owner", "value": "ci"}}, "user_data", "hello"))
	b := c.launch(launchReq("gpu_1x_a10", "us-west-1"))
	d := c.launch(launchReq("gpu_1x_a10", "us-west-1"))

	if code, body := call("POST", "/instances/"+a+"/unhealthy", ""); code != 204 {
		t.Fatalf("unhealthy: %d %s", code, body)
	}
	if s := c.instance(a).Status; s != StatusUnhealthy {
		t.Fatalf("status %s", s)
	}
	if code, _ := call("POST", "/instances/"+b+"/preempt", ""); code != 204 {
		t.Fatalf("preempt: %d", code)
	}
	if code, _ := call("POST", "/instances/"+b+"/preempt", ""); code != 409 {
		t.Fatalf("second preempt: %d, want 409", code)
	}
	if code, _ := call("DELETE", "/instances/"+d, ""); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := call("DELETE", "/instances/nope", ""); code != 404 {
		t.Fatalf("delete unknown: %d, want 404", code)
	}
	c.fail("GET", "/api/v1/instances/"+d, nil, 404, "global/object-does-not-exist")

	code, body = call("GET", "/instances", "")
	var views []InstanceView
	if code != 200 || json.Unmarshal(body, &views) != nil || len(views) != 3 {
		t.Fatalf("GET /instances: %d %s", code, body)
	}
	if v := views[0]; v.ID != a || v.Status != StatusUnhealthy || v.Tags["owner"] != "ci" || v.UserData != "hello" ||
		v.SSHKeyNames[0] != "k" || v.Created.IsZero() || v.Terminated != nil || v.Gone {
		t.Errorf("view of a: %+v", v)
	}
	if v := views[1]; v.Status != StatusPreempted || v.Terminated == nil || v.Gone {
		t.Errorf("view of b: %+v", v)
	}
	if v := views[2]; !v.Gone || v.Terminated == nil {
		t.Errorf("view of d: %+v", v)
	}
	if live := e.LiveInstances(); len(live) != 1 || live[0].ID != a {
		t.Errorf("live %+v", live)
	}

	if code, _ := call("PUT", "/quota", `{"gpus": 1}`); code != 200 || e.Quota() != 1 {
		t.Fatalf("PUT /quota: %d, quota %d", code, e.Quota())
	}
	if code, _ := call("PUT", "/quota", `{}`); code != 400 {
		t.Fatalf("PUT /quota without gpus: %d", code)
	}
	c.fail("POST", "/api/v1/instance-operations/launch", launchReq("gpu_1x_a10", "us-west-1"), 400, "global/quota-exceeded")

	// The emucore routes are there too.
	if code, body := call("GET", "/stats", ""); code != 200 || !bytes.Contains(body, []byte("POST /api/v1/instance-operations/launch")) {
		t.Fatalf("GET /stats: %d %s", code, body)
	}

	if code, _ := call("POST", "/reset", ""); code != 204 {
		t.Fatalf("reset: %d", code)
	}
	if len(e.Instances()) != 0 || len(e.SSHKeys()) != 0 || e.Quota() != DefaultQuota ||
		e.Capacity("gpu_1x_a10", "us-east-1") != 8 || e.Core.Stats.Total() != 0 {
		t.Fatal("reset did not restore the initial state")
	}
}
