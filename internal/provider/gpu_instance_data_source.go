package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

var (
	_ datasource.DataSourceWithConfigure        = (*gpuInstanceDataSource)(nil)
	_ datasource.DataSourceWithConfigValidators = (*gpuInstanceDataSource)(nil)
)

// NewGPUInstanceDataSource is the neocloud_gpu_instance data source: one existing machine,
// looked up by id or by name.
func NewGPUInstanceDataSource() datasource.DataSource {
	return &gpuInstanceDataSource{baseDataSource{typeName: "gpu_instance"}}
}

type gpuInstanceDataSource struct {
	baseDataSource
}

type gpuInstanceDataModel struct {
	Cloud        types.String `tfsdk:"cloud"`
	ID           types.String `tfsdk:"id"`
	Name         types.String `tfsdk:"name"`
	Region       types.String `tfsdk:"region"`
	GPUType      types.String `tfsdk:"gpu_type"`
	GPUCount     types.Int64  `tfsdk:"gpu_count"`
	InstanceType types.String `tfsdk:"instance_type"`
	Status       types.String `tfsdk:"status"`
	machineReach
	PricePerHour types.Float64 `tfsdk:"price_per_hour"`
	Tags         types.Map     `tfsdk:"tags"`
}

func (d *gpuInstanceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "An existing GPU machine, managed by Terraform or not, looked up by `id` or by `name` on one cloud.",
		Attributes: map[string]schema.Attribute{
			"cloud": schema.StringAttribute{
				Required: true, MarkdownDescription: "Cloud to look on: " + quotedList(clients.Names()) + ".",
				Validators: []validator.String{stringvalidator.OneOf(clients.Names()...)},
			},
			"id":             schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "The cloud's id of the machine. Give this or `name`."},
			"name":           schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Name of the machine; it must match exactly one live machine. Give this or `id`."},
			"region":         computed("Region."),
			"gpu_type":       computed("Neutral GPU model (or the native id when the catalog does not know it)."),
			"gpu_count":      schema.Int64Attribute{Computed: true, MarkdownDescription: "Number of GPUs."},
			"instance_type":  computed("The cloud's instance type."),
			"status":         computed("Neutral status."),
			"public_ip":      computed("Public IPv4 address."),
			"private_ip":     computed("Private IPv4 address."),
			"ssh_host":       computed("Host to SSH to."),
			"ssh_port":       schema.Int64Attribute{Computed: true, MarkdownDescription: "Port to SSH to."},
			"ssh_user":       computed("User to SSH as."),
			"price_per_hour": schema.Float64Attribute{Computed: true, MarkdownDescription: "Price in USD per hour."},
			"tags":           schema.MapAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Tags, where the cloud has them."},
		},
	}
}

func (d *gpuInstanceDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{datasourcevalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name"))}
}

func (d *gpuInstanceDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg gpuInstanceDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cloud, err := d.data.cloud(cfg.Cloud.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("cloud"), "Cloud not configured", err.Error())
		return
	}
	inst, err := lookupInstance(ctx, cloud, cfg)
	if err != nil {
		d.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to find "+displayName(cloud.Name())+" instance", err)
		return
	}
	var m gpuInstanceModel
	flattenInstance(ctx, inst, &m, &resp.Diagnostics)
	out := gpuInstanceDataModel{
		Cloud: m.Cloud, ID: m.ID, Name: m.Name, Region: m.Region, GPUType: m.GPUType, GPUCount: m.GPUCount,
		InstanceType: m.InstanceType, Status: m.Status, machineReach: m.machineReach, PricePerHour: m.PricePerHour, Tags: m.Tags,
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &out)...)
}

// lookupInstance finds a machine by id, or by a name that exactly one live machine has.
func lookupInstance(ctx context.Context, cloud clients.Cloud, cfg gpuInstanceDataModel) (*clients.Instance, error) {
	if !cfg.ID.IsNull() {
		return cloud.GetInstance(ctx, cfg.ID.ValueString())
	}
	lister, ok := cloud.(clients.InstanceLister)
	if !ok {
		return nil, fmt.Errorf("%s machines can only be looked up by id", displayName(cloud.Name()))
	}
	all, err := lister.ListInstances(ctx)
	if err != nil {
		return nil, err
	}
	name := cfg.Name.ValueString()
	var found []clients.Instance
	for _, inst := range all {
		if inst.Name == name {
			found = append(found, inst)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: no live %s machine is named %q", clients.ErrNotFound, displayName(cloud.Name()), name)
	case 1:
		return &found[0], nil
	}
	ids := make([]string, len(found))
	for i, inst := range found {
		ids[i] = inst.ID
	}
	return nil, fmt.Errorf("%d %s machines are named %q (%s): look one up by id", len(found), displayName(cloud.Name()), name, strings.Join(ids, ", "))
}
