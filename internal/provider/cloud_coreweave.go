package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/coreweave"
)

// CoreWeave's room on the provider side: the `coreweave {}` blocks of neocloud_gpu_instance (a
// one-node NodePool in a CKS cluster) and neocloud_gpu_cluster (a CKS cluster), and the
// deprecated compute_class that capacity_type replaces.

// coreweaveInstanceField is the `coreweave` block of gpuInstanceModel.
type coreweaveInstanceField struct {
	CoreWeave *coreweaveInstanceModel `tfsdk:"coreweave"`
}

// coreweaveClusterField is the `coreweave` block of gpuClusterModel.
type coreweaveClusterField struct {
	CoreWeave *coreweaveClusterModel `tfsdk:"coreweave"`
}

type coreweaveInstanceModel struct {
	ClusterID    types.String `tfsdk:"cluster_id"`
	ComputeClass types.String `tfsdk:"compute_class"`
}

type coreweaveClusterModel struct {
	KubernetesVersion types.String `tfsdk:"kubernetes_version"`
	VPCID             types.String `tfsdk:"vpc_id"`
	Public            types.Bool   `tfsdk:"public"`
	ComputeClass      types.String `tfsdk:"compute_class"`
}

// computeClassDeprecation is the deprecation message of both blocks' compute_class.
const computeClassDeprecation = "Use capacity_type = \"spot\" (or \"on_demand\") instead; coreweave.compute_class will be removed in a future major version."

type coreweaveBlocks struct{}

func (coreweaveBlocks) name() string { return "coreweave" }

func (coreweaveBlocks) instanceBlock() schema.Block {
	replace := stringplanmodifier.RequiresReplace()
	return schema.SingleNestedBlock{
		MarkdownDescription: "CoreWeave settings. Only valid with `cloud = \"coreweave\"`, and needed there: a CoreWeave machine is a one-node NodePool in a CKS cluster. " +
			"CoreWeave nodes are reached through Kubernetes, so the SSH attributes stay empty.",
		Attributes: map[string]schema.Attribute{
			"cluster_id": schema.StringAttribute{
				Optional: true, MarkdownDescription: "CKS cluster to add the node to: a `neocloud_gpu_cluster`'s id or any existing cluster's. A change replaces the machine.",
				PlanModifiers: []planmodifier.String{replace},
			},
			"compute_class": schema.StringAttribute{
				Optional: true, MarkdownDescription: "`default` (on demand) or `spot`. A change replaces the machine. Deprecated: use `capacity_type`.",
				DeprecationMessage: computeClassDeprecation,
				Validators:         []validator.String{stringvalidator.OneOf("default", "spot")}, PlanModifiers: []planmodifier.String{replace},
			},
		},
	}
}

