package provider

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	pschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// invalidHost is where the insecure-endpoint tests point a cloud: .invalid never resolves, and
// loopbackOnlyTransport stops any request to it before a lookup is even tried.
const invalidHost = "emulator.invalid"

// loopbackOnlyTransport wraps http.DefaultTransport for this package's tests (TestMain): a
// request to a host that is not this machine is refused before any lookup or dial, and
// recorded, so that a test that would send a key over the network fails instead.
type loopbackOnlyTransport struct{ next http.RoundTripper }

var refused sync.Map // host -> struct{}

func (t *loopbackOnlyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if host := req.URL.Hostname(); !clients.IsLoopbackHost(host) {
		refused.Store(host, struct{}{})
		return nil, fmt.Errorf("test guard: refusing a request to %s, which is not this machine", host)
	}
	return t.next.RoundTrip(req)
}

func refusedHosts() []string {
	var out []string
	refused.Range(func(k, _ any) bool {
		if host, ok := k.(string); ok {
			out = append(out, host)
		}
		return true
	})
	sort.Strings(out)
	return out
}

// words matches a phrase across the line wrapping and box drawing of Terraform's diagnostics.
func words(phrase string) string {
	parts := strings.Fields(phrase)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(parts, `[\s│]+`)
}

// An http endpoint to another host fails validate/plan, for every cloud, on the block's
// endpoint, with the opt-in named; nothing is sent.
func TestAccSecurity_insecureEndpointRefusedAtPlan(t *testing.T) {
	testAccPreCheck(t)
	var steps []resource.TestStep
	for _, c := range []struct{ block, keyAttr, path, display string }{
		{"lambda", "api_key", "/api/v1", "Lambda Cloud"},
		{"runpod", "api_key", "/v2", "RunPod"},
		{"coreweave", "api_token", "", "CoreWeave"},
	} {
		steps = append(steps, resource.TestStep{
			Config: fmt.Sprintf(`
provider "neocloud" {
  %[1]s {
    %[2]s = "test-key"
    endpoint = "http://%[3]s%[4]s"
  }
}

resource "neocloud_ssh_key" "k" {
  cloud      = "%[1]s"
  name       = "k"
  public_key = "%[5]s"
}
`, c.block, c.keyAttr, invalidHost, c.path, testPublicKey),
			PlanOnly: true,
			ExpectError: regexp.MustCompile(`(?s)` + words("Insecure "+c.display+" endpoint") +
				`.*endpoint\s*=\s*"http://` + regexp.QuoteMeta(invalidHost) + // the snippet: the error is on the endpoint
				`.*` + words("travel in clear text") + `.*` + words("insecure = true") + `.*` + regexp.QuoteMeta("`"+c.block+"`")),
		})
	}
	// Another scheme is refused too, by the attribute's own validator.
	steps = append(steps, resource.TestStep{
		Config: `
provider "neocloud" {
  lambda {
    api_key  = "test-key"
    endpoint = "ftp://` + invalidHost + `/api/v1"
    insecure = true
  }
}

resource "neocloud_ssh_key" "k" {
  cloud      = "lambda"
  name       = "k"
  public_key = "` + testPublicKey + `"
}
`,
		PlanOnly:    true,
		ExpectError: regexp.MustCompile(`(?s)Invalid endpoint URL.*` + words("absolute http or https URL")),
	})
	accTest(t, nil, steps)
	if _, sent := refused.Load(invalidHost); sent {
		t.Errorf("a request to %s was attempted", invalidHost)
	}
}

// With insecure = true the same endpoint is accepted. The plan (a new key) makes no API call,
// which the transport guard confirms.
func TestAccSecurity_insecureEndpointOptIn(t *testing.T) {
	testAccPreCheck(t)
	accTest(t, nil, []resource.TestStep{{
		Config: fmt.Sprintf(`
provider "neocloud" {
  lambda {
    api_key  = "test-key"
    endpoint = "http://%s/api/v1"
    insecure = true
  }
}

resource "neocloud_ssh_key" "k" {
  cloud      = "lambda"
  name       = "k"
  public_key = "%s"
}
`, invalidHost, testPublicKey),
		PlanOnly:           true,
		ExpectNonEmptyPlan: true,
	}})
	if _, sent := refused.Load(invalidHost); sent {
		t.Errorf("a request to %s was attempted", invalidHost)
	}
}

