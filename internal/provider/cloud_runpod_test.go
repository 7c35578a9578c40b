package provider

import (
	"context"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/lambda"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/runpod"
)

// fullRunPodBlock is a runpod block with every setting known.
func fullRunPodBlock(t *testing.T) *runpodInstanceModel {
	env, d := types.MapValueFrom(context.Background(), types.StringType, map[string]string{"HF_TOKEN": "x"})
	if d.HasError() {
		t.Fatal(d)
	}
	return &runpodInstanceModel{
		Image: types.StringValue("runpod/pytorch:2.4.0"), CloudType: types.StringValue("SECURE"), Ports: stringList(t, "22/tcp"), Env: env,
		ContainerDiskGB: types.Int64Value(50), VolumeGB: types.Int64Value(20), VolumeMountPath: types.StringValue("/workspace"),
		NetworkVolumeID: types.StringNull(), TemplateID: types.StringNull(), StartSSH: types.BoolValue(true),
		RegistryCredentialID: types.StringValue("reg1"),
	}
}

// The runpod block goes into the launch as RunPod's options and comes back from what the pod
// reports (start_ssh, not reported, keeps its configured value).
func TestRunPodInstanceBlockRoundTrip(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	m := gpuInstanceModel{gpuModel: gpuModel{Name: types.StringValue("n"), Cloud: types.StringValue("runpod"), GPUType: types.StringValue("H100_80GB_SXM")}}
	m.RunPod = fullRunPodBlock(t)
	spec := expandInstanceSpec(ctx, m, &diags)
	yes := true
	want := &runpod.InstanceOptions{
		Image: "runpod/pytorch:2.4.0", CloudType: "SECURE", Ports: []string{"22/tcp"}, Env: map[string]string{"HF_TOKEN": "x"},
		ContainerDiskGB: 50, VolumeGB: 20, VolumeMountPath: "/workspace", StartSSH: &yes, RegistryCredentialID: "reg1",
	}
	if !reflect.DeepEqual(spec.Options, want) {
		t.Fatalf("spec options = %+v, want only %+v", spec.Options, want)
	}
	pod := *runpodOpts(spec.Options)
	pod.StartSSH = nil // not reported back
	back := m
	back.RunPod = fullRunPodBlock(t)
	flattenInstance(ctx, &clients.Instance{ID: "p1", Cloud: "runpod", Status: clients.StatusRunning, Image: pod.Image, Options: &pod}, &back, &diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if !reflect.DeepEqual(back.RunPod, m.RunPod) {
		t.Errorf("runpod block after the round trip =\n%+v\nwant\n%+v", back.RunPod, m.RunPod)
	}
	if !back.Image.IsNull() {
		t.Errorf("a pod's image belongs in runpod.image, not image: %v", back.Image)
	}
}

// An import fills the runpod block; a machine whose configuration leaves it out does not grow
// one; a block left on a machine placed on another cloud keeps no unknown RunPod default.
func TestRunPodInstanceBlockImportLeftOutAndPlacedElsewhere(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	pod := &clients.Instance{ID: "p1", Cloud: "runpod", Status: clients.StatusRunning,
		Options: &runpod.InstanceOptions{Image: "img", CloudType: "SECURE", ContainerDiskGB: 50, VolumeMountPath: "/workspace"}}

	imported := gpuInstanceModel{gpuModel: gpuModel{ID: types.StringValue("p1"), Cloud: types.StringValue("runpod")}}
	flattenInstance(ctx, pod, &imported, &diags)
	if imported.RunPod == nil || imported.RunPod.Image.ValueString() != "img" || imported.RunPod.ContainerDiskGB.ValueInt64() != 50 {
		t.Errorf("import: runpod block = %+v", imported.RunPod)
	}

	leftOut := gpuInstanceModel{gpuModel: gpuModel{GPUType: types.StringValue("H100_80GB_SXM")}}
	flattenInstance(ctx, pod, &leftOut, &diags)
	if leftOut.RunPod != nil {
		t.Errorf("a block left out grew back: %+v", leftOut.RunPod)
	}

	placed := gpuInstanceModel{gpuModel: gpuModel{GPUType: types.StringValue("H100_80GB_SXM")}}
	placed.RunPod = &runpodInstanceModel{
		Image: types.StringValue("img"), CloudType: types.StringUnknown(), VolumeMountPath: types.StringUnknown(),
		RegistryCredentialID: types.StringUnknown(), ContainerDiskGB: types.Int64Unknown(),
	}
	flattenInstance(ctx, &clients.Instance{ID: "i-1", Cloud: "lambda", Status: clients.StatusRunning, Options: &lambda.InstanceOptions{}}, &placed, &diags)
	r := placed.RunPod
	if r == nil || !r.CloudType.IsNull() || !r.VolumeMountPath.IsNull() || !r.RegistryCredentialID.IsNull() || !r.ContainerDiskGB.IsNull() || r.Image.ValueString() != "img" {
		t.Errorf("placed on Lambda, the runpod block must keep what was configured and null its defaults: %+v", r)
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}

// The cluster's runpod block goes into the request; a candidate of another cloud does not see it.
func TestRunPodClusterBlock(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	m := gpuClusterModel{gpuModel: gpuModel{Name: types.StringValue("c"), Cloud: types.StringValue("runpod"), GPUType: types.StringValue("H100_80GB_SXM")}}
	m.RunPod = &runpodClusterModel{ClusterType: types.StringValue("SLURM"), Image: types.StringValue("img"), Ports: stringList(t, "22/tcp"),
		Env: types.MapNull(types.StringType), NetworkVolumeID: types.StringNull(), ContainerDiskGB: types.Int64Value(40)}
	spec := expandClusterSpec(ctx, m, &diags)
	want := &runpod.ClusterOptions{ClusterType: "SLURM", Image: "img", Ports: []string{"22/tcp"}, ContainerDiskGB: 40}
	if !reflect.DeepEqual(spec.Options, want) {
		t.Fatalf("spec options = %+v, want only %+v", spec.Options, want)
	}
	c := &clients.Cluster{ID: "c", Cloud: "runpod", Status: clients.ClusterRunning}
	flattenCluster(ctx, c, &m, &diags)
	if m.RunPod == nil || m.RunPod.ClusterType.ValueString() != "SLURM" {
		t.Errorf("the configured block changed: %+v", m.RunPod)
	}
	if p := onCloud(m, "coreweave"); p.RunPod != nil {
		t.Error("a CoreWeave candidate must not see the runpod block")
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}

// On an existing pod only a changed template or registry credential is checked at plan time,
// and none known only at apply.
func TestRunPodReferencesToCheck(t *testing.T) {
	ctx := context.Background()
	var diags diag.Diagnostics
	plan := gpuInstanceModel{}
	plan.RunPod = &runpodInstanceModel{TemplateID: types.StringValue("tpl"), RegistryCredentialID: types.StringValue("reg1")}
	spec := expandInstanceSpecOn(ctx, plan, "runpod", &diags)
	if !referencesToCheck(plan, nil, &spec) || runpodOpts(spec.Options).TemplateID != "tpl" || runpodOpts(spec.Options).RegistryCredentialID != "reg1" {
		t.Errorf("a new pod checks both references: %+v", spec.Options)
	}
	state := plan
	state.RunPod = &runpodInstanceModel{TemplateID: types.StringValue("tpl"), RegistryCredentialID: types.StringValue("reg0")}
	spec = expandInstanceSpecOn(ctx, plan, "runpod", &diags)
	if !referencesToCheck(plan, &state, &spec) || runpodOpts(spec.Options).TemplateID != "" || runpodOpts(spec.Options).RegistryCredentialID != "reg1" {
		t.Errorf("only the changed credential is checked: %+v", spec.Options)
	}
	unknown := gpuInstanceModel{}
	unknown.RunPod = &runpodInstanceModel{TemplateID: types.StringUnknown(), RegistryCredentialID: types.StringNull()}
	spec = expandInstanceSpecOn(ctx, unknown, "runpod", &diags)
	if referencesToCheck(unknown, nil, &spec) {
		t.Errorf("a template known only at apply is checked then: %+v", spec.Options)
	}
	if noBlock := (gpuInstanceModel{}); referencesToCheck(noBlock, nil, &clients.InstanceSpec{}) {
		t.Error("a machine without a runpod block refers to nothing")
	}
}

// A new registry credential or mount path restarts the container, and so may one known only
// at apply; a pod launched with its answer lost is recorded with its runpod options.
func TestRunPodRestartsAndEcho(t *testing.T) {
	path := "/data"
	if !restartsContainer(clients.InstanceUpdate{Options: &runpod.InstanceUpdate{VolumeMountPath: &path}}) {
		t.Error("a new mount path restarts the container")
	}
	plan := gpuInstanceModel{}
	plan.RunPod = &runpodInstanceModel{RegistryCredentialID: types.StringUnknown(), VolumeMountPath: types.StringValue("/workspace")}
	if restartsContainer(clients.InstanceUpdate{}) || !mayRestartContainer(plan) {
		t.Error("a credential known only at apply may restart the container")
	}
	if mayRestartContainer(gpuInstanceModel{}) {
		t.Error("nothing changed, nothing restarts")
	}
	ctx := context.Background()
	var diags diag.Diagnostics
	asked := gpuInstanceModel{}
	asked.RunPod = &runpodInstanceModel{Image: types.StringValue("img")}
	inst := &clients.Instance{}
	echoBlocks(ctx, asked, inst, &diags)
	if o := runpodOpts(inst.Options); o == nil || o.Image != "img" || !imageInBlock(inst) || diags.HasError() {
		t.Errorf("the launch in doubt must carry its runpod options: %+v", inst.Options)
	}
}

// A runpod block on a machine of another cloud is refused on the block.
func TestRunPodBlockOnAnotherCloudRefused(t *testing.T) {
	m := gpuInstanceModel{}
	m.RunPod = &runpodInstanceModel{}
	var diags diag.Diagnostics
	checkBlocksOnCloud(instanceBlocksSet(&m), "lambda", "machine", &diags)
	wantRefusedBlock(t, diags, "runpod", "Settings for another cloud")
	diags = nil
	checkBlocksOnCloud(instanceBlocksSet(&m), "runpod", "machine", &diags)
	if diags.HasError() {
		t.Errorf("RunPod's own block refused: %v", diags)
	}
}

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
		m := gpuInstanceModel{gpuModel: gpuModel{Name: types.StringValue("n")}, DesiredState: types.StringValue("running")}
		m.RunPod = r
		return m
	}
	state := model(block(types.StringValue("/workspace"), types.StringValue("reg1"), types.StringNull()))

	u := instanceUpdate(ctx, model(block(types.StringValue("/data"), types.StringValue("reg2"), types.StringNull())), state, &diags)
	if runpodUpdate(u) == nil || *runpodUpdate(u).VolumeMountPath != "/data" || *runpodUpdate(u).RegistryCredentialID != "reg2" || u.Image != nil || u.Env != nil {
		t.Errorf("update %+v %+v", u, runpodUpdate(u))
	}
	u = instanceUpdate(ctx, model(block(types.StringValue("/workspace"), types.StringNull(), types.StringNull())), state, &diags)
	if runpodUpdate(u) == nil || runpodUpdate(u).VolumeMountPath != nil || *runpodUpdate(u).RegistryCredentialID != "" {
		t.Errorf("removing the credential: %+v", runpodUpdate(u))
	}
	templated := model(block(types.StringValue("/workspace"), types.StringValue("reg1"), types.StringValue("tpl")))
	u = instanceUpdate(ctx, model(block(types.StringValue("/workspace"), types.StringNull(), types.StringValue("tpl"))), templated, &diags)
	if runpodUpdate(u) != nil {
		t.Errorf("the template's credential was removed: %+v", runpodUpdate(u))
	}
	u = instanceUpdate(ctx, model(block(types.StringUnknown(), types.StringUnknown(), types.StringNull())), state, &diags)
	if runpodUpdate(u) != nil || !u.IsZero() {
		t.Errorf("unknown values are not changes yet: %+v", runpodUpdate(u))
	}
	if diags.HasError() {
		t.Fatal(diags)
	}
}
