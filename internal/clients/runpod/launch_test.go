package runpod

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

func h100Spec() clients.InstanceSpec {
	return clients.InstanceSpec{
		Name: "finetune-1", GPUType: "H100_80GB_SXM", GPUCount: 8, LaunchToken: "tok-123",
		Options: &InstanceOptions{Image: "runpod/pytorch:2.4.0", Ports: []string{"22/tcp"}},
	}
}

// newH100Cloud is a fake with no pods yet and the H100 catalog (availability by data center),
// and a Cloud against it.
func newH100Cloud(t *testing.T, dcs map[string]string) (*fakeAPI, *Cloud) {
	t.Helper()
	f, c := newFakeCloud(t)
	h100Catalog(f, dcs)
	f.json("GET", "/pods", 200, podsJSON())
	return f, c
}

// h100Catalog lists the H100 with the given stock per data center, at $2.69 per GPU-hour.
func h100Catalog(f *fakeAPI, dcs map[string]string) {
	f.json("GET", "/catalog/gpus", 200, catalogJSON(
		gpuDoc("NVIDIA H100 80GB HBM3", "H100 SXM", 80, 2.69, 1.99, 8, dcs),
		gpuDoc("NVIDIA GeForce RTX 4090", "RTX 4090", 24, 0.69, 0.34, 8, map[string]string{"US-KS-2": "HIGH"}),
	))
}

func capacityProblem(w http.ResponseWriter) {
	writeProblem(w, 400, "Bad Request", "There are no longer any instances available with the requested specifications. Please refresh and try again.")
}

func createdDCs(t *testing.T, f *fakeAPI) []string {
	t.Helper()
	var out []string
	for _, r := range f.Requests("POST", "/pods") {
		var req struct {
			DataCenterIDs []string `json:"dataCenterIds"`
		}
		if err := json.Unmarshal(r.Body, &req); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(req.DataCenterIDs, "+"))
	}
	return out
}

