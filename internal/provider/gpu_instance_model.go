package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/coreweave"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/lambda"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/runpod"
)

// gpuInstanceModel is neocloud_gpu_instance's state and plan.
type gpuInstanceModel struct {
	ID              types.String            `tfsdk:"id"`
	Name            types.String            `tfsdk:"name"`
	Cloud           types.String            `tfsdk:"cloud"`
	Region          types.String            `tfsdk:"region"`
	GPUType         types.String            `tfsdk:"gpu_type"`
	GPUCount        types.Int64             `tfsdk:"gpu_count"`
	Image           types.String            `tfsdk:"image"`
	SSHKeyIDs       types.Set               `tfsdk:"ssh_key_ids"`
	UserData        types.String            `tfsdk:"user_data"`
	Tags            types.Map               `tfsdk:"tags"`
	MaxPricePerHour types.Float64           `tfsdk:"max_price_per_hour"`
	DesiredState    types.String            `tfsdk:"desired_state"`
	CapacityType    types.String            `tfsdk:"capacity_type"`
	Placement       *placementModel         `tfsdk:"placement"`
	Lambda          *lambdaInstanceModel    `tfsdk:"lambda"`
	RunPod          *runpodInstanceModel    `tfsdk:"runpod"`
	CoreWeave       *coreweaveInstanceModel `tfsdk:"coreweave"`
	Timeouts        timeouts.Value          `tfsdk:"timeouts"`

	Status       types.String  `tfsdk:"status"`
	InstanceType types.String  `tfsdk:"instance_type"`
	PublicIP     types.String  `tfsdk:"public_ip"`
	PrivateIP    types.String  `tfsdk:"private_ip"`
	SSHHost      types.String  `tfsdk:"ssh_host"`
	SSHPort      types.Int64   `tfsdk:"ssh_port"`
	SSHUser      types.String  `tfsdk:"ssh_user"`
	PricePerHour types.Float64 `tfsdk:"price_per_hour"`
	MaxPossible  types.Float64 `tfsdk:"max_possible_price_per_hour"`
	CreatedAt    types.String  `tfsdk:"created_at"`
}

type lambdaInstanceModel struct {
	FileSystemNames    types.List `tfsdk:"file_system_names"`
	FirewallRulesetIDs types.List `tfsdk:"firewall_ruleset_ids"`
}

type coreweaveInstanceModel struct {
	ClusterID    types.String `tfsdk:"cluster_id"`
	ComputeClass types.String `tfsdk:"compute_class"`
}

type runpodInstanceModel struct {
	Image           types.String `tfsdk:"image"`
	CloudType       types.String `tfsdk:"cloud_type"`
	Ports           types.List   `tfsdk:"ports"`
	Env             types.Map    `tfsdk:"env"`
	ContainerDiskGB types.Int64  `tfsdk:"container_disk_gb"`
	VolumeGB        types.Int64  `tfsdk:"volume_gb"`
	VolumeMountPath types.String `tfsdk:"volume_mount_path"`
	NetworkVolumeID types.String `tfsdk:"network_volume_id"`
	TemplateID      types.String `tfsdk:"template_id"`
	StartSSH        types.Bool   `tfsdk:"start_ssh"`
	// RegistryCredentialID is the container registry credential of a private image.
	RegistryCredentialID types.String `tfsdk:"registry_credential_id"`
}

// unknownAttributes names the configurable top-level attributes whose planned value is not
// known yet, so that plan-time checks of the cloud skip them.
func (m gpuInstanceModel) unknownAttributes() map[string]bool {
	values := map[string]attr.Value{
		"name": m.Name, "region": m.Region, "gpu_type": m.GPUType, "gpu_count": m.GPUCount,
		"image": m.Image, "ssh_key_ids": m.SSHKeyIDs, "user_data": m.UserData, "tags": m.Tags,
		"max_price_per_hour": m.MaxPricePerHour, "desired_state": m.DesiredState,
	}
	if c := m.CoreWeave; c != nil {
		values["coreweave.cluster_id"], values["coreweave.compute_class"] = c.ClusterID, c.ComputeClass
	}
	if m.RunPod != nil {
		for name, v := range map[string]attr.Value{
			"image": m.RunPod.Image, "cloud_type": m.RunPod.CloudType, "ports": m.RunPod.Ports, "env": m.RunPod.Env,
			"container_disk_gb": m.RunPod.ContainerDiskGB, "volume_gb": m.RunPod.VolumeGB,
			"volume_mount_path": m.RunPod.VolumeMountPath, "network_volume_id": m.RunPod.NetworkVolumeID,
			"template_id": m.RunPod.TemplateID, "start_ssh": m.RunPod.StartSSH,
			"registry_credential_id": m.RunPod.RegistryCredentialID,
		} {
			values["runpod."+name] = v
		}
	}
	out := map[string]bool{}
	for name, v := range values {
		if v.IsUnknown() {
			out[name] = true
		}
	}
	return out
}

