package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

var (
	_ resource.ResourceWithConfigure        = (*registryCredentialResource)(nil)
	_ resource.ResourceWithImportState      = (*registryCredentialResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*registryCredentialResource)(nil)
	_ resource.ResourceWithConfigValidators = (*registryCredentialResource)(nil)
)

// NewContainerRegistryCredentialResource is neocloud_container_registry_credential.
func NewContainerRegistryCredentialResource() resource.Resource {
	return &registryCredentialResource{}
}

type registryCredentialResource struct {
	baseResource
}

// registryCredentials is how the shared Read and Delete see a credential.
var registryCredentials = accountObject[registryCredentialModel, clients.RegistryCredentialCloud, *clients.RegistryCredential]{
	kind: clients.KindRegistryCredential, what: "container registry credential",
	ref: func(m *registryCredentialModel) (types.String, types.String) { return m.Cloud, m.ID },
	get: func(ctx context.Context, api clients.RegistryCredentialCloud, id string) (*clients.RegistryCredential, error) {
		return api.GetRegistryCredential(ctx, id)
	},
	refresh: func(c *clients.RegistryCredential, m *registryCredentialModel) { m.Name = types.StringValue(c.Name) },
	del: func(ctx context.Context, _ clients.Pacing, api clients.RegistryCredentialCloud, id string) error {
		err := api.DeleteRegistryCredential(ctx, id)
		if errors.Is(err, clients.ErrConflict) {
			err = fmt.Errorf("%w\n\nA machine still pulls its image with this credential. Remove the credential from the machines that use it "+
				"(registry_credential_id), or delete them, then apply again", err)
		}
		return err
	},
}

type registryCredentialModel struct {
	ID                types.String `tfsdk:"id"`
	Cloud             types.String `tfsdk:"cloud"`
	Name              types.String `tfsdk:"name"`
	Username          types.String `tfsdk:"username"`
	Password          types.String `tfsdk:"password"`
	PasswordWO        types.String `tfsdk:"password_wo"`
	PasswordWOVersion types.Int64  `tfsdk:"password_wo_version"`
}

func (r *registryCredentialResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_container_registry_credential"
}

func (r *registryCredentialResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := stringplanmodifier.RequiresReplace()
	resp.Schema = schema.Schema{
		MarkdownDescription: "A credential for a private container registry (Docker Hub, GHCR, ECR, ...), kept in a cloud account so that machines can run private images: " +
			"give its `id` to `neocloud_gpu_instance`'s `runpod.registry_credential_id`. Only RunPod keeps such credentials today. " +
			"The cloud never returns the username or password, so they are not refreshed; a change to either replaces the credential. " +
			"RunPod refuses to delete a credential while a pod pulls with it: Terraform deletes the pods that refer to this resource first on destroy, and to replace a credential " +
			"that pods use, give it `lifecycle { create_before_destroy = true }` so that the new one exists and the pods move to it (in place) before the old one goes.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The cloud's id of the credential.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"cloud": schema.StringAttribute{
				Required: true, MarkdownDescription: "Cloud account to keep the credential in: `runpod`. Changing it replaces the credential.",
				Validators:    []validator.String{cloudHolds{clients.KindRegistryCredential}},
				PlanModifiers: []planmodifier.String{replace},
			},
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "Name of the credential in the cloud account. Changing it replaces the credential (RunPod cannot rename one).",
				Validators:    []validator.String{stringvalidator.LengthAtLeast(1)},
				PlanModifiers: []planmodifier.String{replace},
			},
			"username": schema.StringAttribute{
				Required: true, MarkdownDescription: "Registry user name. Write-only at the cloud, so not refreshed. Changing it replaces the credential (recorded in place after an import).",
				Validators:    []validator.String{stringvalidator.LengthAtLeast(1)},
				PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()},
			},
			"password": schema.StringAttribute{
				Optional: true, Sensitive: true,
				MarkdownDescription: "Registry password or access token. Sensitive: hidden in plans and logs, but kept in the state file; with Terraform 1.11 or later " +
					"prefer `password_wo`, which never reaches state. Exactly one of `password` and `password_wo`. " +
					"Changing it replaces the credential (recorded in place after an import).",
				Validators:    []validator.String{stringvalidator.LengthAtLeast(1)},
				PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()},
			},
			"password_wo": schema.StringAttribute{
				Optional: true, Sensitive: true, WriteOnly: true,
				MarkdownDescription: "Registry password or access token, write-only: sent to the cloud at create and never stored in plan or state " +
					"(Terraform 1.11 or later). Terraform cannot see a change to it: raise `password_wo_version` to send a new one, which replaces the credential. " +
					"Exactly one of `password` and `password_wo`.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"password_wo_version": schema.Int64Attribute{
				Optional: true,
				MarkdownDescription: "Version of `password_wo`, required with it: change it whenever `password_wo` changes, and the credential is replaced with one holding the new password " +
					"(recorded in place after an import).",
				PlanModifiers: []planmodifier.Int64{requiresReplaceIfPriorSetInt64()},
			},
		},
	}
}

func (r *registryCredentialResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("password"), path.MatchRoot("password_wo")),
		resourcevalidator.RequiredTogether(path.MatchRoot("password_wo"), path.MatchRoot("password_wo_version")),
	}
}

// ModifyPlan checks at plan time that the cloud is configured and keeps registry credentials.
func (r *registryCredentialResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var cloud types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("cloud"), &cloud)...)
	if resp.Diagnostics.HasError() || cloud.IsUnknown() {
		return
	}
	cloudFor[clients.RegistryCredentialCloud](r.data, cloud.ValueString(), clients.KindRegistryCredential, path.Root("cloud"), &resp.Diagnostics)
}

func (r *registryCredentialResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan registryCredentialModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	// A write-only value is only in the configuration, never in the plan.
	var passwordWO types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("password_wo"), &passwordWO)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cloud, rc, ok := cloudFor[clients.RegistryCredentialCloud](r.data, plan.Cloud.ValueString(), clients.KindRegistryCredential, path.Root("cloud"), &resp.Diagnostics)
	if !ok {
		return
	}
	password := plan.Password.ValueString()
	if !passwordWO.IsNull() {
		password = passwordWO.ValueString()
	}
	cred, err := rc.CreateRegistryCredential(ctx, clients.RegistryCredentialSpec{
		Name: plan.Name.ValueString(), Username: plan.Username.ValueString(), Password: password,
	})
	if err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to store container registry credential in "+displayName(cloud.Name()), err)
		return
	}
	plan.ID = types.StringValue(cred.ID)
	plan.Name = types.StringValue(cred.Name)
	plan.PasswordWO = types.StringNull()
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *registryCredentialResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	registryCredentials.read(ctx, r.data, req, resp)
}

// Update only records values the cloud never returns (username, password and its version after
// an import): every other change replaces the credential, and nothing is sent.
func (r *registryCredentialResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan registryCredentialModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	plan.PasswordWO = types.StringNull()
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *registryCredentialResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	registryCredentials.delete(ctx, r.data, req, resp)
}

// ImportState takes "<cloud>/<id>", such as runpod/reg_abc. The username and password are not
// read back: write them in the configuration, and the next apply records them in place.
func (r *registryCredentialResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importCloudAndID(ctx, req, resp)
}
