package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/lambda"
)

// Lambda Cloud's room on the provider side: the `lambda {}` blocks of neocloud_gpu_instance
// and neocloud_gpu_cluster.

// lambdaInstanceField is the `lambda` block of gpuInstanceModel.
type lambdaInstanceField struct {
	Lambda *lambdaInstanceModel `tfsdk:"lambda"`
}

// lambdaClusterField is the `lambda` block of gpuClusterModel.
type lambdaClusterField struct {
	Lambda *lambdaClusterModel `tfsdk:"lambda"`
}

type lambdaInstanceModel struct {
	FileSystemNames    types.List `tfsdk:"file_system_names"`
	FirewallRulesetIDs types.List `tfsdk:"firewall_ruleset_ids"`
}

type lambdaClusterModel struct {
	FileSystemName types.String `tfsdk:"file_system_name"`
	Image          types.String `tfsdk:"image"`
	UserData       types.String `tfsdk:"user_data"`
}

type lambdaBlocks struct{}

func (lambdaBlocks) name() string { return "lambda" }

func (lambdaBlocks) instanceBlock() schema.Block {
	list := func(description string) schema.ListAttribute {
		return schema.ListAttribute{
			Optional:            true,
			ElementType:         types.StringType,
			MarkdownDescription: description,
			PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
			Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
		}
	}
	return schema.SingleNestedBlock{
		MarkdownDescription: "Lambda Cloud settings. Only valid with `cloud = \"lambda\"`.",
		Attributes: map[string]schema.Attribute{
			"file_system_names":    list("Names of Lambda filesystems (in the same region) to mount. A change replaces the instance."),
			"firewall_ruleset_ids": list("Ids of Lambda firewall rulesets to attach. A change replaces the instance."),
		},
	}
}

func (lambdaBlocks) clusterBlock() schema.Block {
	replace := []planmodifier.String{requiresReplaceIfPriorSet()}
	return schema.SingleNestedBlock{
		MarkdownDescription: "Lambda Cloud node-group settings. Only valid with `cloud = \"lambda\"`. Every setting replaces the cluster when changed (set after an import, it is recorded in place: the cloud does not report it back).",
		Attributes: map[string]schema.Attribute{
			"file_system_name": schema.StringAttribute{
				Optional: true, MarkdownDescription: "Shared filesystem mounted on every node; created in the cluster's region when absent.",
				PlanModifiers: replace,
			},
			"image": schema.StringAttribute{Optional: true, MarkdownDescription: "Image family or id of every node.", PlanModifiers: replace},
			"user_data": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "cloud-init user data of every node. Sensitive, since scripts often carry credentials: " +
					"hidden in plan output and masked in the provider's logs (the state file still holds it).",
				PlanModifiers: replace,
			},
		},
	}
}

func (lambdaBlocks) inInstance(m *gpuInstanceModel) bool { return m.Lambda != nil }
func (lambdaBlocks) inCluster(m *gpuClusterModel) bool   { return m.Lambda != nil }
func (lambdaBlocks) dropFromCluster(m *gpuClusterModel)  { m.Lambda = nil }
func (lambdaBlocks) settleCluster(*gpuClusterModel)      {}

func (lambdaBlocks) expandInstance(ctx context.Context, m gpuInstanceModel, diags *diag.Diagnostics) any {
	if m.Lambda == nil {
		return nil
	}
	return &lambda.InstanceOptions{
		FileSystemNames:    stringsFromList(ctx, m.Lambda.FileSystemNames, diags),
		FirewallRulesetIDs: stringsFromList(ctx, m.Lambda.FirewallRulesetIDs, diags),
	}
}

func (lambdaBlocks) expandCluster(_ context.Context, m gpuClusterModel, _ *diag.Diagnostics) any {
	l := m.Lambda
	if l == nil {
		return nil
	}
	return &lambda.ClusterOptions{
		FileSystemName: l.FileSystemName.ValueString(),
		Image:          l.Image.ValueString(),
		UserData:       l.UserData.ValueString(),
	}
}

// flattenInstance records the instance's filesystems and firewall rulesets; an instance with
// neither, launched without the block, grows none (that would be drift).
func (lambdaBlocks) flattenInstance(ctx context.Context, inst *clients.Instance, m *gpuInstanceModel, _ bool, diags *diag.Diagnostics) {
	o, _ := inst.Options.(*lambda.InstanceOptions)
	if o != nil && (m.Lambda != nil || len(o.FileSystemNames) > 0 || len(o.FirewallRulesetIDs) > 0) {
		m.Lambda = &lambdaInstanceModel{
			FileSystemNames:    listOrNull(ctx, o.FileSystemNames, diags),
			FirewallRulesetIDs: listOrNull(ctx, o.FirewallRulesetIDs, diags),
		}
	}
}

// flattenCluster keeps the block as configured: Lambda does not report its settings back.
func (lambdaBlocks) flattenCluster(context.Context, *clients.Cluster, *gpuClusterModel, bool, *diag.Diagnostics) {
}

func (lambdaBlocks) instanceUnknowns(gpuInstanceModel, map[string]attr.Value) {}

func (lambdaBlocks) clusterUnknowns(m gpuClusterModel, values map[string]attr.Value) {
	if l := m.Lambda; l != nil {
		values["lambda"] = anyUnknown(l.FileSystemName, l.Image, l.UserData)
	}
}
