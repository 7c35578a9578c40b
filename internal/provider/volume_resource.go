package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

var (
	_ resource.ResourceWithConfigure   = (*volumeResource)(nil)
	_ resource.ResourceWithImportState = (*volumeResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*volumeResource)(nil)
)

// NewVolumeResource is neocloud_volume.
func NewVolumeResource() resource.Resource { return &volumeResource{} }

type volumeResource struct {
	baseResource
}

// volumes is how the shared Read and Delete see a volume.
var volumes = accountObject[volumeModel, clients.VolumeCloud, *clients.Volume]{
	kind: clients.KindVolume, what: "volume",
	ref: func(m *volumeModel) (types.String, types.String) { return m.Cloud, m.ID },
	get: func(ctx context.Context, api clients.VolumeCloud, id string) (*clients.Volume, error) {
		return api.GetVolume(ctx, id)
	},
	refresh: flattenVolume,
	// A volume is released by its machines a little after they terminate: the "still in use"
	// refusal is retried for a while instead of failing the destroy.
	del: func(ctx context.Context, pacing clients.Pacing, api clients.VolumeCloud, id string) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		return pacing.Poll(ctx, func(ctx context.Context) (bool, error) {
			err := api.DeleteVolume(ctx, id)
			if clients.IsConflict(err) {
				return false, nil
			}
			return err == nil, err
		})
	},
}

type volumeModel struct {
	ID         types.String `tfsdk:"id"`
	Cloud      types.String `tfsdk:"cloud"`
	Name       types.String `tfsdk:"name"`
	Region     types.String `tfsdk:"region"`
	SizeGB     types.Int64  `tfsdk:"size_gb"`
	Type       types.String `tfsdk:"type"`
	InUse      types.Bool   `tfsdk:"in_use"`
	MountPoint types.String `tfsdk:"mount_point"`
	CreatedAt  types.String `tfsdk:"created_at"`
}

func (r *volumeResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_volume"
}

func (r *volumeResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := stringplanmodifier.RequiresReplace()
	keep := stringplanmodifier.UseStateForUnknown()
	resp.Schema = schema.Schema{
		MarkdownDescription: "Persistent storage that outlives machines: a Lambda Cloud filesystem (unsized, billed by use, " +
			"mounted with `lambda { file_system_names }`) or a RunPod network volume (sized, growable in place).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The cloud's id of the volume.", PlanModifiers: []planmodifier.String{keep}},
			"cloud": schema.StringAttribute{
				Required: true, MarkdownDescription: "Cloud holding the volume: " + quotedList(clients.NamesWith(clients.KindVolume)) + ".",
				Validators: []validator.String{cloudHolds{clients.KindVolume}}, PlanModifiers: []planmodifier.String{replace},
			},
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "Name of the volume. Changing it replaces the volume (and loses its data).",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 60)}, PlanModifiers: []planmodifier.String{replace},
			},
			"region": schema.StringAttribute{
				Required: true, MarkdownDescription: "Region (Lambda region, RunPod data center) of the volume; machines that mount it must be there too.",
				PlanModifiers: []planmodifier.String{replace},
			},
			"size_gb": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Capacity in GB, for clouds whose volumes have a size (RunPod: required, grows in place, never shrinks). " +
					"Lambda filesystems have no size: leave it out.",
			},
			"type": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Storage tier where the cloud has several (RunPod: `STANDARD` or `HIGH_PERFORMANCE`). Changing it replaces the volume.",
				PlanModifiers:       []planmodifier.String{keep, stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"in_use":      schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether a machine mounts the volume now.", PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()}},
			"mount_point": schema.StringAttribute{Computed: true, MarkdownDescription: "Where machines see the volume, where the cloud decides it.", PlanModifiers: []planmodifier.String{keep}},
			"created_at":  schema.StringAttribute{Computed: true, MarkdownDescription: "When the volume was created (RFC 3339).", PlanModifiers: []planmodifier.String{keep}},
		},
	}
}

