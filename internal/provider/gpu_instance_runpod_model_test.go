package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/runpod"
)

// What a pod's template supplies (image, ports, volume, registry credential) is read back as
// null where the configuration leaves it out: the template's, not drift. Without a template,
// or when the configuration sets it, the pod's value is recorded.
func TestFlattenRunPodOptionsTemplateSettingsAreNotDrift(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	pod := &runpod.InstanceOptions{
		Image: "runpod/pytorch:2.4.0", Ports: []string{"22/tcp"}, VolumeGB: 20, VolumeMountPath: "/workspace",
		RegistryCredentialID: "reg1", CloudType: "SECURE", ContainerDiskGB: 50,
	}
	unset := func(template types.String) *runpodInstanceModel {
		return &runpodInstanceModel{
			TemplateID: template, Image: types.StringNull(), Ports: types.ListNull(types.StringType),
			VolumeGB: types.Int64Null(), RegistryCredentialID: types.StringNull(), StartSSH: types.BoolNull(),
		}
	}
	got := flattenRunPodOptions(ctx, pod, unset(types.StringValue("tpl")), &diags)
	if !got.Image.IsNull() || !got.Ports.IsNull() || !got.VolumeGB.IsNull() || !got.RegistryCredentialID.IsNull() {
		t.Errorf("template settings became drift: %+v", got)
	}
	if got.VolumeMountPath.ValueString() != "/workspace" || got.ContainerDiskGB.ValueInt64() != 50 || got.TemplateID.ValueString() != "tpl" {
		t.Errorf("computed settings not recorded: %+v", got)
	}
	got = flattenRunPodOptions(ctx, pod, unset(types.StringNull()), &diags)
	if got.Image.ValueString() != "runpod/pytorch:2.4.0" || got.RegistryCredentialID.ValueString() != "reg1" || got.VolumeGB.ValueInt64() != 20 {
		t.Errorf("without a template the pod's settings are the pod's: %+v", got)
	}
	imported := flattenRunPodOptions(ctx, pod, nil, &diags)
	if imported.Image.ValueString() != "runpod/pytorch:2.4.0" || imported.RegistryCredentialID.ValueString() != "reg1" {
		t.Errorf("an import records what the pod reports: %+v", imported)
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}

// The mount path and the registry credential are changed in place; removing the credential
// sends "", unless the pod's template supplies it.
func TestInstanceUpdateRunPodSettings(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	block := func(mount, registry, template types.String) *runpodInstanceModel {
		return &runpodInstanceModel{
			Image: types.StringValue("img"), Env: types.MapNull(types.StringType),
			VolumeMountPath: mount, RegistryCredentialID: registry, TemplateID: template,
		}
	}
	model := func(r *runpodInstanceModel) gpuInstanceModel {
		return gpuInstanceModel{Name: types.StringValue("n"), DesiredState: types.StringValue("running"), RunPod: r}
	}
	state := model(block(types.StringValue("/workspace"), types.StringValue("reg1"), types.StringNull()))

	// ru is the RunPod part of an update (nil when none).
	ru := func(u clients.InstanceUpdate) *runpod.InstanceUpdate {
		o, _ := u.Options.(*runpod.InstanceUpdate)
		return o
	}
	u := instanceUpdate(ctx, model(block(types.StringValue("/data"), types.StringValue("reg2"), types.StringNull())), state, &diags)
	if ru(u) == nil || *ru(u).VolumeMountPath != "/data" || *ru(u).RegistryCredentialID != "reg2" || u.Image != nil || u.Env != nil {
		t.Errorf("update %+v %+v", u, ru(u))
	}
	u = instanceUpdate(ctx, model(block(types.StringValue("/workspace"), types.StringNull(), types.StringNull())), state, &diags)
	if ru(u) == nil || ru(u).VolumeMountPath != nil || *ru(u).RegistryCredentialID != "" {
		t.Errorf("removing the credential: %+v", ru(u))
	}
	templated := model(block(types.StringValue("/workspace"), types.StringValue("reg1"), types.StringValue("tpl")))
	u = instanceUpdate(ctx, model(block(types.StringValue("/workspace"), types.StringNull(), types.StringValue("tpl"))), templated, &diags)
	if ru(u) != nil {
		t.Errorf("the template's credential was removed: %+v", ru(u))
	}
	u = instanceUpdate(ctx, model(block(types.StringUnknown(), types.StringUnknown(), types.StringNull())), state, &diags)
	if ru(u) != nil || !u.IsZero() {
		t.Errorf("unknown values are not changes yet: %+v", ru(u))
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}
