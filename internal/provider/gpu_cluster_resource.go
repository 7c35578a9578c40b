package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
)

// CoreWeave creates a CKS cluster in up to ~45 minutes; the defaults leave room for that plus
// the nodes.
const (
	defaultClusterCreateTimeout = 90 * time.Minute
	defaultClusterUpdateTimeout = 60 * time.Minute
	defaultClusterDeleteTimeout = 45 * time.Minute
)

// NewGPUClusterResource is neocloud_gpu_cluster.
func NewGPUClusterResource() resource.Resource {
	return &gpuClusterResource{gpuResource{typeName: "gpu_cluster"}}
}

type gpuClusterResource struct {
	gpuResource
}

func (r *gpuClusterResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := stringplanmodifier.UseStateForUnknown()
	replace := stringplanmodifier.RequiresReplace()
	resp.Schema = schema.Schema{
		MarkdownDescription: "N GPU machines of one type, close together, with a known head node: a CoreWeave CKS cluster with a NodePool, " +
			"a RunPod Instant Cluster, or a Lambda Cloud node group (instances launched at Lambda's launch rate, a shared filesystem and " +
			"a firewall ruleset open between the nodes). The cluster's id is saved as soon as the cloud accepts it; nodes that exist " +
			"when something fails are saved too, so nothing is ever left running outside state. " +
			"A CoreWeave cluster takes up to 45 minutes: run with `TF_LOG_PROVIDER=INFO` to see each status change of the cluster and of every node, " +
			"with the time since the create began; a timeout error names the last status of every node.",
		Attributes: map[string]schema.Attribute{
			"id": keptString("The cloud's id of the cluster (the cluster name on Lambda)."),
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "Cluster name. Renamed in place where the cloud can (RunPod); replaces the cluster elsewhere.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 30), stringvalidator.RegexMatches(clusterNamePattern, "must be lowercase letters, digits and dashes, starting with a letter")},
			},
			"cloud": chosenString("Cloud: "+quotedList(clients.Names())+". Give this or a `placement` block; with `placement` the provider records "+
				"the cloud it chose here. Changing it replaces the cluster.",
				stringvalidator.OneOf(clients.Names()...)),
			"region": chosenString("Region, zone or data center (CoreWeave `US-EAST-04A`, RunPod `US-TX-3`, Lambda `us-east-1`). Leave it out to let the provider pick one with capacity (RunPod, Lambda). Changing it replaces the cluster."),
			"gpu_type": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "GPU model: a neutral catalog name (" + strings.Join(gpus.Names(), ", ") + ") or the cloud's instance type. Changing it replaces the cluster.",
				PlanModifiers:       []planmodifier.String{replace},
			},
			"gpus_per_node": schema.Int64Attribute{
				Optional: true, Computed: true,
				MarkdownDescription: "GPUs per node; must match what the instance type has (8 for the InfiniBand types). Changing it replaces the cluster.",
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown(), int64planmodifier.RequiresReplaceIfConfigured()},
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"node_count": schema.Int64Attribute{
				Required: true,
				MarkdownDescription: "Number of nodes. Changed in place where the cloud can scale (CoreWeave, Lambda: scale-down removes the highest ranks); " +
					"a replacement on RunPod, which cannot resize an Instant Cluster.",
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"ssh_key_ids": schema.SetAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "`neocloud_ssh_key` ids installed on every node (Lambda, RunPod). Changing them replaces the cluster. " +
					"An import reads them back where the cloud reports them (Lambda: the keys the nodes were launched with), so generated configuration (`terraform plan -generate-config-out`) is complete.",
				PlanModifiers: []planmodifier.Set{requiresReplaceIfPriorSetSet()},
				Validators:    []validator.Set{setvalidator.SizeAtLeast(1)},
			},
			"status":  schema.StringAttribute{Computed: true, MarkdownDescription: "`pending`, `running`, `updating`, `degraded`, `failed` or `deleting`."},
			"problem": schema.StringAttribute{Computed: true, MarkdownDescription: "Why a degraded or failed cluster is so, such as capacity running out at one node of four."},
			"instance_type": schema.StringAttribute{
				Computed: true, MarkdownDescription: "The cloud's instance type of every node.",
				PlanModifiers: []planmodifier.String{keep},
			},
			"nodes": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The nodes in rank order (rank 0, the head, first), each with `env`: what a launcher such as torchrun needs (`MASTER_ADDR`, `MASTER_PORT`, `NODE_RANK`, `NUM_NODES`, `NPROC_PER_NODE`, `WORLD_SIZE`).",
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":         schema.StringAttribute{Computed: true, MarkdownDescription: "The cloud's id of the node."},
					"name":       schema.StringAttribute{Computed: true, MarkdownDescription: "Node name."},
					"rank":       schema.Int64Attribute{Computed: true, MarkdownDescription: "Rank, 0 for the head node."},
					"role":       schema.StringAttribute{Computed: true, MarkdownDescription: "Role where the cloud assigns one (head, worker, Slurm controller)."},
					"status":     schema.StringAttribute{Computed: true, MarkdownDescription: "Neutral status of the node."},
					"public_ip":  schema.StringAttribute{Computed: true, MarkdownDescription: "Public address."},
					"private_ip": schema.StringAttribute{Computed: true, MarkdownDescription: "Address on the cluster's network."},
					"ssh_host": schema.StringAttribute{Computed: true, MarkdownDescription: "Host to SSH to: the node's public address (Lambda), " +
						"or RunPod's SSH proxy (`ssh.runpod.io`) for a node without a published `22/tcp`. Empty on CoreWeave, whose nodes are reached through Kubernetes."},
					"ssh_port": schema.Int64Attribute{Computed: true, MarkdownDescription: "Port to SSH to."},
					"ssh_user": schema.StringAttribute{Computed: true, MarkdownDescription: "User to SSH as (`ssh <ssh_user>@<ssh_host> -p <ssh_port>`): " +
						"`ubuntu` on Lambda; on RunPod `root`, or through the SSH proxy the per-node user name the proxy routes by."},
					"env": schema.MapAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Launcher environment of this node."},
				}},
			},
			"head_node_ip": keptString("Rank 0's address on the cluster network (`MASTER_ADDR`)."),
			"node_private_ips": schema.ListAttribute{
				Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The nodes' addresses on the cluster network, in rank order (null for a node that has none yet).",
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
			"hostfile": schema.StringAttribute{
				Computed: true,
				MarkdownDescription: "The cluster as a hostfile for DeepSpeed (`--hostfile`) and MPI (`mpirun --hostfile`): one line per node in rank order, " +
					"`<private ip> slots=<gpus_per_node>` (the node's name instead while it has no private address). For example " +
					"`local_file { content = neocloud_gpu_cluster.x.hostfile }`.",
				PlanModifiers: []planmodifier.String{keep},
			},
			"price_per_hour": schema.Float64Attribute{
				Computed: true,
				MarkdownDescription: "Price of all nodes together, USD per hour. Known in the plan when the cloud and the node type fix it, including after a " +
					"`node_count` change: the cloud's list price per node times the node count, from the same catalog as `neocloud_gpu_offers` " +
					"(Lambda per instance type, RunPod per GPU type and count on its secure cloud, CoreWeave's list price per node). " +
					"Unknown in the plan with a `placement` of several candidates (see `max_possible_price_per_hour`).",
				PlanModifiers: []planmodifier.Float64{float64planmodifier.UseStateForUnknown()},
			},
			"max_possible_price_per_hour": maxPossiblePriceAttribute("cluster"),
			"capacity_type":               capacityTypeAttribute("cluster"),
			"interconnect": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "The network between the nodes: " + interconnectDescription + " Known in the plan. Set it to require one: " +
					"with `placement`, only candidates that have it are tried; on a fixed cloud and type that lacks it, the plan fails on this attribute. " +
					"Changing it replaces the cluster.",
				Validators:    []validator.String{stringvalidator.OneOf(interconnects...)},
				PlanModifiers: []planmodifier.String{keep, stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"max_price_per_hour": schema.Float64Attribute{
				Optional: true,
				MarkdownDescription: "Refuse a cluster that costs more than this, in USD per hour for all nodes together. Checked at plan time against the " +
					"cloud's list price (a `node_count` change that would exceed it fails the plan), and with `placement` a candidate above it is skipped. Changed in place.",
				Validators: []validator.Float64{float64validator.AtLeast(0)},
			},
			"api_server_endpoint": keptString("Kubernetes API server of a CoreWeave cluster."),
			"kubeconfig": schema.StringAttribute{
				Computed: true, Sensitive: true,
				MarkdownDescription: "kubeconfig for a CoreWeave cluster. It holds the account's CoreWeave API token, which works for the whole account, not only this cluster: " +
					"treat it like a password. Sensitive, so plans hide it, but the state file holds it in clear: keep state in an encrypted backend with restricted access, " +
					"and write the kubeconfig to disk only where no one else can read it.",
				PlanModifiers: []planmodifier.String{keep},
			},
			"created_at": keptString("When the cluster was created (RFC 3339), where the cloud reports it."),
		},
		Blocks: vendorBlockSchemas(vendorBlock.clusterBlock, map[string]schema.Block{
			"placement": placementBlock("cluster"),
			"timeouts":  timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		}),
	}
}