func (coreweaveBlocks) clusterBlock() schema.Block {
	keep := stringplanmodifier.UseStateForUnknown()
	return schema.SingleNestedBlock{
		MarkdownDescription: "CoreWeave settings. Only valid with `cloud = \"coreweave\"` (or with `coreweave` in `placement.clouds`).",
		Attributes: map[string]schema.Attribute{
			"kubernetes_version": schema.StringAttribute{
				Optional: true, Computed: true, MarkdownDescription: "CKS Kubernetes version, such as `v1.35`; left out, the newest version CoreWeave offers when the cluster is created. A change replaces the cluster.",
				PlanModifiers: []planmodifier.String{keep, stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"vpc_id": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Existing VPC to place the cluster in. Left out, the provider creates a VPC for the cluster (and deletes it with the cluster). A change replaces the cluster.",
				PlanModifiers:       []planmodifier.String{keep, stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"public": schema.BoolAttribute{
				Optional: true, Computed: true, MarkdownDescription: "Whether the Kubernetes API server is reachable from the internet (default false). A change replaces the cluster.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown(), boolplanmodifier.RequiresReplaceIfConfigured()},
			},
			"compute_class": schema.StringAttribute{
				Optional: true, MarkdownDescription: "`default` (on demand) or `spot`. A change replaces the cluster. Deprecated: use `capacity_type`.",
				DeprecationMessage: computeClassDeprecation,
				Validators:         []validator.String{stringvalidator.OneOf("default", "spot")}, PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()},
			},
		},
	}
}

func (coreweaveBlocks) inInstance(m *gpuInstanceModel) bool { return m.CoreWeave != nil }
func (coreweaveBlocks) inCluster(m *gpuClusterModel) bool   { return m.CoreWeave != nil }
func (coreweaveBlocks) dropFromCluster(m *gpuClusterModel)  { m.CoreWeave = nil }

// expandInstance: capacity_type = "spot" is the NodePool's compute class.
func (coreweaveBlocks) expandInstance(_ context.Context, m gpuInstanceModel, _ *diag.Diagnostics) any {
	c := m.CoreWeave
	if c == nil {
		return nil
	}
	o := &coreweave.InstanceOptions{ClusterID: c.ClusterID.ValueString(), ComputeClass: c.ComputeClass.ValueString()}
	if m.CapacityType.ValueString() == capacitySpot {
		o.ComputeClass = "spot"
	}
	return o
}

// expandCluster: capacity_type = "spot" on CoreWeave is the NodePool's compute class, with or
// without a block.
func (coreweaveBlocks) expandCluster(_ context.Context, m gpuClusterModel, _ *diag.Diagnostics) any {
	var o *coreweave.ClusterOptions
	if c := m.CoreWeave; c != nil {
		o = &coreweave.ClusterOptions{
			KubernetesVersion: c.KubernetesVersion.ValueString(),
			VPCID:             c.VPCID.ValueString(),
			Public:            c.Public.ValueBool(),
			ComputeClass:      c.ComputeClass.ValueString(),
		}
	}
	if m.CapacityType.ValueString() == capacitySpot && m.Cloud.ValueString() == "coreweave" {
		if o == nil {
			o = &coreweave.ClusterOptions{}
		}
		o.ComputeClass = "spot"
	}
	if o == nil {
		return nil
	}
	return o
}

// flattenInstance records the machine's cluster; compute_class only where it was configured
// ("default" when left out: not drift).
func (coreweaveBlocks) flattenInstance(_ context.Context, inst *clients.Instance, m *gpuInstanceModel, _ bool, _ *diag.Diagnostics) {
	o, _ := inst.Options.(*coreweave.InstanceOptions)
	if o == nil {
		return
	}
	cw := &coreweaveInstanceModel{ClusterID: types.StringValue(o.ClusterID), ComputeClass: types.StringNull()}
	if m.CoreWeave != nil && !m.CoreWeave.ComputeClass.IsUnknown() {
		cw.ComputeClass = m.CoreWeave.ComputeClass
	}
	if o.ComputeClass != "" && !cw.ComputeClass.IsNull() {
		cw.ComputeClass = types.StringValue(o.ComputeClass)
	}
	m.CoreWeave = cw
}

// flattenCluster records the CKS cluster's settings; an import fills the block.
func (coreweaveBlocks) flattenCluster(_ context.Context, c *clients.Cluster, m *gpuClusterModel, importing bool, _ *diag.Diagnostics) {
	info, _ := c.Options.(*coreweave.ClusterInfo)
	if info == nil || (m.CoreWeave == nil && !importing) {
		return
	}
	cw := m.CoreWeave
	if cw == nil {
		cw = &coreweaveClusterModel{ComputeClass: types.StringNull()}
	}
	cw.VPCID = stringOrNull(info.VPCID)
	cw.KubernetesVersion = stringOrNull(info.KubernetesVersion)
	cw.Public = types.BoolValue(info.Public)
	if info.ComputeClass != "" && (importing || !cw.ComputeClass.IsNull()) {
		cw.ComputeClass = types.StringValue(info.ComputeClass)
	} else if cw.ComputeClass.IsUnknown() {
		cw.ComputeClass = types.StringNull()
	}
	m.CoreWeave = cw
}

// settleCluster: placed on another cloud, the block's CoreWeave defaults never came to be.
func (coreweaveBlocks) settleCluster(m *gpuClusterModel) {
	cw := m.CoreWeave
	if cw == nil {
		return
	}
	cw.KubernetesVersion, cw.VPCID = nullIfUnknown(cw.KubernetesVersion), nullIfUnknown(cw.VPCID)
	if cw.Public.IsUnknown() {
		cw.Public = types.BoolNull()
	}
}

func (coreweaveBlocks) instanceUnknowns(m gpuInstanceModel, values map[string]attr.Value) {
	if c := m.CoreWeave; c != nil {
		values["coreweave.cluster_id"], values["coreweave.compute_class"] = c.ClusterID, c.ComputeClass
	}
}

func (coreweaveBlocks) clusterUnknowns(m gpuClusterModel, values map[string]attr.Value) {
	if c := m.CoreWeave; c != nil {
		values["coreweave"] = anyUnknown(c.KubernetesVersion, c.VPCID, c.Public, c.ComputeClass)
	}
}

func (coreweaveBlocks) instanceComputeClass(m gpuInstanceModel) types.String {
	if m.CoreWeave == nil {
		return types.StringNull()
	}
	return m.CoreWeave.ComputeClass
}

func (coreweaveBlocks) clusterComputeClass(m gpuClusterModel) types.String {
	if m.CoreWeave == nil {
		return types.StringNull()
	}
	return m.CoreWeave.ComputeClass
}

func (coreweaveBlocks) instanceSpot(inst *clients.Instance) bool {
	o, ok := inst.Options.(*coreweave.InstanceOptions)
	return ok && o.ComputeClass == "spot"
}

func (coreweaveBlocks) clusterSpot(c *clients.Cluster) bool {
	info, ok := c.Options.(*coreweave.ClusterInfo)
	return ok && info.ComputeClass == "spot"
}
