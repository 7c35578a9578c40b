package fourthcloud

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/provider"
)

// acme is the whole fourth cloud: one GPU shape, one region, machines and SSH keys in memory.
// A machine boots on its second read, as a real one boots while the provider polls.
type acme struct {
	mu       sync.Mutex
	next     int
	machines map[string]*clients.Instance
	reads    map[string]int
	keys     map[string]*clients.SSHKey
}

var cloud = &acme{machines: map[string]*clients.Instance{}, reads: map[string]int{}, keys: map[string]*clients.SSHKey{}}

// The one line a cloud adds: its registration (a real one also adds its import to clients/all).
func init() {
	clients.Register(clients.CloudInfo{
		Name: "acme", DisplayName: "Acme GPU", DefaultEndpoint: "https://api.acme.invalid/v1",
		KeyEnv: "ACME_API_KEY", EndpointEnv: "ACME_ENDPOINT", KeyAttribute: "api_key",
		New: func(clients.Settings) (clients.Cloud, error) { return cloud, nil },
		Lacks: map[clients.Kind]string{
			clients.KindVolume:             "Acme has no storage.",
			clients.KindRegistryCredential: "Acme pulls public images only.",
		},
	})
}

const price = 2.5

func (a *acme) Name() string      { return "acme" }
func (a *acme) Regions() []string { return []string{"moon-1"} }

func (a *acme) ResolveInstanceType(gpuType string, count int) (clients.InstanceType, error) {
	if gpuType != "H100_80GB_SXM" && gpuType != "acme.h100" {
		return clients.InstanceType{}, clients.Errorf(clients.ErrInvalid, "Acme sells only H100_80GB_SXM, not %s", gpuType)
	}
	if count != 0 && count != 1 {
		return clients.InstanceType{}, clients.Errorf(clients.ErrInvalid, "Acme sells one GPU per machine, not %d", count)
	}
	return clients.InstanceType{Name: "acme.h100", GPUType: "H100_80GB_SXM", GPUCount: 1}, nil
}

func (a *acme) Offers(context.Context, clients.OfferFilter) ([]clients.Offer, error) {
	return []clients.Offer{{Cloud: "acme", InstanceType: "acme.h100", GPUType: "H100_80GB_SXM", GPUCount: 1, GPUMemoryGB: 80, PricePerHour: price, Regions: []string{"moon-1"}}}, nil
}

func (a *acme) CreateInstance(_ context.Context, spec clients.InstanceSpec) (*clients.Instance, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range a.machines {
		if m.Tags["launch"] == spec.LaunchToken {
			return nil, clients.Errorf(clients.ErrConflict, "a machine with this launch token exists: %s", m.ID)
		}
	}
	a.next++
	id := fmt.Sprintf("m-%d", a.next)
	a.machines[id] = &clients.Instance{
		ID: id, Cloud: "acme", Name: spec.Name, Region: "moon-1", Status: clients.StatusPending, InstanceType: "acme.h100",
		GPUType: "H100_80GB_SXM", GPUCount: 1, PricePerHour: price, CreatedAt: time.Now().UTC().Truncate(time.Second),
		Image: spec.Image, SSHKeyIDs: spec.SSHKeyIDs, SSHUser: "ubuntu", Tags: map[string]string{"launch": spec.LaunchToken},
	}
	return a.view(id), nil
}

// view is a copy of a machine without the bookkeeping tag, as adapters return them.
func (a *acme) view(id string) *clients.Instance {
	c := *a.machines[id]
	c.Tags = nil
	return &c
}

func (a *acme) GetInstance(_ context.Context, id string) (*clients.Instance, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m, ok := a.machines[id]
	if !ok {
		return nil, clients.Errorf(clients.ErrNotFound, "Acme has no machine %s", id)
	}
	if a.reads[id]++; a.reads[id] >= 2 && m.Status == clients.StatusPending {
		m.Status, m.PublicIP, m.SSHHost, m.SSHPort, m.Ready = clients.StatusRunning, "192.0.2.10", "192.0.2.10", 22, true
	}
	return a.view(id), nil
}

