package lambda

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"
)

func TestRegionsAndResolveInstanceType(t *testing.T) {
	c := &Cloud{}
	if r := c.Regions(); !slices.Contains(r, "us-east-1") || !slices.Contains(r, "europe-central-1") || len(r) != 17 {
		t.Errorf("regions %v", r)
	}
	cases := []struct {
		gpu     string
		count   int
		want    clients.InstanceType
		wantErr string
	}{
		{"H100_80GB_SXM", 8, clients.InstanceType{Name: "gpu_8x_h100_sxm5", GPUType: "H100_80GB_SXM", GPUCount: 8}, ""},
		{"h100_80gb_sxm", 1, clients.InstanceType{Name: "gpu_1x_h100_sxm5", GPUType: "H100_80GB_SXM", GPUCount: 1}, ""},
		{"A10_24GB", 0, clients.InstanceType{Name: "gpu_1x_a10", GPUType: "A10_24GB", GPUCount: 1}, ""}, // the only count sold
		{"gpu_8x_h100_sxm5", 0, clients.InstanceType{Name: "gpu_8x_h100_sxm5", GPUType: "H100_80GB_SXM", GPUCount: 8}, ""},
		{"gpu_8x_h100_sxm5", 8, clients.InstanceType{Name: "gpu_8x_h100_sxm5", GPUType: "H100_80GB_SXM", GPUCount: 8}, ""},
		{"gpu_2x_x999_sxm9", 0, clients.InstanceType{Name: "gpu_2x_x999_sxm9", GPUType: "x999_sxm9", GPUCount: 2}, ""},
		{"gpu_8x_h100_sxm5", 4, clients.InstanceType{}, "has 8 GPUs, not 4"},
		{"H100_80GB_SXM", 3, clients.InstanceType{}, "counts of 1, 2, 4, 8"},
		{"H100_80GB_SXM", 0, clients.InstanceType{}, "not 0"},
		{"RTX_4090_24GB", 1, clients.InstanceType{}, "is not sold by Lambda Cloud"},
		{"NOPE", 1, clients.InstanceType{}, "unknown GPU type"},
	}
	for _, tc := range cases {
		got, err := c.ResolveInstanceType(tc.gpu, tc.count)
		if tc.wantErr != "" {
			if !errors.Is(err, clients.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s x%d: got %v, want an ErrInvalid containing %q", tc.gpu, tc.count, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s x%d: got %+v, %v; want %+v", tc.gpu, tc.count, got, err, tc.want)
		}
	}
}

func TestValidateInstanceSpec(t *testing.T) {
	c := &Cloud{}
	spec := h100Spec()
	if errs := c.ValidateInstanceSpec(spec); len(errs) != 0 {
		t.Errorf("valid spec: %v", errs)
	}
	spec.SSHKeyIDs = nil
	spec.Name = strings.Repeat("n", 65)
	spec.Tags = map[string]string{LaunchTokenTag: "x"}
	var fields []string
	for _, e := range c.ValidateInstanceSpec(spec) {
		fields = append(fields, e.Field)
	}
	if strings.Join(fields, ",") != "ssh_key_ids,name,tags" {
		t.Errorf("fields %v", fields)
	}
}

