package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

func h100Spec() clients.InstanceSpec {
	return clients.InstanceSpec{
		Name: "finetune-1", GPUType: "H100_80GB_SXM", GPUCount: 8,
		SSHKeyIDs: []string{"key-1"}, LaunchToken: "tok-123",
	}
}

// launchReads answers what a launch reads first: no instances yet, the key "me", and the two
// instance types, the H100 one with capacity in regions.
func launchReads(f *fakeAPI, regions ...string) {
	f.data("GET", "/instances", `[]`)
	f.data("GET", "/ssh-keys", sshKeysJSON)
	f.data("GET", "/instance-types", instanceTypesJSON(regions...))
}

func TestCreateInstanceRequestBody(t *testing.T) {
	f, c := newFakeCloud(t)
	launchReads(f, "us-west-1")
	f.data("POST", "/instance-operations/launch", `{"instance_ids":["i-1"]}`)

	spec := h100Spec()
	spec.Region = "us-east-1" // named: tried even without listed capacity
	spec.Image = "0d5a3a5e-8e6f-4f1c-9a55-3b7a0b8f6a11"
	spec.UserData = "#cloud-config\n"
	spec.Tags = map[string]string{"team": "ml", "env": "dev"}
	spec.Options = &InstanceOptions{FileSystemNames: []string{"datasets"}, FirewallRulesetIDs: []string{"fw-1"}}
	inst, err := c.CreateInstance(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Last().Body, `{
		"region_name":"us-east-1","instance_type_name":"gpu_8x_h100_sxm5","ssh_key_names":["me"],
		"file_system_names":["datasets"],"name":"finetune-1","image":{"id":"0d5a3a5e-8e6f-4f1c-9a55-3b7a0b8f6a11"},
		"user_data":"#cloud-config\n",
		"tags":[{"key":"env","value":"dev"},{"key":"team","value":"ml"},{"key":"neocloud-launch-token","value":"tok-123"}],
		"firewall_rulesets":[{"id":"fw-1"}]}`)
	if inst.ID != "i-1" || inst.Cloud != "lambda" || inst.Region != "us-east-1" || inst.Status != clients.StatusPending ||
		inst.InstanceType != "gpu_8x_h100_sxm5" || inst.GPUType != "H100_80GB_SXM" || inst.GPUCount != 8 ||
		inst.PricePerHour != 23.92 || inst.Tags["team"] != "ml" || len(inst.Tags) != 2 || inst.SSHKeyIDs[0] != "key-1" ||
		opts(inst.Options).FileSystemNames[0] != "datasets" || inst.SSHUser != "ubuntu" || inst.SSHPort != 22 {
		t.Errorf("returned %+v", inst)
	}
	// Returned right after acceptance: no read of the new machine.
	f.WantCount(t, "GET", "/instances/i-1", 0, "reads of the new instance")
}