// expandRunPodOptions turns the runpod block into the neutral options.
func expandRunPodOptions(ctx context.Context, r *runpodInstanceModel, diags *diag.Diagnostics) *runpod.InstanceOptions {
	if r == nil {
		return nil
	}
	o := &runpod.InstanceOptions{
		Image:           r.Image.ValueString(),
		CloudType:       r.CloudType.ValueString(),
		TemplateID:      r.TemplateID.ValueString(),
		NetworkVolumeID: r.NetworkVolumeID.ValueString(),
		VolumeMountPath: r.VolumeMountPath.ValueString(),
		Ports:           stringsFromList(ctx, r.Ports, diags),
		Env:             stringMap(ctx, r.Env, diags),
		ContainerDiskGB: int(r.ContainerDiskGB.ValueInt64()),
		VolumeGB:        int(r.VolumeGB.ValueInt64()),

		RegistryCredentialID: r.RegistryCredentialID.ValueString(),
	}
	if !r.StartSSH.IsNull() && !r.StartSSH.IsUnknown() {
		o.StartSSH = r.StartSSH.ValueBoolPointer()
	}
	return o
}

// flattenRunPodOptions writes what the pod reports into the runpod block; template_id and
// start_ssh are not reported back and keep their configured value. On a pod made from a
// template, a setting left out of the configuration that the template supplied (its image,
// ports, volume, registry credential) stays null: it is the template's, not drift.
func flattenRunPodOptions(ctx context.Context, o *runpod.InstanceOptions, prior *runpodInstanceModel, diags *diag.Diagnostics) *runpodInstanceModel {
	r := &runpodInstanceModel{TemplateID: types.StringNull(), StartSSH: types.BoolNull()}
	if prior != nil {
		r.TemplateID = nullIfUnknown(prior.TemplateID)
		r.StartSSH = prior.StartSSH
		if r.StartSSH.IsUnknown() {
			r.StartSSH = types.BoolNull()
		}
	}
	r.Image = stringOrNull(o.Image)
	r.CloudType = stringOrNull(o.CloudType)
	r.Ports = listOrNull(ctx, o.Ports, diags)
	r.Env = mapOrNull(ctx, o.Env, diags)
	r.ContainerDiskGB = int64OrNull(o.ContainerDiskGB)
	r.VolumeGB = int64OrNull(o.VolumeGB)
	r.VolumeMountPath = stringOrNull(o.VolumeMountPath)
	r.NetworkVolumeID = stringOrNull(o.NetworkVolumeID)
	r.RegistryCredentialID = stringOrNull(o.RegistryCredentialID)
	if prior != nil && !r.TemplateID.IsNull() {
		if prior.Image.IsNull() {
			r.Image = types.StringNull()
		}
		if prior.Ports.IsNull() {
			r.Ports = types.ListNull(types.StringType)
		}
		if prior.VolumeGB.IsNull() {
			r.VolumeGB = types.Int64Null()
		}
		if prior.RegistryCredentialID.IsNull() {
			r.RegistryCredentialID = types.StringNull()
		}
	}
	return r
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
	spec.Options = instanceOptions(ctx, m, cloud, diags)
	spec.Tags = stringMap(ctx, m.Tags, diags)
	return spec
}

