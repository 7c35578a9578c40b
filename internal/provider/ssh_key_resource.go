package provider

import (
	"context"
	"strings"

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
	_ resource.ResourceWithConfigure   = (*sshKeyResource)(nil)
	_ resource.ResourceWithImportState = (*sshKeyResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*sshKeyResource)(nil)
)

// NewSSHKeyResource is neocloud_ssh_key.
func NewSSHKeyResource() resource.Resource { return &sshKeyResource{} }

type sshKeyResource struct {
	baseResource
}

// sshKeys is how the shared Read and Delete see an SSH key.
var sshKeys = accountObject[sshKeyModel, clients.SSHKeyCloud, *clients.SSHKey]{
	kind: clients.KindSSHKey, what: "SSH key",
	ref: func(m *sshKeyModel) (types.String, types.String) { return m.Cloud, m.ID },
	get: func(ctx context.Context, api clients.SSHKeyCloud, id string) (*clients.SSHKey, error) {
		return api.GetSSHKey(ctx, id)
	},
	refresh: func(key *clients.SSHKey, m *sshKeyModel) {
		m.Name = types.StringValue(key.Name)
		// file() keeps the trailing newline that the cloud strips: only a real change is drift.
		if strings.TrimSpace(m.PublicKey.ValueString()) != strings.TrimSpace(key.PublicKey) {
			m.PublicKey = types.StringValue(key.PublicKey)
		}
		if m.PrivateKey.IsUnknown() {
			m.PrivateKey = types.StringNull()
		}
	},
	del: func(ctx context.Context, _ clients.Pacing, api clients.SSHKeyCloud, id string) error {
		return api.DeleteSSHKey(ctx, id)
	},
}

type sshKeyModel struct {
	ID         types.String `tfsdk:"id"`
	Cloud      types.String `tfsdk:"cloud"`
	Name       types.String `tfsdk:"name"`
	PublicKey  types.String `tfsdk:"public_key"`
	PrivateKey types.String `tfsdk:"private_key"`
}

func (r *sshKeyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_ssh_key"
}

func (r *sshKeyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := stringplanmodifier.RequiresReplace()
	keep := stringplanmodifier.UseStateForUnknown()
	resp.Schema = schema.Schema{
		MarkdownDescription: "An SSH key registered with a cloud account, for `neocloud_gpu_instance.ssh_key_ids`. " +
			"Give `public_key` to register your own key; leave it out and the cloud generates a key pair whose private key is returned once in `private_key` (Lambda).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The cloud's id of the key.",
				PlanModifiers: []planmodifier.String{keep},
			},
			"cloud": schema.StringAttribute{
				Required: true, MarkdownDescription: "Cloud account to register the key with: " + quotedList(clients.NamesWith(clients.KindSSHKey)) + ".",
				Validators:    []validator.String{cloudHolds{clients.KindSSHKey}},
				PlanModifiers: []planmodifier.String{replace},
			},
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "Name of the key in the cloud account. Changing it replaces the key.",
				Validators:    []validator.String{stringvalidator.LengthBetween(1, 64)},
				PlanModifiers: []planmodifier.String{replace},
			},
			"public_key": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "OpenSSH public key (`ssh-ed25519 AAAA...`), such as `file(\"~/.ssh/id_ed25519.pub\")`. Leave it out to have the cloud generate a key pair. Changing it replaces the key. " +
					"A private key given here is refused at plan time, without being repeated in the error.",
				PlanModifiers: []planmodifier.String{keep, stringplanmodifier.RequiresReplaceIfConfigured()},
				Validators:    []validator.String{sshPublicKeyValidator{}},
			},
			"private_key": schema.StringAttribute{
				Computed: true, Sensitive: true,
				MarkdownDescription: "The generated private key, when the cloud generated the pair. Clouds return it only once: it is kept in state and never refreshed.",
				PlanModifiers:       []planmodifier.String{keep},
			},
		},
	}
}

// ModifyPlan checks at plan time that the cloud is configured and can take the key as given.
func (r *sshKeyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan sshKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// A value known only now (from another resource) skipped the validator: check it before
	// it can reach a cloud or the state.
	if !plan.PublicKey.IsUnknown() && looksLikePrivateKey(plan.PublicKey.ValueString()) {
		addPrivateKeyError(&resp.Diagnostics, path.Root("public_key"))
		return
	}
	if plan.Cloud.IsUnknown() {
		return
	}
	cloud, _, ok := cloudFor[clients.SSHKeyCloud](r.data, plan.Cloud.ValueString(), clients.KindSSHKey, path.Root("cloud"), &resp.Diagnostics)
	if !ok {
		return
	}
	v, ok := cloud.(clients.SSHKeyValidator)
	if !ok {
		return
	}
	var configured types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("public_key"), &configured)...)
	if configured.IsUnknown() {
		return // known at apply
	}
	for _, fe := range v.ValidateSSHKeySpec(clients.SSHKeySpec{Name: plan.Name.ValueString(), PublicKey: configured.ValueString()}) {
		resp.Diagnostics.AddAttributeError(attrPath(fe.Field), fe.Summary, fe.Detail)
	}
}

func (r *sshKeyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan sshKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cloud, keys, ok := cloudFor[clients.SSHKeyCloud](r.data, plan.Cloud.ValueString(), clients.KindSSHKey, path.Root("cloud"), &resp.Diagnostics)
	if !ok {
		return
	}
	key, err := keys.CreateSSHKey(ctx, clients.SSHKeySpec{Name: plan.Name.ValueString(), PublicKey: plan.PublicKey.ValueString()})
	if err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to add SSH key to "+displayName(cloud.Name()), err)
		return
	}
	plan.ID = types.StringValue(key.ID)
	plan.Name = types.StringValue(key.Name)
	if plan.PublicKey.IsUnknown() || plan.PublicKey.IsNull() {
		plan.PublicKey = types.StringValue(key.PublicKey)
	}
	plan.PrivateKey = stringOrNull(key.PrivateKey)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *sshKeyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	sshKeys.read(ctx, r.data, req, resp)
}

// Update is never called with a change: every configurable attribute replaces the key.
func (r *sshKeyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan sshKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *sshKeyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	sshKeys.delete(ctx, r.data, req, resp)
}