// ModifyPlan checks the volume against the cloud's rules at plan time and decides how a size
// change is carried out: grown in place, or refused (a smaller volume is a new, empty one).
func (r *volumeResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan volumeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.Cloud.IsUnknown() {
		return
	}
	cloud, vc, ok := cloudFor[clients.VolumeCloud](r.data, plan.Cloud.ValueString(), clients.KindVolume, path.Root("cloud"), &resp.Diagnostics)
	if !ok {
		return
	}
	rules := vc.VolumeRules()
	name := displayName(cloud.Name())
	resp.Diagnostics.Append(checkRegion(ctx, cloud, plan.Region, "")...)
	size := plan.SizeGB
	switch {
	case size.IsUnknown():
	case rules.Sized && size.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("size_gb"), "Size required", name+" volumes have a fixed size: set size_gb.")
	case !rules.Sized && !size.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("size_gb"), "Size not supported", name+" volumes have no size (they grow with use): remove size_gb.")
	case rules.Sized && (int(size.ValueInt64()) < rules.MinSizeGB || (rules.MaxSizeGB > 0 && int(size.ValueInt64()) > rules.MaxSizeGB)):
		resp.Diagnostics.AddAttributeError(path.Root("size_gb"), "Size out of range",
			fmt.Sprintf("%s volumes are %d to %d GB; %d was given.", name, rules.MinSizeGB, rules.MaxSizeGB, size.ValueInt64()))
	}
	if !plan.Type.IsNull() && !plan.Type.IsUnknown() && !slices.Contains(rules.Types, plan.Type.ValueString()) {
		if len(rules.Types) == 0 {
			resp.Diagnostics.AddAttributeError(path.Root("type"), "Type not supported", name+" volumes have no types: remove type.")
		} else {
			resp.Diagnostics.AddAttributeError(path.Root("type"), "Unknown volume type",
				fmt.Sprintf("%s volume types are %s.", name, strings.Join(rules.Types, ", ")))
		}
	}
	if req.State.Raw.IsNull() || resp.Diagnostics.HasError() {
		return
	}
	var state volumeModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if size.IsUnknown() || state.SizeGB.IsNull() || size.Equal(state.SizeGB) {
		return
	}
	switch {
	case size.ValueInt64() < state.SizeGB.ValueInt64():
		resp.Diagnostics.AddAttributeError(path.Root("size_gb"), "Volumes cannot shrink",
			fmt.Sprintf("%s volumes can only grow (from %d GB). A smaller volume would be a new, empty one: to do that on purpose, replace it with `terraform apply -replace`.",
				name, state.SizeGB.ValueInt64()))
	case !rules.Growable:
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("size_gb"))
	}
}

func (r *volumeResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan volumeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cloud, vc, ok := cloudFor[clients.VolumeCloud](r.data, plan.Cloud.ValueString(), clients.KindVolume, path.Root("cloud"), &resp.Diagnostics)
	if !ok {
		return
	}
	vol, err := vc.CreateVolume(ctx, clients.VolumeSpec{
		Name: plan.Name.ValueString(), Region: plan.Region.ValueString(),
		SizeGB: int(plan.SizeGB.ValueInt64()), Type: plan.Type.ValueString(),
	})
	if err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to create "+displayName(cloud.Name())+" volume", err)
		return
	}
	flattenVolume(vol, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *volumeResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	volumes.read(ctx, r.data, req, resp)
}

// Update grows a volume; every other change replaces it (see the schema and ModifyPlan).
func (r *volumeResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state volumeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cloud, vc, ok := cloudFor[clients.VolumeCloud](r.data, state.Cloud.ValueString(), clients.KindVolume, path.Empty(), &resp.Diagnostics)
	if !ok {
		return
	}
	var vol *clients.Volume
	var err error
	if !plan.SizeGB.Equal(state.SizeGB) && !plan.SizeGB.IsNull() {
		vol, err = vc.ResizeVolume(ctx, state.ID.ValueString(), int(plan.SizeGB.ValueInt64()))
	} else {
		vol, err = vc.GetVolume(ctx, state.ID.ValueString())
	}
	if err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to update "+displayName(cloud.Name())+" volume "+state.ID.ValueString(), err)
		return
	}
	plan.ID = state.ID
	flattenVolume(vol, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *volumeResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	volumes.delete(ctx, r.data, req, resp)
}

func flattenVolume(v *clients.Volume, m *volumeModel) {
	m.ID = types.StringValue(v.ID)
	m.Cloud = types.StringValue(v.Cloud)
	m.Name = types.StringValue(v.Name)
	m.Region = types.StringValue(v.Region)
	if v.SizeGB > 0 {
		m.SizeGB = types.Int64Value(int64(v.SizeGB))
	} else {
		m.SizeGB = types.Int64Null()
	}
	m.Type = stringOrNull(v.Type)
	m.InUse = types.BoolValue(v.InUse)
	m.MountPoint = stringOrNull(v.MountPoint)
	if v.CreatedAt.IsZero() {
		m.CreatedAt = types.StringNull()
	} else {
		m.CreatedAt = types.StringValue(v.CreatedAt.UTC().Format(time.RFC3339))
	}
}
