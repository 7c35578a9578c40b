package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
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

var (
	_ resource.ResourceWithConfigure        = (*gpuClusterResource)(nil)
	_ resource.ResourceWithImportState      = (*gpuClusterResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*gpuClusterResource)(nil)
	_ resource.ResourceWithConfigValidators = (*gpuClusterResource)(nil)
)

// CoreWeave creates a CKS cluster in up to ~45 minutes; the defaults leave room for that plus
// the nodes.
const (
	defaultClusterCreateTimeout = 90 * time.Minute
	defaultClusterUpdateTimeout = 60 * time.Minute
	defaultClusterDeleteTimeout = 45 * time.Minute
)

// NewGPUClusterResource is neocloud_gpu_cluster.
func NewGPUClusterResource() resource.Resource { return &gpuClusterResource{} }

type gpuClusterResource struct {
	data *providerData
}

func (r *gpuClusterResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_gpu_cluster"
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
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The cloud's id of the cluster (the cluster name on Lambda).", PlanModifiers: []planmodifier.String{keep}},
			"name": schema.StringAttribute{
				Required: true, MarkdownDescription: "Cluster name. Renamed in place where the cloud can (RunPod); replaces the cluster elsewhere.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 30), stringvalidator.RegexMatches(clusterNamePattern, "must be lowercase letters, digits and dashes, starting with a letter")},
			},
			"cloud": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Cloud: " + quotedList(clients.Names()) + ". Give this or a `placement` block; with `placement` the provider records " +
					"the cloud it chose here. Changing it replaces the cluster.",
				Validators:    []validator.String{stringvalidator.OneOf(clients.Names()...)},
				PlanModifiers: []planmodifier.String{keep, stringplanmodifier.RequiresReplaceIfConfigured()},
			},
			"region": schema.StringAttribute{
				Optional: true, Computed: true,
				MarkdownDescription: "Region, zone or data center (CoreWeave `US-EAST-04A`, RunPod `US-TX-3`, Lambda `us-east-1`). Leave it out to let the provider pick one with capacity (RunPod, Lambda). Changing it replaces the cluster.",
				PlanModifiers:       []planmodifier.String{keep, stringplanmodifier.RequiresReplaceIfConfigured()},
			},
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
			"head_node_ip": schema.StringAttribute{Computed: true, MarkdownDescription: "Rank 0's address on the cluster network (`MASTER_ADDR`).", PlanModifiers: []planmodifier.String{keep}},
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
			"api_server_endpoint": schema.StringAttribute{
				Computed: true, MarkdownDescription: "Kubernetes API server of a CoreWeave cluster.", PlanModifiers: []planmodifier.String{keep},
			},
			"kubeconfig": schema.StringAttribute{
				Computed: true, Sensitive: true,
				MarkdownDescription: "kubeconfig for a CoreWeave cluster. It holds the account's CoreWeave API token, which works for the whole account, not only this cluster: " +
					"treat it like a password. Sensitive, so plans hide it, but the state file holds it in clear: keep state in an encrypted backend with restricted access, " +
					"and write the kubeconfig to disk only where no one else can read it.",
				PlanModifiers: []planmodifier.String{keep},
			},
			"created_at": schema.StringAttribute{Computed: true, MarkdownDescription: "When the cluster was created (RFC 3339), where the cloud reports it.", PlanModifiers: []planmodifier.String{keep}},
		},
		Blocks: map[string]schema.Block{
			"placement": placementBlock("cluster"),
			"coreweave": schema.SingleNestedBlock{
				MarkdownDescription: "CoreWeave settings. Only valid with `cloud = \"coreweave\"` (or with `coreweave` in `placement.clouds`).",
				Attributes: map[string]schema.Attribute{
					"kubernetes_version": schema.StringAttribute{
						Optional: true, Computed: true, MarkdownDescription: "CKS Kubernetes version, such as `v1.35`; left out, the newest version CoreWeave offers when the cluster is created. A change replaces the cluster.",
						PlanModifiers: []planmodifier.String{keep, stringplanmodifier.RequiresReplaceIfConfigured()},
					},
					"vpc_id": schema.StringAttribute{
						Optional: true, Computed: true,
						MarkdownDescription: "Existing VPC to place the cluster in. Left out, the provider creates a VPC for the cluster (and deletes it with the cluster). A change replaces the cluster.",
						PlanModifiers:       []planmodifier.String{keep, stringplanmodifier.RequiresReplaceIfConfigured()},
					},
					"public": schema.BoolAttribute{
						Optional: true, Computed: true, MarkdownDescription: "Whether the Kubernetes API server is reachable from the internet (default false). A change replaces the cluster.",
						PlanModifiers: []planmodifier.Bool{boolplanmodifier.UseStateForUnknown(), boolplanmodifier.RequiresReplaceIfConfigured()},
					},
					"compute_class": schema.StringAttribute{
						Optional: true, MarkdownDescription: "`default` (on demand) or `spot`. A change replaces the cluster. Deprecated: use `capacity_type`.",
						DeprecationMessage: "Use capacity_type = \"spot\" (or \"on_demand\") instead; coreweave.compute_class will be removed in a future major version.",
						Validators:         []validator.String{stringvalidator.OneOf("default", "spot")}, PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()},
					},
				},
			},
			"runpod": schema.SingleNestedBlock{
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
			},
			"lambda": schema.SingleNestedBlock{
				MarkdownDescription: "Lambda Cloud node-group settings. Only valid with `cloud = \"lambda\"`. Every setting replaces the cluster when changed (set after an import, it is recorded in place: the cloud does not report it back).",
				Attributes: map[string]schema.Attribute{
					"file_system_name": schema.StringAttribute{
						Optional: true, MarkdownDescription: "Shared filesystem mounted on every node; created in the cluster's region when absent.",
						PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()},
					},
					"image": schema.StringAttribute{Optional: true, MarkdownDescription: "Image family or id of every node.", PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()}},
					"user_data": schema.StringAttribute{
						Optional: true, Sensitive: true,
						MarkdownDescription: "cloud-init user data of every node. Sensitive, since scripts often carry credentials: " +
							"hidden in plan output and masked in the provider's logs (the state file still holds it).",
						PlanModifiers: []planmodifier.String{requiresReplaceIfPriorSet()},
					},
				},
			},
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}

