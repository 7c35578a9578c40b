package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
)

const (
	defaultInstanceCreateTimeout = 40 * time.Minute
	defaultInstanceUpdateTimeout = 20 * time.Minute
	defaultInstanceDeleteTimeout = 20 * time.Minute
)

// NewGPUInstanceResource is neocloud_gpu_instance.
func NewGPUInstanceResource() resource.Resource {
	return &gpuInstanceResource{gpuResource{typeName: "gpu_instance"}}
}

type gpuInstanceResource struct {
	gpuResource
}

func (r *gpuInstanceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "One GPU machine on a neo-cloud: a Lambda Cloud instance, a RunPod pod, or a one-node CoreWeave NodePool. " +
			"The machine's id is saved in state as soon as the cloud accepts the launch, before waiting for it to boot, so a failed " +
			"wait never leaks a billed machine: the resource is tainted and the next apply replaces it. " +
			"Run with `TF_LOG_PROVIDER=INFO` to see each status change of the machine while Terraform waits, with the time since the create began.",
		Attributes: map[string]schema.Attribute{
			"id": keptString("The cloud's id of the machine."),
			"name": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the machine as shown by the cloud. Changing it renames the machine in place (on CoreWeave, whose node pool is named after it, it replaces the machine).",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 64)},
			},
			"cloud": chosenString("Cloud to launch on: "+quotedList(clients.Names())+". Give this or a `placement` block; with "+
				"`placement` the provider records the cloud it chose here. Changing it replaces the machine.",
				stringvalidator.OneOf(clients.Names()...)),
			"region": chosenString("Region (Lambda region code such as `us-east-1`, RunPod data center such as `US-TX-3`). Checked at plan time; " +
				"RunPod's data centers are read from RunPod, so one it opened recently is accepted. Leave it out and the provider picks a region " +
				"with capacity for the machine and records it here. Setting it to another region replaces the machine."),
			"gpu_type": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "GPU model: a neutral catalog name (" + strings.Join(gpus.Names(), ", ") + ") " +
					"or the cloud's native id (Lambda instance type such as `gpu_8x_h100_sxm5`). A change that resolves to a " +
					"different machine type replaces the machine; respelling the same type does not.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"gpu_count": schema.Int64Attribute{
				Optional: true,
				Computed: true,
				MarkdownDescription: "Number of GPUs. A change replaces the machine. Left out, it is what `gpu_type` implies on the chosen cloud, and the plan shows it once the cloud is known: " +
					"the count of a native instance type (Lambda `gpu_8x_h100_sxm5`: 8, a CoreWeave node type: its GPUs), the only count a cloud sells the GPU in " +
					"(Lambda `GH200_96GB`: 1; CoreWeave sells whole nodes, so its node's count), or 1 on RunPod (a pod takes 1 GPU and up). " +
					"When a cloud sells the GPU in several machine sizes (Lambda `H100_80GB_SXM`: 1, 2, 4 or 8), the provider does not guess: the plan fails on `gpu_count` and names the counts.",
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"image": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Operating system image: an image family (Lambda: `lambda-stack-22-04`) or an image id. The cloud's default when left out. A change replaces the machine. RunPod pods take a container image in `runpod.image` instead.",
				PlanModifiers:       []planmodifier.String{requiresReplaceIfPriorSet()},
			},
			"ssh_key_ids": schema.SetAttribute{
				Optional:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Ids of `neocloud_ssh_key` resources (or the cloud's own key ids) allowed to log in. Lambda requires exactly one. A change replaces the machine.",
				PlanModifiers:       []planmodifier.Set{setplanmodifier.RequiresReplace()},
				Validators:          []validator.Set{setvalidator.SizeAtLeast(1)},
			},
			"user_data": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				MarkdownDescription: "cloud-init user data, as plain text (at most 1 MB). The cloud does not report it back, so it is not refreshed. A change replaces the machine. " +
					"Sensitive, since scripts often carry credentials: hidden in plan output and masked in the provider's logs (the state file still holds it).",
				PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()},
				Validators:    []validator.String{stringvalidator.LengthAtMost(1 << 20)},
			},
			"tags": schema.MapAttribute{
				Optional:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Key/value tags on the machine. Lambda cannot change tags of a running instance, so a change replaces it.",
				PlanModifiers:       []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"max_price_per_hour": schema.Float64Attribute{
				Optional: true,
				MarkdownDescription: "Refuse to launch a machine that costs more than this, in USD per hour for the whole machine. " +
					"Checked at plan time against the cloud's live prices.",
				PlanModifiers: []planmodifier.Float64{float64planmodifier.UseStateForUnknown()},
			},

			"desired_state": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString(clients.DesiredRunning),
				MarkdownDescription: "`running` (default) or `stopped`. A stopped RunPod pod releases its GPUs (no GPU billing) and keeps its disk; " +
					"changing this starts or stops the machine in place. Lambda Cloud has no stopped state.",
				Validators: []validator.String{stringvalidator.OneOf(clients.DesiredRunning, clients.DesiredStopped)},
			},
			"status": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "Neutral status: `pending`, `running`, `stopped`, `unhealthy`, `terminating`, `terminated` or `error`; " +
					"`preempted` when the cloud reclaimed the machine (Lambda reports it so), which the next plan replaces.",
			},
			"instance_type": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The cloud's instance type that `gpu_type` and `gpu_count` resolved to.",
			},
			"public_ip":  keptString("Public IPv4 address."),
			"private_ip": keptString("Private IPv4 address."),
			"ssh_host":   keptString("Host to SSH to."),
			"ssh_port":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Port to SSH to.", PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}},
			"ssh_user":   keptString("User to SSH as."),
			"price_per_hour": schema.Float64Attribute{Computed: true, MarkdownDescription: "Price of the machine in USD per hour. Known in the plan when the cloud and " +
				"the machine type fix it: the cloud's list price, from the same catalog as `neocloud_gpu_offers` (Lambda per instance type, RunPod per GPU type, count and " +
				"`runpod.cloud_type`, CoreWeave's list price per node). Unknown in the plan with a `placement` of several clouds (see `max_possible_price_per_hour`) or a machine created stopped.", PlanModifiers: []planmodifier.Float64{float64planmodifier.UseStateForUnknown()}},
			"created_at":                  keptString("When the machine was created (RFC 3339), where the cloud reports it."),
			"max_possible_price_per_hour": maxPossiblePriceAttribute("machine"),
			"capacity_type":               capacityTypeAttribute("machine"),
		},
		Blocks: vendorBlockSchemas(vendorBlock.instanceBlock, map[string]schema.Block{
			"placement": placementBlock("machine"),
			"timeouts":  timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		}),
	}
}

