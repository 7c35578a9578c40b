package coreweave

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

func h100Instance() clients.InstanceSpec {
	return clients.InstanceSpec{
		Name: "Finetune 1", GPUType: "H100_80GB_SXM", GPUCount: 8, LaunchToken: "6f1c2a3b-0000-4000-8000-00000000abcd",
		Tags:    map[string]string{"team": "ml"},
		Options: &InstanceOptions{ClusterID: "cl-1", ComputeClass: "spot"},
	}
}

func TestInstancePoolName(t *testing.T) {
	a := instancePoolName("Finetune 1", "tok-a")
	b := instancePoolName("Finetune 1", "tok-b")
	if !strings.HasPrefix(a, "finetune-1-") || len(a) != len("finetune-1-")+8 || a == b {
		t.Errorf("names %q %q", a, b)
	}
	for _, name := range []string{"", "___", strings.Repeat("x", 100), "--a--b--", "ÜBER gpu"} {
		got := instancePoolName(name, "t")
		if !namePattern.MatchString(got) || len(got) > 40 {
			t.Errorf("instancePoolName(%q) = %q", name, got)
		}
	}
	if clients.TokenValue("6f1c2a3b-0000-4000-8000-00000000abcd") != "6f1c2a3b-0000-4000-8000-00000000abcd" ||
		!strings.HasPrefix(clients.TokenValue("Not A Label Value!"), "t-") {
		t.Error("launch token values")
	}
}

func TestCreateInstanceIsAOneNodePool(t *testing.T) {
	f, c := newRunningCloud(t)
	inst, err := c.CreateInstance(t.Context(), h100Instance())
	if err != nil {
		t.Fatal(err)
	}
	name := instancePoolName("Finetune 1", "6f1c2a3b-0000-4000-8000-00000000abcd")
	posts := f.Requests("POST", poolsPath("cl-1"))
	if len(posts) != 1 {
		t.Fatalf("%d pool creates", len(posts))
	}
	assertJSON(t, posts[0].Body, `{
		"apiVersion": "compute.coreweave.com/v1alpha1", "kind": "NodePool",
		"metadata": {"name": "`+name+`",
			"labels": {"team": "ml", "app.kubernetes.io/managed-by": "terraform-provider-neocloud",
				"terraform-provider-neocloud/role": "instance",
				"terraform-provider-neocloud/launch-token": "6f1c2a3b-0000-4000-8000-00000000abcd"},
			"annotations": {"terraform-provider-neocloud/name": "Finetune 1"}},
		"spec": {"instanceType": "gd-8xh100ib-i128", "targetNodes": 1, "computeClass": "Spot"}}`)
	if inst.ID != "cl-1/"+name || inst.Name != "Finetune 1" || inst.Region != "US-EAST-04A" || inst.Status != clients.StatusPending ||
		inst.InstanceType != "gd-8xh100ib-i128" || inst.GPUType != "H100_80GB_SXM" || inst.GPUCount != 8 || inst.PricePerHour != 49.24 ||
		inst.Tags["team"] != "ml" || len(inst.Tags) != 1 || opts(inst.Options).ClusterID != "cl-1" || inst.Ready || inst.SSHHost != "" {
		t.Errorf("instance %+v", inst)
	}
}

func TestCreateInstanceLostAnswerIsAdopted(t *testing.T) {
	f := newFake(t)
	runningCluster(f)
	f.Script("POST", poolsPath("cl-1"), apifake.Lost(f.kube(f.createPool)))
	c := newTestCloud(t, f)
	inst, err := c.CreateInstance(t.Context(), h100Instance())
	if err != nil {
		t.Fatal(err)
	}
	if f.Count("POST", poolsPath("cl-1")) != 2 || len(f.pools["cl-1"]) != 1 || !strings.HasPrefix(inst.ID, "cl-1/finetune-1-") {
		t.Errorf("posts %d, pools %d, instance %s", f.Count("POST", poolsPath("cl-1")), len(f.pools["cl-1"]), inst.ID)
	}

	// A pool of that name made by another launch is not adopted.
	spec := h100Instance()
	f.mu.Lock()
	for _, p := range f.pools["cl-1"] {
		jsonObj(jsonObj(p, "metadata"), "labels")["terraform-provider-neocloud/launch-token"] = "someone-else"
	}
	f.mu.Unlock()
	if _, err := c.CreateInstance(t.Context(), spec); !clients.IsConflict(err) {
		t.Errorf("foreign pool: %v", err)
	}
}

func TestCreateInstanceChecksTheCluster(t *testing.T) {
	f, c := newRunningCloud(t)
	spec := h100Instance()
	opts(spec.Options).ClusterID = "cl-missing"
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("missing cluster: %v", err)
	}
	spec = h100Instance()
	spec.Region = "RNO2A"
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) || !strings.Contains(err.Error(), "US-EAST-04A") {
		t.Errorf("other zone: %v", err)
	}
	spec = h100Instance()
	spec.MaxPricePerHour = 40
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("price cap: %v", err)
	}
	f.setClusterStatus("cl-1", "STATUS_FAILED")
	if _, err := c.CreateInstance(t.Context(), h100Instance()); !clients.IsConflict(err) {
		t.Errorf("failed cluster: %v", err)
	}
	f.WantCount(t, "POST", poolsPath("cl-1"), 0, "pool creates")
}