func (r *gpuClusterResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureData(req.ProviderData, &resp.Diagnostics)
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
	computeClass := types.StringNull()
	if plan.CoreWeave != nil {
		computeClass = plan.CoreWeave.ComputeClass
	}
	plan.CapacityType = plannedCapacityType(plan.CapacityType, computeClass, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Placement != nil && req.State.Raw.IsNull() {
		r.modifyPlanPlacement(ctx, &plan, resp)
		return
	}
	if plan.Cloud.IsUnknown() {
		return
	}
	cloudName := plan.Cloud.ValueString()
	cloud, cc, err := r.clusterCloud(cloudName)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("cloud"), "Clusters not available", err.Error())
		return
	}
	check := plan
	if plan.Placement != nil {
		// A placed cluster lists keys of several clouds; its own cloud judges only its own.
		check.SSHKeyIDs = keySetOnCloud(ctx, cloud, plan.SSHKeyIDs, &resp.Diagnostics)
	}
	checkCapacityType(cloudName, plan.CapacityType, &resp.Diagnostics)
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

// checkClusterOnCloud runs the plan-time checks of one cloud on a cluster plan: the settings
// blocks, the region, the node count, the GPU type and count, and the cloud's own rules. It
// fills in the resolved instance type and GPUs per node.
func checkClusterOnCloud(ctx context.Context, cloud clients.Cloud, cc clients.ClusterCloud, plan *gpuClusterModel) (clients.InstanceType, diag.Diagnostics) {
	var diags diag.Diagnostics
	cloudName := cloud.Name()
	if plan.Placement == nil {
		for block, set := range map[string]bool{"coreweave": plan.CoreWeave != nil, "runpod": plan.RunPod != nil, "lambda": plan.Lambda != nil} {
			if set && block != cloudName {
				diags.AddAttributeError(path.Root(block), "Settings for another cloud",
					fmt.Sprintf("The `%s` block only applies to cloud = %q, but this cluster is on %q. Remove the block.", block, block, cloudName))
			}
		}
	}
	diags.Append(checkRegion(ctx, cloud, plan.Region, "")...)
	rules := cc.ClusterRules()
	if n := plan.NodeCount; !n.IsUnknown() && !n.IsNull() {
		if int(n.ValueInt64()) < rules.MinNodes || (rules.MaxNodes > 0 && int(n.ValueInt64()) > rules.MaxNodes) {
			diags.AddAttributeError(path.Root("node_count"), "Node count out of range",
				fmt.Sprintf("%s clusters have %d to %d nodes; %d was given.", displayName(cloudName), rules.MinNodes, rules.MaxNodes, n.ValueInt64()))
		}
	}
	var resolved clients.InstanceType
	if !plan.GPUType.IsUnknown() && !plan.GPUsPerNode.IsUnknown() {
		it, err := cloud.ResolveInstanceType(plan.GPUType.ValueString(), int(plan.GPUsPerNode.ValueInt64()))
		if err != nil {
			at := path.Root("gpu_type")
			if !plan.GPUsPerNode.IsNull() && soldInSomeCount(cloud, plan.GPUType.ValueString()) {
				at = path.Root("gpus_per_node")
			}
			diags.AddAttributeError(at, "GPU type not available for a "+displayName(cloudName)+" cluster", err.Error())
		} else {
			if len(rules.GPUsPerNode) > 0 && !slices.Contains(rules.GPUsPerNode, it.GPUCount) {
				diags.AddAttributeError(path.Root("gpus_per_node"), "GPUs per node not supported",
					fmt.Sprintf("%s clusters have %v GPUs per node; %s with %d was asked.", displayName(cloudName), rules.GPUsPerNode, it.Name, it.GPUCount))
			}
			resolved = it
			plan.InstanceType = types.StringValue(it.Name)
			plan.GPUsPerNode = types.Int64Value(int64(it.GPUCount))
		}
	}
	if v, ok := cc.(clients.ClusterValidator); ok && !diags.HasError() {
		unknown := plan.unknownAttributes()
		for _, fe := range v.ValidateClusterSpec(expandClusterSpecOn(ctx, *plan, cloudName, &diags)) {
			if !unknown[fe.Field] && !unknown[strings.Split(fe.Field, ".")[0]] {
				diags.AddAttributeError(attrPath(fe.Field), fe.Summary, fe.Detail)
			}
		}
	}
	return resolved, diags
}

