package runpod

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// The registration's fields are checked with the other clouds' (internal/clients/all); without
// a key the registered factory names the variable to set.
func TestRegisteredFactoryWithoutKey(t *testing.T) {
	info, _ := clients.Lookup("runpod")
	if _, err := info.New(clients.Settings{}); !errors.Is(err, clients.ErrAuth) || !strings.Contains(err.Error(), "RUNPOD_API_KEY") {
		t.Errorf("no key: %v", err)
	}
}

// The data centers come from GET /catalog/datacenters, read once per adapter (one provider
// process) however many callers ask at once; a failed read is tried again by the next caller.
// A data center the adapter has never heard of is a region like any other.
func TestListRegionsFromTheCatalogOnce(t *testing.T) {
	f, c := newFakeCloud(t)
	if r := c.Regions(); len(r) != 0 {
		t.Fatalf("regions %v before any read: the adapter keeps no list of its own", r)
	}
	f.problem("GET", "/catalog/datacenters", 503, "Service Unavailable", "upstream service unavailable")
	if _, err := c.ListRegions(t.Context()); err == nil {
		t.Fatal("a failed read gave regions")
	}
	f.json("GET", "/catalog/datacenters", 200, `{"dataCenters": [
		{"id": "US-TX-3", "name": "US Texas 3", "region": "NORTH_AMERICA", "globalNetwork": true, "networkVolumeTypes": ["STANDARD"], "compliance": []},
		{"id": "EU-RO-1", "name": "EU Romania 1", "region": "EUROPE", "globalNetwork": true, "networkVolumeTypes": [], "compliance": ["GDPR"]},
		{"id": "SA-BR-9", "name": "SA Brazil 9", "region": "SOUTH_AMERICA", "globalNetwork": false, "networkVolumeTypes": [], "compliance": []}
	]}`)
	failed := f.Count("GET", "/catalog/datacenters")
	apifake.Concurrently(8, func(int) error {
		r, err := c.ListRegions(t.Context())
		if err != nil || !slices.Equal(r, []string{"EU-RO-1", "SA-BR-9", "US-TX-3"}) {
			t.Errorf("regions %v %v", r, err)
		}
		return nil
	})
	if n := f.Count("GET", "/catalog/datacenters") - failed; n != 1 {
		t.Errorf("%d reads of the data centers, want 1", n)
	}
	if q := f.Last().RawQuery; q != "" {
		t.Errorf("query %q: the plain list is enough", q)
	}
	r := c.Regions()
	r[0] = "changed"
	if c.Regions()[0] == "changed" || !slices.Contains(c.Regions(), "SA-BR-9") {
		t.Errorf("Regions after the read: %v", c.Regions())
	}
	if r, err := clients.CloudRegions(t.Context(), c); err != nil || len(r) != 3 {
		t.Errorf("CloudRegions %v %v", r, err)
	}
}

func TestResolveInstanceType(t *testing.T) {
	c := &Cloud{}
	cases := []struct {
		in        string
		count     int
		name, gpu string
		n         int
	}{
		{"H100_80GB_SXM", 8, "NVIDIA H100 80GB HBM3", "H100_80GB_SXM", 8},
		{"h100_80gb_sxm", 0, "NVIDIA H100 80GB HBM3", "H100_80GB_SXM", 1},
		{"NVIDIA GeForce RTX 4090", 2, "NVIDIA GeForce RTX 4090", "RTX_4090_24GB", 2},
		{"nvidia geforce rtx 4090", 1, "NVIDIA GeForce RTX 4090", "RTX_4090_24GB", 1},
		{"NVIDIA RTX PRO 6000 Blackwell", 4, "NVIDIA RTX PRO 6000 Blackwell", "NVIDIA RTX PRO 6000 Blackwell", 4},
	}
	for _, tc := range cases {
		it, err := c.ResolveInstanceType(tc.in, tc.count)
		if err != nil {
			t.Errorf("%s x%d: %v", tc.in, tc.count, err)
			continue
		}
		if it.Name != tc.name || it.GPUType != tc.gpu || it.GPUCount != tc.n {
			t.Errorf("%s x%d: %+v", tc.in, tc.count, it)
		}
	}
	for _, bad := range []struct {
		in    string
		count int
	}{{"H100_80GB_SXM", 9}, {"H100_80GB_SXM", -1}, {"A10_24GB", 1}, {"gpu_8x_h100_sxm5", 8}, {"nonsense", 1}} {
		if _, err := c.ResolveInstanceType(bad.in, bad.count); !errors.Is(err, clients.ErrInvalid) {
			t.Errorf("%s x%d: %v", bad.in, bad.count, err)
		}
	}
}