// clusterCloud returns the named cloud's cluster API, or says why there is none.
func (r *gpuClusterResource) clusterCloud(name string) (clients.Cloud, clients.ClusterCloud, error) {
	cloud, err := r.data.cloud(name)
	if err != nil {
		return nil, nil, err
	}
	cc, ok := cloud.(clients.ClusterCloud)
	if !ok {
		return nil, nil, fmt.Errorf("%s has no GPU clusters that neocloud_gpu_cluster can manage", displayName(name))
	}
	return cloud, cc, nil
}

// clusterCloudOf looks up the cluster's cloud, and its cluster API into cc.
func (r *gpuClusterResource) clusterCloudOf(state *gpuClusterModel, cc *clients.ClusterCloud) func() (clients.Cloud, error) {
	return func() (cloud clients.Cloud, err error) {
		cloud, *cc, err = r.clusterCloud(state.Cloud.ValueString())
		return cloud, err
	}
}

// ModifyPlan checks the cluster against the cloud's rules at plan time and decides whether a
// change is made in place (node count where the cloud scales, name where it renames) or by
// replacement, so that no apply fails with "unsupported update". It plans the cluster's price:
// the cloud's list price per node times the node count.
func (r *gpuClusterResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan gpuClusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.planCapacityAndPlacement(deprecatedComputeClass(func(c capacityBlock) types.String { return c.clusterComputeClass(plan) }),
		req.State.Raw.IsNull(), func() { r.modifyPlanPlacement(ctx, &plan, resp) }, &resp.Diagnostics) {
		return
	}
	cloudName := plan.Cloud.ValueString()
	cloud, cc, err := r.clusterCloud(cloudName)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("cloud"), "Clusters not available", err.Error())
		return
	}
	check := plan
	check.SSHKeyIDs = plan.fixedCloudKeys(ctx, cloud, &resp.Diagnostics)
	resolved, diags := checkClusterOnCloud(ctx, cloud, cc, &check)
	plan.InstanceType, plan.GPUsPerNode = check.InstanceType, check.GPUsPerNode
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if resolved.Name != "" {
		has := clusterInterconnect(cloudName, resolved.Name)
		if want := plan.Interconnect; !want.IsNull() && !want.IsUnknown() && want.ValueString() != has {
			resp.Diagnostics.AddAttributeError(path.Root("interconnect"), "Interconnect not available",
				fmt.Sprintf("A %s cluster of %s has %s between its nodes, not %s. Choose a cloud and gpu_type that have it, or use placement with interconnect to let the provider find one.",
					displayName(cloudName), resolved.Name, has, want.ValueString()))
			return
		}
		plan.Interconnect = types.StringValue(has)
	}
	rules := cc.ClusterRules()
	if req.State.Raw.IsNull() {
		plan.PricePerHour = r.planPrice(ctx, cloud, resolved, plan, resp)
		plan.MaxPossible = plan.PricePerHour
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	var state gpuClusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if state.Status.ValueString() == clients.ClusterFailed {
		// The cloud gave up on this cluster: the way forward is a new one.
		plan.Status = types.StringUnknown()
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("status"))
		resp.Diagnostics.AddWarning("Failed cluster will be replaced",
			fmt.Sprintf("%s reports cluster %s as failed%s; this plan replaces it.", displayName(cloudName), state.ID.ValueString(), prefixed(": ", state.Problem.ValueString())))
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	if plan.Placement != nil && !slices.Contains(stringsFromList(ctx, plan.Placement.Clouds, &resp.Diagnostics), cloudName) {
		// The cluster's cloud is no longer allowed: a new one is placed.
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("placement"))
	}
	resized := !plan.NodeCount.IsUnknown() && !plan.NodeCount.Equal(state.NodeCount)
	renamed := !plan.Name.IsUnknown() && !plan.Name.Equal(state.Name)
	if resized && !rules.Resizable {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("node_count"))
	}
	if renamed && !rules.Renamable {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("name"))
	}
	if resized && rules.Resizable {
		// The nodes and status change with the count; the price is the new count's.
		plan.Nodes = types.ListUnknown(clusterNodeType)
		plan.HeadNodeIP = types.StringUnknown() // no head while no node exists
		plan.NodePrivateIPs = types.ListUnknown(types.StringType)
		plan.Hostfile = types.StringUnknown()
		plan.PricePerHour = r.planPrice(ctx, cloud, resolved, plan, resp)
		plan.MaxPossible = plan.PricePerHour
		plan.Status = types.StringUnknown()
		plan.Problem = types.StringUnknown()
	} else {
		if !plan.MaxPricePerHour.Equal(state.MaxPricePerHour) {
			// A new cap is checked against the cluster as it is.
			r.checkClusterCap(plan, cloudName, resolved, state.PricePerHour.ValueFloat64(), resp)
		}
		plan.Status = state.Status
		plan.Problem = state.Problem
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func (r *gpuClusterResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var (
		plan    gpuClusterModel
		timeout time.Duration
	)
	ctx, cancel, ok := startCreate(ctx, &resp.Diagnostics, modelRead{req.Plan.Get, &plan}, func() (d time.Duration, diags diag.Diagnostics) {
		timeout, diags = plan.Timeouts.Create(ctx, defaultClusterCreateTimeout)
		return timeout, diags
	})
	defer cancel()
	if !ok {
		return
	}
	plannedPrice := plan.PricePerHour

	spec := expandClusterSpec(ctx, plan, &resp.Diagnostics)
	spec.LaunchToken, spec.AdoptSince = launchIdentity("gpu_cluster", plan.Name.ValueString(), timeout)
	var (
		cloud   clients.Cloud
		cc      clients.ClusterCloud
		cluster *clients.Cluster
		err     error
		placed  placedCluster
	)
	if plan.Placement != nil {
		if plan.GPUsPerNode.IsUnknown() {
			// Every configured value is known at apply: an unknown count was left out, and
			// each candidate cloud resolves the type on its own (see ModifyPlan).
			plan.GPUsPerNode = types.Int64Null()
			spec.GPUsPerNode = 0
		}
		placed, err = r.createPlaced(ctx, &plan, spec, resp)
		cloud, cluster = placed.cloud, placed.cluster
		if cloud == nil {
			r.data.cloudError(&resp.Diagnostics, "", "Unable to place GPU cluster", err)
			return
		}
		cc, _ = cloud.(clients.ClusterCloud) // createPlaced returns cluster clouds only
		settleBlocks(&plan, cloud.Name())
	} else {
		cloud, cc, err = r.clusterCloud(plan.Cloud.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("cloud"), "Clusters not available", err.Error())
			return
		}
		if err := r.checkCapAtApply(ctx, cloud, spec, plan); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("max_price_per_hour"), "Cluster costs more than max_price_per_hour", err.Error())
			return
		}
		cluster, err = cc.CreateCluster(ctx, spec)
	}
	if cluster != nil && !placed.waited {
		warnAdopted(&resp.Diagnostics, displayName(cloud.Name())+" cluster "+cluster.ID, cluster.Adopted)
		// Save whatever exists (the cluster id, the nodes launched so far) before anything
		// else: a failed create leaves a tainted cluster the next apply replaces, never an
		// orphaned one. (Placement saved the cluster it waited for already.)
		flattenCluster(ctx, cluster, &plan, &resp.Diagnostics)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
	if err != nil {
		summary := "Unable to create " + displayName(cloud.Name()) + " cluster"
		if cluster != nil {
			err = fmt.Errorf("%w\n\nThe %d node(s) that were created are saved in state, and the cluster is marked tainted: the next apply replaces it, and destroy removes every node", err, len(cluster.Nodes))
		}
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), summary, err)
		return
	}
	ready, err := placed.ready, placed.waitErr
	if !placed.waited {
		tflog.Info(ctx, "cluster accepted, waiting for its nodes", map[string]any{"cloud": cloud.Name(), "id": cluster.ID})
		ready, err = waitClusterReady(ctx, r.data.cadence(cloud.Name()), cc, cluster.ID, int(plan.NodeCount.ValueInt64()))
	}
	if ready != nil {
		flattenCluster(ctx, ready, &plan, &resp.Diagnostics)
		if err == nil {
			keepPlannedPrice(plannedPrice, &plan.PricePerHour, displayName(cloud.Name())+" cluster "+cluster.ID, &resp.Diagnostics)
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
	if err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), fmt.Sprintf("%s cluster %s did not become ready", displayName(cloud.Name()), cluster.ID),
			fmt.Errorf("%w\n\nThe cluster is saved in state and marked tainted: the next apply replaces it, and destroy removes it", err))
	}
}