func TestCreateInstanceWaitsForACreatingCluster(t *testing.T) {
	f := newFake(t)
	runningCluster(f)
	f.setClusterStatus("cl-1", "STATUS_CREATING")
	gets := 0
	f.before = func(_ http.ResponseWriter, r *http.Request, _ []byte) bool {
		if r.Method == "GET" && r.URL.Path == "/v1beta1/cks/clusters/cl-1" {
			if gets++; gets == 3 {
				f.setClusterStatus("cl-1", "STATUS_RUNNING")
			}
		}
		return false
	}
	c := newTestCloud(t, f)
	if _, err := c.CreateInstance(t.Context(), h100Instance()); err != nil {
		t.Fatal(err)
	}
	if f.Count("POST", poolsPath("cl-1")) != 1 || gets < 3 {
		t.Errorf("gets %d", gets)
	}
}

func TestGetInstanceStatuses(t *testing.T) {
	f, c := newRunningCloud(t)
	created := apifake.MustCreate(t, c.CreateInstance, h100Instance())
	_, pool, _ := strings.Cut(created.ID, "/")

	inst, err := c.GetInstance(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Status != clients.StatusPending || inst.NativeStatus != "Provisioning" || inst.Ready || inst.Name != "Finetune 1" ||
		inst.CreatedAt.IsZero() || inst.Tags["team"] != "ml" || opts(inst.Options).ComputeClass != "spot" {
		t.Errorf("provisioning: %+v", inst)
	}

	f.setPoolStatus("cl-1", pool, 0, map[string]any{"type": "CapacityAvailable", "status": "False",
		"reason": "InsufficientCapacity", "message": "no free gd-8xh100ib-i128 nodes in US-EAST-04A"})
	if inst, _ = c.GetInstance(t.Context(), created.ID); inst.Status != clients.StatusError || inst.NativeStatus != "InsufficientCapacity" {
		t.Errorf("no capacity: %s %s", inst.Status, inst.NativeStatus)
	}

	f.addNode(pool, "g1-"+pool+"-0", false, "10.0.0.30", "")
	if inst, _ = c.GetInstance(t.Context(), created.ID); inst.Status != clients.StatusPending || inst.Ready || inst.PrivateIP != "10.0.0.30" {
		t.Errorf("joining: %+v", inst)
	}
	f.mu.Lock()
	f.nodes["cl-1"] = nil
	f.mu.Unlock()
	f.addNode(pool, "g1-"+pool+"-0", true, "10.0.0.30", "166.19.0.9")
	inst, err = c.GetInstance(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Status != clients.StatusRunning || !inst.Ready || inst.PublicIP != "166.19.0.9" || inst.PrivateIP != "10.0.0.30" ||
		inst.SSHHost != "" || inst.SSHPort != 0 {
		t.Errorf("ready: %+v", inst)
	}

	// The cluster being deleted takes the pool along; once it is gone, so is the instance.
	f.setClusterStatus("cl-1", "STATUS_DELETING")
	c.clusters.Invalidate()
	if inst, err = c.GetInstance(t.Context(), created.ID); err != nil || inst.Status != clients.StatusTerminating {
		t.Errorf("cluster deleting: %+v %v", inst, err)
	}
	f.mu.Lock()
	delete(f.clusters, "cl-1")
	f.mu.Unlock()
	c.clusters.Invalidate()
	if _, err = c.GetInstance(t.Context(), created.ID); !clients.IsNotFound(err) {
		t.Errorf("cluster gone: %v", err)
	}
}

func TestGetInstanceNotFoundOnlyForAMissingPool(t *testing.T) {
	f, c := newRunningCloud(t)
	if _, err := c.GetInstance(t.Context(), "cl-1/nothing-here"); !clients.IsNotFound(err) {
		t.Errorf("missing pool: %v", err)
	}
	// A 404 that does not name the pool (the API server does not serve NodePools at all, or
	// a proxy in front of it) must not read as "gone".
	f.before = func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if strings.Contains(r.URL.Path, "/nodepools/") {
			kubeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource", map[string]any{})
			return true
		}
		return false
	}
	_, err := c.GetInstance(t.Context(), "cl-1/nothing-here")
	if clients.IsNotFound(err) || !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("unserved path: %v", err)
	}
	if _, err := c.GetInstance(t.Context(), "not-an-id"); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("bad id: %v", err)
	}
}

