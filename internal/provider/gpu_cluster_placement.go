package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// placementRequest is the cluster's request to the shared placement (placement.go): every node
// on one cloud and region; each cloud checks the plan on its own copy (its own keys, its
// resolution of the type, its cluster rules) and prices all nodes together.
func (r *gpuClusterResource) placementRequest(ctx context.Context, plan gpuClusterModel) placementRequest {
	return placementRequest{
		placement: plan.Placement, limit: plan.MaxPricePerHour, what: "cluster",
		check: func(cloud clients.Cloud) (clients.InstanceType, []string) {
			cc, ok := cloud.(clients.ClusterCloud)
			if !ok {
				return clients.InstanceType{}, []string{displayName(cloud.Name()) + " has no GPU clusters."}
			}
			var kd diag.Diagnostics
			p := onCloud(plan, cloud.Name())
			p.SSHKeyIDs = keySetOnCloud(ctx, cloud, plan.SSHKeyIDs, &kd)
			resolved, cd := checkClusterOnCloud(ctx, cloud, cc, &p)
			return resolved, errorDetails(cd)
		},
		extra: func(c placementCandidate) string {
			if why := spotRefusal(c.cloud.Name(), plan.CapacityType); why != "" {
				return why
			}
			want := plan.Interconnect
			if has := clusterInterconnect(c.cloud.Name(), c.resolved.Name); !want.IsNull() && !want.IsUnknown() && has != want.ValueString() {
				return fmt.Sprintf("a cluster of %s has %s between its nodes, not %s.", c.resolved.Name, has, want.ValueString())
			}
			return ""
		},
		price: func(cloud clients.Cloud, it clients.InstanceType) (float64, error) {
			if plan.NodeCount.IsUnknown() {
				return 0, errors.New("node_count is known only at apply")
			}
			return nodesPrice(ctx, cloud, it, int(plan.NodeCount.ValueInt64()))
		},
	}
}

// onCloud is the plan as one placement candidate sees it: only its own cloud's settings block.
func onCloud(plan gpuClusterModel, cloud string) gpuClusterModel {
	p := plan
	p.Cloud = types.StringValue(cloud)
	for _, v := range vendorBlocks {
		if v.name() != cloud {
			v.dropFromCluster(&p)
		}
	}
	return p
}

// modifyPlanPlacement checks a new cluster with a placement block: at least one listed cloud can
// take it; the others are named in a warning. The plan shows the highest price the placement
// may choose.
func (r *gpuClusterResource) modifyPlanPlacement(ctx context.Context, plan *gpuClusterModel, resp *resource.ModifyPlanResponse) {
	candidates, skipped, ok := r.data.startPlacement(ctx, plan.Region, "", plan.Placement, clusterBlocksSet(plan),
		r.placementRequest(ctx, *plan), &resp.Diagnostics)
	if !ok {
		return
	}
	if len(candidates) == 0 {
		at := path.Root("placement")
		if !plan.MaxPricePerHour.IsNull() && allAbove(skipped) {
			at = path.Root("max_price_per_hour")
		}
		resp.Diagnostics.AddAttributeError(at, "No cloud in placement can create this cluster",
			"Every listed cloud refuses it:\n  - "+strings.Join(skipped, "\n  - "))
		return
	}
	if len(skipped) > 0 {
		resp.Diagnostics.AddAttributeWarning(path.Root("placement"), "Some clouds in placement are skipped",
			"These clouds cannot create this cluster as configured and will not be tried:\n  - "+strings.Join(skipped, "\n  - "))
	}
	plan.Cloud = types.StringUnknown()
	plan.Region = types.StringUnknown()
	plan.InstanceType = types.StringUnknown()
	if plan.GPUsPerNode.IsNull() {
		plan.GPUsPerNode = types.Int64Unknown()
	}
	if same := sameType(candidates); same != nil {
		plan.InstanceType = types.StringValue(same.Name)
		plan.GPUsPerNode = types.Int64Value(int64(same.GPUCount))
	}
	if plan.Interconnect.IsUnknown() {
		if same := sameInterconnect(candidates); same != "" {
			plan.Interconnect = types.StringValue(same)
		}
	}
	plan.PricePerHour, plan.MaxPossible = plannedPrices(candidates, plan.MaxPricePerHour)
	resp.Diagnostics.Append(resp.Plan.Set(ctx, plan)...)
}

