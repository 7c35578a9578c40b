package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/runpod"
)

// RunPod's room on the provider side: the `runpod {}` blocks of neocloud_gpu_instance (a pod:
// its container, template and registry credential, some of them changed in place) and
// neocloud_gpu_cluster (an Instant Cluster).

// runpodInstanceField is the `runpod` block of gpuInstanceModel.
type runpodInstanceField struct {
	RunPod *runpodInstanceModel `tfsdk:"runpod"`
}

// runpodClusterField is the `runpod` block of gpuClusterModel.
type runpodClusterField struct {
	RunPod *runpodClusterModel `tfsdk:"runpod"`
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

type runpodClusterModel struct {
	ClusterType     types.String `tfsdk:"cluster_type"`
	Image           types.String `tfsdk:"image"`
	Ports           types.List   `tfsdk:"ports"`
	Env             types.Map    `tfsdk:"env"`
	NetworkVolumeID types.String `tfsdk:"network_volume_id"`
	ContainerDiskGB types.Int64  `tfsdk:"container_disk_gb"`
}

type runpodBlocks struct{}

func (runpodBlocks) name() string { return "runpod" }

// instanceBlock is the `runpod` block of neocloud_gpu_instance. RunPod's API changes a pod's
// name, image, environment, registry credential and volume mount path in place; everything else
// about a pod is fixed at create.
func (runpodBlocks) instanceBlock() schema.Block {
	replaceStr := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	replaceInt := []planmodifier.Int64{int64planmodifier.RequiresReplace()}
	// Settings RunPod defaults when left out: computed, so the default is recorded instead of
	// showing as drift, and only a configured change replaces the pod.
	defaultedStr := []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplaceIfConfigured()}
	defaultedInt := []planmodifier.Int64{int64planmodifier.UseStateForUnknown(), int64planmodifier.RequiresReplaceIfConfigured()}
	return schema.SingleNestedBlock{
		MarkdownDescription: "RunPod settings. Only valid with `cloud = \"runpod\"`, and needed there: a pod runs a container image.",
		Attributes: map[string]schema.Attribute{
			"image": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Container image, such as `runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04`, or a private one such as `ghcr.io/acme/trainer:1` " +
					"with `registry_credential_id`. Changed in place (the container restarts). May be left out with `template_id`: the template's image is used.",
			},
			"registry_credential_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Id of the `neocloud_container_registry_credential` (cloud `runpod`) that RunPod pulls a private `image` with. " +
					"Checked at plan time when known. Changed in place (the container restarts); removing it makes RunPod pull without credentials.",
			},
			"cloud_type": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				MarkdownDescription: "`SECURE` (RunPod's data centers, the default) or `COMMUNITY` (cheaper, community-hosted). A change replaces the pod.",
				Validators:          []validator.String{stringvalidator.OneOf(runpod.CloudSecure, runpod.CloudCommunity)},
				PlanModifiers:       defaultedStr,
			},
			"ports": schema.ListAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Exposed ports as `port/protocol`, such as `22/tcp` or `8888/http`. With `22/tcp` the pod's `ssh_host`/`ssh_port` are a direct TCP mapping; without it, RunPod's SSH proxy. A change replaces the pod.",
				PlanModifiers:       []planmodifier.List{listplanmodifier.RequiresReplace()},
			},
			"env": schema.MapAttribute{
				Optional: true, ElementType: types.StringType, Sensitive: true,
				MarkdownDescription: "Container environment. Changed in place (the container restarts). `PUBLIC_KEY` and `NEOCLOUD_*` are reserved. " +
					"Sensitive, since it often carries tokens such as `HF_TOKEN`: hidden in plan output and masked in the provider's logs (the state file still holds it).",
			},
			"container_disk_gb": schema.Int64Attribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Container (ephemeral) disk in GB; RunPod's default when left out. A change replaces the pod.",
				PlanModifiers:       defaultedInt,
			},
			"volume_gb": schema.Int64Attribute{
				Optional: true, MarkdownDescription: "Persistent pod volume in GB (at least 10), kept while the pod is stopped. A change replaces the pod.",
				PlanModifiers: replaceInt,
			},
			"volume_mount_path": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Where the pod or network volume (`volume_gb`, `network_volume_id`, or the template's volume) is mounted; `/workspace` when left out. " +
					"Changed in place: the volume and its data stay, the container restarts.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"network_volume_id": schema.StringAttribute{
				Optional: true, MarkdownDescription: "Id of a `neocloud_volume` on RunPod to mount; the pod is placed in the volume's data center. A change replaces the pod.",
				PlanModifiers: replaceStr,
			},
			"template_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "RunPod template to start from: one of the account's templates or a public one (`runpod-torch-v240`); settings given here override the template's, " +
					"and `env` adds to the template's variables. Checked at plan time: a template the account cannot use, or a serverless one, is an error on this attribute. " +
					"Settings left out that the template supplies (image, ports, volume, registry credential) are not drift. " +
					"Not reported back by RunPod (recorded in place after an import). A change replaces the pod.",
				PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()},
			},
			"start_ssh": schema.BoolAttribute{
				Optional: true, MarkdownDescription: "Let RunPod set up sshd with `ssh_key_ids` (default true). Not reported back by RunPod (recorded in place after an import). A change replaces the pod.",
				PlanModifiers: []planmodifier.Bool{requiresReplaceIfPriorSetBool()},
			},
		},
	}
}