// instanceOptions are one cloud's settings from its block of the plan (nil without one).
func instanceOptions(ctx context.Context, m gpuInstanceModel, cloud string, diags *diag.Diagnostics) any {
	switch cloud {
	case "runpod":
		if o := expandRunPodOptions(ctx, m.RunPod, diags); o != nil {
			return o
		}
	case "coreweave":
		if c := m.CoreWeave; c != nil {
			o := &coreweave.InstanceOptions{ClusterID: c.ClusterID.ValueString(), ComputeClass: c.ComputeClass.ValueString()}
			if m.CapacityType.ValueString() == capacitySpot {
				o.ComputeClass = "spot"
			}
			return o
		}
	case "lambda":
		if m.Lambda != nil {
			return &lambda.InstanceOptions{
				FileSystemNames:    stringsFromList(ctx, m.Lambda.FileSystemNames, diags),
				FirewallRulesetIDs: stringsFromList(ctx, m.Lambda.FirewallRulesetIDs, diags),
			}
		}
	}
	return nil
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
	m.PublicIP = stringOrNull(inst.PublicIP)
	m.PrivateIP = stringOrNull(inst.PrivateIP)
	m.SSHHost = stringOrNull(inst.SSHHost)
	if inst.SSHPort > 0 {
		m.SSHPort = types.Int64Value(int64(inst.SSHPort))
	} else {
		m.SSHPort = types.Int64Null()
	}
	m.SSHUser = stringOrNull(inst.SSHUser)
	if m.CapacityType.IsNull() || m.CapacityType.IsUnknown() {
		m.CapacityType = types.StringValue(capacityOnDemand) // what was asked is kept; an import reads it
		if o, ok := inst.Options.(*coreweave.InstanceOptions); ok && o.ComputeClass == "spot" {
			m.CapacityType = types.StringValue(capacitySpot)
		}
	}
	m.PricePerHour = types.Float64Value(roundPrice(inst.PricePerHour))
	if m.MaxPossible.IsNull() || m.MaxPossible.IsUnknown() {
		m.MaxPossible = m.PricePerHour // planned with placement, else the price itself
	}
	if inst.CreatedAt.IsZero() {
		if m.CreatedAt.IsUnknown() {
			m.CreatedAt = types.StringNull()
		}
	} else {
		m.CreatedAt = types.StringValue(inst.CreatedAt.UTC().Format(time.RFC3339))
	}
	// A RunPod pod's image is its container image, held in the runpod block.
	runpodOptions, _ := inst.Options.(*runpod.InstanceOptions)
	if inst.Image != "" && runpodOptions == nil && (m.Image.IsNull() || m.Image.IsUnknown()) {
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
	if runpodOptions != nil && (m.RunPod != nil || importing) {
		m.RunPod = flattenRunPodOptions(ctx, runpodOptions, m.RunPod, diags)
	} else if r := m.RunPod; r != nil {
		// Placed on another cloud: the block's RunPod defaults never came to be.
		r.CloudType, r.VolumeMountPath = nullIfUnknown(r.CloudType), nullIfUnknown(r.VolumeMountPath)
		r.RegistryCredentialID = nullIfUnknown(r.RegistryCredentialID)
		if r.ContainerDiskGB.IsUnknown() {
			r.ContainerDiskGB = types.Int64Null()
		}
	}
	if o, _ := inst.Options.(*coreweave.InstanceOptions); o != nil {
		cw := &coreweaveInstanceModel{ClusterID: types.StringValue(o.ClusterID), ComputeClass: types.StringNull()}
		if m.CoreWeave != nil && !m.CoreWeave.ComputeClass.IsUnknown() {
			cw.ComputeClass = m.CoreWeave.ComputeClass // "default" when left out: not drift
		}
		if o.ComputeClass != "" && !cw.ComputeClass.IsNull() {
			cw.ComputeClass = types.StringValue(o.ComputeClass)
		}
		m.CoreWeave = cw
	}
	if o, _ := inst.Options.(*lambda.InstanceOptions); o != nil && (m.Lambda != nil || len(o.FileSystemNames) > 0 || len(o.FirewallRulesetIDs) > 0) {
		m.Lambda = &lambdaInstanceModel{
			FileSystemNames:    listOrNull(ctx, o.FileSystemNames, diags),
			FirewallRulesetIDs: listOrNull(ctx, o.FirewallRulesetIDs, diags),
		}
	}
}

// neutralOr prefers the catalog's neutral GPU name and falls back to the native id.
func neutralOr(gpuType, native string) string {
	if _, ok := gpus.Lookup(gpuType); ok {
		return gpuType
	}
	return native
}