func TestOffers(t *testing.T) {
	f, c := newFakeCloud(t)
	f.json("GET", "/catalog/gpus", 200, catalogJSON(
		gpuDoc("NVIDIA H100 80GB HBM3", "H100 SXM", 80, 2.69, 1.99, 8, map[string]string{"US-TX-3": "LOW", "EU-RO-1": "HIGH", "CA-MTL-1": "NONE"}),
		gpuDoc("NVIDIA GeForce RTX 4090", "RTX 4090", 24, 0.69, 0.34, 8, map[string]string{"US-KS-2": "MEDIUM"}),
		gpuDoc("NVIDIA H200", "H200", 141, 3.99, 0, 8, nil),                                // no stock for this count
		gpuDoc("NVIDIA L4", "L4", 24, 0.43, 0.22, 1, map[string]string{"US-TX-3": "HIGH"}), // one per pod at most
		gpuDoc("NVIDIA A40", "A40", 48, 0, 0.35, 8, map[string]string{"EUR-NO-1": "HIGH"}), // community only
	))
	offers, err := c.Offers(t.Context(), clients.OfferFilter{GPUCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := f.Last()
	if r.Path != "/catalog/gpus" || r.RawQuery != "cloud=SECURE&count=2&include=AVAILABILITY&product=POD" {
		t.Errorf("catalog query %s?%s", r.Path, r.RawQuery)
	}
	if len(offers) != 3 {
		t.Fatalf("offers %+v", offers)
	}
	if o := offers[0]; o.InstanceType != "NVIDIA GeForce RTX 4090" || o.GPUType != "RTX_4090_24GB" || o.GPUCount != 2 ||
		o.PricePerHour != 1.38 || o.GPUMemoryGB != 24 || !slices.Equal(o.Regions, []string{"US-KS-2"}) || o.Cloud != "runpod" {
		t.Errorf("cheapest offer %+v", o)
	}
	if o := offers[1]; o.GPUType != "H100_80GB_SXM" || o.PricePerHour != 5.38 || !slices.Equal(o.Regions, []string{"EU-RO-1", "US-TX-3"}) {
		t.Errorf("H100 offer %+v", o)
	}
	if o := offers[2]; o.InstanceType != "NVIDIA H200" || len(o.Regions) != 0 {
		t.Errorf("H200 offer %+v", o)
	}

	// Filters, from the same snapshot.
	offers, err = c.Offers(t.Context(), clients.OfferFilter{GPUCount: 2, GPUType: "H100_80GB_SXM", Region: "US-TX-3", MaxPricePerHour: 6, OnlyAvailable: true})
	if err != nil || len(offers) != 1 || !slices.Equal(offers[0].Regions, []string{"US-TX-3"}) {
		t.Errorf("filtered %+v %v", offers, err)
	}
	offers, _ = c.Offers(t.Context(), clients.OfferFilter{GPUCount: 2, OnlyAvailable: true, MaxPricePerHour: 5})
	if len(offers) != 1 || offers[0].GPUType != "RTX_4090_24GB" {
		t.Errorf("cheap and available %+v", offers)
	}
	f.WantCount(t, "GET", "/catalog/gpus", 1, "catalog reads")
}

func TestInstanceFromDocumentPod(t *testing.T) {
	f, c := newFakeCloud(t)
	f.json("GET", "/pods", 200, `{"pods":[`+docPodJSON+`]}`)
	inst, err := c.GetInstance(t.Context(), "7h9k2m4n6p")
	if err != nil {
		t.Fatal(err)
	}
	if inst.ID != "7h9k2m4n6p" || inst.Cloud != "runpod" || inst.Name != "pytorch-training" || inst.Region != "US-KS-2" ||
		inst.Status != clients.StatusRunning || inst.NativeStatus != "RUNNING" || !inst.Ready ||
		inst.InstanceType != "NVIDIA GeForce RTX 4090" || inst.GPUType != "RTX_4090_24GB" || inst.GPUCount != 1 ||
		inst.PublicIP != "195.26.233.3" || inst.SSHHost != "195.26.233.3" || inst.SSHPort != 34446 || inst.SSHUser != "root" ||
		inst.PricePerHour != 0.44 || inst.Image != "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404" ||
		!inst.CreatedAt.Equal(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("instance %+v", inst)
	}
	o := opts(inst.Options)
	if o == nil || o.CloudType != "SECURE" || o.ContainerDiskGB != 50 || o.VolumeGB != 20 || o.VolumeMountPath != "/workspace" ||
		!slices.Equal(o.Ports, []string{"8888/http", "22/tcp"}) || len(o.Env) != 1 || o.Env["MODEL_NAME"] != "llama-3" || o.TemplateID != "9x4m2p7v" {
		t.Errorf("options %+v", o)
	}
}

func TestBookkeepingEnvIsHidden(t *testing.T) {
	p := podDoc("p1", "RUNNING", map[string]string{
		"HF_HOME": "/workspace/hf", EnvLaunchToken: "tok", EnvSSHKeyIDs: key1FP + "," + key2FP, EnvPublicKey: key1 + "\n" + key2,
	})
	p["mounts"] = map[string]any{"network": []map[string]any{{"volumeId": "vol_xyz", "path": "/data"}}}
	f := newFake(t)
	f.json("GET", "/pods", 200, podsJSON(p))
	inst, err := newTestCloud(t, f).GetInstance(t.Context(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	if len(opts(inst.Options).Env) != 1 || opts(inst.Options).Env["HF_HOME"] != "/workspace/hf" {
		t.Errorf("env %v", opts(inst.Options).Env)
	}
	if !slices.Equal(inst.SSHKeyIDs, []string{key1FP, key2FP}) {
		t.Errorf("ssh key ids %v", inst.SSHKeyIDs)
	}
	if opts(inst.Options).NetworkVolumeID != "vol_xyz" || opts(inst.Options).VolumeMountPath != "/data" || opts(inst.Options).VolumeGB != 0 {
		t.Errorf("mounts %+v", opts(inst.Options))
	}
}

func TestStatusMapping(t *testing.T) {
	for native, neutral := range map[string]string{
		"PROVISIONING": clients.StatusPending, "STARTING": clients.StatusPending, "RUNNING": clients.StatusRunning,
		"EXITED": clients.StatusStopped, "ERROR": clients.StatusError, "TERMINATED": clients.StatusTerminated,
		"SOMETHING_NEW": clients.StatusPending,
	} {
		if got := neutralStatus(native); got != neutral {
			t.Errorf("%s -> %s, want %s", native, got, neutral)
		}
	}
	gone := InstanceFromPod(Pod{ID: "p", Status: PodTerminated})
	if !gone.Gone() || gone.Ready {
		t.Errorf("terminated %+v", gone)
	}
	stopped := InstanceFromPod(Pod{ID: "p", Status: PodExited})
	if stopped.Failed() || stopped.Gone() || stopped.Ready {
		t.Errorf("stopped %+v", stopped)
	}
}

// TestReadiness: a pod publishing 22/tcp is RUNNING before its port mapping exists, and ready
// only once the mapping (or ssh.direct) is known; a pod without 22/tcp is reached through the
// SSH proxy, with the proxy's routing user.
func TestReadiness(t *testing.T) {
	decode := func(m map[string]any) Pod {
		f := newFake(t)
		f.json("GET", "/pods/p1", 200, mustJSON(m))
		p, err := newTestClient(t, f).GetPod(t.Context(), "p1")
		if err != nil {
			t.Fatal(err)
		}
		return *p
	}

	p := podDoc("p1", "RUNNING", nil) // RUNNING, 22/tcp asked for, no runtime yet
	inst := InstanceFromPod(decode(p))
	if inst.Ready || inst.SSHHost != "" || inst.SSHPort != 0 || inst.SSHUser != "root" || inst.PublicIP != "" {
		t.Errorf("running without ports: %+v", inst)
	}

	// The runtime mapping alone is enough (ssh.direct may lag behind it).
	p["runtime"] = map[string]any{"uptime": 5, "ports": []map[string]any{
		{"private": 8888, "public": nil, "type": "http", "ip": nil},
		{"private": 22, "public": 40022, "type": "tcp", "ip": "38.80.152.9"},
	}}
	inst = InstanceFromPod(decode(p))
	if !inst.Ready || inst.SSHHost != "38.80.152.9" || inst.SSHPort != 40022 || inst.SSHUser != "root" || inst.PublicIP != "38.80.152.9" {
		t.Errorf("running with mapping: %+v", inst)
	}

	inst = InstanceFromPod(decode(withSSHMapping(podDoc("p1", "RUNNING", nil), "69.30.85.1", 30001)))
	if !inst.Ready || inst.SSHHost != "69.30.85.1" || inst.SSHPort != 30001 {
		t.Errorf("running with direct: %+v", inst)
	}

	// A mapped pod that is not RUNNING (stopping) is not ready.
	starting := withSSHMapping(podDoc("p1", "RUNNING", nil), "69.30.85.1", 30001)
	starting["status"] = "STARTING"
	if inst = InstanceFromPod(decode(starting)); inst.Ready {
		t.Errorf("starting: %+v", inst)
	}

	noSSHPort := podDoc("p1", "PROVISIONING", nil)
	noSSHPort["ports"] = []string{"8888/http"}
	if inst = InstanceFromPod(decode(noSSHPort)); inst.Ready {
		t.Errorf("provisioning through proxy: %+v", inst)
	}
	noSSHPort["status"] = "RUNNING"
	inst = InstanceFromPod(decode(noSSHPort))
	if !inst.Ready || inst.SSHHost != "ssh.runpod.io" || inst.SSHPort != 22 || inst.SSHUser != "p1-64411eb2" {
		t.Errorf("running through proxy: %+v", inst)
	}
}

// TestGetInstanceSingleFlight: concurrent reads share one GET /pods.
func TestGetInstanceSingleFlight(t *testing.T) {
	f, c := newFakeCloud(t)
	// The list is held until every reader waits for it.
	gate := apifake.NewGate(t)
	f.Handle("GET", "/pods", gate.Hold(apifake.Status(200, podsJSON(podDoc("p1", "RUNNING", nil), podDoc("p2", "PROVISIONING", nil)))))
	errs := apifake.HeldReads(t, 10, gate.Open, func(ctx context.Context, i int) error {
		id := []string{"p1", "p2"}[i%2]
		inst, err := c.GetInstance(ctx, id)
		if err == nil && inst.ID != id {
			err = errors.New("wrong pod " + inst.ID)
		}
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := f.Total(); n != 1 {
		t.Errorf("%d requests for 10 concurrent reads, want 1", n)
	}
	// Cluster members are in the shared list too.
	if q := f.Last().RawQuery; q != "includeClusterPods=true" {
		t.Errorf("list query %q", q)
	}
}

// TestRateScale: against an emulator running faster than real time, the configured pace runs
// on the emulator's clock.
func TestRateScale(t *testing.T) {
	c, err := NewWithOptions(clients.Settings{APIKey: "k", RateScale: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if l := c.api.pacer.baseLimit; l < 91 || l > 92 {
		t.Errorf("scaled pace %v per second, want about 91.7 (55 a minute, 100 times faster)", l)
	}
	c, _ = NewWithOptions(clients.Settings{APIKey: "k"})
	if l := c.api.pacer.baseLimit; l < 0.91 || l > 0.92 {
		t.Errorf("real pace %v per second", l)
	}
}

func TestGetInstanceMissingFromList(t *testing.T) {
	f, c := newFakeCloud(t)
	f.json("GET", "/pods", 200, podsJSON())
	f.problem("GET", "/pods/gone", 404, "Not Found", "pod not found")
	f.json("GET", "/pods/dead", 200, mustJSON(podDoc("dead", "TERMINATED", nil)))
	if _, err := c.GetInstance(t.Context(), "gone"); !clients.IsNotFound(err) {
		t.Errorf("gone: %v", err)
	}
	inst, err := c.GetInstance(t.Context(), "dead")
	if err != nil || !inst.Gone() {
		t.Errorf("dead: %+v %v", inst, err)
	}
	// A 5xx or 429 never reads as "not found".
	f.problem("GET", "/pods/flaky", 500, "Internal Server Error", "upstream failed")
	if _, err := c.GetInstance(t.Context(), "flaky"); err == nil || clients.IsNotFound(err) {
		t.Errorf("flaky: %v", err)
	}
}

func TestUpdateInstancePatchKeepsBookkeeping(t *testing.T) {
	f, c := newFakeCloud(t)
	env := map[string]string{"OLD": "1", EnvLaunchToken: "tok", EnvSSHKeyIDs: key1FP, EnvPublicKey: key1}
	f.json("GET", "/pods/p1", 200, mustJSON(podDoc("p1", "RUNNING", env)))
	f.json("PATCH", "/pods/p1", 200, mustJSON(podDoc("p1", "RUNNING", map[string]string{"NEW": "2", EnvLaunchToken: "tok"})))
	name, image := "renamed", "runpod/pytorch:2.5.0"
	inst, err := c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{Name: &name, Image: &image, Env: map[string]string{"NEW": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Requests("PATCH", "/pods/p1")[0].Body, mustJSON(map[string]any{
		"name": "renamed", "image": "runpod/pytorch:2.5.0",
		"env": map[string]string{"NEW": "2", EnvLaunchToken: "tok", EnvSSHKeyIDs: key1FP, EnvPublicKey: key1},
	}))
	if inst.ID != "p1" || opts(inst.Options).Env["NEW"] != "2" || len(opts(inst.Options).Env) != 1 {
		t.Errorf("instance %+v", inst)
	}

	// Only a rename: one PATCH, no read first.
	before := f.Count("GET", "/pods/p1")
	if _, err := c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Requests("PATCH", "/pods/p1")[1].Body, `{"name":"renamed"}`)
	if f.Count("GET", "/pods/p1") != before {
		t.Error("a rename read the pod first")
	}

	if _, err := c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{Env: map[string]string{EnvPublicKey: "x"}}); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("reserved env: %v", err)
	}
	bad := "paused"
	if _, err := c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{DesiredState: &bad}); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("bad state: %v", err)
	}
}

// TestStopStart maps the desired state onto the stop and start actions; a 409 for an action
// already in effect is success, any other 409 is not.
func TestStopStart(t *testing.T) {
	f, c := newFakeCloud(t)
	stopped, running := clients.DesiredStopped, clients.DesiredRunning

	f.json("POST", "/pods/p1/action", 200, mustJSON(podDoc("p1", "EXITED", nil)))
	inst, err := c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{DesiredState: &stopped})
	if err != nil || inst.Status != clients.StatusStopped {
		t.Fatalf("stop: %+v %v", inst, err)
	}
	assertJSON(t, f.Last().Body, `{"action":"stop"}`)

	f.json("POST", "/pods/p1/action", 200, mustJSON(podDoc("p1", "STARTING", nil)))
	inst, err = c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{DesiredState: &running})
	if err != nil || inst.Status != clients.StatusPending {
		t.Fatalf("start: %+v %v", inst, err)
	}
	assertJSON(t, f.Last().Body, `{"action":"start"}`)

	// Already stopped: 409, and the pod says EXITED.
	f.problem("POST", "/pods/p1/action", 409, "Conflict", "action stop is not valid for a pod in status EXITED")
	f.json("GET", "/pods/p1", 200, mustJSON(podDoc("p1", "EXITED", nil)))
	if inst, err = c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{DesiredState: &stopped}); err != nil || inst.Status != clients.StatusStopped {
		t.Errorf("stop a stopped pod: %+v %v", inst, err)
	}
	// Already running: 409, and the pod says RUNNING.
	f.json("GET", "/pods/p1", 200, mustJSON(podDoc("p1", "RUNNING", nil)))
	if inst, err = c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{DesiredState: &running}); err != nil || inst.Status != clients.StatusRunning {
		t.Errorf("start a running pod: %+v %v", inst, err)
	}
	// Stopping a running pod refused (locked): the conflict stands.
	if _, err = c.UpdateInstance(t.Context(), "p1", clients.InstanceUpdate{DesiredState: &stopped}); !errors.Is(err, clients.ErrConflict) {
		t.Errorf("locked pod: %v", err)
	}
}

