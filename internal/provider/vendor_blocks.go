package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// vendorBlocks holds every cloud's settings of its own: the `lambda {}`, `runpod {}` and
// `coreweave {}` blocks of neocloud_gpu_instance and neocloud_gpu_cluster. Each cloud's room is
// one file, cloud_<name>.go; a cloud with a block of its own adds its file and one line here
// (and one embedding line in gpuInstanceModel and gpuClusterModel, since the framework reads
// a block into a struct field). A cloud without a block needs none of it.
var vendorBlocks = []vendorBlock{lambdaBlocks{}, runpodBlocks{}, coreweaveBlocks{}}

// vendorBlock is one cloud's settings blocks and how they map onto the neutral contract.
type vendorBlock interface {
	// name is the cloud's name, which is also its blocks' name.
	name() string
	instanceBlock() schema.Block
	clusterBlock() schema.Block

	// inInstance and inCluster report whether the block is set in a plan.
	inInstance(m *gpuInstanceModel) bool
	inCluster(m *gpuClusterModel) bool
	// dropFromCluster removes the block from a copy of the plan made for another cloud.
	dropFromCluster(m *gpuClusterModel)

	// expandInstance and expandCluster are the cloud's options (InstanceSpec.Options,
	// ClusterSpec.Options) from its block: a value of a type of the cloud's package, nil
	// without a block.
	expandInstance(ctx context.Context, m gpuInstanceModel, diags *diag.Diagnostics) any
	expandCluster(ctx context.Context, m gpuClusterModel, diags *diag.Diagnostics) any

	// flattenInstance and flattenCluster write what the cloud reports into the block. importing
	// says the model knows only the id; otherwise a block the configuration leaves out stays
	// out, and a block left on a machine placed on another cloud keeps no unknown value.
	flattenInstance(ctx context.Context, inst *clients.Instance, m *gpuInstanceModel, importing bool, diags *diag.Diagnostics)
	flattenCluster(ctx context.Context, c *clients.Cluster, m *gpuClusterModel, importing bool, diags *diag.Diagnostics)
	// settleCluster leaves no unknown value in the block of a cluster placed on another cloud.
	settleCluster(m *gpuClusterModel)

	// instanceUnknowns and clusterUnknowns add the block's values to unknownAttributes' list.
	instanceUnknowns(m gpuInstanceModel, values map[string]attr.Value)
	clusterUnknowns(m gpuClusterModel, values map[string]attr.Value)
}

// Optional parts of a cloud's room, for what only some clouds' blocks do.
type (
	// capacityBlock carries a capacity setting of its own (CoreWeave's deprecated
	// compute_class) and reads a machine's or cluster's capacity type back on import.
	capacityBlock interface {
		instanceComputeClass(m gpuInstanceModel) types.String
		clusterComputeClass(m gpuClusterModel) types.String
		instanceSpot(inst *clients.Instance) bool
		clusterSpot(c *clients.Cluster) bool
	}
	// inPlaceBlock has settings the cloud changes on a running machine (RunPod's image,
	// environment, mount path and registry credential).
	inPlaceBlock interface {
		// instanceUpdate adds the block's changes between state and plan to u.
		instanceUpdate(ctx context.Context, plan, state gpuInstanceModel, u *clients.InstanceUpdate, diags *diag.Diagnostics)
		// restarts reports that u changes what restarts the machine's container.
		restarts(u clients.InstanceUpdate) bool
		// settingUnknown reports a setting changed in place whose new value is known only at apply.
		settingUnknown(plan gpuInstanceModel) bool
	}
	// containerBlock holds the machine's image in the block (a RunPod pod's container image)
	// and refers to account objects the cloud checks at plan time.
	containerBlock interface {
		// imageInBlock reports that the machine's image is recorded in the block, not in `image`.
		imageInBlock(inst *clients.Instance) bool
		// echo puts the block's options, as asked in the plan, into the machine it stands for.
		echo(ctx context.Context, plan gpuInstanceModel, inst *clients.Instance, diags *diag.Diagnostics)
		// references clears from spec the references that need no check (unchanged, or known
		// only at apply) and reports whether any is left.
		references(plan gpuInstanceModel, state *gpuInstanceModel, unknown map[string]bool, spec *clients.InstanceSpec) bool
	}
)

// vendorBlockSchemas is every cloud's block of one resource, by name.
func vendorBlockSchemas(block func(vendorBlock) schema.Block, others map[string]schema.Block) map[string]schema.Block {
	for _, v := range vendorBlocks {
		others[v.name()] = block(v)
	}
	return others
}

// blocksSet names the clouds whose block is set in a plan.
func blocksSet(set func(vendorBlock) bool) map[string]bool {
	out := map[string]bool{}
	for _, v := range vendorBlocks {
		out[v.name()] = set(v)
	}
	return out
}