func TestCreateInstanceRequestBody(t *testing.T) {
	f, c := newFakeCloud(t)
	keys := &keyStore{}
	keys.install(f, key1, keyLineWithName(t, key2, "laptop"), docKey)
	h100Catalog(f, map[string]string{"US-TX-3": "HIGH"})
	f.json("GET", "/pods", 200, podsJSON())
	created := podDoc("7h9k2m4n6p", "PROVISIONING", map[string]string{"HF_HOME": "/workspace/hf", EnvLaunchToken: "tok-123"})
	f.json("POST", "/pods", 201, mustJSON(created))

	spec := h100Spec()
	spec.Region = "EU-RO-1" // named: tried even without listed stock
	spec.SSHKeyIDs = []string{key1FP, key2FP}
	spec.MaxPricePerHour = 30
	spec.Options = &InstanceOptions{
		Image: "runpod/pytorch:2.4.0", CloudType: "SECURE", Ports: []string{"22/tcp", "8888/http"},
		Env: map[string]string{"HF_HOME": "/workspace/hf"}, ContainerDiskGB: 50, VolumeGB: 100,
	}
	inst, err := c.CreateInstance(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	// key2 is installed as it was given, without the provider's name in its comment.
	assertJSON(t, f.Requests("POST", "/pods")[0].Body, mustJSON(map[string]any{
		"name": "finetune-1", "image": "runpod/pytorch:2.4.0", "disk": 50,
		"env": map[string]string{
			"HF_HOME": "/workspace/hf", EnvLaunchToken: "tok-123",
			EnvSSHKeyIDs: key1FP + "," + key2FP, EnvPublicKey: key1 + "\n" + key2,
		},
		"ports": []string{"22/tcp", "8888/http"}, "cloud": "SECURE",
		"gpu":           map[string]any{"id": "NVIDIA H100 80GB HBM3", "count": 8},
		"dataCenterIds": []string{"EU-RO-1"},
		"mounts":        map[string]any{"persistent": map[string]any{"size": 100, "path": "/workspace"}},
		"startSsh":      true,
	}))
	// The answer to the create is the pod: no read of it afterwards.
	if inst.ID != "7h9k2m4n6p" || inst.Status != clients.StatusPending || inst.GPUType != "H100_80GB_SXM" || inst.GPUCount != 8 ||
		opts(inst.Options).Env["HF_HOME"] != "/workspace/hf" || len(opts(inst.Options).Env) != 1 {
		t.Errorf("instance %+v", inst)
	}
	f.WantCount(t, "GET", "/pods/7h9k2m4n6p", 0, "reads of the new pod")
}

func TestCreateInstanceTemplateAndNoSSH(t *testing.T) {
	f, c := newFakeCloud(t)
	h100Catalog(f, map[string]string{"US-TX-3": "HIGH"})
	f.json("GET", "/templates/30zmvf89kd", 200, templateDoc("30zmvf89kd", false, false, nil))
	f.json("POST", "/pods", 201, mustJSON(podDoc("p1", "PROVISIONING", nil)))
	off := false
	spec := clients.InstanceSpec{Name: "x", GPUType: "NVIDIA GeForce RTX 4090", GPUCount: 1,
		Options: &InstanceOptions{TemplateID: "30zmvf89kd", StartSSH: &off, CloudType: "COMMUNITY"}}
	if _, err := c.CreateInstance(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	body := decodeBody(t, f.Last().Body)
	if body["templateId"] != "30zmvf89kd" || body["image"] != nil || body["startSsh"] != nil || body["cloud"] != "COMMUNITY" {
		t.Errorf("body %v", body)
	}
	// Without a token from the caller one is made up, so adoption still works; and nobody can
	// be retrying, so no look before creating.
	env, _ := body["env"].(map[string]any)
	if tok, _ := env[EnvLaunchToken].(string); len(tok) != 32 || len(env) != 1 {
		t.Errorf("env %v", env)
	}
	f.WantCount(t, "GET", "/pods", 0, "pod lists before creating")
	if r := f.Requests("GET", "/catalog/gpus")[0]; !strings.Contains(r.RawQuery, "cloud=COMMUNITY") || !strings.Contains(r.RawQuery, "count=1") {
		t.Errorf("catalog query %s", r.RawQuery)
	}
}

// TestCreateInstanceFailover: without a region, data centers with stock are tried best stocked
// first, moving on after each capacity refusal.
func TestCreateInstanceFailover(t *testing.T) {
	f, c := newFakeCloud(t)
	h100Catalog(f, map[string]string{"US-TX-3": "LOW", "EU-RO-1": "HIGH", "US-KS-2": "MEDIUM", "CA-MTL-1": "NONE", "EUR-IS-1": "HIGH"})
	s := &podStore{}
	s.install(f, func(w http.ResponseWriter, dc string, created func() map[string]any) {
		if dc != "US-KS-2" {
			capacityProblem(w)
			return
		}
		writeRaw(w, 201, mustJSON(created()))
	})
	inst, err := c.CreateInstance(t.Context(), h100Spec())
	if err != nil {
		t.Fatal(err)
	}
	if got := createdDCs(t, f); !slices.Equal(got, []string{"EU-RO-1", "EUR-IS-1", "US-KS-2"}) {
		t.Errorf("tried %v", got)
	}
	if inst.Region != "US-KS-2" {
		t.Errorf("instance %+v", inst)
	}
}

func TestCreateInstanceNoCapacityAnywhere(t *testing.T) {
	f, c := newH100Cloud(t, map[string]string{"US-TX-3": "LOW", "EU-RO-1": "HIGH"})
	f.Handle("POST", "/pods", func(w http.ResponseWriter, _ *http.Request) { capacityProblem(w) })
	_, err := c.CreateInstance(t.Context(), h100Spec())
	var capErr *clients.CapacityError
	if !errors.As(err, &capErr) || !clients.IsCapacity(err) {
		t.Fatalf("error %v", err)
	}
	if len(capErr.Attempts) != 2 || capErr.Attempts[0].Region != "EU-RO-1" || capErr.Attempts[1].Region != "US-TX-3" ||
		capErr.Attempts[0].InstanceType != "NVIDIA H100 80GB HBM3" || capErr.Attempts[0].Cloud != "runpod" {
		t.Errorf("attempts %+v", capErr.Attempts)
	}
	if msg := err.Error(); !strings.Contains(msg, "EU-RO-1") || !strings.Contains(msg, "no longer any instances") {
		t.Errorf("message %q", msg)
	}
}

// With a region named, only that data center is tried.
func TestCreateInstanceRegionCapacity(t *testing.T) {
	f, c := newH100Cloud(t, map[string]string{"US-TX-3": "HIGH", "EU-RO-1": "HIGH"})
	f.Handle("POST", "/pods", func(w http.ResponseWriter, _ *http.Request) { capacityProblem(w) })
	spec := h100Spec()
	spec.Region = "EU-RO-1"
	_, err := c.CreateInstance(t.Context(), spec)
	var capErr *clients.CapacityError
	if !errors.As(err, &capErr) || len(capErr.Attempts) != 1 || f.Count("POST", "/pods") != 1 {
		t.Errorf("error %v after %d creates", err, f.Count("POST", "/pods"))
	}
}

// When the catalog shows no stock, one create without data centers lets the scheduler decide.
func TestCreateInstanceNoCatalogStock(t *testing.T) {
	f, c := newFakeCloud(t)
	h100Catalog(f, nil)
	f.json("GET", "/pods", 200, podsJSON())
	f.json("POST", "/pods", 201, mustJSON(podDoc("p1", "PROVISIONING", nil)))
	if _, err := c.CreateInstance(t.Context(), h100Spec()); err != nil {
		t.Fatal(err)
	}
	if got := createdDCs(t, f); !slices.Equal(got, []string{""}) {
		t.Errorf("tried %v", got)
	}
}

// A 400 that does not read like capacity moves on (the document advises it), but when every
// data center answers so, the request is at fault: ErrInvalid, not a capacity error.
func TestCreateInstanceRuleViolationEverywhere(t *testing.T) {
	f, c := newH100Cloud(t, map[string]string{"US-TX-3": "HIGH", "EU-RO-1": "HIGH"})
	f.problem("POST", "/pods", 400, "Bad Request", "allowedCudaVersions and minCudaVersion are mutually exclusive")
	_, err := c.CreateInstance(t.Context(), h100Spec())
	if !errors.Is(err, clients.ErrInvalid) || clients.IsCapacity(err) || !strings.Contains(err.Error(), "mutually exclusive") {
		t.Errorf("error %v", err)
	}
	f.WantCount(t, "POST", "/pods", 2, "creates")
}

// 402 (no balance) and 422 stop at once: no other data center would do better.
func TestCreateInstanceStopsOnQuotaAndValidation(t *testing.T) {
	for _, tc := range []struct {
		status int
		kind   error
	}{{402, clients.ErrQuota}, {422, clients.ErrInvalid}} {
		f, c := newH100Cloud(t, map[string]string{"US-TX-3": "HIGH", "EU-RO-1": "HIGH"})
		f.problem("POST", "/pods", tc.status, "Refused", "insufficient balance")
		if _, err := c.CreateInstance(t.Context(), h100Spec()); !errors.Is(err, tc.kind) {
			t.Errorf("%d: %v", tc.status, err)
		}
		if n := f.Count("POST", "/pods"); n != 1 {
			t.Errorf("%d: %d creates", tc.status, n)
		}
	}
}

func TestCreateInstanceMaxPrice(t *testing.T) {
	f, c := newH100Cloud(t, map[string]string{"US-TX-3": "HIGH"})
	spec := h100Spec()
	spec.MaxPricePerHour = 20 // 8 x 2.69 = 21.52
	_, err := c.CreateInstance(t.Context(), spec)
	if !errors.Is(err, clients.ErrInvalid) || !strings.Contains(err.Error(), "21.52") {
		t.Errorf("error %v", err)
	}
	f.WantCount(t, "POST", "/pods", 0, "creates")
}

func TestCreateInstanceNetworkVolumePinsDataCenter(t *testing.T) {
	f, c := newFakeCloud(t)
	h100Catalog(f, map[string]string{"US-TX-3": "HIGH"})
	f.json("GET", "/network-volumes/vol1", 200, `{"id":"vol1","name":"datasets","size":500,"dataCenter":"EU-RO-1","type":"STANDARD"}`)
	f.json("POST", "/pods", 201, mustJSON(podDoc("p1", "PROVISIONING", nil)))
	spec := h100Spec()
	spec.LaunchToken = ""
	opts(spec.Options).NetworkVolumeID = "vol1"
	if _, err := c.CreateInstance(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	body := decodeBody(t, f.Last().Body)
	if got := createdDCs(t, f); !slices.Equal(got, []string{"EU-RO-1"}) {
		t.Errorf("tried %v", got)
	}
	if m := mustJSON(body["mounts"]); m != `{"network":[{"path":"/workspace","volumeId":"vol1"}]}` {
		t.Errorf("mounts %s", m)
	}
	spec.Region = "US-TX-3"
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("volume in another region: %v", err)
	}
}

// TestCreateLostAnswerAdopted: the create reaches RunPod but its answer is lost (connection
// closed, or a 502 after the pod was made): exactly one POST, and the pod is found by its
// launch token.
func TestCreateLostAnswerAdopted(t *testing.T) {
	for name, lose := range map[string]func(http.ResponseWriter){
		"connection closed": func(w http.ResponseWriter) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		},
		"502": func(w http.ResponseWriter) {
			writeProblem(w, 502, "Bad Gateway", "upstream timed out")
		},
	} {
		t.Run(name, func(t *testing.T) {
			f, c := newFakeCloud(t)
			h100Catalog(f, map[string]string{"US-TX-3": "HIGH", "EU-RO-1": "HIGH"})
			s := &podStore{}
			s.install(f, func(w http.ResponseWriter, _ string, created func() map[string]any) {
				created()
				lose(w)
			})
			inst, err := c.CreateInstance(t.Context(), h100Spec())
			if err != nil {
				t.Fatal(err)
			}
			f.WantCount(t, "POST", "/pods", 1, "creates")
			if inst.ID != "pod1" || inst.Name != "finetune-1" {
				t.Errorf("adopted %+v", inst)
			}
		})
	}
}

// When a successful look after the horizon shows nothing carrying the token, the create
// provably did not happen and is sent again; while looks fail, it is not.
func TestCreateLostAnswerNotFound(t *testing.T) {
	f, c := newFakeCloud(t, WithAdoptionWindow(150*time.Millisecond, 10*time.Millisecond))
	h100Catalog(f, map[string]string{"US-TX-3": "HIGH", "EU-RO-1": "HIGH"})
	s := &podStore{}
	creates := 0
	s.install(f, func(w http.ResponseWriter, _ string, created func() map[string]any) {
		creates++
		if creates == 1 {
			writeProblem(w, 503, "Service Unavailable", "try again")
			return
		}
		writeRaw(w, 201, mustJSON(created()))
	})
	inst, err := c.CreateInstance(t.Context(), h100Spec())
	if err != nil {
		t.Fatal(err)
	}
	if n := f.Count("POST", "/pods"); n != 2 || inst.ID == "" {
		t.Errorf("%d creates, %+v: want the create sent again once a look after the horizon found nothing", n, inst)
	}
	if n := f.Count("GET", "/pods"); n < 2 {
		t.Errorf("%d looks for the pod", n)
	}
}

// A create repeated with the same launch token by a later run (a crash in between) finds the
// pod of the first one when it was created within the create timeout.
func TestCreateRetryWithSameTokenFindsPod(t *testing.T) {
	f, c := newFakeCloud(t)
	doc := podDoc("p9", "PROVISIONING", map[string]string{EnvLaunchToken: "tok-123"})
	doc["createdAt"] = time.Now().UTC().Format(time.RFC3339)
	f.json("GET", "/pods", 200, podsJSON(doc))
	spec := h100Spec()
	spec.AdoptSince = time.Now().Add(-time.Hour)
	inst, err := c.CreateInstance(t.Context(), spec)
	if err != nil || inst.ID != "p9" || inst.Adopted == "" {
		t.Fatalf("%+v %v", inst, err)
	}
	f.WantCount(t, "POST", "/pods", 0, "creates")
}

// An older pod with the token may be another configuration's: nothing is created and the error
// says how to import it.
func TestCreateWithOldPodOfSameTokenStops(t *testing.T) {
	f, c := newFakeCloud(t)
	f.json("GET", "/pods", 200, podsJSON(podDoc("p9", "RUNNING", map[string]string{EnvLaunchToken: "tok-123"})))
	spec := h100Spec()
	spec.AdoptSince = time.Now().Add(-time.Hour)
	_, err := c.CreateInstance(t.Context(), spec)
	if !clients.IsConflict(err) || !strings.Contains(err.Error(), "terraform import <this resource's address> runpod/p9") {
		t.Fatalf("%v", err)
	}
	f.WantCount(t, "POST", "/pods", 0, "creates")
}

func TestCreateInstanceUnknownSSHKey(t *testing.T) {
	f, c := newFakeCloud(t)
	(&keyStore{}).install(f, key1)
	f.json("GET", "/pods", 200, podsJSON())
	spec := h100Spec()
	spec.SSHKeyIDs = []string{key2FP}
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) || !strings.Contains(err.Error(), key2FP) {
		t.Errorf("error %v", err)
	}
	f.WantCount(t, "POST", "/pods", 0, "creates")
}