func TestCreateInstanceImageFamilyAndKeyByName(t *testing.T) {
	f, c := newFakeCloud(t)
	launchReads(f, "us-east-1")
	f.data("POST", "/instance-operations/launch", `{"instance_ids":["i-1"]}`)
	spec := h100Spec()
	spec.SSHKeyIDs = []string{"me"} // a key name is accepted as well
	spec.Image = "lambda-stack-24-04"
	spec.LaunchToken = ""
	if _, err := c.CreateInstance(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	var body struct {
		SSHKeyNames []string          `json:"ssh_key_names"`
		Image       map[string]string `json:"image"`
		Tags        []map[string]string
	}
	if err := json.Unmarshal(f.Last().Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Image["family"] != "lambda-stack-24-04" || body.Image["id"] != "" || body.SSHKeyNames[0] != "me" {
		t.Errorf("body %+v", body)
	}
	// Without a token from the caller one is made up, so adoption still works.
	if len(body.Tags) != 2 || body.Tags[0]["key"] != LaunchTokenTag || len(body.Tags[0]["value"]) != 32 || body.Tags[1]["key"] != LaunchedAtTag {
		t.Errorf("tags %v", body.Tags)
	}
	// No token from the caller: nobody can be retrying, so no look before launching.
	f.WantCount(t, "GET", "/instances", 0, "instance lists before launching")
}

// launchByRegion answers launches per region: a capacity refusal, or success.
func launchByRegion(f *fakeAPI, ok map[string]string) {
	f.Handle("POST", "/instance-operations/launch", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		_ = json.NewDecoder(r.Body).Decode(&req)
		region, _ := req["region_name"].(string)
		if id, found := ok[region]; found {
			writeOK(w, `{"data":{"instance_ids":["`+id+`"]}}`)
			return
		}
		writeErr(w, http.StatusBadRequest, "instance-operations/launch/insufficient-capacity",
			"Not enough capacity to fulfill launch request.", "Try another region or instance type.")
	})
}

func launchedRegions(t *testing.T, f *fakeAPI) []string {
	t.Helper()
	var out []string
	for _, r := range f.Requests("POST", "/instance-operations/launch") {
		var req map[string]any
		if err := json.Unmarshal(r.Body, &req); err != nil {
			t.Fatal(err)
		}
		region, _ := req["region_name"].(string)
		out = append(out, region)
	}
	return out
}

func TestCreateInstanceMovesToNextRegionOnCapacity(t *testing.T) {
	f, c := newFakeCloud(t)
	launchReads(f, "us-west-1", "us-east-1")
	launchByRegion(f, map[string]string{"us-west-1": "i-west"})

	inst, err := c.CreateInstance(t.Context(), h100Spec())
	if err != nil {
		t.Fatal(err)
	}
	if inst.ID != "i-west" || inst.Region != "us-west-1" {
		t.Errorf("got %s in %s", inst.ID, inst.Region)
	}
	if got := strings.Join(launchedRegions(t, f), ","); got != "us-east-1,us-west-1" {
		t.Errorf("tried %s, want us-east-1 then us-west-1 (name order)", got)
	}
}

func TestCreateInstanceCapacityErrorListsEveryAttempt(t *testing.T) {
	f, c := newFakeCloud(t)
	launchReads(f, "us-west-1", "us-east-1")
	launchByRegion(f, nil)

	_, err := c.CreateInstance(t.Context(), h100Spec())
	var capErr *clients.CapacityError
	if !errors.As(err, &capErr) || !errors.Is(err, clients.ErrCapacity) {
		t.Fatalf("got %v, want *clients.CapacityError", err)
	}
	if len(capErr.Attempts) != 2 {
		t.Fatalf("attempts %+v", capErr.Attempts)
	}
	for i, region := range []string{"us-east-1", "us-west-1"} {
		a := capErr.Attempts[i]
		if a.Cloud != "lambda" || a.Region != region || a.InstanceType != "gpu_8x_h100_sxm5" {
			t.Errorf("attempt %d: %+v", i, a)
		}
	}
	msg := err.Error()
	for _, want := range []string{"us-east-1", "us-west-1", "Not enough capacity", "Try another region"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestCreateInstanceWithoutCapacityAnywhereDoesNotLaunch(t *testing.T) {
	f, c := newFakeCloud(t)
	launchReads(f)
	launchByRegion(f, nil)
	_, err := c.CreateInstance(t.Context(), h100Spec())
	if !clients.IsCapacity(err) || !strings.Contains(err.Error(), "gpu_8x_h100_sxm5") {
		t.Errorf("got %v", err)
	}
	f.WantCount(t, "POST", "/instance-operations/launch", 0, "launches")
}

func TestCreateInstanceGoesWhereItsFilesystemIs(t *testing.T) {
	f, c := newFakeCloud(t)
	launchReads(f, "us-east-1")
	f.data("GET", "/file-systems", `[{"id":"fs-1","name":"datasets","mount_point":"/lambda/nfs/datasets",
		"created":"2025-01-02T03:04:05Z","created_by":{"id":"u","email":"e","status":"active"},"is_in_use":false,
		"region":{"name":"us-south-1","description":"Texas, USA"}}]`)
	launchByRegion(f, map[string]string{"us-south-1": "i-1"})
	spec := h100Spec()
	spec.Options = &InstanceOptions{FileSystemNames: []string{"datasets"}}
	inst, err := c.CreateInstance(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if inst.Region != "us-south-1" || strings.Join(launchedRegions(t, f), ",") != "us-south-1" {
		t.Errorf("launched in %v", launchedRegions(t, f))
	}

	opts(spec.Options).FileSystemNames = []string{"nope"}
	spec.LaunchToken = "tok-456" // another resource: the first one's token is taken
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("unknown filesystem: got %v, want ErrInvalid", err)
	}
}

func TestCreateInstanceRefusesAboveMaxPrice(t *testing.T) {
	f, c := newFakeCloud(t)
	launchReads(f, "us-east-1")
	launchByRegion(f, map[string]string{"us-east-1": "i-1"})
	spec := h100Spec()
	spec.MaxPricePerHour = 20
	_, err := c.CreateInstance(t.Context(), spec)
	if !errors.Is(err, clients.ErrInvalid) || !strings.Contains(err.Error(), "$23.92") || !strings.Contains(err.Error(), "$20.00") {
		t.Errorf("got %v", err)
	}
	f.WantCount(t, "POST", "/instance-operations/launch", 0, "launches")
	spec.MaxPricePerHour = 23.92 // equal is within the cap
	if _, err := c.CreateInstance(t.Context(), spec); err != nil {
		t.Errorf("at the cap: %v", err)
	}
}

func TestCreateInstanceInputErrors(t *testing.T) {
	f, c := newFakeCloud(t)
	launchReads(f, "us-east-1")
	f.Handle("POST", "/instance-operations/launch", func(w http.ResponseWriter, _ *http.Request) {
		writeErr(w, http.StatusNotFound, "global/object-does-not-exist", "Image not found.", "")
	})

	spec := h100Spec()
	spec.SSHKeyIDs = []string{"key-1", "key-2"}
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) || !strings.Contains(err.Error(), "exactly one SSH key") {
		t.Errorf("two keys: %v", err)
	}
	spec = h100Spec()
	spec.Tags = map[string]string{LaunchTokenTag: "x"}
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("reserved tag: %v", err)
	}
	spec = h100Spec()
	spec.GPUCount = 3
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) || !strings.Contains(err.Error(), "1, 2, 4, 8") {
		t.Errorf("bad count: %v", err)
	}
	if n := len(f.Requests("GET", "/instances")) + len(f.Requests("GET", "/ssh-keys")); n != 0 {
		t.Errorf("bad input reached the API (%d calls)", n)
	}

	spec = h100Spec()
	spec.SSHKeyIDs = []string{"key-404"}
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) || !strings.Contains(err.Error(), "key-404") {
		t.Errorf("unknown key: %v", err)
	}
	spec = h100Spec()
	spec.GPUType, spec.GPUCount = "gpu_2x_x999", 0
	if _, err := c.CreateInstance(t.Context(), spec); !errors.Is(err, clients.ErrInvalid) || !strings.Contains(err.Error(), "does not offer") {
		t.Errorf("unoffered type: %v", err)
	}
	// The launch's "does not exist" is about the request's inputs: invalid, not a gone machine.
	spec = h100Spec()
	spec.Region = "us-east-1"
	_, err := c.CreateInstance(t.Context(), spec)
	if !errors.Is(err, clients.ErrInvalid) || errors.Is(err, clients.ErrNotFound) || !strings.Contains(err.Error(), "Image not found") {
		t.Errorf("launch 404: %v", err)
	}
}