// checkBlocksOnCloud refuses the block of another cloud than the one the machine or cluster is on.
func checkBlocksOnCloud(blocks map[string]bool, cloudName, what string, diags *diag.Diagnostics) {
	for _, v := range vendorBlocks {
		if block := v.name(); blocks[block] && block != cloudName {
			diags.AddAttributeError(path.Root(block), "Settings for another cloud",
				fmt.Sprintf("The `%s` block only applies to cloud = %q, but this %s is on %q. Remove the block.", block, block, what, cloudName))
		}
	}
}

// instanceBlocksSet names the clouds whose block a machine's plan sets.
func instanceBlocksSet(m *gpuInstanceModel) map[string]bool {
	return blocksSet(func(v vendorBlock) bool { return v.inInstance(m) })
}

// clusterBlocksSet names the clouds whose block a cluster's plan sets.
func clusterBlocksSet(m *gpuClusterModel) map[string]bool {
	return blocksSet(func(v vendorBlock) bool { return v.inCluster(m) })
}

// deprecatedComputeClass is the capacity class a block asks for (CoreWeave's compute_class),
// or null.
func deprecatedComputeClass(class func(capacityBlock) types.String) types.String {
	for _, v := range vendorBlocks {
		if c, ok := v.(capacityBlock); ok {
			if cc := class(c); !cc.IsNull() {
				return cc
			}
		}
	}
	return types.StringNull()
}

// reportsSpot reports whether the cloud says the machine or cluster runs on spot capacity.
func reportsSpot(spot func(capacityBlock) bool) bool {
	for _, v := range vendorBlocks {
		if c, ok := v.(capacityBlock); ok && spot(c) {
			return true
		}
	}
	return false
}

// readCapacityType sets a capacity_type not planned (an import): spot where the cloud says so,
// else on demand. What was asked is kept.
func readCapacityType(capacity *types.String, spot func(capacityBlock) bool) {
	if !capacity.IsNull() && !capacity.IsUnknown() {
		return
	}
	*capacity = types.StringValue(capacityOnDemand)
	if reportsSpot(spot) {
		*capacity = types.StringValue(capacitySpot)
	}
}

// blocksUpdate adds every block's in-place changes between state and plan to u.
func blocksUpdate(ctx context.Context, plan, state gpuInstanceModel, u *clients.InstanceUpdate, diags *diag.Diagnostics) {
	for _, v := range vendorBlocks {
		if b, ok := v.(inPlaceBlock); ok {
			b.instanceUpdate(ctx, plan, state, u, diags)
		}
	}
}

// restartsContainer reports that an update restarts the machine's container: a new image or
// environment, or a block's setting that does.
func restartsContainer(u clients.InstanceUpdate) bool {
	if u.Image != nil || u.Env != nil {
		return true
	}
	for _, v := range vendorBlocks {
		if b, ok := v.(inPlaceBlock); ok && b.restarts(u) {
			return true
		}
	}
	return false
}

// mayRestartContainer reports a block's setting changed in place whose new value is known only
// at apply: the container may restart.
func mayRestartContainer(plan gpuInstanceModel) bool {
	for _, v := range vendorBlocks {
		if b, ok := v.(inPlaceBlock); ok && b.settingUnknown(plan) {
			return true
		}
	}
	return false
}

// imageInBlock reports that a block, not `image`, holds the machine's image.
func imageInBlock(inst *clients.Instance) bool {
	for _, v := range vendorBlocks {
		if b, ok := v.(containerBlock); ok && b.imageInBlock(inst) {
			return true
		}
	}
	return false
}

// echoBlocks puts every block's options, as asked in the plan, into the machine it stands for.
func echoBlocks(ctx context.Context, plan gpuInstanceModel, inst *clients.Instance, diags *diag.Diagnostics) {
	for _, v := range vendorBlocks {
		if b, ok := v.(containerBlock); ok {
			b.echo(ctx, plan, inst, diags)
		}
	}
}

// instanceOptions are one cloud's options from its block of a machine's plan (nil without one).
func instanceOptions(ctx context.Context, m gpuInstanceModel, cloud string, diags *diag.Diagnostics) any {
	for _, v := range vendorBlocks {
		if v.name() == cloud {
			return v.expandInstance(ctx, m, diags)
		}
	}
	return nil
}

// clusterOptions are one cloud's options from its block of a cluster's plan (nil without one).
func clusterOptions(ctx context.Context, m gpuClusterModel, cloud string, diags *diag.Diagnostics) any {
	for _, v := range vendorBlocks {
		if v.name() == cloud {
			return v.expandCluster(ctx, m, diags)
		}
	}
	return nil
}

// referencesToCheck clears from spec the references that need no check at plan time and
// reports whether any block still refers to something the cloud should check.
func referencesToCheck(plan gpuInstanceModel, state *gpuInstanceModel, spec *clients.InstanceSpec) bool {
	unknown := plan.unknownAttributes()
	check := false
	for _, v := range vendorBlocks {
		if b, ok := v.(containerBlock); ok && b.references(plan, state, unknown, spec) {
			check = true
		}
	}
	return check
}