func TestValidateInstanceSpec(t *testing.T) {
	c := &Cloud{}
	fields := func(spec clients.InstanceSpec) []string {
		var out []string
		for _, e := range c.ValidateInstanceSpec(spec) {
			out = append(out, e.Field)
		}
		return out
	}
	if got := fields(h100Spec()); got != nil {
		t.Errorf("valid spec: %v", got)
	}
	// The neutral image is accepted in place of runpod.image.
	if got := fields(clients.InstanceSpec{Image: "img"}); got != nil {
		t.Errorf("neutral image: %v", got)
	}
	off := false
	bad := clients.InstanceSpec{
		UserData: "#cloud-config", Tags: map[string]string{"a": "b"}, SSHKeyIDs: []string{key1FP},
		Options: &InstanceOptions{
			CloudType: "PRIVATE", Env: map[string]string{EnvPublicKey: "x"}, StartSSH: &off, VolumeGB: 5,
			NetworkVolumeID: "vol1", VolumeMountPath: "data", Ports: []string{"22", "http/8888", "99999/tcp"},
		},
	}
	want := []string{"user_data", "tags", "runpod.image", "runpod.cloud_type", "runpod.env", "runpod.start_ssh",
		"runpod.volume_gb", "runpod.volume_gb", "runpod.volume_mount_path", "runpod.ports", "runpod.ports", "runpod.ports"}
	if got := fields(bad); !slices.Equal(got, want) {
		t.Errorf("fields\n got %v\nwant %v", got, want)
	}
	if got := fields(clients.InstanceSpec{Image: "a", Options: &InstanceOptions{Image: "b"}}); !slices.Equal(got, []string{"runpod.image"}) {
		t.Errorf("two images: %v", got)
	}
	// A mount path needs a volume (its own, or the template's); ids must be ids.
	if got := fields(clients.InstanceSpec{Image: "a", Options: &InstanceOptions{VolumeMountPath: "/data"}}); !slices.Equal(got, []string{"runpod.volume_mount_path"}) {
		t.Errorf("mount path without a volume: %v", got)
	}
	if got := fields(clients.InstanceSpec{Options: &InstanceOptions{TemplateID: "tpl", VolumeMountPath: "/data"}}); got != nil {
		t.Errorf("mount path of a template's volume: %v", got)
	}
	if got := fields(clients.InstanceSpec{Options: &InstanceOptions{TemplateID: "a/b", RegistryCredentialID: "x y"}}); !slices.Equal(got, []string{"runpod.template_id", "runpod.registry_credential_id"}) {
		t.Errorf("malformed ids: %v", got)
	}
}

