package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// gpuClusterModel is neocloud_gpu_cluster's state and plan.
type gpuClusterModel struct {
	gpuModel // what both GPU resources hold alike

	GPUsPerNode types.Int64 `tfsdk:"gpus_per_node"`
	NodeCount   types.Int64 `tfsdk:"node_count"`
	// Each cloud's settings block (cloud_<name>.go; one line per cloud).
	lambdaClusterField
	runpodClusterField
	coreweaveClusterField

	Problem           types.String `tfsdk:"problem"`
	Nodes             types.List   `tfsdk:"nodes"`
	HeadNodeIP        types.String `tfsdk:"head_node_ip"`
	NodePrivateIPs    types.List   `tfsdk:"node_private_ips"`
	Hostfile          types.String `tfsdk:"hostfile"`
	Interconnect      types.String `tfsdk:"interconnect"`
	APIServerEndpoint types.String `tfsdk:"api_server_endpoint"`
	Kubeconfig        types.String `tfsdk:"kubeconfig"`
}

// clusterNodeType is the object type of one element of `nodes`.
var clusterNodeType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"id":         types.StringType,
	"name":       types.StringType,
	"rank":       types.Int64Type,
	"role":       types.StringType,
	"status":     types.StringType,
	"public_ip":  types.StringType,
	"private_ip": types.StringType,
	"ssh_host":   types.StringType,
	"ssh_port":   types.Int64Type,
	"ssh_user":   types.StringType,
	"env":        types.MapType{ElemType: types.StringType},
}}

// unknownAttributes names the top-level attributes (and blocks with an unknown value inside)
// not known at plan time, so plan-time checks of the cloud skip them.
func (m gpuClusterModel) unknownAttributes() map[string]bool {
	values := map[string]attr.Value{
		"name": m.Name, "region": m.Region, "gpu_type": m.GPUType, "gpus_per_node": m.GPUsPerNode,
		"node_count": m.NodeCount, "ssh_key_ids": m.SSHKeyIDs,
	}
	for _, v := range vendorBlocks {
		v.clusterUnknowns(m, values)
	}
	return unknownNames(values)
}

// anyUnknown is an unknown value when any of vs is unknown, else a known one (for
// unknownAttributes' bookkeeping only).
func anyUnknown(vs ...attr.Value) attr.Value {
	for _, v := range vs {
		if v.IsUnknown() {
			return types.StringUnknown()
		}
	}
	return types.StringNull()
}

// expandClusterSpec turns a plan into the neutral cluster request for the plan's cloud.
func expandClusterSpec(ctx context.Context, m gpuClusterModel, diags *diag.Diagnostics) clients.ClusterSpec {
	return expandClusterSpecOn(ctx, m, m.Cloud.ValueString(), diags)
}

// expandClusterSpecOn turns a plan into the neutral cluster request for one cloud: that cloud's
// settings block becomes the spec's Options.
func expandClusterSpecOn(ctx context.Context, m gpuClusterModel, cloud string, diags *diag.Diagnostics) clients.ClusterSpec {
	spec := clients.ClusterSpec{
		Name:        m.Name.ValueString(),
		Region:      m.Region.ValueString(),
		GPUType:     m.GPUType.ValueString(),
		GPUsPerNode: int(m.GPUsPerNode.ValueInt64()),
		NodeCount:   int(m.NodeCount.ValueInt64()),
		SSHKeyIDs:   stringsFromSet(ctx, m.SSHKeyIDs, diags),
	}
	spec.Options = clusterOptions(ctx, m, cloud, diags)
	return spec
}