func badGateway(w http.ResponseWriter) {
	writeErr(w, http.StatusBadGateway, "global/internal-error", "An internal server error occurred.", "Try again later.")
}

func TestLostLaunchAnswerIsAdoptedNotRepeated(t *testing.T) {
	for name, fail := range map[string]func(http.ResponseWriter){"connection dropped": apifake.HangUp, "502": badGateway} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			// The second look comes well within the window, however slow the machine.
			c := newTestCloud(t, f, WithAdoptionWindow(time.Hour, 20*time.Millisecond))
			f.data("GET", "/ssh-keys", sshKeysJSON)
			f.data("GET", "/instance-types", instanceTypesJSON("us-east-1", "us-west-1"))
			var l committingLaunch
			l.install(f, fail) // listed only after a moment

			inst, err := c.CreateInstance(t.Context(), h100Spec())
			if err != nil {
				t.Fatal(err)
			}
			if n := l.count(); n != 1 {
				t.Errorf("%d launches, want exactly 1", n)
			}
			if inst.ID != "i-lost" || inst.Region != "us-east-1" || inst.Tags[LaunchTokenTag] != "" || inst.SSHKeyIDs[0] != "key-1" {
				t.Errorf("adopted %+v", inst)
			}
		})
	}
}

func TestLostLaunchProvenAbsentIsSentAgain(t *testing.T) {
	f, c := newFakeCloud(t)
	f.data("GET", "/ssh-keys", sshKeysJSON)
	f.data("GET", "/instance-types", instanceTypesJSON("us-east-1", "us-west-1"))
	f.data("GET", "/instances", `[]`)
	f.data("POST", "/instance-operations/launch", `{"instance_ids":["i-2"]}`)
	f.Script("POST", "/instance-operations/launch", apifake.Drop) // the first is lost, and never committed

	inst, err := c.CreateInstance(t.Context(), h100Spec())
	if err != nil {
		t.Fatal(err)
	}
	if inst.ID != "i-2" || inst.Adopted != "" {
		t.Errorf("got %+v, want the second launch's instance", inst)
	}
	if launches := f.Count("POST", "/instance-operations/launch"); launches != 2 {
		t.Errorf("%d launches, want 2: the first provably did not happen", launches)
	}
	// One look before launching, then looks until one after the horizon found nothing.
	if n := f.Count("GET", "/instances"); n < 3 {
		t.Errorf("looked %d times, want the look before and several after the lost answer", n)
	}
}