func (r *gpuClusterResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state gpuClusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cloud, cc, err := r.clusterCloud(state.Cloud.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Clusters not available", err.Error())
		return
	}
	if keys := stringsFromSet(ctx, state.SSHKeyIDs, &resp.Diagnostics); len(keys) > 0 {
		// The state's key ids, for a cloud that would otherwise map its nodes' key names
		// through a list.
		ctx = clients.WithKnownSSHKeys(ctx, keys)
	}
	c, err := cc.GetCluster(ctx, state.ID.ValueString())
	if r.data.goneOrFailed(ctx, clients.IsNotFound(err), err, cloud.Name(), "cluster", state.ID.ValueString(), resp) {
		return
	}
	flattenCluster(ctx, c, &state, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *gpuClusterResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var (
		plan, state gpuClusterModel
		cc          clients.ClusterCloud
	)
	ctx, cancel, cloud, ok := startOperation(ctx, &resp.Diagnostics, []modelRead{{req.Plan.Get, &plan}, {req.State.Get, &state}},
		func() (time.Duration, diag.Diagnostics) {
			return plan.Timeouts.Update(ctx, defaultClusterUpdateTimeout)
		}, r.clusterCloudOf(&state, &cc), "Clusters not available")
	defer cancel()
	if !ok {
		return
	}

	id := state.ID.ValueString()
	var update clients.ClusterUpdate
	if !plan.Name.Equal(state.Name) {
		update.Name = plan.Name.ValueStringPointer()
	}
	if !plan.NodeCount.Equal(state.NodeCount) {
		n := int(plan.NodeCount.ValueInt64())
		update.NodeCount = &n
		spec := expandClusterSpec(ctx, onCloud(plan, cloud.Name()), &resp.Diagnostics)
		spec.Region = state.Region.ValueString()
		if plan.Placement != nil {
			spec.SSHKeyIDs = keysOnCloud(ctx, cloud, spec.SSHKeyIDs)
		}
		update.Spec = &spec
	}
	var (
		c   *clients.Cluster
		err error
	)
	if update.Name == nil && update.NodeCount == nil {
		// Only what the cloud does not hold changed (the price cap, the placement list).
		c, err = cc.GetCluster(ctx, id)
	} else {
		c, err = cc.UpdateCluster(ctx, id, update)
	}
	if err == nil && update.NodeCount != nil {
		c, err = waitClusterReady(ctx, r.data.cadence(cloud.Name()), cc, id, *update.NodeCount)
	}
	if c != nil {
		plan.ID = state.ID
		plannedPrice := plan.PricePerHour
		flattenCluster(ctx, c, &plan, &resp.Diagnostics)
		if err == nil {
			keepPlannedPrice(plannedPrice, &plan.PricePerHour, displayName(cloud.Name())+" cluster "+id, &resp.Diagnostics)
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
	if err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to update "+displayName(cloud.Name())+" cluster "+id, err)
	}
}

func (r *gpuClusterResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var (
		state gpuClusterModel
		cc    clients.ClusterCloud
	)
	ctx, cancel, cloud, ok := startOperation(ctx, &resp.Diagnostics, []modelRead{{req.State.Get, &state}},
		func() (time.Duration, diag.Diagnostics) {
			return state.Timeouts.Delete(ctx, defaultClusterDeleteTimeout)
		}, r.clusterCloudOf(&state, &cc), "Clusters not available")
	defer cancel()
	if !ok {
		return
	}
	id := state.ID.ValueString()
	if err := cc.DeleteCluster(ctx, id); err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to delete "+displayName(cloud.Name())+" cluster "+id, err)
		return
	}
	if err := waitClusterGone(ctx, r.data.cadence(cloud.Name()), cc, id); err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), fmt.Sprintf("%s cluster %s did not finish deleting", displayName(cloud.Name()), id), err)
	}
}