// ModifyPlan checks at plan time what can be checked without launching: the cloud is
// configured, the GPU type and count exist there, the region exists, the cloud's own rules,
// and the price cap; it resolves the instance type so the plan shows it, and decides between
// an in-place update and a replacement.
func (r *gpuInstanceResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	if unchangedAndHealthy(ctx, req) {
		return
	}
	var plan gpuInstanceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if req.State.Raw.IsNull() && plan.GPUCount.IsUnknown() {
		// gpu_count is computed, so a new machine without one plans it as unknown. Left out
		// of the configuration it means "what the type implies": resolve that now, so that a
		// type sold in several counts fails here, on gpu_count, and not at launch.
		var configured types.Int64
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("gpu_count"), &configured)...)
		if configured.IsNull() {
			plan.GPUCount = types.Int64Null()
		}
	}
	if !plan.planCapacityAndPlacement(deprecatedComputeClass(func(c capacityBlock) types.String { return c.instanceComputeClass(plan) }),
		req.State.Raw.IsNull(), func() { r.modifyPlanPlacement(ctx, &plan, resp) }, &resp.Diagnostics) {
		return
	}
	cloudName := plan.Cloud.ValueString()
	cloud, err := r.data.cloud(cloudName)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("cloud"), "Cloud not configured", err.Error())
		return
	}
	check := plan
	check.SSHKeyIDs = plan.fixedCloudKeys(ctx, cloud, &resp.Diagnostics)
	resolved, diags := checkOnCloud(ctx, cloud, &check)
	plan.InstanceType, plan.GPUCount = check.InstanceType, check.GPUCount
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}

	var state *gpuInstanceModel
	if !req.State.Raw.IsNull() {
		state = &gpuInstanceModel{}
		resp.Diagnostics.Append(req.State.Get(ctx, state)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	resp.Diagnostics.Append(checkReferences(ctx, cloud, check, state)...)
	if resp.Diagnostics.HasError() {
		return
	}

	if state == nil {
		// A new machine: its status is known only after launch; its price is the cloud's list
		// price for the type (a machine created stopped bills no GPUs: known after apply).
		plan.Status = types.StringUnknown()
		plan.PricePerHour = types.Float64Unknown()
		r.checkPrice(ctx, cloud, plan, resolved, resp)
		if resolved.Name != "" && plan.DesiredState.ValueString() != clients.DesiredStopped && !resp.Diagnostics.HasError() {
			spec := expandInstanceSpecOn(ctx, check, cloud.Name(), &resp.Diagnostics)
			price, err := machinePrice(ctx, cloud, resolved, &spec)
			plan.PricePerHour = knownPrice(ctx, price, err)
		}
		plan.MaxPossible = plan.PricePerHour
	} else {
		lost := state.Status.ValueString() == clients.StatusError || state.Status.ValueString() == clients.StatusTerminating
		if state.Status.ValueString() == statusPreempted {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("status"))
			resp.Diagnostics.AddWarning("Preempted machine will be replaced",
				fmt.Sprintf("%s preempted instance %s: the cloud reclaimed the machine (its disk and anything not saved elsewhere are gone). This plan launches a new one in its place.",
					displayName(cloudName), state.ID.ValueString()))
			lost = true
		} else if lost {
			// The cloud reports the machine broken (a RunPod pod in ERROR) or going away (terminated
			// outside Terraform): replace it.
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("status"))
			resp.Diagnostics.AddWarning("Lost machine will be replaced",
				fmt.Sprintf("%s reports instance %s as %s; this plan replaces it.", displayName(cloudName), state.ID.ValueString(), state.Status.ValueString()))
		}
		if !plan.InstanceType.IsUnknown() && plan.InstanceType.ValueString() != state.InstanceType.ValueString() {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("gpu_type"), path.Root("gpu_count"))
		}
		if plan.Placement != nil && !slices.Contains(stringsFromList(ctx, plan.Placement.Clouds, &resp.Diagnostics), cloudName) {
			// The machine's cloud is no longer allowed: a new one is placed.
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("placement"))
		}
		// Starting, stopping or restarting the container (new image or environment) changes
		// the status, addresses and price; a rename or a respelling changes none of them.
		u := instanceUpdate(ctx, plan, *state, &resp.Diagnostics)
		if l, ok := cloud.(clients.InPlaceLimiter); ok {
			for _, field := range l.NotInPlace(u) {
				resp.RequiresReplace = append(resp.RequiresReplace, attrPath(field))
			}
		}
		if u.DesiredState != nil || restartsContainer(u) || mayRestartContainer(plan) || lost {
			plan.Status = types.StringUnknown()
			plan.PublicIP, plan.PrivateIP, plan.SSHHost = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
			plan.SSHPort = types.Int64Unknown()
			plan.PricePerHour = types.Float64Unknown()
		} else {
			plan.Status = state.Status
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// unchangedAndHealthy reports a machine whose plan is its state (nothing configured changed, and
// a refresh found nothing changed on the cloud) and whose status calls for no replacement: a
// refresh of a hundred of them then costs no plan-time checks (the cloud's GPU types, regions
// and references were checked when it was planned, and a type the cloud has since retired must
// not fail the plan of a machine already running it), and no call.
func unchangedAndHealthy(ctx context.Context, req resource.ModifyPlanRequest) bool {
	if req.State.Raw.IsNull() || !req.Plan.Raw.Equal(req.State.Raw) {
		return false
	}
	var status types.String
	if diags := req.State.GetAttribute(ctx, path.Root("status"), &status); diags.HasError() {
		return false
	}
	switch status.ValueString() {
	case clients.StatusError, clients.StatusTerminating, statusPreempted:
		return false // replaced: see ModifyPlan
	}
	return true
}

func (r *gpuInstanceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var (
		plan    gpuInstanceModel
		timeout time.Duration
	)
	ctx, cancel, ok := startCreate(ctx, &resp.Diagnostics, modelRead{req.Plan.Get, &plan}, func() (d time.Duration, diags diag.Diagnostics) {
		timeout, diags = plan.Timeouts.Create(ctx, defaultInstanceCreateTimeout)
		return timeout, diags
	})
	defer cancel()
	if !ok {
		return
	}
	spec := expandInstanceSpec(ctx, plan, &resp.Diagnostics)
	spec.LaunchToken, spec.AdoptSince = launchIdentity("gpu_instance", plan.Name.ValueString(), timeout)

	if plan.Placement != nil {
		if plan.GPUCount.IsUnknown() {
			// Every configured value is known at apply: an unknown count was left out, and
			// each candidate cloud resolves the type on its own (see ModifyPlan).
			plan.GPUCount = types.Int64Null()
		}
		cloud, inst, err := r.launchPlaced(ctx, plan, spec, &resp.Diagnostics)
		if err != nil {
			err = saveInDoubt(ctx, cloud, spec, &plan, err, resp)
			r.data.cloudError(&resp.Diagnostics, cloudNameOf(cloud), "Unable to place GPU instance", err)
			return
		}
		r.saveAndWait(ctx, cloud, inst, &plan, resp)
		return
	}
	cloud, err := r.data.cloud(plan.Cloud.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("cloud"), "Cloud not configured", err.Error())
		return
	}
	inst, err := cloud.CreateInstance(ctx, spec)
	if err != nil {
		err = saveInDoubt(ctx, cloud, spec, &plan, err, resp)
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to launch "+displayName(cloud.Name())+" instance", err)
		return
	}
	r.saveAndWait(ctx, cloud, inst, &plan, resp)
}