func (runpodBlocks) clusterBlock() schema.Block {
	return schema.SingleNestedBlock{
		MarkdownDescription: "RunPod Instant Cluster settings. Only valid with `cloud = \"runpod\"`. Every setting replaces the cluster when changed (set after an import, it is recorded in place: the cloud does not report it back).",
		Attributes: map[string]schema.Attribute{
			"cluster_type": schema.StringAttribute{
				Optional: true, MarkdownDescription: "`TRAINING` (default), `SLURM`, `RAY` or `APPLICATION`.",
				Validators: []validator.String{stringvalidator.OneOf("TRAINING", "SLURM", "RAY", "APPLICATION")}, PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()},
			},
			"image": schema.StringAttribute{Optional: true, MarkdownDescription: "Container image of every node.", PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()}},
			"ports": schema.ListAttribute{
				Optional: true, ElementType: types.StringType, MarkdownDescription: "Exposed ports, `port/protocol`.",
				PlanModifiers: []planmodifier.List{requiresReplaceIfPriorSetList()},
			},
			"env": schema.MapAttribute{
				Optional: true, ElementType: types.StringType, Sensitive: true,
				MarkdownDescription: "Container environment of every node. Sensitive, since it often carries tokens such as `HF_TOKEN`: " +
					"hidden in plan output and masked in the provider's logs (the state file still holds it).",
				PlanModifiers: []planmodifier.Map{requiresReplaceIfPriorSetMap()},
			},
			"network_volume_id": schema.StringAttribute{Optional: true, MarkdownDescription: "RunPod network volume mounted on every node.", PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()}},
			"container_disk_gb": schema.Int64Attribute{
				Optional: true, MarkdownDescription: "Container disk per node, GB.",
				PlanModifiers: []planmodifier.Int64{requiresReplaceIfPriorSetInt64()},
			},
		},
	}
}

func (runpodBlocks) inInstance(m *gpuInstanceModel) bool { return m.RunPod != nil }
func (runpodBlocks) inCluster(m *gpuClusterModel) bool   { return m.RunPod != nil }
func (runpodBlocks) dropFromCluster(m *gpuClusterModel)  { m.RunPod = nil }
func (runpodBlocks) settleCluster(*gpuClusterModel)      {}

