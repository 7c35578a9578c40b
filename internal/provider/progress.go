package provider

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// A CoreWeave cluster takes 45 minutes and a Lambda machine several; Terraform shows only
// "Still creating...". Every wait logs each status change of each machine and node at INFO,
// with the time since the operation began, so that `TF_LOG_PROVIDER=INFO terraform apply`
// shows where it stands; nothing is logged while nothing changes.

type operationStartKey struct{}

// withOperationStart marks when a create, update or delete began (once: an inner call keeps
// the outer start), for the elapsed times of its progress log.
func withOperationStart(ctx context.Context) context.Context {
	if _, ok := ctx.Value(operationStartKey{}).(time.Time); ok {
		return ctx
	}
	return context.WithValue(ctx, operationStartKey{}, time.Now())
}

// operationStart is when the operation of ctx began, or now when none was marked.
func operationStart(ctx context.Context) time.Time {
	if t, ok := ctx.Value(operationStartKey{}).(time.Time); ok {
		return t
	}
	return time.Now()
}

// elapsedString is a duration as a person reads it in a log: whole seconds, finer below ten.
func elapsedString(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(time.Second).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

// progress remembers the last status seen of each thing one wait watches and logs changes.
type progress struct {
	start time.Time
	last  map[string]string
}

func newProgress(ctx context.Context) *progress {
	return &progress{start: operationStart(ctx), last: map[string]string{}}
}

// changed records status under key and reports whether it differs from the last one seen.
func (p *progress) changed(key, status string) bool {
	if prev, seen := p.last[key]; seen && prev == status {
		return false
	}
	p.last[key] = status
	return true
}

func (p *progress) elapsed() string { return elapsedString(time.Since(p.start)) }

// instance logs a machine's status when it changed since the last look.
func (p *progress) instance(ctx context.Context, inst *clients.Instance, waitingFor string) {
	status := instanceStatusText(inst)
	if !p.changed("instance", status) {
		return
	}
	tflog.Info(ctx, fmt.Sprintf("%s instance %s is %s, %s after the start (waiting until it is %s)",
		displayName(inst.Cloud), inst.ID, status, p.elapsed(), waitingFor), map[string]any{
		"cloud": inst.Cloud, "id": inst.ID, "status": inst.Status, "native_status": inst.NativeStatus,
		"elapsed": p.elapsed(), "waiting_for": waitingFor,
	})
}

// instanceStatusText is "pending (booting)", "running, reachable", ...
func instanceStatusText(inst *clients.Instance) string {
	s := inst.Status
	if inst.NativeStatus != "" && inst.NativeStatus != inst.Status {
		s += " (" + inst.NativeStatus + ")"
	}
	if inst.Status == clients.StatusRunning {
		if inst.Ready {
			s += ", reachable"
		} else {
			s += ", not reachable yet"
		}
	}
	return s
}

// cluster logs the cluster's status and each node's when they changed since the last look,
// and each node that went away; want is the number of nodes asked for (0: not waiting for
// nodes, as in a delete).
func (p *progress) cluster(ctx context.Context, c *clients.Cluster, want int, waitingFor string) {
	name := displayName(c.Cloud) + " cluster " + c.ID
	status := fmt.Sprintf("%s (%s), %d of %d node(s) up", c.Status, c.NativeStatus, readyNodes(c), max(want, len(c.Nodes)))
	if c.Problem != "" {
		status += ": " + c.Problem
	}
	if p.changed("cluster", status) {
		tflog.Info(ctx, fmt.Sprintf("%s is %s, %s after the start (waiting until it is %s)", name, status, p.elapsed(), waitingFor), map[string]any{
			"cloud": c.Cloud, "id": c.ID, "status": c.Status, "native_status": c.NativeStatus, "nodes_up": readyNodes(c),
			"nodes": want, "problem": c.Problem, "elapsed": p.elapsed(), "waiting_for": waitingFor,
		})
	}
	present := map[string]bool{}
	for _, n := range c.Nodes {
		key := "node " + n.ID
		present[key] = true
		if !p.changed(key, nodeStatusText(n)) {
			continue
		}
		tflog.Info(ctx, fmt.Sprintf("%s node %d (%s) is %s, %s after the start", name, n.Rank, nodeLabel(n), nodeStatusText(n), p.elapsed()), map[string]any{
			"cloud": c.Cloud, "cluster": c.ID, "node": n.ID, "node_name": n.Name, "rank": n.Rank, "status": n.Status,
			"private_ip": n.PrivateIP, "elapsed": p.elapsed(),
		})
	}
	for _, key := range slices.Sorted(maps.Keys(p.last)) {
		if strings.HasPrefix(key, "node ") && !present[key] && p.last[key] != "gone" {
			p.last[key] = "gone"
			tflog.Info(ctx, fmt.Sprintf("%s node %s is gone, %s after the start", name, strings.TrimPrefix(key, "node "), p.elapsed()), map[string]any{
				"cloud": c.Cloud, "cluster": c.ID, "node": strings.TrimPrefix(key, "node "), "status": "gone", "elapsed": p.elapsed(),
			})
		}
	}
}

// nodeLabel names a node by its name and id.
func nodeLabel(n clients.ClusterNode) string {
	if n.Name == "" || n.Name == n.ID {
		return n.ID
	}
	return n.Name + ", " + n.ID
}

// nodeStatusText is a node's status and whether it has its private address yet.
func nodeStatusText(n clients.ClusterNode) string {
	if n.PrivateIP == "" {
		return n.Status + ", no private address yet"
	}
	return n.Status + " at " + n.PrivateIP
}

// nodeStatuses lists the last status of every node, and the ranks not seen at all, for a
// timeout error: "rank 0 (pretrain-0, i-1): running at 10.0.0.5; rank 1 (...): pending, no
// private address yet; rank 2: no node yet".
func nodeStatuses(c *clients.Cluster, want int) string {
	var parts []string
	seen := map[int]bool{}
	for _, n := range c.Nodes {
		seen[n.Rank] = true
		parts = append(parts, fmt.Sprintf("rank %d (%s): %s", n.Rank, nodeLabel(n), nodeStatusText(n)))
	}
	for r := range want {
		if !seen[r] {
			parts = append(parts, fmt.Sprintf("rank %d: no node yet", r))
		}
	}
	if len(parts) == 0 {
		return "no node exists yet"
	}
	return strings.Join(parts, "; ")
}