// flattenCluster writes what the cloud reports into the model. Settings the cloud does not
// report back keep their planned or prior value; an import fills what it can.
func flattenCluster(ctx context.Context, c *clients.Cluster, m *gpuClusterModel, diags *diag.Diagnostics) {
	// An import knows only the id: the coreweave block is filled from the cloud. Otherwise a
	// block the configuration leaves out stays out, or the apply would be inconsistent.
	importing := m.GPUType.IsNull()
	m.ID = types.StringValue(c.ID)
	m.Cloud = types.StringValue(c.Cloud)
	if c.Name != "" {
		m.Name = types.StringValue(c.Name)
	}
	m.Region = types.StringValue(c.Region)
	if m.GPUType.IsNull() || m.GPUType.IsUnknown() {
		m.GPUType = types.StringValue(neutralOr(c.GPUType, c.InstanceType))
	}
	// A cluster whose nodes are all gone (a node pool deleted outside Terraform) no longer
	// tells its node shape: keep what is known rather than planning a replacement over it.
	if c.GPUsPerNode > 0 || m.GPUsPerNode.IsNull() || m.GPUsPerNode.IsUnknown() {
		m.GPUsPerNode = types.Int64Value(int64(c.GPUsPerNode))
	}
	if c.InstanceType != "" || m.InstanceType.IsNull() || m.InstanceType.IsUnknown() {
		m.InstanceType = types.StringValue(c.InstanceType)
	}
	m.NodeCount = types.Int64Value(int64(c.NodeCount))
	if it := m.InstanceType.ValueString(); it != "" {
		m.Interconnect = types.StringValue(clusterInterconnect(c.Cloud, it))
	} else if m.Interconnect.IsUnknown() {
		m.Interconnect = types.StringNull()
	}
	m.Status = types.StringValue(c.Status)
	readCapacityType(&m.CapacityType, func(b capacityBlock) bool { return b.clusterSpot(c) })
	m.Problem = stringOrNull(c.Problem)
	m.HeadNodeIP = stringOrNull(c.HeadNodeIP)
	m.flattenPrice(c.PricePerHour)
	m.APIServerEndpoint = stringOrNull(c.APIServerEndpoint)
	if c.Kubeconfig != "" {
		m.Kubeconfig = types.StringValue(c.Kubeconfig)
	} else if m.Kubeconfig.IsUnknown() {
		m.Kubeconfig = types.StringNull()
	}
	m.flattenCreatedAt(c.CreatedAt)
	if importing && len(c.SSHKeyIDs) > 0 {
		// Generated configuration (terraform plan -generate-config-out) copies this: the
		// keys the nodes were launched with, so that the cluster it describes is valid.
		m.SSHKeyIDs = setOrNull(ctx, c.SSHKeyIDs, diags)
	} else if m.SSHKeyIDs.IsUnknown() {
		m.SSHKeyIDs = types.SetNull(types.StringType)
	}
	for _, v := range vendorBlocks {
		v.flattenCluster(ctx, c, m, importing, diags)
	}

	nodes := make([]attr.Value, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		env, d := types.MapValueFrom(ctx, types.StringType, c.LaunchEnv(n))
		diags.Append(d...)
		port := types.Int64Null()
		if n.SSHPort > 0 {
			port = types.Int64Value(int64(n.SSHPort))
		}
		obj, d := types.ObjectValue(clusterNodeType.AttrTypes, map[string]attr.Value{
			"id":         types.StringValue(n.ID),
			"name":       stringOrNull(n.Name),
			"rank":       types.Int64Value(int64(n.Rank)),
			"role":       stringOrNull(n.Role),
			"status":     types.StringValue(n.Status),
			"public_ip":  stringOrNull(n.PublicIP),
			"private_ip": stringOrNull(n.PrivateIP),
			"ssh_host":   stringOrNull(n.SSHHost),
			"ssh_port":   port,
			"ssh_user":   stringOrNull(n.SSHUser),
			"env":        env,
		})
		diags.Append(d...)
		nodes = append(nodes, obj)
	}
	list, d := types.ListValue(clusterNodeType, nodes)
	diags.Append(d...)
	m.Nodes = list

	ips := make([]attr.Value, 0, len(c.Nodes))
	for _, ip := range c.PrivateIPs() {
		ips = append(ips, stringOrNull(ip))
	}
	ipList, d := types.ListValue(types.StringType, ips)
	diags.Append(d...)
	m.NodePrivateIPs = ipList
	m.Hostfile = types.StringValue(c.Hostfile())
}
