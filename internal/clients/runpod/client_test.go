package runpod

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/httpx"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

func newTestClient(t *testing.T, f *fakeAPI) *Client {
	t.Helper()
	c, err := NewClient(ClientConfig{
		Endpoint: f.Endpoint(), APIKey: testKey, UserAgent: apifake.UserAgent,
		Limiter: apifake.Unlimited(),
		Tuning:  httpx.Tuning{RetryWaitMin: apifake.RetryWaitMin, RetryWaitMax: apifake.RetryWaitMax, RetryBudget: apifake.RetryBudget},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClientRoutes checks every call's method, path, query and body against the document,
// and that each carries the bearer key and the user agent.
func TestClientRoutes(t *testing.T) {
	f := newFake(t)
	c := newTestClient(t, f)
	ctx := t.Context()
	f.json("GET", "/pods", 200, podsJSON())
	f.json("GET", "/pods/p1", 200, docPodJSON)
	f.json("POST", "/pods", 201, docPodJSON)
	f.json("PATCH", "/pods/p1", 200, docPodJSON)
	f.Handle("DELETE", "/pods/p1", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	f.json("POST", "/pods/p1/action", 200, docPodJSON)
	f.json("GET", "/account/ssh-keys", 200, `{"keys":["`+docKey+`"]}`)
	f.json("PUT", "/account/ssh-keys", 200, `{"keys":[]}`)
	clusterJSON := `{"id":"cl1","name":"pretrain","type":"TRAINING","compute":{"gpuTypeId":"NVIDIA H100 80GB HBM3","gpuCountPerPod":8,"podCount":2},
		"pods":{"total":2,"byStatus":{"RUNNING":2}},"primary":{"podId":"p0","status":"RUNNING","sshEndpoint":"1.2.3.4:22001"},
		"network":{"cidr":"10.65.0.0/16","vxlanId":42},"dataCenterId":"US-TX-3","createdAt":"2026-06-29T20:00:00Z"}`
	f.json("GET", "/clusters", 200, `{"clusters":[`+clusterJSON+`]}`)
	f.json("POST", "/clusters", 201, clusterJSON)
	f.json("GET", "/clusters/cl1", 200, clusterJSON)
	f.json("PATCH", "/clusters/cl1", 200, clusterJSON)
	f.Handle("DELETE", "/clusters/cl1", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	f.json("GET", "/clusters/cl1/pods", 200, podsJSON(podDoc("p0", "RUNNING", nil)))
	volJSON := `{"id":"agv6w2qcg7","name":"my-dataset","size":50,"dataCenter":"EU-RO-1","type":"STANDARD"}`
	f.json("GET", "/network-volumes", 200, `{"networkVolumes":[`+volJSON+`]}`)
	f.json("POST", "/network-volumes", 201, volJSON)
	f.json("GET", "/network-volumes/agv6w2qcg7", 200, volJSON)
	f.json("PATCH", "/network-volumes/agv6w2qcg7", 200, volJSON)
	f.Handle("DELETE", "/network-volumes/agv6w2qcg7", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	f.json("GET", "/catalog/gpus", 200, catalogJSON(gpuDoc("NVIDIA GeForce RTX 4090", "RTX 4090", 24, 0.44, 0.31, 8, map[string]string{"US-KS-2": "HIGH"})))
	f.json("GET", "/catalog/gpus/NVIDIA GeForce RTX 4090", 200, mustJSON(gpuDoc("NVIDIA GeForce RTX 4090", "RTX 4090", 24, 0.44, 0.31, 8, nil)))
	f.json("GET", "/catalog/datacenters", 200, `{"dataCenters":[{"id":"US-KS-2","name":"US Kansas 2","region":"NORTH_AMERICA","globalNetwork":true,
		"networkVolumeTypes":["STANDARD","HIGH_PERFORMANCE"],"compliance":["SOC_2_TYPE_2"],
		"gpuAvailability":[{"id":"NVIDIA GeForce RTX 4090","name":"RTX 4090","availability":"HIGH"}]}]}`)

	type call struct {
		name, method, path, query, body string
		run                             func() error
	}
	name := "renamed"
	size := 100
	calls := []call{
		{"list pods", "GET", "/pods", "", "", func() error { _, err := c.ListPods(ctx, ListPodsOptions{}); return err }},
		{"list pods with cluster pods", "GET", "/pods", "includeClusterPods=true", "", func() error {
			_, err := c.ListPods(ctx, ListPodsOptions{IncludeClusterPods: true})
			return err
		}},
		{"get pod", "GET", "/pods/p1", "", "", func() error { _, err := c.GetPod(ctx, "p1"); return err }},
		{"create pod", "POST", "/pods", "", `{"name":"x","image":"img","gpu":{"id":"NVIDIA GeForce RTX 4090","count":2},"dataCenterIds":["US-KS-2"],"cloud":"SECURE","startSsh":true,"ports":["22/tcp"]}`,
			func() error {
				_, err := c.CreatePod(ctx, CreatePodRequest{
					Name: "x", Image: "img", GPU: &CreateGpuConfig{ID: "NVIDIA GeForce RTX 4090", Count: 2},
					DataCenterIDs: []string{"US-KS-2"}, Cloud: "SECURE", StartSSH: true, Ports: []string{"22/tcp"},
				})
				return err
			}},
		{"update pod with empty env", "PATCH", "/pods/p1", "", `{"name":"renamed","env":{}}`, func() error {
			env := map[string]string{}
			_, err := c.UpdatePod(ctx, "p1", UpdatePodRequest{Name: &name, Env: &env})
			return err
		}},
		{"delete pod", "DELETE", "/pods/p1", "", "", func() error { return c.DeletePod(ctx, "p1") }},
		{"stop pod", "POST", "/pods/p1/action", "", `{"action":"stop"}`, func() error { _, err := c.PodAction(ctx, "p1", ActionStop); return err }},
		{"get ssh keys", "GET", "/account/ssh-keys", "", "", func() error { _, err := c.GetSSHKeys(ctx); return err }},
		{"put no ssh keys", "PUT", "/account/ssh-keys", "", `{"keys":[]}`, func() error { _, err := c.PutSSHKeys(ctx, nil); return err }},
		{"list clusters", "GET", "/clusters", "", "", func() error { _, err := c.ListClusters(ctx); return err }},
		{"create cluster", "POST", "/clusters", "", `{"name":"pretrain","type":"TRAINING","compute":{"gpuTypeId":"NVIDIA H100 80GB HBM3","gpuCountPerPod":8,"podCount":2},"image":"img","startSsh":true}`,
			func() error {
				_, err := c.CreateCluster(ctx, CreateClusterRequest{Name: "pretrain", Type: ClusterTraining, Image: "img", StartSSH: true,
					Compute: ClusterCompute{GPUTypeID: "NVIDIA H100 80GB HBM3", GPUCountPerPod: 8, PodCount: 2}})
				return err
			}},
		{"get cluster", "GET", "/clusters/cl1", "", "", func() error { _, err := c.GetCluster(ctx, "cl1"); return err }},
		{"rename cluster", "PATCH", "/clusters/cl1", "", `{"name":"renamed"}`, func() error { _, err := c.RenameCluster(ctx, "cl1", name); return err }},
		{"delete cluster", "DELETE", "/clusters/cl1", "", "", func() error { return c.DeleteCluster(ctx, "cl1") }},
		{"cluster pods", "GET", "/clusters/cl1/pods", "", "", func() error { _, err := c.ListClusterPods(ctx, "cl1"); return err }},
		{"list volumes", "GET", "/network-volumes", "", "", func() error { _, err := c.ListNetworkVolumes(ctx); return err }},
		{"create volume", "POST", "/network-volumes", "", `{"name":"my-dataset","size":50,"dataCenter":"EU-RO-1"}`, func() error {
			_, err := c.CreateNetworkVolume(ctx, CreateNetworkVolumeRequest{Name: "my-dataset", Size: 50, DataCenter: "EU-RO-1"})
			return err
		}},
		{"get volume", "GET", "/network-volumes/agv6w2qcg7", "", "", func() error { _, err := c.GetNetworkVolume(ctx, "agv6w2qcg7"); return err }},
		{"grow volume", "PATCH", "/network-volumes/agv6w2qcg7", "", `{"size":100}`, func() error {
			_, err := c.UpdateNetworkVolume(ctx, "agv6w2qcg7", UpdateNetworkVolumeRequest{Size: &size})
			return err
		}},
		{"delete volume", "DELETE", "/network-volumes/agv6w2qcg7", "", "", func() error { return c.DeleteNetworkVolume(ctx, "agv6w2qcg7") }},
		{"catalog gpus", "GET", "/catalog/gpus", "cloud=SECURE&count=2&include=AVAILABILITY&product=POD", "", func() error {
			_, err := c.ListGPUTypes(ctx, PodAvailability(2, CloudSecure))
			return err
		}},
		{"catalog gpu", "GET", "/catalog/gpus/NVIDIA GeForce RTX 4090", "", "", func() error {
			_, err := c.GetGPUType(ctx, "NVIDIA GeForce RTX 4090", GPUTypesQuery{})
			return err
		}},
		{"catalog datacenters", "GET", "/catalog/datacenters", "include=GPU_AVAILABILITY", "", func() error {
			_, err := c.ListDataCenters(ctx, DataCentersQuery{GPUAvailability: true})
			return err
		}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			before := f.Total()
			if err := tc.run(); err != nil {
				t.Fatal(err)
			}
			if n := f.Total() - before; n != 1 {
				t.Fatalf("%d requests, want 1", n)
			}
			f.Last().Check(t, apifake.Want{Method: tc.method, Path: tc.path, Query: tc.query, CheckQuery: true,
				Auth: "Bearer " + testKey, UserAgent: apifake.UserAgent, Body: tc.body})
		})
	}
}

// TestDecodeDocumentPod decodes the document's Pod example into the wire type.
func TestDecodeDocumentPod(t *testing.T) {
	f := newFake(t)
	f.json("GET", "/pods/7h9k2m4n6p", 200, docPodJSON)
	p, err := newTestClient(t, f).GetPod(t.Context(), "7h9k2m4n6p")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "7h9k2m4n6p" || p.Status != PodRunning || p.GPU.ID != "NVIDIA GeForce RTX 4090" || p.GPU.Count != 1 ||
		p.DataCenterID != "US-KS-2" || p.Cost != 0.44 || p.Disk != 50 || p.Mounts.Persistent.Size != 20 ||
		p.SSH.Direct.Port != 34446 || p.SSH.Proxy.Username != "7h9k2m4n6p-64411eb2" || p.Runtime.Ports[0].Public != 34446 ||
		p.Env["MODEL_NAME"] != "llama-3" || p.Template != "9x4m2p7v" || p.Registry != nil ||
		!p.CreatedAt.Equal(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)) || p.StartedAt.IsZero() {
		t.Errorf("decoded %+v", p)
	}
}

func TestInvalidIDsAreNotSent(t *testing.T) {
	f := newFake(t)
	c := newTestClient(t, f)
	for _, id := range []string{"", "../account/ssh-keys", "a/b", "p1?x=1"} {
		if _, err := c.GetPod(t.Context(), id); !errors.Is(err, clients.ErrInvalid) {
			t.Errorf("GetPod(%q): %v", id, err)
		}
	}
	if f.Total() != 0 {
		t.Errorf("%d requests sent", f.Total())
	}
}

// TestProblemMapping checks the problem-JSON decoder per status, keeping title and detail.
func TestProblemMapping(t *testing.T) {
	cases := []struct {
		status        int
		title, detail string
		errs          []string
		kind          error
		inMessage     string
	}{
		{404, "Not Found", "pod not found", nil, clients.ErrNotFound, "pod not found"},
		{400, "Bad Request", "There are no longer any instances available with the requested specifications. Please refresh and try again.", nil, clients.ErrCapacity, "no longer any instances"},
		{400, "Bad Request", "This machine does not have the resources to deploy your pod.", nil, clients.ErrCapacity, "resources to deploy"},
		{409, "Conflict", "There are no longer any instances available with the requested specifications.", nil, clients.ErrCapacity, "no longer"},
		{400, "Bad Request", "mounts: persistent and network are mutually exclusive", nil, clients.ErrInvalid, "mutually exclusive"},
		{409, "Conflict", "action stop not valid for status EXITED", nil, clients.ErrConflict, "not valid"},
		{400, "Bad Request", "network volume vol1 is in use by pod(s) p1 and cannot be deleted", nil, clients.ErrConflict, "in use"},
		{401, "Unauthorized", "missing bearer token", nil, clients.ErrAuth, "missing bearer token"},
		{403, "Forbidden", "access denied", nil, clients.ErrAuth, "access denied"},
		{402, "Payment Required", "insufficient balance", nil, clients.ErrQuota, "insufficient balance"},
		{422, "Unprocessable Entity", "Request validation failed.", []string{"$: additional properties 'bogus' not allowed", "$.name: required"}, clients.ErrInvalid,
			"Request validation failed: $: additional properties 'bogus' not allowed; $.name: required"},
	}
	for _, tc := range cases {
		t.Run(tc.title+" "+tc.detail, func(t *testing.T) {
			f := newFake(t)
			f.Handle("GET", "/pods/p1", func(w http.ResponseWriter, _ *http.Request) {
				writeProblem(w, tc.status, tc.title, tc.detail, tc.errs...)
			})
			_, err := newTestClient(t, f).GetPod(t.Context(), "p1")
			if !errors.Is(err, tc.kind) {
				t.Fatalf("error %v is not %v", err, tc.kind)
			}
			var apiErr *clients.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status || apiErr.Code != tc.title || apiErr.Cloud != "runpod" {
				t.Fatalf("error %#v", err)
			}
			if !strings.Contains(err.Error(), tc.inMessage) {
				t.Errorf("message %q lacks %q", err, tc.inMessage)
			}
		})
	}
}

func TestProblemMappingSuggestsWhatToDo(t *testing.T) {
	f := newFake(t)
	f.problem("GET", "/pods/p1", 402, "Payment Required", "insufficient balance: this deployment costs $21.52/hr and the account balance is $3.00")
	_, err := newTestClient(t, f).GetPod(t.Context(), "p1")
	if !errors.Is(err, clients.ErrQuota) || !strings.Contains(err.Error(), "add funds") {
		t.Errorf("402: %v", err)
	}
}

// tooManyRequests is RunPod's 429 for the named window, with a Retry-After of retryAfter
// seconds and, unless empty, a RateLimit header.
func tooManyRequests(retryAfter, rateLimit, window string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", retryAfter)
		if rateLimit != "" {
			w.Header().Set("RateLimit", rateLimit)
		}
		writeProblem(w, 429, "Too Many Requests", "rate limit exceeded for the "+window+" window")
	}
}

// Test429RetryAfter checks that a 429 is retried after the Retry-After the server asked for.
func Test429RetryAfter(t *testing.T) {
	f := newFake(t)
	c := newTestClient(t, f)
	f.Script("GET", "/pods", tooManyRequests("1", `"minute";r=0;t=1, "hour";r=2800;t=1812`, "minute"))
	f.json("GET", "/pods", 200, podsJSON())
	// A deadline, not the test's short retry budget, bounds this call: the 1 s wait fits in it.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := c.ListPods(ctx, ListPodsOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("GET", "/pods"); n != 2 {
		t.Fatalf("%d calls", n)
	}
	if gap := f.Gap(t, "GET", "/pods", 1); gap < 900*time.Millisecond {
		t.Errorf("retried after %s, before the Retry-After of 1 s", gap)
	}
}

// A Retry-After longer than the caller's deadline is not waited out: the 429 comes back at once
// as ErrRateLimited with the wait, and it never means "not found".
func Test429BeyondDeadline(t *testing.T) {
	f := newFake(t)
	c := newTestClient(t, f)
	f.Handle("GET", "/pods/p1", tooManyRequests("60", "", "hour"))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var err error
	apifake.Returns(t, "GetPod", func() { _, err = c.GetPod(ctx, "p1") })
	var apiErr *clients.APIError
	if !errors.Is(err, clients.ErrRateLimited) || clients.IsNotFound(err) || !errors.As(err, &apiErr) || apiErr.RetryAfter != time.Minute {
		t.Fatalf("error %v", err)
	}
	if ctx.Err() != nil {
		t.Error("waited until the deadline, want the 429 back at once")
	}
}