// saveAndWait saves a just-launched machine in state, waits for it to be ready (and stopped,
// when desired), and saves it again.
func (r *gpuInstanceResource) saveAndWait(ctx context.Context, cloud clients.Cloud, inst *clients.Instance, plan *gpuInstanceModel, resp *resource.CreateResponse) {
	plannedPrice := plan.PricePerHour
	plan.Cloud = types.StringValue(cloud.Name())
	warnAdopted(&resp.Diagnostics, displayName(cloud.Name())+" instance "+inst.ID, inst.Adopted)
	// Save the id before waiting: from here on the machine is billed, and state is what lets
	// the next apply or destroy find it.
	flattenInstance(ctx, inst, plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	tflog.Info(ctx, "instance launched, waiting for it to be ready", map[string]any{"cloud": cloud.Name(), "id": inst.ID})

	cad := r.data.cadence(cloud.Name())
	ready, err := waitInstanceReady(ctx, cad, cloud, inst.ID)
	if err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), fmt.Sprintf("%s instance %s did not become ready", displayName(cloud.Name()), inst.ID),
			fmt.Errorf("%w\n\nThe instance is saved in state and marked tainted: the next apply replaces it, and destroy removes it", err))
		return
	}
	if plan.DesiredState.ValueString() == clients.DesiredStopped {
		// Created to be kept stopped (a disk prepared now, GPUs paid for later).
		ready, err = setPowerState(ctx, cad, cloud, inst.ID, clients.DesiredStopped)
		if err != nil {
			r.data.cloudError(&resp.Diagnostics, cloud.Name(), fmt.Sprintf("Unable to stop %s instance %s", displayName(cloud.Name()), inst.ID), err)
			return
		}
	}
	flattenInstance(ctx, ready, plan, &resp.Diagnostics)
	keepPlannedPrice(plannedPrice, &plan.PricePerHour, displayName(cloud.Name())+" instance "+inst.ID, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *gpuInstanceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state gpuInstanceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cloud, err := r.data.cloud(state.Cloud.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Cloud not configured", err.Error())
		return
	}
	if token, sentBy, ok := parseInDoubt(state.ID.ValueString()); ok {
		r.readInDoubt(ctx, cloud, token, sentBy, &state, resp)
		return
	}
	if keys := stringsFromSet(ctx, state.SSHKeyIDs, &resp.Diagnostics); len(keys) > 0 && state.Placement == nil {
		// The state's key ids, for a cloud that would otherwise map key names through a list.
		ctx = clients.WithKnownSSHKeys(ctx, keys)
	}
	inst, err := cloud.GetInstance(ctx, state.ID.ValueString())
	if err == nil && inst.Gone() && inst.NativeStatus == statusPreempted {
		// Kept in state as preempted, so that the next plan replaces it and says why, rather
		// than a bare create.
		tflog.Warn(ctx, "instance was preempted by the cloud", map[string]any{"id": state.ID.ValueString()})
		flattenInstance(ctx, inst, &state, &resp.Diagnostics)
		state.Status = types.StringValue(statusPreempted)
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	if (clients.IsNotFound(err) || (err == nil && inst.Gone())) && state.Status.ValueString() == statusPreempted {
		// A preempted machine the cloud has since forgotten: kept until the plan that replaces
		// it, which says why (nothing runs: it is not billed).
		return
	}
	if r.data.goneOrFailed(ctx, clients.IsNotFound(err) || (err == nil && inst.Gone()), err, cloud.Name(), "instance", state.ID.ValueString(), resp) {
		return
	}
	flattenInstance(ctx, inst, &state, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *gpuInstanceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state gpuInstanceModel
	ctx, cancel, cloud, ok := startOperation(ctx, &resp.Diagnostics, []modelRead{{req.Plan.Get, &plan}, {req.State.Get, &state}},
		func() (time.Duration, diag.Diagnostics) {
			return plan.Timeouts.Update(ctx, defaultInstanceUpdateTimeout)
		}, r.cloudOf(&state), "Cloud not configured")
	defer cancel()
	if !ok {
		return
	}

	update := instanceUpdate(ctx, plan, state, &resp.Diagnostics)
	id := state.ID.ValueString()
	var (
		inst *clients.Instance
		err  error
	)
	if !update.IsZero() {
		inst, err = cloud.UpdateInstance(ctx, id, update)
		if err == nil && update.DesiredState != nil {
			inst, err = waitPowerState(ctx, r.data.cadence(cloud.Name()), cloud, id, *update.DesiredState)
		} else if err == nil && restartsContainer(update) && plan.DesiredState.ValueString() == clients.DesiredRunning {
			// A new image, environment, registry credential or mount path restarts the
			// container: wait until it is back.
			inst, err = waitInstanceReady(ctx, r.data.cadence(cloud.Name()), cloud, id)
		}
	} else {
		// Only attributes the cloud does not hold changed (a respelled gpu_type, the price
		// cap, an image recorded after import): nothing to send.
		inst, err = cloud.GetInstance(ctx, id)
	}
	if err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to update "+displayName(cloud.Name())+" instance "+id, err)
		return
	}
	plan.ID = state.ID
	plannedPrice := plan.PricePerHour
	flattenInstance(ctx, inst, &plan, &resp.Diagnostics)
	keepPlannedPrice(plannedPrice, &plan.PricePerHour, displayName(cloud.Name())+" instance "+id, &resp.Diagnostics)
	if update.Name != nil {
		plan.Name = types.StringValue(*update.Name) // the list snapshot may predate the rename
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// cloudOf looks up the machine's cloud.
func (r *gpuInstanceResource) cloudOf(state *gpuInstanceModel) func() (clients.Cloud, error) {
	return func() (clients.Cloud, error) { return r.data.cloud(state.Cloud.ValueString()) }
}

// instanceUpdate lists what changed between state and plan that the cloud changes in place.
func instanceUpdate(ctx context.Context, plan, state gpuInstanceModel, diags *diag.Diagnostics) clients.InstanceUpdate {
	var u clients.InstanceUpdate
	if !plan.Name.Equal(state.Name) {
		u.Name = plan.Name.ValueStringPointer()
	}
	if !plan.DesiredState.Equal(state.DesiredState) {
		u.DesiredState = plan.DesiredState.ValueStringPointer()
	}
	blocksUpdate(ctx, plan, state, &u, diags)
	return u
}

func (r *gpuInstanceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state gpuInstanceModel
	ctx, cancel, cloud, ok := startOperation(ctx, &resp.Diagnostics, []modelRead{{req.State.Get, &state}},
		func() (time.Duration, diag.Diagnostics) {
			return state.Timeouts.Delete(ctx, defaultInstanceDeleteTimeout)
		}, r.cloudOf(&state), "Cloud not configured")
	defer cancel()
	if !ok {
		return
	}
	id := state.ID.ValueString()
	if token, sentBy, ok := parseInDoubt(id); ok {
		// A launch whose answer never came: terminate its machine if it appeared, and wait
		// for proof that it will not appear before letting the resource go.
		inst, err := settleInDoubt(ctx, cloud, token, sentBy)
		if err != nil {
			r.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to settle the "+displayName(cloud.Name())+" launch whose answer was lost", err)
			return
		}
		if inst == nil {
			return
		}
		id = inst.ID
	}
	if err := cloud.DeleteInstance(ctx, id); err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to terminate "+displayName(cloud.Name())+" instance "+id, err)
		return
	}
	if err := waitInstanceGone(ctx, r.data.cadence(cloud.Name()), r.data.timing.Settle(terminationTime(cloud)), cloud, id); err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), fmt.Sprintf("%s instance %s did not finish terminating", displayName(cloud.Name()), id), err)
	}
}
