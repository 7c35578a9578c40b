package provider

import (
	"context"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// wantRefusedBlock asserts that diags is one error, on the named block, with summary.
func wantRefusedBlock(t *testing.T, diags diag.Diagnostics, block, summary string) {
	t.Helper()
	if diags.ErrorsCount() != 1 {
		t.Fatalf("want one error on %s, got %v", block, diags)
	}
	d, ok := diags.Errors()[0].(diag.DiagnosticWithPath)
	if !ok || !d.Path().Equal(path.Root(block)) || d.Summary() != summary {
		t.Fatalf("want %q on %s, got %v", summary, block, diags)
	}
}

// Every cloud with a block is registered once, under the name of a cloud the provider knows.
func TestVendorBlocksRegisteredOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range vendorBlocks {
		if seen[v.name()] {
			t.Errorf("%s registered twice", v.name())
		}
		seen[v.name()] = true
		if !slices.Contains(clients.Names(), v.name()) {
			t.Errorf("%s is not a registered cloud (%v)", v.name(), clients.Names())
		}
	}
	for _, want := range []string{"lambda", "runpod", "coreweave"} {
		if !seen[want] {
			t.Errorf("%s's block is not registered", want)
		}
	}
}

// Both GPU resources' schemas carry every cloud's block, as that cloud's file defines it.
func TestVendorBlocksInSchemas(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		r     resource.Resource
		block func(vendorBlock) string
	}{
		{NewGPUInstanceResource(), func(v vendorBlock) string { return v.instanceBlock().GetMarkdownDescription() }},
		{NewGPUClusterResource(), func(v vendorBlock) string { return v.clusterBlock().GetMarkdownDescription() }},
	} {
		var resp resource.SchemaResponse
		c.r.Schema(ctx, resource.SchemaRequest{}, &resp)
		for _, v := range vendorBlocks {
			b, ok := resp.Schema.Blocks[v.name()]
			if !ok {
				t.Errorf("%T has no %s block", c.r, v.name())
				continue
			}
			if b.GetMarkdownDescription() != c.block(v) {
				t.Errorf("%T's %s block is not the one cloud_%s.go defines", c.r, v.name(), v.name())
			}
		}
	}
}

// The framework reads and writes each cloud's block through the struct embedded in the model.
func TestVendorBlocksThroughTheFramework(t *testing.T) {
	ctx := context.Background()
	var resp resource.SchemaResponse
	NewGPUInstanceResource().Schema(ctx, resource.SchemaRequest{}, &resp)
	state := tfsdk.State{Schema: resp.Schema, Raw: tftypes.NewValue(resp.Schema.Type().TerraformType(ctx), nil)}
	timeoutTypes := map[string]attr.Type{"create": types.StringType, "update": types.StringType, "delete": types.StringType}
	m := gpuInstanceModel{
		gpuModel: gpuModel{Name: types.StringValue("n"), Timeouts: timeouts.Value{Object: types.ObjectNull(timeoutTypes)}, SSHKeyIDs: types.SetNull(types.StringType)},
		Tags:     types.MapNull(types.StringType),
	}
	m.Lambda = &lambdaInstanceModel{FileSystemNames: stringList(t, "datasets"), FirewallRulesetIDs: types.ListNull(types.StringType)}
	m.RunPod = fullRunPodBlock(t)
	m.CoreWeave = &coreweaveInstanceModel{ClusterID: types.StringValue("cks-1"), ComputeClass: types.StringNull()}
	if d := state.Set(ctx, &m); d.HasError() {
		t.Fatal(d)
	}
	var back gpuInstanceModel
	if d := state.Get(ctx, &back); d.HasError() {
		t.Fatal(d)
	}
	if back.Lambda == nil || !back.Lambda.FileSystemNames.Equal(m.Lambda.FileSystemNames) ||
		back.RunPod == nil || !back.RunPod.Image.Equal(m.RunPod.Image) ||
		back.CoreWeave == nil || !back.CoreWeave.ClusterID.Equal(m.CoreWeave.ClusterID) {
		t.Errorf("blocks after state: %+v %+v %+v", back.Lambda, back.RunPod, back.CoreWeave)
	}
	var cresp resource.SchemaResponse
	NewGPUClusterResource().Schema(ctx, resource.SchemaRequest{}, &cresp)
	cstate := tfsdk.State{Schema: cresp.Schema, Raw: tftypes.NewValue(cresp.Schema.Type().TerraformType(ctx), nil)}
	c := gpuClusterModel{
		gpuModel: gpuModel{Name: types.StringValue("c"), Timeouts: m.Timeouts, SSHKeyIDs: types.SetNull(types.StringType)},
		Nodes:    types.ListNull(clusterNodeType), NodePrivateIPs: types.ListNull(types.StringType),
	}
	c.CoreWeave = &coreweaveClusterModel{KubernetesVersion: types.StringValue("v1.35"), VPCID: types.StringNull(), Public: types.BoolValue(false), ComputeClass: types.StringNull()}
	if d := cstate.Set(ctx, &c); d.HasError() {
		t.Fatal(d)
	}
	var cback gpuClusterModel
	if d := cstate.Get(ctx, &cback); d.HasError() {
		t.Fatal(d)
	}
	if cback.CoreWeave == nil || !cback.CoreWeave.KubernetesVersion.Equal(c.CoreWeave.KubernetesVersion) || cback.Lambda != nil || cback.RunPod != nil {
		t.Errorf("cluster blocks after state: %+v %+v %+v", cback.CoreWeave, cback.Lambda, cback.RunPod)
	}
}

// A cloud's block is refused on a machine or cluster of another cloud, and where placement
// does not list its cloud; on its own cloud it is accepted.
func TestBlockOfAnotherCloudRefused(t *testing.T) {
	for _, v := range vendorBlocks {
		m := gpuInstanceModel{}
		c := gpuClusterModel{}
		switch v.name() {
		case "lambda":
			m.Lambda, c.Lambda = &lambdaInstanceModel{}, &lambdaClusterModel{}
		case "runpod":
			m.RunPod, c.RunPod = &runpodInstanceModel{}, &runpodClusterModel{}
		case "coreweave":
			m.CoreWeave, c.CoreWeave = &coreweaveInstanceModel{}, &coreweaveClusterModel{}
		}
		if !v.inInstance(&m) || !v.inCluster(&c) {
			t.Fatalf("%s does not see its own block", v.name())
		}
		for _, other := range vendorBlocks {
			var diags diag.Diagnostics
			checkBlocksOnCloud(instanceBlocksSet(&m), other.name(), "machine", &diags)
			checkBlocksOnCloud(clusterBlocksSet(&c), other.name(), "cluster", &diags)
			if other.name() == v.name() {
				if diags.HasError() {
					t.Errorf("%s's block refused on %s: %v", v.name(), other.name(), diags)
				}
				continue
			}
			if diags.ErrorsCount() != 2 {
				t.Errorf("%s's block on %s: %v", v.name(), other.name(), diags)
			}
			for _, d := range diags.Errors() {
				wantRefusedBlock(t, diag.Diagnostics{d}, v.name(), "Settings for another cloud")
			}
		}
		var diags diag.Diagnostics
		checkPlacementBlocks([]string{"nowhere"}, instanceBlocksSet(&m), &diags)
		wantRefusedBlock(t, diags, v.name(), "Settings for a cloud not in placement")
	}
}