func TestDeleteInstance(t *testing.T) {
	f, c := newFakeCloud(t)
	f.Handle("DELETE", "/pods/p1", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	f.problem("DELETE", "/pods/gone", 404, "Not Found", "pod not found")
	f.problem("DELETE", "/pods/member", 409, "Conflict", "pod belongs to cluster cl1 and cannot be terminated via the pod endpoints")
	if err := c.DeleteInstance(t.Context(), "p1"); err != nil {
		t.Error(err)
	}
	if err := c.DeleteInstance(t.Context(), "gone"); err != nil {
		t.Errorf("already gone: %v", err)
	}
	if err := c.DeleteInstance(t.Context(), "member"); !errors.Is(err, clients.ErrConflict) {
		t.Errorf("cluster member: %v", err)
	}
}

// InstancePrice prices a pod on its cloud tier from the catalog the launch reads: secure by
// default, community when the spec asks for it; a tier that does not sell the GPU is an error.
func TestInstancePrice(t *testing.T) {
	f, c := newFakeCloud(t)
	f.json("GET", "/catalog/gpus", 200, catalogJSON(
		gpuDoc("NVIDIA H100 80GB HBM3", "H100 SXM", 80, 2.69, 1.99, 8, map[string]string{"US-TX-3": "LOW"}),
		gpuDoc("NVIDIA H200", "H200", 141, 3.99, 0, 8, nil),
	))
	h100, err := c.ResolveInstanceType("H100_80GB_SXM", 2)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := c.InstancePrice(t.Context(), clients.InstanceSpec{}, h100); err != nil || p != 5.38 {
		t.Errorf("secure price %v %v, want 5.38", p, err)
	}
	community := clients.InstanceSpec{Options: &InstanceOptions{CloudType: CloudCommunity}}
	if p, err := c.InstancePrice(t.Context(), community, h100); err != nil || p != 3.98 {
		t.Errorf("community price %v %v, want 3.98", p, err)
	}
	h200, err := c.ResolveInstanceType("H200_141GB_SXM", 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.InstancePrice(t.Context(), community, h200); err == nil {
		t.Error("the H200 is not sold on the community cloud: want an error")
	}
}