// allAbove reports whether every skipped candidate was skipped for its price.
func allAbove(skipped []string) bool {
	for _, s := range skipped {
		if !strings.Contains(s, "above max_price_per_hour") {
			return false
		}
	}
	return len(skipped) > 0
}

// sameType is the machine type every candidate resolved to, or nil when they differ.
func sameType(candidates []placementCandidate) *clients.InstanceType {
	for _, c := range candidates[1:] {
		if c.resolved != candidates[0].resolved {
			return nil
		}
	}
	return &candidates[0].resolved
}

// placedCluster is what createPlaced ends with: the cloud the cluster landed on, the cluster
// as the cloud accepted (or adopted) it, and, when createPlaced waited for it there, the last
// view of the wait and the wait's error.
type placedCluster struct {
	cloud   clients.Cloud
	cluster *clients.Cluster
	waited  bool
	ready   *clients.Cluster
	waitErr error
}

// createPlaced tries the placement candidates in turn: it creates the cluster on one and waits
// there for its nodes. A candidate that refuses for capacity or quota, in its create or during
// the wait (CoreWeave accepts a cluster whose node pool then finds no capacity), after making
// something has it deleted, and only once the cloud proves it gone is the next candidate tried:
// a deletion that cannot be confirmed stops the create with the partial cluster saved in state
// (tainted, so the next apply or destroy removes it). The id of an accepted cluster is in state
// before the wait. It returns where the cluster landed (err is the create's error there), or
// an error naming each candidate and its answer.
func (r *gpuClusterResource) createPlaced(ctx context.Context, plan *gpuClusterModel, spec clients.ClusterSpec, resp *resource.CreateResponse) (placedCluster, error) {
	candidates, skipped, cd := r.data.placementCandidates(ctx, r.placementRequest(ctx, *plan))
	if cd.HasError() {
		return placedCluster{}, errors.New(cd.Errors()[0].Detail())
	}
	// Look on every candidate cloud before creating on any: a rerun after a crash must find the
	// cluster wherever the interrupted run placed it, and continue it there.
	looked := map[string]bool{}
	for _, c := range candidates {
		f, ok := c.cloud.(clients.ClusterFinder)
		if !ok || looked[c.cloud.Name()] {
			continue
		}
		looked[c.cloud.Name()] = true
		fs := spec
		var d diag.Diagnostics
		fs.Options = clusterOptions(ctx, *plan, c.cloud.Name(), &d)
		found, err := f.FindCluster(ctx, fs)
		if err != nil {
			return placedCluster{}, fmt.Errorf("%s: looking for a cluster an interrupted apply may have left: %w", displayName(c.cloud.Name()), err)
		}
		if found != nil && found.NodeCount >= spec.NodeCount {
			// The whole cluster was asked for (RunPod records the count; a Lambda node group
			// counts its live nodes; a CKS cluster's pool, or the pool it is to get): adopt it,
			// the wait follows its nodes.
			tflog.Info(ctx, "found this cluster from an interrupted apply, adopting it", map[string]any{"cloud": c.cloud.Name(), "id": found.ID})
			return placedCluster{cloud: c.cloud, cluster: found}, nil
		}
		if found != nil {
			// Some nodes exist: the cloud's create continues where the interrupted one stopped.
			tflog.Info(ctx, "found this cluster from an interrupted apply, continuing it there", map[string]any{"cloud": c.cloud.Name(), "id": found.ID})
			var there []placementCandidate
			for _, o := range candidates {
				if o.cloud.Name() == c.cloud.Name() && (o.region == "" || o.region == found.Region) {
					there = append(there, o)
				}
			}
			if len(there) == 0 {
				o := c
				o.region = found.Region
				there = []placementCandidate{o}
			}
			candidates = there[:1]
			break
		}
	}
	out := placementOutcome{chosen: -1}
	for i, c := range candidates {
		cc, ok := c.cloud.(clients.ClusterCloud)
		if !ok {
			continue // placementRequest's check skips such a cloud
		}
		s := spec
		s.Region = c.region
		s.SSHKeyIDs = keysOnCloud(ctx, c.cloud, spec.SSHKeyIDs)
		p := onCloud(*plan, c.cloud.Name())
		var d diag.Diagnostics
		s.Options = clusterOptions(ctx, p, c.cloud.Name(), &d)
		tflog.Info(ctx, "placing cluster", map[string]any{"cloud": c.cloud.Name(), "region": c.region, "instance_type": c.resolved.Name, "nodes": s.NodeCount})
		cluster, err := cc.CreateCluster(ctx, s)
		accepted := false // the cloud accepted the cluster, then could not give it its nodes
		if err == nil {
			// Accepted: the id goes into state before the wait.
			partial := *plan
			settleBlocks(&partial, c.cloud.Name())
			warnAdopted(&resp.Diagnostics, displayName(c.cloud.Name())+" cluster "+cluster.ID, cluster.Adopted)
			flattenCluster(ctx, cluster, &partial, &resp.Diagnostics)
			resp.Diagnostics.Append(resp.State.Set(ctx, &partial)...)
			tflog.Info(ctx, "cluster accepted, waiting for its nodes", map[string]any{"cloud": c.cloud.Name(), "id": cluster.ID})
			ready, werr := waitClusterReady(ctx, r.data.cadence(c.cloud.Name()), cc, cluster.ID, s.NodeCount)
			if werr == nil || !refusedForCapacity(werr) || ctx.Err() != nil {
				*plan = partial
				out.chosen = i
				warnPlacedElsewhere(&resp.Diagnostics, "cluster", candidates, out)
				// The cluster landed here, ready or not: the wait's error is the result's.
				return placedCluster{cloud: c.cloud, cluster: cluster, waited: true, ready: ready, waitErr: werr}, nil //nolint:nilerr // werr is in the result
			}
			// The cloud accepted the cluster but cannot give it its nodes: as a refusal of
			// the create, after which the cluster is deleted.
			tflog.Info(ctx, "the cluster found no capacity while its nodes came up", map[string]any{"cloud": c.cloud.Name(), "id": cluster.ID, "error": werr.Error()})
			if ready != nil {
				cluster = ready
			}
			err, accepted = werr, true
		} else if !refusedForCapacity(err) || errors.Is(err, clients.ErrOutcomeUnknown) {
			return placedCluster{cloud: c.cloud, cluster: cluster}, err
		}
		if cluster != nil {
			// Something of this candidate exists: save it, delete it, and move on only with
			// proof that it is gone.
			partial := *plan
			settleBlocks(&partial, c.cloud.Name())
			flattenCluster(ctx, cluster, &partial, &resp.Diagnostics)
			resp.Diagnostics.Append(resp.State.Set(ctx, &partial)...)
			tflog.Info(ctx, "capacity ran out, deleting what was made on this candidate", map[string]any{"cloud": c.cloud.Name(), "id": cluster.ID, "nodes": len(cluster.Nodes)})
			if derr := deleteClusterAndWait(ctx, cc, cluster.ID); derr != nil {
				*plan = partial
				return placedCluster{cloud: c.cloud, cluster: cluster}, fmt.Errorf("%w\n\nThe cluster %s and the %d node(s) already launched on %s could not be confirmed deleted (%v), so no other cloud was tried",
					err, cluster.ID, len(cluster.Nodes), displayName(c.cloud.Name()), derr)
			}
			resp.State.RemoveResource(ctx)
			if accepted {
				err = fmt.Errorf("%w (the cluster %s and its %d node(s) were deleted)", err, cluster.ID, len(cluster.Nodes))
			} else {
				err = fmt.Errorf("%w (the %d node(s) launched were deleted)", err, len(cluster.Nodes))
			}
		}
		out.attempts = append(out.attempts, placementAttempt{candidate: c, err: err})
		if ctx.Err() != nil {
			break
		}
	}
	return placedCluster{}, placementError("cluster", out, skipped)
}

// settleBlocks records the chosen cloud, and leaves no unknown value in the settings block of a
// cloud the cluster did not land on (the block stays as configured).
func settleBlocks(plan *gpuClusterModel, cloud string) {
	plan.Cloud = types.StringValue(cloud)
	for _, v := range vendorBlocks {
		if v.name() != cloud {
			v.settleCluster(plan)
		}
	}
}

// sameInterconnect is the interconnect every candidate's cluster has, or "" when they differ.
func sameInterconnect(candidates []placementCandidate) string {
	first := clusterInterconnect(candidates[0].cloud.Name(), candidates[0].resolved.Name)
	for _, c := range candidates[1:] {
		if clusterInterconnect(c.cloud.Name(), c.resolved.Name) != first {
			return ""
		}
	}
	return first
}
