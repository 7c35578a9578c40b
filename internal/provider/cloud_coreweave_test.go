package provider

import (
	"context"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/coreweave"
)

// The coreweave block of a machine goes into the launch; capacity_type = "spot" is the
// NodePool's compute class. What the node pool reports comes back, compute_class only where it
// was configured (left out it is "default": not drift).
func TestCoreWeaveInstanceBlockRoundTrip(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	m := gpuInstanceModel{gpuModel: gpuModel{Name: types.StringValue("n"), Cloud: types.StringValue("coreweave"), GPUType: types.StringValue("H100_80GB_SXM"), CapacityType: types.StringValue(capacitySpot)}}
	m.CoreWeave = &coreweaveInstanceModel{ClusterID: types.StringValue("cks-1"), ComputeClass: types.StringNull()}
	spec := expandInstanceSpec(ctx, m, &diags)
	want := &coreweave.InstanceOptions{ClusterID: "cks-1", ComputeClass: "spot"}
	if !reflect.DeepEqual(spec.Options, want) {
		t.Fatalf("spec options = %+v, want only %+v", spec.Options, want)
	}

	node := &clients.Instance{ID: "np-1", Cloud: "coreweave", Status: clients.StatusRunning, Options: spec.Options}
	back := m
	block := *m.CoreWeave
	back.CoreWeave = &block
	flattenInstance(ctx, node, &back, &diags)
	if back.CoreWeave == nil || back.CoreWeave.ClusterID.ValueString() != "cks-1" || !back.CoreWeave.ComputeClass.IsNull() {
		t.Errorf("coreweave block after the round trip = %+v, want the cluster and no compute class", back.CoreWeave)
	}
	configured := m
	configured.CoreWeave = &coreweaveInstanceModel{ClusterID: types.StringValue("cks-1"), ComputeClass: types.StringValue("spot")}
	flattenInstance(ctx, node, &configured, &diags)
	if configured.CoreWeave.ComputeClass.ValueString() != "spot" {
		t.Errorf("a configured compute_class is recorded: %+v", configured.CoreWeave)
	}

	// An import reads the block and the capacity type.
	imported := gpuInstanceModel{gpuModel: gpuModel{ID: types.StringValue("np-1"), Cloud: types.StringValue("coreweave")}}
	flattenInstance(ctx, node, &imported, &diags)
	if imported.CoreWeave == nil || imported.CoreWeave.ClusterID.ValueString() != "cks-1" || imported.CapacityType.ValueString() != capacitySpot {
		t.Errorf("import: block %+v, capacity_type %v", imported.CoreWeave, imported.CapacityType)
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}

// The deprecated compute_class plans capacity_type; without a block there is none.
func TestCoreWeaveDeprecatedComputeClass(t *testing.T) {
	m := gpuInstanceModel{}
	if cc := deprecatedComputeClass(func(c capacityBlock) types.String { return c.instanceComputeClass(m) }); !cc.IsNull() {
		t.Errorf("no block, no class: %v", cc)
	}
	m.CoreWeave = &coreweaveInstanceModel{ComputeClass: types.StringValue("spot")}
	if cc := deprecatedComputeClass(func(c capacityBlock) types.String { return c.instanceComputeClass(m) }); cc.ValueString() != "spot" {
		t.Errorf("instance class = %v", cc)
	}
	c := gpuClusterModel{}
	c.CoreWeave = &coreweaveClusterModel{ComputeClass: types.StringValue("default")}
	if cc := deprecatedComputeClass(func(b capacityBlock) types.String { return b.clusterComputeClass(c) }); cc.ValueString() != "default" {
		t.Errorf("cluster class = %v", cc)
	}
}

// The cluster's coreweave block goes into the request, and spot on CoreWeave is the NodePool's
// compute class even without a block; an import fills the block; a block left out stays out;
// a block left on a cluster placed on another cloud keeps no unknown CoreWeave default.
func TestCoreWeaveClusterBlock(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	m := gpuClusterModel{gpuModel: gpuModel{Name: types.StringValue("c"), Cloud: types.StringValue("coreweave"), GPUType: types.StringValue("H100_80GB_SXM"), CapacityType: types.StringValue(capacityOnDemand)}}
	m.CoreWeave = &coreweaveClusterModel{KubernetesVersion: types.StringValue("v1.35"), VPCID: types.StringValue("vpc-1"), Public: types.BoolValue(true), ComputeClass: types.StringNull()}
	spec := expandClusterSpec(ctx, m, &diags)
	want := &coreweave.ClusterOptions{KubernetesVersion: "v1.35", VPCID: "vpc-1", Public: true}
	if !reflect.DeepEqual(spec.Options, want) {
		t.Fatalf("spec options = %+v, want only %+v", spec.Options, want)
	}
	spot := gpuClusterModel{gpuModel: gpuModel{Cloud: types.StringValue("coreweave"), CapacityType: types.StringValue(capacitySpot)}}
	if s := expandClusterSpec(ctx, spot, &diags); cwClusterOpts(s.Options) == nil || cwClusterOpts(s.Options).ComputeClass != "spot" {
		t.Errorf("spot without a block: %+v", cwClusterOpts(s.Options))
	}
	if s := expandClusterSpec(ctx, onCloud(spot, "runpod"), &diags); cwClusterOpts(s.Options) != nil {
		t.Errorf("spot on another cloud is not CoreWeave's: %+v", cwClusterOpts(s.Options))
	}

	cks := &clients.Cluster{ID: "cks-1", Cloud: "coreweave", Status: clients.ClusterRunning,
		Options: &coreweave.ClusterInfo{KubernetesVersion: "v1.35", VPCID: "vpc-1", Public: true, ComputeClass: "spot"}}
	back := m
	block := *m.CoreWeave
	back.CoreWeave = &block
	flattenCluster(ctx, cks, &back, &diags)
	if back.CoreWeave.KubernetesVersion.ValueString() != "v1.35" || back.CoreWeave.VPCID.ValueString() != "vpc-1" || !back.CoreWeave.Public.ValueBool() ||
		!back.CoreWeave.ComputeClass.IsNull() || back.CapacityType.ValueString() != capacityOnDemand {
		t.Errorf("round trip: %+v, capacity_type %v", back.CoreWeave, back.CapacityType)
	}

	imported := gpuClusterModel{gpuModel: gpuModel{ID: types.StringValue("cks-1"), Cloud: types.StringValue("coreweave")}}
	flattenCluster(ctx, cks, &imported, &diags)
	if imported.CoreWeave == nil || imported.CoreWeave.ComputeClass.ValueString() != "spot" || imported.CapacityType.ValueString() != capacitySpot {
		t.Errorf("import: %+v, capacity_type %v", imported.CoreWeave, imported.CapacityType)
	}

	leftOut := gpuClusterModel{gpuModel: gpuModel{GPUType: types.StringValue("H100_80GB_SXM")}}
	flattenCluster(ctx, cks, &leftOut, &diags)
	if leftOut.CoreWeave != nil {
		t.Errorf("a block left out grew back: %+v", leftOut.CoreWeave)
	}

	placed := gpuClusterModel{}
	placed.CoreWeave = &coreweaveClusterModel{KubernetesVersion: types.StringUnknown(), VPCID: types.StringUnknown(), Public: types.BoolUnknown(), ComputeClass: types.StringNull()}
	settleBlocks(&placed, "lambda")
	if cw := placed.CoreWeave; placed.Cloud.ValueString() != "lambda" || !cw.KubernetesVersion.IsNull() || !cw.VPCID.IsNull() || !cw.Public.IsNull() {
		t.Errorf("placed on Lambda: %v %+v", placed.Cloud, cw)
	}
	kept := gpuClusterModel{}
	kept.CoreWeave = &coreweaveClusterModel{KubernetesVersion: types.StringUnknown()}
	settleBlocks(&kept, "coreweave")
	if !kept.CoreWeave.KubernetesVersion.IsUnknown() {
		t.Error("on CoreWeave the version is CoreWeave's to report")
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}