// A pod's env carries tokens (HF_TOKEN) and arbitrary secrets under any name: creating the pod
// and reading it back, with request logging at TRACE, must log neither the values sent nor the
// values RunPod echoes in its answers.
func TestCreateInstanceLogsNoEnvValues(t *testing.T) {
	ctx, buf := apifake.TraceLog(t, "runpod") // not parallel
	const (
		hfToken = "hf_Wq3xZ9vK2mLp8RtY"
		other   = "db-password-7c2e41"
	)
	f, c := newFakeCloud(t)
	h100Catalog(f, map[string]string{"US-TX-3": "HIGH"})
	s := &podStore{}
	s.install(f, func(w http.ResponseWriter, _ string, created func() map[string]any) {
		writeRaw(w, 201, mustJSON(created()))
	})
	spec := h100Spec()
	spec.Options = &InstanceOptions{
		Image: "runpod/pytorch:2.4.0", Env: map[string]string{"HF_TOKEN": hfToken, "DB_URL": other},
	}
	inst, err := c.CreateInstance(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetInstance(ctx, inst.ID); err != nil {
		t.Fatal(err)
	}
	if got := string(f.Requests("POST", "/pods")[0].Body); !strings.Contains(got, hfToken) {
		t.Fatalf("the env did not reach RunPod, so the test proves nothing: %s", got)
	}
	out := buf.String()
	apifake.NoSecrets(t, out, hfToken, other)
	if !strings.Contains(out, "DB_URL") || strings.Count(out, "received API response") < 2 {
		t.Errorf("want the create and the read logged with env names kept:\n%s", out)
	}
}

// TestCreatesHandedOverTogetherShareTheLookBeforeLaunch: Terraform hands a hundred creates over
// within a few hundred milliseconds, and each looks for a pod an interrupted apply launched
// before it launches its own. Those looks share one list: a list that began up to a second
// before the create was asked serves it, instead of every create that comes while a list is
// in flight queueing a newer one (on RunPod each list spends a request of the minute's 60).
func TestCreatesHandedOverTogetherShareTheLookBeforeLaunch(t *testing.T) {
	f, c := newFakeCloud(t)
	f.Handle("GET", "/pods", func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(30 * time.Millisecond) // lists overlap the creates that come meanwhile
		writeRaw(w, 200, podsJSON())
	})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec := h100Spec()
			spec.LaunchToken = fmt.Sprintf("tok-%d", i)
			spec.AdoptSince = time.Now().Add(-time.Hour)
			if inst, err := c.FindLaunched(t.Context(), spec); inst != nil || err != nil {
				t.Errorf("create %d: found %v, %v; want nothing", i, inst, err)
			}
		}()
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	f.WantCount(t, "GET", "/pods", 1, "one list serves the creates handed over together")
}