func TestDeleteInstanceIsIdempotent(t *testing.T) {
	f, c := newRunningCloud(t)
	created := apifake.MustCreate(t, c.CreateInstance, h100Instance())
	for range 2 {
		if err := c.DeleteInstance(t.Context(), created.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.WantCount(t, "DELETE", poolsPath("cl-1")+"/"+strings.TrimPrefix(created.ID, "cl-1/"), 2, "deletes")
	var opts map[string]any
	if err := json.Unmarshal(f.Requests("DELETE", poolsPath("cl-1")+"/"+strings.TrimPrefix(created.ID, "cl-1/"))[0].Body, &opts); err == nil &&
		opts["propagationPolicy"] != "Background" {
		t.Errorf("delete options %v", opts)
	}
	if _, err := c.GetInstance(t.Context(), created.ID); !clients.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
	// A cluster that is gone took the instance with it.
	if err := c.DeleteInstance(t.Context(), "cl-gone/pool-1"); err != nil {
		t.Errorf("gone cluster: %v", err)
	}
}

func TestUpdateInstanceUnsupported(t *testing.T) {
	_, c := newFakeCloud(t)
	name := "x"
	if _, err := c.UpdateInstance(t.Context(), "cl-1/p", clients.InstanceUpdate{Name: &name}); !errors.Is(err, clients.ErrUnsupported) {
		t.Errorf("update: %v", err)
	}
}

func TestValidateInstanceSpec(t *testing.T) {
	c := newTestCloud(t, newFake(t))
	if errs := c.ValidateInstanceSpec(h100Instance()); len(errs) != 0 {
		t.Fatalf("valid spec: %+v", errs)
	}
	spec := clients.InstanceSpec{
		Name: "x", GPUType: "H100_80GB_SXM", GPUCount: 8, SSHKeyIDs: []string{"key-1"}, UserData: "#cloud-config", Image: "ubuntu",
		DesiredState: clients.DesiredStopped, Tags: map[string]string{"bad key!": "v", "terraform-provider-neocloud/role": "x"},
	}
	got := map[string]clients.FieldError{}
	for _, e := range c.ValidateInstanceSpec(spec) {
		got[e.Field] = e
	}
	for _, field := range []string{"coreweave.cluster_id", "ssh_key_ids", "user_data", "image", "desired_state", "tags"} {
		if _, ok := got[field]; !ok {
			t.Errorf("no error for %s: %+v", field, got)
		}
	}
	if e := got["coreweave.cluster_id"]; !strings.Contains(e.Detail, "cluster_id") {
		t.Errorf("cluster id error %+v", e)
	}
	if e := got["ssh_key_ids"]; !strings.Contains(e.Detail, "Kubernetes") {
		t.Errorf("ssh key error %+v", e)
	}
	rack := h100Instance()
	rack.GPUType, rack.GPUCount = "gb200-4x", 4
	if errs := c.ValidateInstanceSpec(rack); len(errs) != 1 || errs[0].Field != "gpu_type" {
		t.Errorf("rack-scale instance: %+v", errs)
	}
	// CreateInstance refuses the same before calling anything.
	f := newFake(t)
	c = newTestCloud(t, f)
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) || len(f.Sequence("/")) != 0 {
		t.Errorf("create: %v", err)
	}
}

func TestInstanceStatusFromClusterWhenAPIServerDown(t *testing.T) {
	f, c := newRunningCloud(t)
	created := apifake.MustCreate(t, c.CreateInstance, h100Instance())
	f.setClusterStatus("cl-1", "STATUS_FAILED")
	c.clusters.Invalidate()
	inst, err := c.GetInstance(t.Context(), created.ID)
	if err != nil || inst.Status != clients.StatusError || !inst.Failed() {
		t.Errorf("failed cluster: %+v %v", inst, err)
	}
	// Running per the platform, but the API server does not answer: a transient error the
	// caller sees as such (never "not found").
	f.setClusterStatus("cl-1", "STATUS_RUNNING")
	c.clusters.Invalidate()
	f.kubeDown("unavailable")
	apifake.Returns(t, "GetInstance with the API server down", func() { _, err = c.GetInstance(t.Context(), created.ID) })
	if err == nil || clients.IsNotFound(err) || !IsAPIServerUnavailable(err) {
		t.Errorf("API server down: %v", err)
	}
}

func TestReadsShareListCalls(t *testing.T) {
	f, c := newRunningCloud(t)
	c.clusterTTL, c.kubeTTL = time.Minute, time.Minute
	var ids []string
	for i := range 20 {
		spec := h100Instance()
		spec.LaunchToken = "token-" + strconv.Itoa(i)
		inst, err := c.CreateInstance(t.Context(), spec)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, inst.ID)
	}
	before := len(f.Sequence("/"))
	errs := apifake.Concurrently(len(ids), func(i int) error {
		_, err := c.GetInstance(t.Context(), ids[i])
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	// One cluster list, one NodePool list, one Node list for twenty reads.
	if n := len(f.Sequence("/")) - before; n > 3 {
		t.Errorf("%d calls for %d reads: %v", n, len(ids), f.Sequence("/")[before:])
	}
}
