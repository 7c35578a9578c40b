package lambda

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// The registration's fields are checked with the other clouds' (internal/clients/all).
func TestNewChecksKeyAndEndpoint(t *testing.T) {
	if DefaultEndpoint != "https://cloud.lambda.ai/api/v1" {
		t.Errorf("DefaultEndpoint = %q", DefaultEndpoint)
	}
	if _, err := New(clients.Settings{}); !errors.Is(err, clients.ErrAuth) {
		t.Errorf("New without a key: got %v, want ErrAuth", err)
	}
	if _, err := New(clients.Settings{APIKey: "k", Endpoint: "not a url"}); err == nil {
		t.Error("New with a bad endpoint: want an error")
	}
}

func TestDefaultLimitsArePublishedOnes(t *testing.T) {
	l := DefaultLimiter()
	if l.Limit() != rate.Every(time.Second) || l.Burst() != 2 {
		t.Errorf("general limiter %v/%d", l.Limit(), l.Burst())
	}
	ll := DefaultLaunchLimiter()
	if ll.Limit() != rate.Every(12*time.Second) || ll.Burst() != 1 {
		t.Errorf("launch limiter %v/%d", ll.Limit(), ll.Burst())
	}
}

// noErr is a table's call that must succeed.
func noErr(call func() error) func(*testing.T) {
	return func(t *testing.T) {
		t.Helper()
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWireRequests checks every call's method, path, JSON body, credentials and decoding.
func TestWireRequests(t *testing.T) {
	f, c := newFakeCloud(t)
	api := c.API()
	ctx := t.Context()

	type call struct {
		name, method, path, body string // body "" = no body expected
		respond                  string
		run                      func(t *testing.T)
	}
	calls := []call{
		{name: "list instance types", method: "GET", path: "/instance-types", respond: instanceTypesJSON("us-east-1"),
			run: func(t *testing.T) {
				m, err := api.ListInstanceTypes(ctx)
				if err != nil {
					t.Fatal(err)
				}
				it := m["gpu_8x_h100_sxm5"]
				if it.InstanceType.PriceCentsPerHour != 2392 || it.InstanceType.Specs.MemoryGiB != 1800 ||
					it.InstanceType.Specs.StorageGiB != 24780 || it.InstanceType.Specs.GPUs != 8 ||
					it.InstanceType.GPUDescription != "H100 (80 GB SXM5)" ||
					len(it.RegionsWithCapacityAvailable) != 1 || it.RegionsWithCapacityAvailable[0].Name != "us-east-1" {
					t.Errorf("decoded %+v", it)
				}
			}},
		{name: "list instances", method: "GET", path: "/instances",
			respond: "[" + instanceJSON("i-1", "active", "1.2.3.4", "us-east-1", "gpu_8x_h100_sxm5", 2392, map[string]string{"a": "b"}) + "]",
			run: func(t *testing.T) {
				l, err := api.ListInstances(ctx)
				if err != nil || len(l) != 1 {
					t.Fatal(l, err)
				}
				i := l[0]
				if i.PrivateIP != "10.0.0.5" || i.IP != "1.2.3.4" || i.SSHKeyNames[0] != "me" || i.FileSystemNames[0] != "datasets" ||
					i.Region.Name != "us-east-1" || i.InstanceType.PriceCentsPerHour != 2392 || i.Tags[0].Key != "a" ||
					i.FirewallRulesets[0].ID != "fw-1" || !i.Actions.ColdReboot.Available || i.Hostname != "h-i-1" {
					t.Errorf("decoded %+v", i)
				}
			}},
		{name: "get instance", method: "GET", path: "/instances/i-1",
			respond: instanceJSON("i-1", "booting", "", "us-east-1", "gpu_8x_h100_sxm5", 2392, nil),
			run: func(t *testing.T) {
				i, err := api.GetInstance(ctx, "i-1")
				if err != nil || i.Status != "booting" {
					t.Fatal(i, err)
				}
			}},
		{name: "rename", method: "POST", path: "/instances/i-1", body: `{"name":"new"}`,
			respond: instanceJSON("i-1", "active", "", "us-east-1", "gpu_8x_h100_sxm5", 2392, nil),
			run: func(t *testing.T) {
				name := "new"
				if _, err := api.UpdateInstance(ctx, "i-1", InstanceModificationRequest{Name: &name}); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "launch", method: "POST", path: "/instance-operations/launch",
			body:    `{"region_name":"us-east-1","instance_type_name":"gpu_1x_a10","ssh_key_names":["me"],"image":{"family":"lambda-stack-24-04"}}`,
			respond: `{"instance_ids":["i-2"]}`,
			run: func(t *testing.T) {
				r, err := api.LaunchInstance(ctx, LaunchRequest{RegionName: "us-east-1", InstanceTypeName: "gpu_1x_a10",
					SSHKeyNames: []string{"me"}, Image: &ImageSpec{Family: "lambda-stack-24-04"}})
				if err != nil || r.InstanceIDs[0] != "i-2" {
					t.Fatal(r, err)
				}
			}},
		{name: "terminate", method: "POST", path: "/instance-operations/terminate", body: `{"instance_ids":["i-1"]}`,
			respond: `{"terminated_instances":[` + instanceJSON("i-1", "terminating", "", "us-east-1", "gpu_1x_a10", 75, nil) + `]}`,
			run: func(t *testing.T) {
				l, err := api.TerminateInstances(ctx, "i-1")
				if err != nil || l[0].Status != "terminating" {
					t.Fatal(l, err)
				}
			}},
		{name: "restart", method: "POST", path: "/instance-operations/restart", body: `{"instance_ids":["i-1"]}`,
			respond: `{"restarted_instances":[]}`,
			run:     noErr(func() error { return c.RestartInstance(ctx, "i-1") })},
		{name: "list ssh keys", method: "GET", path: "/ssh-keys", respond: sshKeysJSON,
			run: func(t *testing.T) {
				k, err := api.ListSSHKeys(ctx)
				if err != nil || k[0].PublicKey != "ssh-ed25519 AAAAC3Nza me@host" {
					t.Fatal(k, err)
				}
			}},
		{name: "add ssh key", method: "POST", path: "/ssh-keys", body: `{"name":"me","public_key":"ssh-ed25519 AAAA"}`,
			respond: `{"id":"key-2","name":"me","public_key":"ssh-ed25519 AAAA"}`,
			run: noErr(func() error {
				_, err := api.AddSSHKey(ctx, AddSSHKeyRequest{Name: "me", PublicKey: "ssh-ed25519 AAAA"})
				return err
			})},
		{name: "delete ssh key", method: "DELETE", path: "/ssh-keys/key-2", respond: `{}`,
			run: noErr(func() error { return api.DeleteSSHKey(ctx, "key-2") })},
		{name: "list filesystems", method: "GET", path: "/file-systems",
			respond: `[{"id":"fs-1","name":"datasets","mount_point":"/lambda/nfs/datasets","created":"2025-01-02T03:04:05Z",
				"created_by":{"id":"u-1","email":"a@b.c","status":"active"},"is_in_use":true,
				"region":{"name":"us-east-1","description":"Virginia, USA"},"bytes_used":1234}]`,
			run: func(t *testing.T) {
				l, err := c.ListFilesystems(ctx)
				if err != nil {
					t.Fatal(err)
				}
				fs := l[0]
				if fs.MountPoint != "/lambda/nfs/datasets" || !fs.IsInUse || fs.BytesUsed != 1234 || fs.CreatedBy.Email != "a@b.c" ||
					fs.Region.Name != "us-east-1" || fs.Created.Year() != 2025 {
					t.Errorf("decoded %+v", fs)
				}
			}},
		{name: "create filesystem", method: "POST", path: "/filesystems", body: `{"name":"datasets","region":"us-east-1"}`,
			respond: `{"id":"fs-1","name":"datasets","mount_point":"/lambda/nfs/datasets","created":"2025-01-02T03:04:05Z",
				"created_by":{"id":"u-1","email":"a@b.c","status":"active"},"is_in_use":false,"region":{"name":"us-east-1","description":"x"}}`,
			run: func(t *testing.T) {
				fs, err := c.CreateFilesystem(ctx, "datasets", "us-east-1")
				if err != nil || fs.ID != "fs-1" {
					t.Fatal(fs, err)
				}
			}},
		{name: "delete filesystem", method: "DELETE", path: "/filesystems/fs-1", respond: `{"deleted_ids":["fs-1"]}`,
			run: func(t *testing.T) {
				ids, err := api.DeleteFilesystem(ctx, "fs-1")
				if err != nil || ids[0] != "fs-1" {
					t.Fatal(ids, err)
				}
			}},
		{name: "list images", method: "GET", path: "/images",
			respond: `[{"id":"img-1","created_time":"2025-01-01T00:00:00Z","updated_time":"2025-01-02T00:00:00Z","name":"Lambda Stack 24.04",
				"description":"d","family":"lambda-stack-24-04","version":"1","architecture":"x86_64","region":{"name":"us-east-1","description":"x"}}]`,
			run: func(t *testing.T) {
				l, err := api.ListImages(ctx)
				if err != nil || l[0].Family != "lambda-stack-24-04" || l[0].Architecture != "x86_64" || l[0].UpdatedTime.Day() != 2 {
					t.Fatal(l, err)
				}
			}},
		{name: "list firewall rulesets", method: "GET", path: "/firewall-rulesets",
			respond: `[{"id":"fw-1","name":"cluster","region":{"name":"us-east-1","description":"x"},
				"rules":[{"protocol":"tcp","port_range":[22,22],"source_network":"0.0.0.0/0","description":"ssh"}],
				"created":"2025-01-02T03:04:05Z","instance_ids":["i-1"]}]`,
			run: func(t *testing.T) {
				l, err := c.ListFirewallRulesets(ctx)
				if err != nil || l[0].Rules[0].PortRange[1] != 22 || l[0].InstanceIDs[0] != "i-1" || l[0].Rules[0].SourceNetwork != "0.0.0.0/0" {
					t.Fatal(l, err)
				}
			}},
		{name: "get firewall ruleset", method: "GET", path: "/firewall-rulesets/fw-1",
			respond: `{"id":"fw-1","name":"cluster","region":{"name":"us-east-1"},"rules":[],"created":"2025-01-02T03:04:05Z","instance_ids":[]}`,
			run: func(t *testing.T) {
				rs, err := c.GetFirewallRuleset(ctx, "fw-1")
				if err != nil || rs.Name != "cluster" {
					t.Fatal(rs, err)
				}
			}},
		{name: "create firewall ruleset", method: "POST", path: "/firewall-rulesets",
			body:    `{"name":"cluster","region":"us-east-1","rules":[{"protocol":"all","source_network":"10.0.0.0/8","description":"intra"}]}`,
			respond: `{"id":"fw-2","name":"cluster","region":{"name":"us-east-1"},"rules":[],"created":"2025-01-02T03:04:05Z","instance_ids":[]}`,
			run: func(t *testing.T) {
				rs, err := c.CreateFirewallRuleset(ctx, "cluster", "us-east-1",
					[]FirewallRule{{Protocol: ProtocolAll, SourceNetwork: "10.0.0.0/8", Description: "intra"}})
				if err != nil || rs.ID != "fw-2" {
					t.Fatal(rs, err)
				}
			}},
		{name: "update firewall ruleset", method: "PATCH", path: "/firewall-rulesets/fw-2", body: `{"rules":[]}`,
			respond: `{"id":"fw-2","name":"cluster","region":{"name":"us-east-1"},"rules":[],"created":"2025-01-02T03:04:05Z","instance_ids":[]}`,
			run: func(t *testing.T) {
				empty := []FirewallRule{}
				if _, err := c.UpdateFirewallRuleset(ctx, "fw-2", FirewallRulesetPatchRequest{Rules: &empty}); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "delete firewall ruleset", method: "DELETE", path: "/firewall-rulesets/fw-2", respond: `{}`,
			run: noErr(func() error { return c.DeleteFirewallRuleset(ctx, "fw-2") })},
		{name: "get global firewall ruleset", method: "GET", path: "/firewall-rulesets/global",
			respond: `{"id":"global","name":"Global Firewall Rules","rules":[{"protocol":"icmp","source_network":"0.0.0.0/0","description":"ping"}]}`,
			run: func(t *testing.T) {
				g, err := api.GetGlobalFirewallRuleset(ctx)
				if err != nil || g.ID != "global" || g.Rules[0].Protocol != "icmp" {
					t.Fatal(g, err)
				}
			}},
		{name: "update global firewall ruleset", method: "PATCH", path: "/firewall-rulesets/global",
			body:    `{"rules":[{"protocol":"tcp","port_range":[22,22],"source_network":"1.2.3.4/32","description":"ssh"}]}`,
			respond: `{"id":"global","name":"Global Firewall Rules","rules":[]}`,
			run: func(t *testing.T) {
				rules := []FirewallRule{{Protocol: ProtocolTCP, PortRange: []int{22, 22}, SourceNetwork: "1.2.3.4/32", Description: "ssh"}}
				if _, err := api.UpdateGlobalFirewallRuleset(ctx, GlobalFirewallRulesetPatchRequest{Rules: &rules}); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "list firewall rules", method: "GET", path: "/firewall-rules",
			respond: `[{"protocol":"udp","port_range":[5000,5010],"source_network":"0.0.0.0/0","description":"x"}]`,
			run: func(t *testing.T) {
				l, err := api.ListFirewallRules(ctx)
				if err != nil || l[0].PortRange[0] != 5000 {
					t.Fatal(l, err)
				}
			}},
		{name: "replace firewall rules", method: "PUT", path: "/firewall-rules",
			body:    `{"data":[{"protocol":"tcp","port_range":[22,22],"source_network":"0.0.0.0/0","description":"ssh"}]}`,
			respond: `[]`,
			run: func(t *testing.T) {
				_, err := api.SetFirewallRules(ctx, []FirewallRule{{Protocol: "tcp", PortRange: []int{22, 22}, SourceNetwork: "0.0.0.0/0", Description: "ssh"}})
				if err != nil {
					t.Fatal(err)
				}
			}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			f.data(tc.method, tc.path, tc.respond)
			tc.run(t)
			f.Last().Check(t, apifake.Want{Method: tc.method, Path: tc.path, Auth: "Bearer " + testKey, UserAgent: apifake.UserAgent,
				Body: tc.body, Normalize: func(g any) any { return withoutLaunchedAt(t, g) }})
		})
	}
}

func TestMalformedIDsNeverReachTheServer(t *testing.T) {
	f, c := newFakeCloud(t)
	for _, id := range []string{"", "../ssh-keys", "a/b", "a?b"} {
		if _, err := c.GetInstance(t.Context(), id); !errors.Is(err, clients.ErrInvalid) {
			t.Errorf("GetInstance(%q): %v, want ErrInvalid", id, err)
		}
	}
	if n := f.Total(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestErrorMapping checks that each documented error code becomes its kind, keeping Lambda's
// code, message and suggestion.
func TestErrorMapping(t *testing.T) {
	cases := []struct {
		status int
		code   string
		want   error
	}{
		{400, "instance-operations/launch/insufficient-capacity", clients.ErrCapacity},
		{400, "global/quota-exceeded", clients.ErrQuota},
		{401, "global/invalid-api-key", clients.ErrAuth},
		{403, "global/account-inactive", clients.ErrAuth},
		{401, "global/unauthorized", clients.ErrAuth},
		{403, "global/invalid-address", clients.ErrAuth},
		{404, "global/object-does-not-exist", clients.ErrNotFound},
		{400, "global/object-does-not-exist", clients.ErrNotFound}, // the code decides, not the status
		{404, "instance-operations/launch/ssh-key-not-found", clients.ErrNotFound},
		{400, "global/invalid-parameters", clients.ErrInvalid},
		{400, "instance-operations/launch/file-system-in-wrong-region", clients.ErrInvalid},
		{409, "global/duplicate", clients.ErrConflict},
		{400, "global/duplicate", clients.ErrConflict},
		{400, "filesystems/filesystem-in-use", clients.ErrConflict},
		{400, "firewall-rulesets/firewall-ruleset-in-use", clients.ErrConflict},
		{429, "global/too-many-requests", clients.ErrRateLimited},
		{400, "something/new", clients.ErrInvalid}, // unknown code: by status
		{500, "global/internal-error", nil},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			f, c := newFakeCloud(t)
			// An object's own URL: on a list route no answer means "not found" (below).
			f.Handle("GET", "/instances/i-1", func(w http.ResponseWriter, _ *http.Request) {
				writeErr(w, tc.status, tc.code, "The message.", "The suggestion.")
			})
			_, err := c.API().GetInstance(t.Context(), "i-1")
			var apiErr *clients.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("got %T %v, want *clients.APIError", err, err)
			}
			if apiErr.Kind != tc.want {
				t.Errorf("kind = %v, want %v", apiErr.Kind, tc.want)
			}
			if apiErr.Code != tc.code || apiErr.Message != "The message." || apiErr.Suggestion != "The suggestion." ||
				apiErr.StatusCode != tc.status || apiErr.Cloud != "lambda" || apiErr.Operation != "get instance" {
				t.Errorf("error details lost: %+v", apiErr)
			}
		})
	}
}

// TestListRouteNotFoundIsNotNotFound: Lambda's "object does not exist" to GET /instances says
// the route failed, not that the machines are gone.
func TestListRouteNotFoundIsNotNotFound(t *testing.T) {
	for _, status := range []int{404, 400} {
		f, c := newFakeCloud(t)
		f.Handle("GET", "/instances", func(w http.ResponseWriter, _ *http.Request) {
			writeErr(w, status, "global/object-does-not-exist", "The message.", "The suggestion.")
		})
		_, err := c.API().ListInstances(t.Context())
		var apiErr *clients.APIError
		if !errors.As(err, &apiErr) || clients.IsNotFound(err) {
			t.Fatalf("%d: got %v, want an *clients.APIError that is not ErrNotFound", status, err)
		}
		if apiErr.Code != "global/object-does-not-exist" || apiErr.StatusCode != status || !strings.Contains(err.Error(), "list route") {
			t.Errorf("%d: error details lost: %+v", status, apiErr)
		}
	}
}

func TestErrorWithoutLambdaBodyIsClassifiedByStatus(t *testing.T) {
	f, c := newFakeCloud(t)
	f.Handle("GET", "/ssh-keys", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("<html>denied</html>"))
	})
	_, err := c.API().ListSSHKeys(t.Context())
	if !errors.Is(err, clients.ErrAuth) {
		t.Errorf("got %v, want ErrAuth", err)
	}
}

// TestRetryAfterOnGet: a 429 on a read is waited out as the server asks, then retried.
func TestRetryAfterOnGet(t *testing.T) {
	f := newFake(t)
	// Default retry waits here, so that Retry-After is honoured rather than capped.
	c := newTestCloud(t, f, withHTTP(nil, 0, 0))
	f.Script("GET", "/instances", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "1")
		writeErr(w, http.StatusTooManyRequests, "global/too-many-requests", "Slow down.", "")
	})
	f.data("GET", "/instances", `[]`)
	// A deadline, not the test's short retry budget, bounds this call: the 1 s wait fits in it.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if _, err := c.API().ListInstances(ctx); err != nil {
		t.Fatal(err)
	}
	f.WantCount(t, "GET", "/instances", 2, "calls")
	if d := f.Gap(t, "GET", "/instances", 1); d < 900*time.Millisecond {
		t.Errorf("retried after %v, want about the 1 s Retry-After", d)
	}
}

// TestLaunchRouteLimit: launches are paced by their own limiter, other calls are not. The launch
// limiter allows one launch an hour: a call it held could not finish within the test's
// deadline, so success proves a read was not held (no clock is read).
func TestLaunchRouteLimit(t *testing.T) {
	f, c := newFakeCloud(t, WithRateLimiters(nil, rate.NewLimiter(rate.Every(time.Hour), 1)))
	f.data("POST", "/instance-operations/launch", `{"instance_ids":["i-1"]}`)
	f.data("GET", "/instances", `[]`)
	req := LaunchRequest{RegionName: "us-east-1", InstanceTypeName: "gpu_1x_a10", SSHKeyNames: []string{"me"}}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	if _, err := c.API().LaunchInstance(ctx, req); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.API().ListInstances(ctx); err != nil {
			t.Fatalf("a read was held by the launch limit: %v", err)
		}
	}
	if _, err := c.API().LaunchInstance(ctx, req); err == nil {
		t.Error("a second launch went out within the hour")
	}
	if n := f.Count("POST", "/instance-operations/launch"); n != 1 {
		t.Errorf("launches sent: %d, want 1", n)
	}
}