// An endpoint from the environment (NEOCLOUD_RUNPOD_ENDPOINT) is held to the same rule in
// Configure, with the variable named; insecure = true in the block lets it through.
func TestAccSecurity_insecureEndpointFromEnvironment(t *testing.T) {
	testAccPreCheck(t)
	// Not parallel: t.Setenv. The provider runs in this process and reads it.
	t.Setenv("NEOCLOUD_RUNPOD_ENDPOINT", "http://"+invalidHost+"/v2")
	config := func(block string) string {
		return fmt.Sprintf(`
provider "neocloud" {
  runpod {
    api_key = "test-key"
    %s
  }
}

resource "neocloud_ssh_key" "k" {
  cloud      = "runpod"
  name       = "k"
  public_key = "%s"
}
`, block, testPublicKey)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps: []resource.TestStep{
			planError(config(""), `(?s)`+words("Insecure RunPod endpoint")+`.*`+words("from the NEOCLOUD_RUNPOD_ENDPOINT environment variable")+
				`.*`+words("insecure = true")),
			{
				Config:             config("insecure = true"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
	if _, sent := refused.Load(invalidHost); sent {
		t.Errorf("a request to %s was attempted", invalidHost)
	}
}

// testPrivateKeyPEM is a fresh Ed25519 private key in PKCS#8 PEM, and the base64 lines of its
// body: what must never be repeated.
func testPrivateKeyPEM(t *testing.T) (pemText string, body []string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pemText = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	for _, line := range strings.Split(pemText, "\n") {
		if line != "" && !strings.HasPrefix(line, "-----") {
			body = append(body, line)
		}
	}
	return pemText, body
}

// leakedPart returns a piece of the key found in text (any 8 characters of its body), or "".
func leakedPart(text string, body []string) string {
	for _, line := range body {
		for i := 0; i+8 <= len(line); i++ {
			if strings.Contains(text, line[i:i+8]) {
				return line[i : i+8]
			}
		}
	}
	return ""
}

// A private key given as public_key (file() of the wrong file) fails at plan time on
// public_key, says what it is and that it must not be shared, and repeats none of it. A key
// known only at apply (from another resource) is caught before it reaches the cloud.
func TestAccSecurity_privateKeyAsPublicKeyRefusedWithoutEcho(t *testing.T) {
	env := accEnv(t)
	keyPEM, body := testPrivateKeyPEM(t)
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(keyFile, []byte(keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	planCfg := env.providerConfig() + fmt.Sprintf(`
resource "neocloud_ssh_key" "oops" {
  cloud      = "lambda"
  name       = "oops"
  public_key = file(%q)
}
`, keyFile)
	applyCfg := env.providerConfig() + fmt.Sprintf(`
resource "terraform_data" "key" {
  input = file(%q)
}

resource "neocloud_ssh_key" "oops" {
  cloud      = "lambda"
  name       = "oops"
  public_key = terraform_data.key.output
}
`, keyFile)
	want := regexp.MustCompile(`(?s)` + words("Private key given instead of a public key") + `.*public_key.*` + words("must not be shared"))
	var checked []string
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		// Called for the steps without ExpectError: the whole error text, to look for the key.
		ErrorCheck: func(err error) error {
			text := err.Error()
			checked = append(checked, text)
			if part := leakedPart(text, body); part != "" {
				return fmt.Errorf("the error repeats part of the private key (%q): %s", part, text)
			}
			if !want.MatchString(text) {
				return fmt.Errorf("unexpected error: %w", err)
			}
			return nil
		},
		CheckDestroy: func(*terraform.State) error {
			if keys := env.emu.Lambda.SSHKeys(); len(keys) != 0 {
				return fmt.Errorf("a key reached the account: %+v", keys)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: planCfg, PlanOnly: true, ExpectError: want},
			// The same again, its error through ErrorCheck, which can check what is absent.
			{Config: planCfg, PlanOnly: true},
			// Unknown at plan time; refused by the plan Terraform makes at apply.
			{Config: applyCfg},
		},
	})
	if len(checked) != 2 {
		t.Fatalf("ErrorCheck saw %d errors, want 2 (both steps must fail): %q", len(checked), checked)
	}
	if n := len(env.emu.Lambda.SSHKeys()); n != 0 {
		t.Errorf("%d keys reached the account", n)
	}
}

// providerConfigValue is a provider configuration with one cloud block set to attrs (names to
// values; the rest null) and the other blocks left out.
func providerConfigValue(t *testing.T, s pschema.Schema, block string, attrs map[string]tftypes.Value) tfsdk.Config {
	t.Helper()
	ctx := context.Background()
	typ, ok := s.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		t.Fatal("the provider schema is not an object")
	}
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		if name != block {
			vals[name] = tftypes.NewValue(at, nil)
			continue
		}
		bt, ok := at.(tftypes.Object)
		if !ok {
			t.Fatalf("block %s is not an object", name)
		}
		inner := map[string]tftypes.Value{}
		for an, aty := range bt.AttributeTypes {
			if v, ok := attrs[an]; ok {
				inner[an] = v
			} else {
				inner[an] = tftypes.NewValue(aty, nil)
			}
		}
		vals[name] = tftypes.NewValue(bt, inner)
	}
	return tfsdk.Config{Schema: s, Raw: tftypes.NewValue(typ, vals)}
}

// ValidateConfig (what `terraform validate` and the start of a plan call) refuses an insecure
// endpoint in the configuration, on <cloud>.endpoint, before the provider is configured.
func TestProviderValidateConfig_insecureEndpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, ok := New("test")().(*neocloudProvider)
	if !ok {
		t.Fatal("New does not make a *neocloudProvider")
	}
	var sresp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &sresp)
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	boolean := func(b bool) tftypes.Value { return tftypes.NewValue(tftypes.Bool, b) }
	tests := []struct {
		name, block string
		attrs       map[string]tftypes.Value
		wantError   string // summary; "" for none
	}{
		{"http to another host", "lambda", map[string]tftypes.Value{"endpoint": str("http://" + invalidHost + "/api/v1")}, "Insecure Lambda Cloud endpoint"},
		{"http to another host, insecure = false", "runpod", map[string]tftypes.Value{"endpoint": str("http://" + invalidHost + "/v2"), "insecure": boolean(false)}, "Insecure RunPod endpoint"},
		{"http to an address", "coreweave", map[string]tftypes.Value{"endpoint": str("http://192.0.2.7:8800")}, "Insecure CoreWeave endpoint"},
		{"opted in", "lambda", map[string]tftypes.Value{"endpoint": str("http://" + invalidHost + "/api/v1"), "insecure": boolean(true)}, ""},
		{"https", "lambda", map[string]tftypes.Value{"endpoint": str("https://" + invalidHost + "/api/v1")}, ""},
		{"http to 127.0.0.1", "lambda", map[string]tftypes.Value{"endpoint": str("http://127.0.0.1:8800/api/v1")}, ""},
		{"http to localhost", "runpod", map[string]tftypes.Value{"endpoint": str("http://localhost:8800/v2")}, ""},
		{"http to ::1", "coreweave", map[string]tftypes.Value{"endpoint": str("http://[::1]:8800")}, ""},
		{"endpoint unknown", "lambda", map[string]tftypes.Value{"endpoint": tftypes.NewValue(tftypes.String, tftypes.UnknownValue)}, ""},
		{"insecure unknown", "lambda", map[string]tftypes.Value{"endpoint": str("http://" + invalidHost), "insecure": tftypes.NewValue(tftypes.Bool, tftypes.UnknownValue)}, ""},
		{"no endpoint", "lambda", map[string]tftypes.Value{"api_key": str("k")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := provider.ValidateConfigRequest{Config: providerConfigValue(t, sresp.Schema, tt.block, tt.attrs)}
			var resp provider.ValidateConfigResponse
			p.ValidateConfig(ctx, req, &resp)
			d := onlyError(t, resp.Diagnostics, tt.wantError != "")
			if d == nil {
				return
			}
			wp, ok := d.(interface{ Path() path.Path })
			if d.Summary() != tt.wantError || !ok || !wp.Path().Equal(path.Root(tt.block).AtName("endpoint")) {
				t.Errorf("got %q at %v, want %q at %s.endpoint", d.Summary(), wp, tt.wantError, tt.block)
			}
			if !strings.Contains(d.Detail(), "insecure = true") || !strings.Contains(d.Detail(), "https://") {
				t.Errorf("the detail names no remedy: %s", d.Detail())
			}
		})
	}
}

