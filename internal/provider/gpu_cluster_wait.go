package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

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

// waitClusterGone looks, at the cloud's shared cadence, until the cloud no longer knows the
// deleted cluster.
func waitClusterGone(ctx context.Context, cad *clients.Cadence, cc clients.ClusterCloud, id string) error {
	gone := clusterGone(ctx, cc, id)
	return cad.Wait(ctx, func(ctx context.Context, tick time.Time) (bool, error) {
		return gone(clients.FreshSince(ctx, tick))
	})
}

// deleteClusterAndWait deletes a cluster and waits until the cloud no longer knows it.
func deleteClusterAndWait(ctx context.Context, cc clients.ClusterCloud, id string) error {
	if err := cc.DeleteCluster(ctx, id); err != nil {
		return err
	}
	return clients.Poll(ctx, clusterGone(ctx, cc, id))
}

// clusterGone is one look for a deleted cluster: done once the cloud does not know it, each
// status on the way logged.
func clusterGone(ctx context.Context, cc clients.ClusterCloud, id string) func(context.Context) (bool, error) {
	prog := newProgress(ctx)
	return func(ctx context.Context) (bool, error) {
		c, err := cc.GetCluster(ctx, id)
		if clients.IsNotFound(err) {
			return true, nil
		}
		if err == nil {
			prog.cluster(ctx, c, 0, "gone")
		}
		return false, ignoreRateLimit(err)
	}
}
