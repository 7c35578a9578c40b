package provider

import (
	"context"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/lambda"
)

func stringList(t *testing.T, xs ...string) types.List {
	t.Helper()
	v, d := types.ListValueFrom(context.Background(), types.StringType, xs)
	if d.HasError() {
		t.Fatal(d)
	}
	return v
}

// The lambda block of a machine goes into the launch as Lambda's options and comes back from
// what the instance reports.
func TestLambdaInstanceBlockRoundTrip(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	m := gpuInstanceModel{gpuModel: gpuModel{Name: types.StringValue("n"), Cloud: types.StringValue("lambda"), GPUType: types.StringValue("H100_80GB_SXM")}}
	m.Lambda = &lambdaInstanceModel{FileSystemNames: stringList(t, "datasets"), FirewallRulesetIDs: stringList(t, "fw1", "fw2")}
	spec := expandInstanceSpec(ctx, m, &diags)
	want := &lambda.InstanceOptions{FileSystemNames: []string{"datasets"}, FirewallRulesetIDs: []string{"fw1", "fw2"}}
	if !reflect.DeepEqual(spec.Options, want) {
		t.Fatalf("spec options = %+v, want only %+v", spec.Options, want)
	}

	inst := &clients.Instance{ID: "i-1", Cloud: "lambda", Status: clients.StatusRunning, Options: spec.Options}
	back := m
	back.Lambda = &lambdaInstanceModel{}
	flattenInstance(ctx, inst, &back, &diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if !back.Lambda.FileSystemNames.Equal(m.Lambda.FileSystemNames) || !back.Lambda.FirewallRulesetIDs.Equal(m.Lambda.FirewallRulesetIDs) {
		t.Errorf("lambda block after the round trip = %+v, want %+v", back.Lambda, m.Lambda)
	}
}

// An import fills the lambda block from what the instance has mounted and attached; an
// instance with neither, or one the configuration launched without the block, grows none.
func TestLambdaInstanceBlockImportAndLeftOut(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	inst := &clients.Instance{ID: "i-1", Cloud: "lambda", Status: clients.StatusRunning,
		Options: &lambda.InstanceOptions{FileSystemNames: []string{"datasets"}}}

	imported := gpuInstanceModel{gpuModel: gpuModel{ID: types.StringValue("i-1"), Cloud: types.StringValue("lambda")}}
	flattenInstance(ctx, inst, &imported, &diags)
	if imported.Lambda == nil || !imported.Lambda.FileSystemNames.Equal(stringList(t, "datasets")) || !imported.Lambda.FirewallRulesetIDs.IsNull() {
		t.Errorf("import: lambda block = %+v, want the filesystem and no rulesets", imported.Lambda)
	}

	bare := *inst
	bare.Options = &lambda.InstanceOptions{}
	leftOut := gpuInstanceModel{gpuModel: gpuModel{GPUType: types.StringValue("H100_80GB_SXM")}}
	flattenInstance(ctx, &bare, &leftOut, &diags)
	if leftOut.Lambda != nil {
		t.Errorf("a block left out grew back: %+v", leftOut.Lambda)
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}

// The cluster's lambda block goes into the request; Lambda does not report it back, so the
// block keeps its configured value, and a cluster without one gets none.
func TestLambdaClusterBlock(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	m := gpuClusterModel{gpuModel: gpuModel{Name: types.StringValue("c"), Cloud: types.StringValue("lambda"), GPUType: types.StringValue("H100_80GB_SXM")}}
	m.Lambda = &lambdaClusterModel{FileSystemName: types.StringValue("shared"), Image: types.StringValue("lambda-stack-22-04"), UserData: types.StringNull()}
	spec := expandClusterSpec(ctx, m, &diags)
	want := &lambda.ClusterOptions{FileSystemName: "shared", Image: "lambda-stack-22-04"}
	if !reflect.DeepEqual(spec.Options, want) {
		t.Fatalf("spec options = %+v, want only %+v", spec.Options, want)
	}

	c := &clients.Cluster{ID: "c", Cloud: "lambda", Name: "c", Status: clients.ClusterRunning, NodeCount: 1, GPUsPerNode: 8, InstanceType: "gpu_8x_h100_sxm5"}
	configured := m
	block := *m.Lambda
	configured.Lambda = &block
	flattenCluster(ctx, c, &configured, &diags)
	if configured.Lambda == nil || *configured.Lambda != *m.Lambda {
		t.Errorf("the configured block changed: %+v", configured.Lambda)
	}
	without := gpuClusterModel{gpuModel: gpuModel{GPUType: types.StringValue("H100_80GB_SXM")}}
	flattenCluster(ctx, c, &without, &diags)
	if without.Lambda != nil {
		t.Errorf("a cluster without the block grew one: %+v", without.Lambda)
	}
	if p := onCloud(m, "runpod"); p.Lambda != nil {
		t.Error("a RunPod candidate must not see the lambda block")
	}
	if p := onCloud(m, "lambda"); p.Lambda == nil {
		t.Error("Lambda's own candidate lost its block")
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}