// planPrice is the planned price of the cluster on a fixed cloud (unknown when the cloud cannot
// say at plan time), refusing it above max_price_per_hour.
func (r *gpuClusterResource) planPrice(ctx context.Context, cloud clients.Cloud, resolved clients.InstanceType, plan gpuClusterModel, resp *resource.ModifyPlanResponse) types.Float64 {
	if resolved.Name == "" || plan.NodeCount.IsUnknown() {
		return types.Float64Unknown()
	}
	price, err := nodesPrice(ctx, cloud, resolved, int(plan.NodeCount.ValueInt64()))
	if err != nil {
		if r.data.authFailed(&resp.Diagnostics, cloud.Name(), err, true) {
			return types.Float64Unknown()
		}
		if !plan.MaxPricePerHour.IsNull() {
			resp.Diagnostics.AddAttributeWarning(path.Root("max_price_per_hour"), "Price not checked",
				"The price cap could not be checked at plan time ("+err.Error()+"); it is checked again when the cluster is created.")
		}
		return knownPrice(ctx, price, err)
	}
	r.checkClusterCap(plan, cloud.Name(), resolved, price, resp)
	return types.Float64Value(price)
}

// checkClusterCap refuses a cluster whose price is above max_price_per_hour.
func (r *gpuClusterResource) checkClusterCap(plan gpuClusterModel, cloudName string, resolved clients.InstanceType, price float64, resp *resource.ModifyPlanResponse) {
	limit := plan.MaxPricePerHour
	if limit.IsNull() || limit.IsUnknown() || price <= limit.ValueFloat64() {
		return
	}
	resp.Diagnostics.AddAttributeError(path.Root("max_price_per_hour"), "Cluster costs more than max_price_per_hour",
		fmt.Sprintf("%d node(s) of %s on %s cost $%.2f per hour together, above max_price_per_hour = $%.2f. Raise the cap, use fewer nodes or choose a cheaper gpu_type.",
			plan.NodeCount.ValueInt64(), resolved.Name, displayName(cloudName), price, limit.ValueFloat64()))
}

// checkCapAtApply checks max_price_per_hour again right before the create: the list price may
// have changed since the plan.
func (r *gpuClusterResource) checkCapAtApply(ctx context.Context, cloud clients.Cloud, spec clients.ClusterSpec, plan gpuClusterModel) error {
	if plan.MaxPricePerHour.IsNull() || plan.InstanceType.IsUnknown() || plan.InstanceType.IsNull() {
		return nil
	}
	it := clients.InstanceType{Name: plan.InstanceType.ValueString(), GPUCount: spec.GPUsPerNode}
	price, err := nodesPrice(ctx, cloud, it, spec.NodeCount)
	if err != nil {
		tflog.Warn(ctx, "price cap not checked again at apply", map[string]any{"error": err.Error()})
		return nil //nolint:nilerr // an unanswered price check leaves the decision to the plan's
	}
	if price <= plan.MaxPricePerHour.ValueFloat64() {
		return nil
	}
	return fmt.Errorf("%d node(s) of %s on %s now cost $%.2f per hour together, above max_price_per_hour = $%.2f; nothing was created",
		spec.NodeCount, it.Name, displayName(cloud.Name()), price, plan.MaxPricePerHour.ValueFloat64())
}