// Secrets are Sensitive in every schema that carries them, and the kubeconfig says what it holds.
func TestSchema_secretsAreSensitive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	resourceSchema := func(r fwresource.Resource) rschema.Schema {
		var resp fwresource.SchemaResponse
		r.Schema(ctx, fwresource.SchemaRequest{}, &resp)
		return resp.Schema
	}
	blockAttr := func(s rschema.Schema, block, attr string) rschema.Attribute {
		b, ok := s.Blocks[block].(rschema.SingleNestedBlock)
		if !ok {
			t.Fatalf("no %s block", block)
		}
		return b.Attributes[attr]
	}
	instance := resourceSchema(NewGPUInstanceResource())
	cluster := resourceSchema(NewGPUClusterResource())
	sshKey := resourceSchema(NewSSHKeyResource())
	registry := resourceSchema(NewContainerRegistryCredentialResource())
	if a := registry.Attributes["password_wo"]; a == nil || !a.IsWriteOnly() {
		t.Errorf("neocloud_container_registry_credential.password_wo is not write-only")
	}
	for name, a := range map[string]rschema.Attribute{
		"neocloud_container_registry_credential.password":    registry.Attributes["password"],
		"neocloud_container_registry_credential.password_wo": registry.Attributes["password_wo"],
		"neocloud_gpu_instance.user_data":                    instance.Attributes["user_data"],
		"neocloud_gpu_instance.runpod.env":                   blockAttr(instance, "runpod", "env"),
		"neocloud_gpu_cluster.runpod.env":                    blockAttr(cluster, "runpod", "env"),
		"neocloud_gpu_cluster.lambda.user_data":              blockAttr(cluster, "lambda", "user_data"),
		"neocloud_gpu_cluster.kubeconfig":                    cluster.Attributes["kubeconfig"],
		"neocloud_ssh_key.private_key":                       sshKey.Attributes["private_key"],
	} {
		if a == nil || !a.IsSensitive() {
			t.Errorf("%s is not Sensitive", name)
		}
	}
	if d := cluster.Attributes["kubeconfig"].GetMarkdownDescription(); !strings.Contains(d, "API token") || !strings.Contains(d, "password") {
		t.Errorf("kubeconfig's description does not say it holds the API token: %s", d)
	}

	var presp provider.SchemaResponse
	New("test")().Schema(ctx, provider.SchemaRequest{}, &presp)
	for _, name := range clients.Names() {
		info, _ := clients.Lookup(name)
		b, ok := presp.Schema.Blocks[name].(pschema.SingleNestedBlock)
		if !ok {
			t.Fatalf("provider block %s is not a single nested block", name)
		}
		if !b.Attributes[info.KeyAttribute].IsSensitive() {
			t.Errorf("provider %s.%s is not Sensitive", name, info.KeyAttribute)
		}
		insecure, ok := b.Attributes["insecure"].(pschema.BoolAttribute)
		if !ok || !insecure.Optional || !strings.Contains(insecure.MarkdownDescription, "clear text") {
			t.Errorf("provider %s.insecure is missing or does not explain the risk: %#v", name, b.Attributes["insecure"])
		}
	}
}
