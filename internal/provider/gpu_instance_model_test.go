package provider

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/lambda"
)

func TestExpandInstanceSpec(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	keys, _ := types.SetValueFrom(ctx, types.StringType, []string{"k1"})
	tags, _ := types.MapValueFrom(ctx, types.StringType, map[string]string{"team": "ml"})
	fs, _ := types.ListValueFrom(ctx, types.StringType, []string{"datasets"})
	m := gpuInstanceModel{
		gpuModel: gpuModel{
			Name: types.StringValue("n"), Cloud: types.StringValue("lambda"), Region: types.StringNull(),
			GPUType: types.StringValue("H100_80GB_SXM"), SSHKeyIDs: keys, MaxPricePerHour: types.Float64Value(30),
		},
		GPUCount: types.Int64Value(8), Image: types.StringValue("lambda-stack-22-04"), UserData: types.StringValue("#cloud-config"), Tags: tags,
	}
	m.Lambda = &lambdaInstanceModel{FileSystemNames: fs, FirewallRulesetIDs: types.ListNull(types.StringType)}
	got := expandInstanceSpec(ctx, m, &diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	want := clients.InstanceSpec{
		Name: "n", GPUType: "H100_80GB_SXM", GPUCount: 8, Image: "lambda-stack-22-04", SSHKeyIDs: []string{"k1"},
		UserData: "#cloud-config", Tags: map[string]string{"team": "ml"}, MaxPricePerHour: 30,
		Options: &lambda.InstanceOptions{FileSystemNames: []string{"datasets"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("expandInstanceSpec =\n%+v\nwant\n%+v", got, want)
	}
}

func TestExpandInstanceSpecCountsUnknownElements(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	keys := types.SetValueMust(types.StringType, []attr.Value{types.StringUnknown()})
	got := expandInstanceSpec(ctx, gpuInstanceModel{gpuModel: gpuModel{SSHKeyIDs: keys}, Tags: types.MapNull(types.StringType)}, &diags)
	if diags.HasError() || len(got.SSHKeyIDs) != 1 {
		t.Errorf("an unknown key id must still count as one key at plan time: %v %v", got.SSHKeyIDs, diags)
	}
}

func TestFlattenInstance(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	inst := &clients.Instance{
		ID: "i-1", Cloud: "lambda", Name: "n", Region: "us-east-1", Status: clients.StatusRunning,
		InstanceType: "gpu_8x_h100_sxm5", GPUType: "H100_80GB_SXM", GPUCount: 8,
		PublicIP: "1.2.3.4", PrivateIP: "10.0.0.1", SSHHost: "1.2.3.4", SSHPort: 22, SSHUser: "ubuntu",
		PricePerHour: 23.92, CreatedAt: created, SSHKeyIDs: []string{"k1"},
		Options: &lambda.InstanceOptions{},
	}

	t.Run("import fills everything the cloud knows", func(t *testing.T) {
		var diags diag.Diagnostics
		m := gpuInstanceModel{gpuModel: gpuModel{ID: types.StringValue("i-1"), Cloud: types.StringValue("lambda")}}
		flattenInstance(ctx, inst, &m, &diags)
		if diags.HasError() {
			t.Fatal(diags)
		}
		checks := map[string][2]any{
			"gpu_type":   {m.GPUType.ValueString(), "H100_80GB_SXM"},
			"gpu_count":  {m.GPUCount.ValueInt64(), int64(8)},
			"region":     {m.Region.ValueString(), "us-east-1"},
			"status":     {m.Status.ValueString(), "running"},
			"ssh_port":   {m.SSHPort.ValueInt64(), int64(22)},
			"price":      {m.PricePerHour.ValueFloat64(), 23.92},
			"created_at": {m.CreatedAt.ValueString(), "2026-11-27T10:00:00Z"},
		}
		for name, c := range checks {
			if c[0] != c[1] {
				t.Errorf("%s = %v, want %v", name, c[0], c[1])
			}
		}
		if !m.Tags.IsNull() || !m.Image.IsNull() || !m.UserData.IsNull() {
			t.Errorf("absent values must be null, got tags=%v image=%v user_data=%v", m.Tags, m.Image, m.UserData)
		}
		if m.Lambda != nil {
			t.Errorf("an instance without Lambda options must not grow a lambda block (that would be drift): %+v", m.Lambda)
		}
	})

	t.Run("the user's spelling of the same type is kept", func(t *testing.T) {
		var diags diag.Diagnostics
		m := gpuInstanceModel{gpuModel: gpuModel{GPUType: types.StringValue("gpu_8x_h100_sxm5"), InstanceType: types.StringValue("gpu_8x_h100_sxm5")},
			Image: types.StringValue("my-image"), UserData: types.StringValue("#cloud-config")}
		flattenInstance(ctx, inst, &m, &diags)
		if m.GPUType.ValueString() != "gpu_8x_h100_sxm5" {
			t.Errorf("gpu_type = %q, want the user's native spelling kept", m.GPUType.ValueString())
		}
		if m.Image.ValueString() != "my-image" || m.UserData.ValueString() != "#cloud-config" {
			t.Error("values the cloud does not report must keep their planned value")
		}
	})

	t.Run("missing addresses are null, not empty strings", func(t *testing.T) {
		var diags diag.Diagnostics
		booting := *inst
		booting.PublicIP, booting.PrivateIP, booting.SSHHost, booting.Status = "", "", "", clients.StatusPending
		m := gpuInstanceModel{gpuModel: gpuModel{CreatedAt: types.StringUnknown()}}
		booting.CreatedAt = time.Time{}
		flattenInstance(ctx, &booting, &m, &diags)
		if !m.PublicIP.IsNull() || !m.SSHHost.IsNull() || !m.CreatedAt.IsNull() {
			t.Errorf("public_ip=%v ssh_host=%v created_at=%v, want null", m.PublicIP, m.SSHHost, m.CreatedAt)
		}
	})
}

// Every schema attribute has a model field and every model field an attribute: a typo in a
// tfsdk tag fails here instead of at apply.
func TestSchemaModelParity(t *testing.T) {
	ctx := context.Background()
	resources := []struct {
		r     resource.Resource
		model any
	}{
		{NewGPUInstanceResource(), gpuInstanceModel{}},
		{NewGPUClusterResource(), gpuClusterModel{}},
		{NewSSHKeyResource(), sshKeyModel{}},
		{NewContainerRegistryCredentialResource(), registryCredentialModel{}},
	}
	for _, c := range resources {
		var resp resource.SchemaResponse
		c.r.Schema(ctx, resource.SchemaRequest{}, &resp)
		names := map[string]bool{}
		for n := range resp.Schema.Attributes {
			names[n] = true
		}
		blockModels := map[string]any{}
		if _, ok := c.model.(gpuInstanceModel); ok {
			blockModels = map[string]any{"lambda": lambdaInstanceModel{}, "runpod": runpodInstanceModel{}, "coreweave": coreweaveInstanceModel{}}
		} else if _, ok := c.model.(gpuClusterModel); ok {
			blockModels = map[string]any{"lambda": lambdaClusterModel{}, "runpod": runpodClusterModel{}, "coreweave": coreweaveClusterModel{}}
		}
		for n, b := range resp.Schema.Blocks {
			names[n] = true
			if nb, ok := b.(rschema.SingleNestedBlock); ok && blockModels[n] != nil {
				compareFields(t, n+" block", blockModels[n], keysOf(nb.Attributes))
			}
		}
		compareFields(t, reflect.TypeOf(c.model).Name(), c.model, names)
	}

	var dresp datasource.SchemaResponse
	NewGPUOffersDataSource().Schema(ctx, datasource.SchemaRequest{}, &dresp)
	compareFields(t, "gpuOffersModel", gpuOffersModel{}, keysOf(dresp.Schema.Attributes))
	offers, ok := dresp.Schema.Attributes["offers"].(dschema.ListNestedAttribute)
	if !ok {
		t.Fatalf("offers is a %T, want a list of objects", dresp.Schema.Attributes["offers"])
	}
	compareFields(t, "offerModel", offerModel{}, keysOf(offers.NestedObject.Attributes))
}

func keysOf[V any](m map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func compareFields(t *testing.T, what string, model any, schemaNames map[string]bool) {
	t.Helper()
	tags := map[string]bool{}
	var read func(rt reflect.Type)
	read = func(rt reflect.Type) {
		for i := range rt.NumField() {
			if f := rt.Field(i); f.Anonymous {
				read(f.Type) // a cloud's block, embedded
			} else if tag := f.Tag.Get("tfsdk"); tag != "" && tag != "-" {
				tags[tag] = true
			}
		}
	}
	read(reflect.TypeOf(model))
	for n := range schemaNames {
		if !tags[n] {
			t.Errorf("%s: schema attribute %q has no model field", what, n)
		}
	}
	for n := range tags {
		if !schemaNames[n] {
			t.Errorf("%s: model field %q is not in the schema", what, n)
		}
	}
}

func TestParseImportID(t *testing.T) {
	cloud, id, err := parseImportID("lambda/abc/def")
	if err != nil || cloud != "lambda" || id != "abc/def" {
		t.Errorf("parseImportID = %q %q %v", cloud, id, err)
	}
	for _, bad := range []string{"abc", "lambda/", "/abc", "aws/i-123"} {
		if _, _, err := parseImportID(bad); err == nil {
			t.Errorf("parseImportID(%q) must fail", bad)
		}
	}
	if _, _, err := parseImportID("aws/i-1"); err == nil || !strings.Contains(err.Error(), "supported clouds: coreweave, lambda, runpod") {
		t.Errorf("an unknown cloud must list the supported ones: %v", err)
	}
}

func TestPublicKeyPattern(t *testing.T) {
	for _, ok := range []string{testPublicKey, testPublicKey + "\n", "ssh-rsa AAAAB3NzaC1yc2E= x", "ecdsa-sha2-nistp256 AAAAE2Vj"} {
		if !publicKeyPattern.MatchString(ok) {
			t.Errorf("%q should be accepted", ok)
		}
	}
	for _, bad := range []string{"", "AAAAC3Nz", "-----BEGIN OPENSSH PRIVATE KEY-----", "ssh-ed25519"} {
		if publicKeyPattern.MatchString(bad) {
			t.Errorf("%q should be refused", bad)
		}
	}
}

func TestInDoubtID(t *testing.T) {
	at := time.Unix(1796237678, 0)
	id := inDoubtID("nc-0a1b2c", at)
	token, sentBy, ok := parseInDoubt(id)
	if !ok || token != "nc-0a1b2c" || !sentBy.Equal(at) {
		t.Fatalf("parseInDoubt(%q) = %q %v %v", id, token, sentBy, ok)
	}
	for _, notInDoubt := range []string{"0920582c7ff041399e34823a0be62549", "launch-in-doubt/", "launch-in-doubt/nc-1/x", "launch-in-doubt//12"} {
		if _, _, ok := parseInDoubt(notInDoubt); ok {
			t.Errorf("%q read as a launch in doubt", notInDoubt)
		}
	}
}