func TestLostLaunchWithFailingLooksIsUnknownAndNotRepeated(t *testing.T) {
	f, c := newFakeCloud(t)
	f.data("GET", "/ssh-keys", sshKeysJSON)
	f.data("GET", "/instance-types", instanceTypesJSON("us-east-1", "us-west-1"))
	// The operation's time runs out at the third failed look after the launch.
	ctx := apifake.NewExpiring(t, context.Background(), time.Now().Add(time.Hour))
	looks := 0
	f.Handle("GET", "/instances", func(w http.ResponseWriter, _ *http.Request) {
		looks++
		if looks == 1 {
			writeOK(w, `{"data":[]}`) // the look before launching
			return
		}
		if looks == 4 {
			ctx.Expire()
		}
		badGateway(w)
	})
	var l committingLaunch
	f.Handle("POST", "/instance-operations/launch", func(w http.ResponseWriter, _ *http.Request) {
		l.mu.Lock()
		l.launches++
		l.mu.Unlock()
		apifake.HangUp(w)
	})

	_, err := c.CreateInstance(ctx, h100Spec())
	if !errors.Is(err, clients.ErrOutcomeUnknown) {
		t.Fatalf("got %v, want ErrOutcomeUnknown", err)
	}
	if !strings.Contains(err.Error(), LaunchTokenTag+"=tok-123") || !strings.Contains(err.Error(), "next apply") {
		t.Errorf("error does not say what to look for and what happens next: %v", err)
	}
	if n := l.count(); n != 1 {
		t.Errorf("%d launches, want exactly 1: failed looks prove nothing", n)
	}
}

// user_data is a script that often carries credentials: a launch logged at TRACE must not log it,
// nor the API key sent as its bearer token.
func TestCreateInstanceLogsNoUserData(t *testing.T) {
	ctx, buf := apifake.TraceLog(t, "lambda") // not parallel
	const secret = "s3cr3t-bootstrap-token-91ab"
	f, c := newFakeCloud(t)
	launchReads(f, "us-west-1")
	f.data("POST", "/instance-operations/launch", `{"instance_ids":["i-1"]}`)

	spec := h100Spec()
	spec.UserData = "#cloud-config\nwrite_files:\n  - path: /etc/creds\n    content: " + secret + "\n"
	if _, err := c.CreateInstance(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(f.Last().Body), secret) {
		t.Fatalf("the user data did not reach Lambda, so the test proves nothing: %s", f.Last().Body)
	}
	out := buf.String()
	apifake.NoSecrets(t, out, secret, testKey)
	if !strings.Contains(out, "/instance-operations/launch") || !strings.Contains(out, `\"user_data\":\"***\"`) {
		t.Errorf("want the launch logged with user_data masked:\n%s", out)
	}
}