func (r *gpuClusterResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{resourcevalidator.ExactlyOneOf(path.MatchRoot("cloud"), path.MatchRoot("placement"))}
}

func (r *gpuClusterResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan gpuClusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plannedPrice := plan.PricePerHour
	timeout, d := plan.Timeouts.Create(ctx, defaultClusterCreateTimeout)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = withOperationStart(ctx)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

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

// waitClusterReady looks, at the cloud's shared cadence, until every asked-for node is up, the
// cluster failed, or ctx ends.
func waitClusterReady(ctx context.Context, cad *clients.Cadence, cc clients.ClusterCloud, id string, nodes int) (*clients.Cluster, error) {
	var last *clients.Cluster
	prog := newProgress(ctx)
	waitingFor := fmt.Sprintf("running with %d node(s) up", nodes)
	settler, _ := cc.(clients.ClusterSettler)
	err := cad.Wait(ctx, func(ctx context.Context, tick time.Time) (bool, error) {
		ctx = clients.FreshSince(ctx, tick)
		if settler != nil {
			if err := settler.SettleCluster(ctx, id); err != nil && !errors.Is(err, clients.ErrRateLimited) {
				tflog.Warn(ctx, "cluster setup step failed, trying again", map[string]any{"id": id, "error": err.Error()})
			}
		}
		c, err := cc.GetCluster(ctx, id)
		if err != nil {
			return false, ignoreRateLimit(err)
		}
		last = c
		prog.cluster(ctx, c, nodes, waitingFor)
		if c.Status == clients.ClusterFailed {
			return false, fmt.Errorf("the cloud reports the cluster as failed (%s)%s", c.NativeStatus, problemSuffix(c))
		}
		if c.Shortage != nil {
			// Of the capacity kind: cluster placement tries its next candidate.
			return false, c.Shortage
		}
		if c.Stalled {
			return false, fmt.Errorf("the cluster cannot finish: %s", c.Problem)
		}
		if c.Ready && len(c.Nodes) >= nodes {
			return true, nil
		}
		return false, nil
	})
	if err != nil && last != nil && ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s with %d of %d node(s) up, cluster %s%s.\nLast status of every node: %s: %w",
			prog.elapsed(), readyNodes(last), nodes, last.NativeStatus, problemSuffix(last), nodeStatuses(last, nodes), err)
	}
	return last, err
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func problemSuffix(c *clients.Cluster) string {
	if c.Problem == "" {
		return ""
	}
	return ": " + c.Problem
}

func readyNodes(c *clients.Cluster) int {
	n := 0
	for _, node := range c.Nodes {
		if node.Status == clients.StatusRunning {
			n++
		}
	}
	return n
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
	c, err := cc.GetCluster(ctx, state.ID.ValueString())
	if clients.IsNotFound(err) {
		tflog.Warn(ctx, "cluster is gone, removing it from state", map[string]any{"id": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		r.data.readError(&resp.Diagnostics, cloud.Name(), "Unable to read "+displayName(cloud.Name())+" cluster "+state.ID.ValueString(), err)
		return
	}
	flattenCluster(ctx, c, &state, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *gpuClusterResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state gpuClusterModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := plan.Timeouts.Update(ctx, defaultClusterUpdateTimeout)
	resp.Diagnostics.Append(d...)
	cloud, cc, err := r.clusterCloud(state.Cloud.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Clusters not available", err.Error())
		return
	}
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = withOperationStart(ctx)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

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
	var c *clients.Cluster
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
	var state gpuClusterModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, defaultClusterDeleteTimeout)
	resp.Diagnostics.Append(d...)
	cloud, cc, err := r.clusterCloud(state.Cloud.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Clusters not available", err.Error())
		return
	}
	if resp.Diagnostics.HasError() {
		return
	}
	ctx = withOperationStart(ctx)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	id := state.ID.ValueString()
	if err := cc.DeleteCluster(ctx, id); err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), "Unable to delete "+displayName(cloud.Name())+" cluster "+id, err)
		return
	}
	prog := newProgress(ctx)
	err = r.data.cadence(cloud.Name()).Wait(ctx, func(ctx context.Context, tick time.Time) (bool, error) {
		c, err := cc.GetCluster(clients.FreshSince(ctx, tick), id)
		if clients.IsNotFound(err) {
			return true, nil
		}
		if err == nil {
			prog.cluster(ctx, c, 0, "gone")
		}
		return false, ignoreRateLimit(err)
	})
	if err != nil {
		r.data.cloudError(&resp.Diagnostics, cloud.Name(), fmt.Sprintf("%s cluster %s did not finish deleting", displayName(cloud.Name()), id), err)
	}
}

func (r *gpuClusterResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importCloudAndID(ctx, req, resp)
}
