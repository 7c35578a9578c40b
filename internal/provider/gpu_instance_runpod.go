package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/runpod"
)

// runpodInstanceBlock is the `runpod` block of neocloud_gpu_instance. RunPod's API changes a
// pod's name, image, environment, registry credential and volume mount path in place; everything
// else about a pod is fixed at create.
func runpodInstanceBlock() schema.Block {
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
