package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// gpuInstanceModel is neocloud_gpu_instance's state and plan.
type gpuInstanceModel struct {
	gpuModel // what both GPU resources hold alike

	GPUCount     types.Int64  `tfsdk:"gpu_count"`
	Image        types.String `tfsdk:"image"`
	UserData     types.String `tfsdk:"user_data"`
	Tags         types.Map    `tfsdk:"tags"`
	DesiredState types.String `tfsdk:"desired_state"`
	// Each cloud's settings block (cloud_<name>.go; one line per cloud).
	lambdaInstanceField
	runpodInstanceField
	coreweaveInstanceField

	machineReach
}

// machineReach is how to reach a machine: what neocloud_gpu_instance, the resource and the data
// source, report alike.
type machineReach struct {
	PublicIP  types.String `tfsdk:"public_ip"`
	PrivateIP types.String `tfsdk:"private_ip"`
	SSHHost   types.String `tfsdk:"ssh_host"`
	SSHPort   types.Int64  `tfsdk:"ssh_port"`
	SSHUser   types.String `tfsdk:"ssh_user"`
}

func flattenReach(inst *clients.Instance) machineReach {
	r := machineReach{PublicIP: stringOrNull(inst.PublicIP), PrivateIP: stringOrNull(inst.PrivateIP), SSHHost: stringOrNull(inst.SSHHost),
		SSHPort: types.Int64Null(), SSHUser: stringOrNull(inst.SSHUser)}
	if inst.SSHPort > 0 {
		r.SSHPort = types.Int64Value(int64(inst.SSHPort))
	}
	return r
}

// unknownAttributes names the configurable top-level attributes whose planned value is not
// known yet, so that plan-time checks of the cloud skip them.
func (m gpuInstanceModel) unknownAttributes() map[string]bool {
	values := map[string]attr.Value{
		"name": m.Name, "region": m.Region, "gpu_type": m.GPUType, "gpu_count": m.GPUCount,
		"image": m.Image, "ssh_key_ids": m.SSHKeyIDs, "user_data": m.UserData, "tags": m.Tags,
		"max_price_per_hour": m.MaxPricePerHour, "desired_state": m.DesiredState,
	}
	for _, v := range vendorBlocks {
		v.instanceUnknowns(m, values)
	}
	return unknownNames(values)
}

// expandInstanceSpec turns a plan into the neutral launch request for the plan's cloud.
func expandInstanceSpec(ctx context.Context, m gpuInstanceModel, diags *diag.Diagnostics) clients.InstanceSpec {
	return expandInstanceSpecOn(ctx, m, m.Cloud.ValueString(), diags)
}

// expandInstanceSpecOn turns a plan into the neutral launch request for one cloud: that cloud's
// settings block becomes the spec's Options (a placement candidate sees only its own).
func expandInstanceSpecOn(ctx context.Context, m gpuInstanceModel, cloud string, diags *diag.Diagnostics) clients.InstanceSpec {
	spec := clients.InstanceSpec{
		Name:            m.Name.ValueString(),
		GPUType:         m.GPUType.ValueString(),
		GPUCount:        int(m.GPUCount.ValueInt64()),
		Region:          m.Region.ValueString(),
		Image:           m.Image.ValueString(),
		UserData:        m.UserData.ValueString(),
		MaxPricePerHour: m.MaxPricePerHour.ValueFloat64(),
	}
	spec.SSHKeyIDs = stringsFromSet(ctx, m.SSHKeyIDs, diags)
	spec.DesiredState = m.DesiredState.ValueString()
	spec.Tags = stringMap(ctx, m.Tags, diags)
	spec.Options = instanceOptions(ctx, m, cloud, diags)
	return spec
}

// flattenInstance writes what the cloud reports into the model. Attributes the cloud does not
// report back (image, user_data, max_price_per_hour) keep their planned or prior value. The
// user's spelling of gpu_type is kept when it still means the same machine; an import fills it
// from the catalog.
func flattenInstance(ctx context.Context, inst *clients.Instance, m *gpuInstanceModel, diags *diag.Diagnostics) {
	// An import knows only the id: every vendor block is filled from the cloud. Otherwise a
	// block the configuration leaves out stays out, or the apply would be inconsistent.
	importing := m.GPUType.IsNull()
	m.ID = types.StringValue(inst.ID)
	m.Cloud = types.StringValue(inst.Cloud)
	m.Name = types.StringValue(inst.Name)
	m.Region = types.StringValue(inst.Region)
	if m.GPUType.IsNull() || m.GPUType.IsUnknown() || (!m.InstanceType.IsNull() && !m.InstanceType.IsUnknown() && m.InstanceType.ValueString() != inst.InstanceType) {
		m.GPUType = types.StringValue(neutralOr(inst.GPUType, inst.InstanceType))
	}
	m.GPUCount = types.Int64Value(int64(inst.GPUCount))
	m.InstanceType = types.StringValue(inst.InstanceType)
	m.Status = types.StringValue(inst.Status)
	m.machineReach = flattenReach(inst)
	readCapacityType(&m.CapacityType, func(c capacityBlock) bool { return c.instanceSpot(inst) })
	m.flattenPrice(inst.PricePerHour)
	m.flattenCreatedAt(inst.CreatedAt)
	// A RunPod pod's image is its container image, held in the runpod block.
	if inst.Image != "" && !imageInBlock(inst) && (m.Image.IsNull() || m.Image.IsUnknown()) {
		m.Image = types.StringValue(inst.Image)
	}
	if m.Image.IsUnknown() {
		m.Image = types.StringNull()
	}
	if m.UserData.IsUnknown() {
		m.UserData = types.StringNull()
	}
	// A placed machine keeps the configured keys (of several clouds); its cloud reports only
	// its own.
	if m.Placement == nil || m.SSHKeyIDs.IsNull() || m.SSHKeyIDs.IsUnknown() {
		m.SSHKeyIDs = setOrNull(ctx, inst.SSHKeyIDs, diags)
	}
	m.Tags = mapOrNull(ctx, inst.Tags, diags)

	switch inst.Status {
	case clients.StatusStopped:
		m.DesiredState = types.StringValue(clients.DesiredStopped)
	case clients.StatusRunning, clients.StatusPending:
		m.DesiredState = types.StringValue(clients.DesiredRunning)
	}
	if m.DesiredState.IsNull() || m.DesiredState.IsUnknown() {
		m.DesiredState = types.StringValue(clients.DesiredRunning)
	}
	for _, v := range vendorBlocks {
		v.flattenInstance(ctx, inst, m, importing, diags)
	}
}