func (runpodBlocks) expandInstance(ctx context.Context, m gpuInstanceModel, diags *diag.Diagnostics) any {
	if o := expandRunPodOptions(ctx, m.RunPod, diags); o != nil {
		return o
	}
	return nil
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

func (runpodBlocks) expandCluster(ctx context.Context, m gpuClusterModel, diags *diag.Diagnostics) any {
	r := m.RunPod
	if r == nil {
		return nil
	}
	return &runpod.ClusterOptions{
		ClusterType:     r.ClusterType.ValueString(),
		Image:           r.Image.ValueString(),
		Ports:           stringsFromList(ctx, r.Ports, diags),
		Env:             stringMap(ctx, r.Env, diags),
		NetworkVolumeID: r.NetworkVolumeID.ValueString(),
		ContainerDiskGB: int(r.ContainerDiskGB.ValueInt64()),
	}
}

func (runpodBlocks) flattenInstance(ctx context.Context, inst *clients.Instance, m *gpuInstanceModel, importing bool, diags *diag.Diagnostics) {
	if o, _ := inst.Options.(*runpod.InstanceOptions); o != nil && (m.RunPod != nil || importing) {
		m.RunPod = flattenRunPodOptions(ctx, o, m.RunPod, diags)
	} else if r := m.RunPod; r != nil {
		// Placed on another cloud: the block's RunPod defaults never came to be.
		r.CloudType, r.VolumeMountPath = nullIfUnknown(r.CloudType), nullIfUnknown(r.VolumeMountPath)
		r.RegistryCredentialID = nullIfUnknown(r.RegistryCredentialID)
		if r.ContainerDiskGB.IsUnknown() {
			r.ContainerDiskGB = types.Int64Null()
		}
	}
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

// flattenCluster keeps the block as configured: RunPod does not report its settings back.
func (runpodBlocks) flattenCluster(context.Context, *clients.Cluster, *gpuClusterModel, bool, *diag.Diagnostics) {
}

func (runpodBlocks) instanceUnknowns(m gpuInstanceModel, values map[string]attr.Value) {
	r := m.RunPod
	if r == nil {
		return
	}
	for name, v := range map[string]attr.Value{
		"image": r.Image, "cloud_type": r.CloudType, "ports": r.Ports, "env": r.Env,
		"container_disk_gb": r.ContainerDiskGB, "volume_gb": r.VolumeGB,
		"volume_mount_path": r.VolumeMountPath, "network_volume_id": r.NetworkVolumeID,
		"template_id": r.TemplateID, "start_ssh": r.StartSSH,
		"registry_credential_id": r.RegistryCredentialID,
	} {
		values["runpod."+name] = v
	}
}

func (runpodBlocks) clusterUnknowns(m gpuClusterModel, values map[string]attr.Value) {
	if r := m.RunPod; r != nil {
		values["runpod"] = anyUnknown(r.ClusterType, r.Image, r.Ports, r.Env, r.NetworkVolumeID, r.ContainerDiskGB)
	}
}

// instanceUpdate lists the pod's settings RunPod changes in place: its image and environment
// (neutral fields of the update), its mount path and registry credential.
func (runpodBlocks) instanceUpdate(ctx context.Context, plan, state gpuInstanceModel, u *clients.InstanceUpdate, diags *diag.Diagnostics) {
	if plan.RunPod == nil || state.RunPod == nil {
		return
	}
	p, s := plan.RunPod, state.RunPod
	if !p.Image.Equal(s.Image) && !p.Image.IsNull() {
		u.Image = p.Image.ValueStringPointer()
	}
	if !p.Env.Equal(s.Env) {
		u.Env = stringMap(ctx, p.Env, diags)
		if u.Env == nil {
			u.Env = map[string]string{} // removing every variable
		}
	}
	var ru runpod.InstanceUpdate
	if m := p.VolumeMountPath; !m.IsNull() && !m.IsUnknown() && !m.Equal(s.VolumeMountPath) {
		ru.VolumeMountPath = m.ValueStringPointer()
	}
	// Left out on a pod from a template, the credential is the template's: not removed.
	if r := p.RegistryCredentialID; !r.IsUnknown() && !r.Equal(s.RegistryCredentialID) && (!r.IsNull() || p.TemplateID.IsNull()) {
		id := r.ValueString() // "" removes it
		ru.RegistryCredentialID = &id
	}
	if !ru.IsZero() {
		u.Options = &ru
	}
}

// restarts: a new registry credential or mount path restarts the container.
func (runpodBlocks) restarts(u clients.InstanceUpdate) bool {
	_, ok := u.Options.(*runpod.InstanceUpdate)
	return ok
}

// settingUnknown reports a RunPod setting changed in place whose new value is known only at
// apply (a registry credential created in the same run): the container may restart.
func (runpodBlocks) settingUnknown(plan gpuInstanceModel) bool {
	return plan.RunPod != nil && (plan.RunPod.RegistryCredentialID.IsUnknown() || plan.RunPod.VolumeMountPath.IsUnknown())
}

// imageInBlock: a pod's image is its container image, held in the runpod block.
func (runpodBlocks) imageInBlock(inst *clients.Instance) bool {
	o, _ := inst.Options.(*runpod.InstanceOptions)
	return o != nil
}

// echo: the RunPod settings asked for, as the pod would report them.
func (runpodBlocks) echo(ctx context.Context, plan gpuInstanceModel, inst *clients.Instance, diags *diag.Diagnostics) {
	if o := expandRunPodOptions(ctx, plan.RunPod, diags); o != nil {
		inst.Options = o
	}
}

// references keeps in spec the template and registry credential that RunPod should check at
// plan time: on an existing pod only those that change (a template deleted after the pod was
// made from it must not block every later plan), and none known only at apply.
func (runpodBlocks) references(plan gpuInstanceModel, state *gpuInstanceModel, unknown map[string]bool, spec *clients.InstanceSpec) bool {
	o, _ := spec.Options.(*runpod.InstanceOptions)
	if o == nil {
		return false
	}
	if unknown["runpod.template_id"] || (state != nil && state.RunPod != nil && plan.RunPod.TemplateID.Equal(state.RunPod.TemplateID)) {
		o.TemplateID = ""
	}
	if unknown["runpod.registry_credential_id"] || (state != nil && state.RunPod != nil && plan.RunPod.RegistryCredentialID.Equal(state.RunPod.RegistryCredentialID)) {
		o.RegistryCredentialID = ""
	}
	return o.TemplateID != "" || o.RegistryCredentialID != ""
}