func TestOffers(t *testing.T) {
	f, c := newFakeCloud(t)
	f.data("GET", "/instance-types", instanceTypesJSON("us-west-1", "us-east-1"))
	ctx := t.Context()

	all, err := c.Offers(ctx, clients.OfferFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].InstanceType != "gpu_1x_a10" || all[1].InstanceType != "gpu_8x_h100_sxm5" {
		t.Fatalf("want cheapest first: %+v", all)
	}
	h := all[1]
	if h.Cloud != "lambda" || h.GPUType != "H100_80GB_SXM" || h.GPUCount != 8 || h.GPUMemoryGB != 80 || h.VCPUs != 208 ||
		h.MemoryGB != 1800 || h.StorageGB != 24780 || h.PricePerHour != 23.92 || strings.Join(h.Regions, ",") != "us-east-1,us-west-1" {
		t.Errorf("offer %+v", h)
	}

	for name, tc := range map[string]struct {
		filter clients.OfferFilter
		want   []string
	}{
		"by GPU":           {clients.OfferFilter{GPUType: "h100_80gb_sxm"}, []string{"gpu_8x_h100_sxm5"}},
		"by native type":   {clients.OfferFilter{GPUType: "gpu_1x_a10"}, []string{"gpu_1x_a10"}},
		"by count":         {clients.OfferFilter{GPUCount: 1}, []string{"gpu_1x_a10"}},
		"by price":         {clients.OfferFilter{MaxPricePerHour: 20}, []string{"gpu_1x_a10"}},
		"available there":  {clients.OfferFilter{Region: "us-west-1", OnlyAvailable: true}, []string{"gpu_8x_h100_sxm5"}},
		"any availability": {clients.OfferFilter{Region: "us-west-1"}, []string{"gpu_1x_a10", "gpu_8x_h100_sxm5"}},
	} {
		got, err := c.Offers(ctx, tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, o := range got {
			names = append(names, o.InstanceType)
			if tc.filter.Region != "" && len(o.Regions) > 0 && (len(o.Regions) != 1 || o.Regions[0] != tc.filter.Region) {
				t.Errorf("%s: regions %v not narrowed", name, o.Regions)
			}
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("%s: got %v, want %v", name, names, tc.want)
		}
	}
	// Within the short snapshot life, offers share one call.
	f.WantCount(t, "GET", "/instance-types", 1, "instance-types calls")
}

func TestInstanceMapping(t *testing.T) {
	for native, want := range map[string]string{
		"booting": clients.StatusPending, "active": clients.StatusRunning, "unhealthy": clients.StatusUnhealthy,
		"terminating": clients.StatusTerminating, "terminated": clients.StatusTerminated, "preempted": clients.StatusTerminated,
	} {
		if got := neutralStatus(native); got != want {
			t.Errorf("%s -> %s, want %s", native, got, want)
		}
	}
	w := Instance{
		ID: "i-1", Name: "n", IP: "1.2.3.4", PrivateIP: "10.0.0.1", Status: "active",
		SSHKeyNames: []string{"me", "deleted-key"}, FileSystemNames: []string{"datasets"},
		Region:           Region{Name: "us-east-1"},
		InstanceType:     InstanceType{Name: "gpu_8x_h100_sxm5", PriceCentsPerHour: 2392, Specs: InstanceTypeSpecs{GPUs: 8}},
		Tags:             []TagEntry{{Key: "team", Value: "ml"}, {Key: LaunchTokenTag, Value: "tok"}},
		FirewallRulesets: []FirewallRulesetEntry{{ID: "fw-1"}},
	}
	inst := mapInstance(w, map[string]string{"me": "key-1"})
	if !inst.Ready || inst.Status != clients.StatusRunning || inst.NativeStatus != "active" || inst.SSHHost != "1.2.3.4" ||
		inst.SSHPort != 22 || inst.SSHUser != "ubuntu" || inst.PrivateIP != "10.0.0.1" || inst.PricePerHour != 23.92 ||
		inst.GPUType != "H100_80GB_SXM" || inst.GPUCount != 8 || inst.Region != "us-east-1" {
		t.Errorf("mapped %+v", inst)
	}
	if len(inst.Tags) != 1 || inst.Tags["team"] != "ml" {
		t.Errorf("tags %v: the launch tag must be hidden", inst.Tags)
	}
	if !slices.Equal(inst.SSHKeyIDs, []string{"key-1", "deleted-key"}) {
		t.Errorf("ssh keys %v", inst.SSHKeyIDs)
	}
	if opts(inst.Options).FileSystemNames[0] != "datasets" || opts(inst.Options).FirewallRulesetIDs[0] != "fw-1" {
		t.Errorf("lambda options %+v", opts(inst.Options))
	}
	w.IP = ""
	if mapInstance(w, nil).Ready {
		t.Error("active without an IP must not be ready")
	}
}

// TestConcurrentReadsShareOneList: ten resources refreshing at once cost one GET /instances.
func TestConcurrentReadsShareOneList(t *testing.T) {
	f, c := newFakeCloud(t)
	var list []string
	for _, id := range []string{"i-0", "i-1", "i-2", "i-3", "i-4", "i-5", "i-6", "i-7", "i-8", "i-9"} {
		list = append(list, instanceJSON(id, "active", "1.2.3.4", "us-east-1", "gpu_8x_h100_sxm5", 2392, nil))
	}
	// The call stays in flight until every reader waits for it.
	gate := apifake.NewGate(t)
	f.Handle("GET", "/instances", gate.Hold(apifake.Status(http.StatusOK, `{"data":[`+strings.Join(list, ",")+`]}`)))
	f.data("GET", "/ssh-keys", sshKeysJSON)

	errs := apifake.HeldReads(t, 10, gate.Open, func(ctx context.Context, i int) error {
		id := "i-" + string(rune('0'+i))
		inst, err := c.GetInstance(ctx, id)
		if err != nil || inst.ID != id || inst.SSHKeyIDs[0] != "key-1" {
			return fmt.Errorf("read of %s: %+v, %v", id, inst, err)
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Errorf("reads failed: %v", err)
	}
	f.WantCount(t, "GET", "/instances", 1, "list calls")
	f.WantCount(t, "GET", "/ssh-keys", 1, "key list calls")
	// Still fresh: answered from the snapshot.
	if _, err := c.GetInstance(t.Context(), "i-3"); err != nil {
		t.Fatal(err)
	}
	f.WantCount(t, "GET", "/instances", 1, "list calls after a read within the snapshot's life")
}

// TestReadWithKnownKeysSkipsTheKeyList: a refresh whose state already holds the machine's key
// ids (Lambda never changes a machine's keys) costs the instance list alone; a machine that
// lists another number of keys than the state holds is mapped through the key list as usual.
func TestReadWithKnownKeysSkipsTheKeyList(t *testing.T) {
	f, c := newFakeCloud(t)
	f.data("GET", "/instances", `[`+instanceJSON("i-1", "active", "1.2.3.4", "us-east-1", "gpu_8x_h100_sxm5", 2392, nil)+`]`)
	f.data("GET", "/ssh-keys", sshKeysJSON)

	inst, err := c.GetInstance(clients.WithKnownSSHKeys(t.Context(), []string{"key-from-state"}), "i-1")
	if err != nil || !slices.Equal(inst.SSHKeyIDs, []string{"key-from-state"}) {
		t.Fatalf("got %+v, %v", inst, err)
	}
	f.WantCount(t, "GET", "/ssh-keys", 0, "key list calls with the keys known")

	inst, err = c.GetInstance(clients.WithKnownSSHKeys(t.Context(), []string{"a", "b"}), "i-1")
	if err != nil || !slices.Equal(inst.SSHKeyIDs, []string{"key-1"}) {
		t.Fatalf("two known keys for a machine with one: got %+v, %v", inst, err)
	}
	f.WantCount(t, "GET", "/ssh-keys", 1, "key list calls after a machine with other keys")
}

func TestGetInstanceMissingFromListIsAskedDirectly(t *testing.T) {
	f, c := newFakeCloud(t)
	f.data("GET", "/instances", `[]`)
	f.data("GET", "/ssh-keys", sshKeysJSON)
	f.data("GET", "/instances/i-new", instanceJSON("i-new", "booting", "", "us-east-1", "gpu_8x_h100_sxm5", 2392, nil))

	inst, err := c.GetInstance(t.Context(), "i-new")
	if err != nil || inst.ID != "i-new" || inst.Status != clients.StatusPending || inst.Ready {
		t.Fatalf("got %+v, %v", inst, err)
	}
	_, err = c.GetInstance(t.Context(), "i-gone") // the fake answers 404 object-does-not-exist
	if !errors.Is(err, clients.ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound", err)
	}
}

func TestReadErrorsAreNotNotFound(t *testing.T) {
	f, c := newFakeCloud(t)
	f.Handle("GET", "/instances", func(w http.ResponseWriter, _ *http.Request) {
		writeErr(w, http.StatusInternalServerError, "global/internal-error", "An internal server error occurred.", "")
	})
	// The shared list fetch runs under snapshot.FetchTimeout, a deadline that (unlike the
	// test's retry budget) would keep retrying the 500 for two minutes: bound it like the budget.
	c.instances = snapshot.New(func(ctx context.Context) ([]Instance, error) {
		ctx, cancel := context.WithTimeout(ctx, apifake.RetryBudget)
		defer cancel()
		return c.api.ListInstances(ctx)
	})
	_, err := c.GetInstance(t.Context(), "i-1")
	if err == nil || clients.IsNotFound(err) {
		t.Errorf("a failing list must not read as not found: %v", err)
	}
}

func TestListInstancesByTag(t *testing.T) {
	f, c := newFakeCloud(t)
	f.data("GET", "/ssh-keys", sshKeysJSON)
	f.data("GET", "/instances", "["+
		instanceJSON("i-1", "active", "", "us-east-1", "gpu_1x_a10", 75, map[string]string{"cluster": "a"})+","+
		instanceJSON("i-2", "active", "", "us-east-1", "gpu_1x_a10", 75, map[string]string{"cluster": "b"})+"]")
	got, err := c.ListInstancesByTag(t.Context(), "cluster", "b")
	if err != nil || len(got) != 1 || got[0].ID != "i-2" {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestDeleteInstance(t *testing.T) {
	ctx := t.Context()
	t.Run("terminates", func(t *testing.T) {
		f, c := newFakeCloud(t)
		f.data("POST", "/instance-operations/terminate", `{"terminated_instances":[]}`)
		if err := c.DeleteInstance(ctx, "i-1"); err != nil {
			t.Fatal(err)
		}
		assertJSON(t, f.Last().Body, `{"instance_ids":["i-1"]}`)
	})
	t.Run("missing is deleted", func(t *testing.T) {
		f, c := newFakeCloud(t)
		f.Handle("POST", "/instance-operations/terminate", func(w http.ResponseWriter, _ *http.Request) {
			writeErr(w, http.StatusNotFound, "global/object-does-not-exist", "Specified instance does not exist.", "")
		})
		if err := c.DeleteInstance(ctx, "i-1"); err != nil {
			t.Errorf("got %v", err)
		}
	})
	t.Run("already terminated is deleted", func(t *testing.T) {
		f, c := newFakeCloud(t)
		f.Handle("POST", "/instance-operations/terminate", func(w http.ResponseWriter, _ *http.Request) {
			writeErr(w, http.StatusBadRequest, "global/invalid-parameters", "Instance is already terminated.", "")
		})
		f.data("GET", "/instances/i-1", instanceJSON("i-1", "terminated", "", "us-east-1", "gpu_1x_a10", 75, nil))
		if err := c.DeleteInstance(ctx, "i-1"); err != nil {
			t.Errorf("got %v", err)
		}
		f.data("GET", "/instances/i-1", instanceJSON("i-1", "active", "", "us-east-1", "gpu_1x_a10", 75, nil))
		if err := c.DeleteInstance(ctx, "i-1"); !errors.Is(err, clients.ErrInvalid) {
			t.Errorf("refused while active: got %v, want the refusal", err)
		}
	})
	t.Run("later reads see the termination", func(t *testing.T) {
		f, c := newFakeCloud(t)
		f.data("GET", "/instances", "["+instanceJSON("i-1", "active", "", "us-east-1", "gpu_1x_a10", 75, nil)+"]")
		f.data("GET", "/ssh-keys", sshKeysJSON)
		f.data("POST", "/instance-operations/terminate", `{"terminated_instances":[]}`)
		if _, err := c.GetInstance(ctx, "i-1"); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteInstance(ctx, "i-1"); err != nil {
			t.Fatal(err)
		}
		f.data("GET", "/instances", "["+instanceJSON("i-1", "terminating", "", "us-east-1", "gpu_1x_a10", 75, nil)+"]")
		inst, err := c.GetInstance(ctx, "i-1")
		if err != nil || inst.Status != clients.StatusTerminating {
			t.Errorf("got %+v, %v: a cached pre-delete list was used", inst, err)
		}
	})
}

func TestUpdateInstance(t *testing.T) {
	f, c := newFakeCloud(t)
	f.data("GET", "/ssh-keys", sshKeysJSON)
	f.Handle("POST", "/instances/i-1", func(w http.ResponseWriter, _ *http.Request) {
		js := strings.Replace(instanceJSON("i-1", "active", "", "us-east-1", "gpu_1x_a10", 75, nil), `"name":"inst-i-1"`, `"name":"renamed"`, 1)
		writeOK(w, `{"data":`+js+`}`)
	})
	name := "renamed"
	inst, err := c.UpdateInstance(t.Context(), "i-1", clients.InstanceUpdate{Name: &name})
	if err != nil || inst.Name != "renamed" {
		t.Fatalf("got %+v, %v", inst, err)
	}
	assertJSON(t, f.Requests("POST", "/instances/i-1")[0].Body, `{"name":"renamed"}`)

	long := strings.Repeat("x", 65)
	if _, err := c.UpdateInstance(t.Context(), "i-1", clients.InstanceUpdate{Name: &long}); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("long name: %v", err)
	}
}

func TestSSHKeys(t *testing.T) {
	ctx := t.Context()
	f, c := newFakeCloud(t)

	f.Handle("POST", "/ssh-keys", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "public_key") {
			writeOK(w, `{"data":{"id":"key-1","name":"me","public_key":"ssh-ed25519 AAAA me@host"}}`)
			return
		}
		writeOK(w, `{"data":{"id":"key-2","name":"gen","public_key":"ssh-rsa BBBB","private_key":"-----BEGIN RSA PRIVATE KEY-----\nX\n-----END RSA PRIVATE KEY-----\n"}}`)
	})
	k, err := c.CreateSSHKey(ctx, clients.SSHKeySpec{Name: "me", PublicKey: "ssh-ed25519 AAAA me@host\n"})
	if err != nil || k.ID != "key-1" || k.PrivateKey != "" {
		t.Fatalf("got %+v, %v", k, err)
	}
	assertJSON(t, f.Last().Body, `{"name":"me","public_key":"ssh-ed25519 AAAA me@host"}`)

	k, err = c.CreateSSHKey(ctx, clients.SSHKeySpec{Name: "gen"})
	if err != nil || k.ID != "key-2" || !strings.Contains(k.PrivateKey, "PRIVATE KEY") || k.PublicKey != "ssh-rsa BBBB" {
		t.Fatalf("got %+v, %v", k, err)
	}
	assertJSON(t, f.Last().Body, `{"name":"gen"}`)

	f.Handle("POST", "/ssh-keys", func(w http.ResponseWriter, _ *http.Request) {
		writeErr(w, http.StatusBadRequest, "global/duplicate", "An SSH key with the name me already exists.", "")
	})
	_, err = c.CreateSSHKey(ctx, clients.SSHKeySpec{Name: "me", PublicKey: "ssh-ed25519 AAAA"})
	if !errors.Is(err, clients.ErrConflict) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate: %v", err)
	}

	f.data("GET", "/ssh-keys", sshKeysJSON)
	k, err = c.GetSSHKey(ctx, "key-1")
	if err != nil || k.Name != "me" || k.PublicKey != "ssh-ed25519 AAAAC3Nza me@host" {
		t.Errorf("get: %+v, %v", k, err)
	}
	before := f.Count("GET", "/ssh-keys")
	if _, err := c.GetSSHKey(ctx, "key-9"); !errors.Is(err, clients.ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
	if n := f.Count("GET", "/ssh-keys") - before; n != 1 {
		t.Errorf("a missing key must be confirmed by one fresh list, got %d calls", n)
	}

	f.data("DELETE", "/ssh-keys/key-1", `{}`)
	if err := c.DeleteSSHKey(ctx, "key-1"); err != nil {
		t.Error(err)
	}
	if err := c.DeleteSSHKey(ctx, "key-9"); err != nil { // 404 from the fake
		t.Errorf("deleting a missing key: %v", err)
	}
}

func TestLostSSHKeyAnswerIsAdopted(t *testing.T) {
	f, c := newFakeCloud(t)
	f.Handle("POST", "/ssh-keys", func(w http.ResponseWriter, _ *http.Request) { apifake.HangUp(w) })
	f.data("GET", "/ssh-keys", sshKeysJSON)
	k, err := c.CreateSSHKey(t.Context(), clients.SSHKeySpec{Name: "me", PublicKey: "ssh-ed25519 AAAAC3Nza other-comment"})
	if err != nil || k.ID != "key-1" {
		t.Fatalf("got %+v, %v", k, err)
	}
	f.WantCount(t, "POST", "/ssh-keys", 1, "adds")
	if _, err := c.CreateSSHKey(t.Context(), clients.SSHKeySpec{Name: "me"}); !errors.Is(err, clients.ErrOutcomeUnknown) ||
		!strings.Contains(err.Error(), "private key") {
		t.Errorf("generated key with a lost answer: %v", err)
	}
}

func TestFilesystemsAndRulesets(t *testing.T) {
	ctx := t.Context()
	f, c := newFakeCloud(t)
	f.data("GET", "/file-systems", `[{"id":"fs-1","name":"datasets","mount_point":"/m","created":"2025-01-02T03:04:05Z",
		"created_by":{"id":"u","email":"e","status":"active"},"is_in_use":false,"region":{"name":"us-east-1"}}]`)
	fs, err := c.GetFilesystem(ctx, "fs-1")
	if err != nil || fs.Name != "datasets" {
		t.Errorf("get: %+v, %v", fs, err)
	}
	if _, err := c.GetFilesystem(ctx, "fs-9"); !errors.Is(err, clients.ErrNotFound) {
		t.Errorf("get missing: %v", err)
	}
	if err := c.DeleteFilesystem(ctx, "fs-9"); err != nil {
		t.Errorf("delete missing: %v", err)
	}
	f.Handle("DELETE", "/filesystems/fs-1", func(w http.ResponseWriter, _ *http.Request) {
		writeErr(w, http.StatusBadRequest, "filesystems/filesystem-in-use", "Filesystem is in use.", "Terminate the instances first.")
	})
	if err := c.DeleteFilesystem(ctx, "fs-1"); !errors.Is(err, clients.ErrConflict) {
		t.Errorf("delete in use: %v", err)
	}
	// A lost create answer: adopted by name and region.
	f.Handle("POST", "/filesystems", func(w http.ResponseWriter, _ *http.Request) { apifake.HangUp(w) })
	fs, err = c.CreateFilesystem(ctx, "datasets", "us-east-1")
	if err != nil || fs.ID != "fs-1" {
		t.Errorf("adopt: %+v, %v", fs, err)
	}
	if _, err := c.CreateFilesystem(ctx, "other", "us-east-1"); !errors.Is(err, clients.ErrOutcomeUnknown) {
		t.Errorf("lost and absent: %v", err)
	}

	if _, err := c.GetFirewallRuleset(ctx, "fw-9"); !errors.Is(err, clients.ErrNotFound) {
		t.Errorf("get missing ruleset: %v", err)
	}
	if err := c.DeleteFirewallRuleset(ctx, "fw-9"); err != nil {
		t.Errorf("delete missing ruleset: %v", err)
	}
	name := "renamed"
	f.data("PATCH", "/firewall-rulesets/fw-1", `{"id":"fw-1","name":"renamed","region":{"name":"us-east-1"},"rules":[],"instance_ids":[]}`)
	if _, err := c.UpdateFirewallRuleset(ctx, "fw-1", FirewallRulesetPatchRequest{Name: &name}); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Last().Body, `{"name":"renamed"}`)
}