func (a *acme) UpdateInstance(ctx context.Context, id string, u clients.InstanceUpdate) (*clients.Instance, error) {
	a.mu.Lock()
	if m, ok := a.machines[id]; ok && u.Name != nil {
		m.Name = *u.Name
	}
	a.mu.Unlock()
	return a.GetInstance(ctx, id)
}

func (a *acme) DeleteInstance(_ context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.machines, id)
	return nil
}

func (a *acme) CreateSSHKey(_ context.Context, spec clients.SSHKeySpec) (*clients.SSHKey, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := &clients.SSHKey{ID: "key-" + spec.Name, Name: spec.Name, PublicKey: strings.TrimSpace(spec.PublicKey)}
	a.keys[k.ID] = k
	return k, nil
}

func (a *acme) GetSSHKey(_ context.Context, id string) (*clients.SSHKey, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if k, ok := a.keys[id]; ok {
		c := *k
		return &c, nil
	}
	return nil, clients.Errorf(clients.ErrNotFound, "Acme has no key %s", id)
}

func (a *acme) DeleteSSHKey(_ context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.keys, id)
	return nil
}

func (a *acme) count() (machines, keys int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.machines), len(a.keys)
}

var factories = map[string]func() (tfprotov6.ProviderServer, error){
	"neocloud": providerserver.NewProtocol6WithError(provider.New("test")()),
}

const config = `
provider "neocloud" {
  acme {
    api_key = "acme-test-key"
  }
}

resource "neocloud_ssh_key" "me" {
  cloud      = "acme"
  name       = "me"
  public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG5ldWNsb3VkLWZvdXJ0aC1jbG91ZC10ZXN0 me@example.invalid"
}

resource "neocloud_gpu_instance" "m" {
  name        = %q
  cloud       = "acme"
  gpu_type    = "H100_80GB_SXM"
  ssh_key_ids = [neocloud_ssh_key.me.id]
}

data "neocloud_gpu_offers" "acme" {
  clouds = ["acme"]
}
`

// A cloud registered from outside the provider package is configured in the provider block,
// launches, renames in place, refreshes to an empty plan, imports and is destroyed through
// the neutral resources, and is refused at plan time for a kind it says it lacks.
func TestAccFourthCloud_registrationIsEnough(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
	t.Setenv("CHECKPOINT_DISABLE", "1")
	addr := "neocloud_gpu_instance.m"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: factories,
		CheckDestroy: func(*terraform.State) error {
			if m, k := cloud.count(); m+k != 0 {
				return fmt.Errorf("left on Acme: %d machines, %d keys", m, k)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(config, "first") + `
resource "neocloud_volume" "v" {
  cloud  = "acme"
  name   = "v"
  region = "moon-1"
}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Acme GPU cannot hold neocloud_volume.*Acme has no storage`),
			},
			{
				Config: fmt.Sprintf(config, "first"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("status"), knownvalue.StringExact("running")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("instance_type"), knownvalue.StringExact("acme.h100")),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("gpu_count"), knownvalue.Int64Exact(1)),
					statecheck.ExpectKnownValue(addr, tfjsonpath.New("ssh_host"), knownvalue.StringExact("192.0.2.10")),
					statecheck.ExpectKnownValue("data.neocloud_gpu_offers.acme", tfjsonpath.New("offers").AtSliceIndex(0).AtMapKey("cloud"), knownvalue.StringExact("acme")),
				},
				Check: func(*terraform.State) error {
					if m, k := cloud.count(); m != 1 || k != 1 {
						return fmt.Errorf("expected one machine and one key on Acme, found %d and %d", m, k)
					}
					return nil
				},
			},
			{
				Config: fmt.Sprintf(config, "renamed"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)},
				},
			},
			{
				ResourceName:            addr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
				ImportStateIdFunc: func(s *terraform.State) (string, error) {
					return "acme/" + s.RootModule().Resources[addr].Primary.ID, nil
				},
			},
		},
	})
}
