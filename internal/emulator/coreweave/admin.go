package coreweave

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// ClusterView is a cluster as the admin side sees it: what a test asserts on. Clusters deleted
// since the last reset stay listed with Gone set, so a test can check nothing leaked.
type ClusterView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Zone    string `json:"zone"`
	VPCID   string `json:"vpc_id"`
	Version string `json:"version"`
	Public  bool   `json:"public"`
	Status  string `json:"status"`
	// APIServerPath is the path of the cluster's Kubernetes API on this emulator ("/k8s/<id>");
	// the API's apiServerEndpoint is this behind the request's scheme and host.
	APIServerPath string    `json:"api_server_path"`
	NodePools     int       `json:"node_pools"`
	Nodes         int       `json:"nodes"`
	CreatedAt     time.Time `json:"created_at"`
	Gone          bool      `json:"gone"`
}

// VPCView is a VPC as the admin side sees it; deleted ones stay listed with Gone set.
type VPCView struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Zone        string            `json:"zone"`
	Status      string            `json:"status"`
	HostPrefix  string            `json:"host_prefix"`
	VPCPrefixes map[string]string `json:"vpc_prefixes"`
	CreatedAt   time.Time         `json:"created_at"`
	Gone        bool              `json:"gone"`
}

// NodePoolView is a node pool as the admin side sees it.
type NodePoolView struct {
	Cluster      string `json:"cluster"`
	Name         string `json:"name"`
	InstanceType string `json:"instance_type"`
	Zone         string `json:"zone"`
	ComputeClass string `json:"compute_class,omitempty"`
	TargetNodes  int    `json:"target_nodes"`
	// CurrentNodes counts Ready nodes, as status.currentNodes does.
	CurrentNodes int `json:"current_nodes"`
	// Nodes counts every Node object of the pool, Ready or not.
	Nodes              int  `json:"nodes"`
	WaitingForCapacity bool `json:"waiting_for_capacity"`
	Deleting           bool `json:"deleting"`
}

// NodeView is a node as the admin side sees it.
type NodeView struct {
	Cluster      string `json:"cluster"`
	Pool         string `json:"pool"`
	Name         string `json:"name"`
	InstanceType string `json:"instance_type"`
	Zone         string `json:"zone"`
	GPUs         int    `json:"gpus"`
	InternalIP   string `json:"internal_ip"`
	ExternalIP   string `json:"external_ip,omitempty"`
	Ready        bool   `json:"ready"`
}

// ErrNoCluster is returned by the admin methods for a cluster id the API does not show.
var ErrNoCluster = errors.New("coreweave emulator: no such cluster")

// Clusters returns every cluster created since the last reset, in creation order.
func (e *Emulator) Clusters() []ClusterView {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	out := []ClusterView{}
	for _, c := range e.sortedClusters() {
		v := ClusterView{ID: c.id, Name: c.name, Zone: c.zone.Name, VPCID: c.vpc.id, Version: c.version, Public: c.public,
			Status: c.status(now), APIServerPath: kubePathPrefix + c.id, CreatedAt: c.created, Gone: !c.visible(now)}
		if c.kube != nil {
			v.NodePools, v.Nodes = len(c.kube.pools), len(c.kube.nodes)
		}
		out = append(out, v)
	}
	return out
}

// VPCs returns every VPC created since the last reset, in creation order.
func (e *Emulator) VPCs() []VPCView {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	out := []VPCView{}
	for _, v := range e.sortedVPCs() {
		prefixes := map[string]string{}
		for _, p := range v.vpcPrefixes {
			prefixes[p.Name] = p.Value
		}
		out = append(out, VPCView{ID: v.id, Name: v.name, Zone: v.zone.Name, Status: v.status(now),
			HostPrefix: v.primaryHostPrefix().String(), VPCPrefixes: prefixes, CreatedAt: v.created, Gone: !v.visible(now)})
	}
	return out
}

// NodePools returns the node pools of every cluster whose Kubernetes side still exists, by
// cluster then creation order.
func (e *Emulator) NodePools() []NodePoolView {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.advance(e.now())
	out := []NodePoolView{}
	for _, c := range e.sortedClusters() {
		if c.kube == nil {
			continue
		}
		for _, p := range c.kube.sortedPools() {
			s := parsePoolSpec(p.spec)
			it, _ := findInstanceType(s.InstanceType)
			out = append(out, NodePoolView{Cluster: c.id, Name: p.name, InstanceType: s.InstanceType, Zone: c.zone.Name,
				ComputeClass: s.ComputeClass, TargetNodes: s.target(it), CurrentNodes: c.kube.readyNodes(p),
				Nodes: len(c.kube.poolNodes(p)), WaitingForCapacity: p.blocked, Deleting: p.deleting()})
		}
	}
	return out
}

// Nodes returns a cluster's nodes (Ready or not) sorted by name; nil for an unknown cluster.
func (e *Emulator) Nodes(clusterID string) []NodeView {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.advance(e.now())
	c := e.state.clusters[clusterID]
	if c == nil || c.kube == nil {
		return nil
	}
	out := []NodeView{}
	for _, n := range c.kube.nodes {
		v := NodeView{Cluster: c.id, Pool: n.pool, Name: n.name, InstanceType: n.typ.Name, Zone: n.zone.Name,
			GPUs: n.typ.GPUs, InternalIP: n.internalIP, Ready: n.ready()}
		if c.public {
			v.ExternalIP = n.externalIP
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FailCluster puts a cluster in STATUS_FAILED, as when CoreWeave's control plane gives up: its
// Kubernetes API server stops answering and its node pools stop changing (their nodes and
// capacity are kept until the cluster is deleted).
func (e *Emulator) FailCluster(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	c := e.visibleCluster(id, now)
	if c == nil {
		return fmt.Errorf("%w: %s", ErrNoCluster, id)
	}
	if !c.deleteRequested.IsZero() {
		return fmt.Errorf("coreweave emulator: cluster %s is already %s", id, c.status(now))
	}
	if c.failedAt.IsZero() {
		c.failedAt = now
		c.updated = now
	}
	return nil
}

// SetClusterStatus puts a cluster in any status of cks.v1beta1.Cluster.Status, as CoreWeave's
// control plane might: STATUS_FAILED, STATUS_ERROR and STATUS_UPGRADE_FAILED stop its API
// server (as FailCluster); STATUS_RUNNING ends a creation, update or failure at once;
// STATUS_CREATING, STATUS_UPDATING and STATUS_UPGRADING start that phase anew (it ends after
// its usual time); STATUS_DELETING starts a deletion and STATUS_DELETED deletes it at once
// (DeleteClusterOutOfBand).
func (e *Emulator) SetClusterStatus(id, status string) error {
	switch status {
	case ClusterStatusFailed, ClusterStatusError, ClusterStatusUpgradeFailed:
		if err := e.FailCluster(id); err != nil {
			return err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		e.state.clusters[id].failStatus = status
		return nil
	case ClusterStatusDeleted:
		return e.DeleteClusterOutOfBand(id)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	c := e.visibleCluster(id, now)
	if c == nil {
		return fmt.Errorf("%w: %s", ErrNoCluster, id)
	}
	if !c.deleteRequested.IsZero() {
		return fmt.Errorf("coreweave emulator: cluster %s is already %s", id, c.status(now))
	}
	switch status {
	case ClusterStatusRunning:
		c.failedAt, c.failStatus, c.updateUntil = time.Time{}, "", time.Time{}
		if now.Before(c.runningAt) {
			c.runningAt = now
		}
	case ClusterStatusCreating:
		c.failedAt, c.failStatus = time.Time{}, ""
		c.runningAt = now.Add(e.scaled(e.opts.ClusterCreateTime))
	case ClusterStatusUpdating, ClusterStatusUpgrading:
		c.failedAt, c.failStatus = time.Time{}, ""
		c.updateStatus, c.updateUntil = status, now.Add(e.scaled(e.opts.ClusterUpdateTime))
	case ClusterStatusDeleting:
		e.beginClusterDeletion(c, now, e.scaled(e.opts.ClusterDeleteTime))
		return nil
	default:
		return fmt.Errorf("coreweave emulator: %q is not a cluster status (STATUS_CREATING, STATUS_UPDATING, STATUS_RUNNING, "+
			"STATUS_DELETING, STATUS_DELETED, STATUS_ERROR, STATUS_FAILED, STATUS_UPGRADING, STATUS_UPGRADE_FAILED)", status)
	}
	c.updated = now
	return nil
}

func validClusterStatus(s string) bool {
	switch s {
	case ClusterStatusCreating, ClusterStatusUpdating, ClusterStatusRunning, ClusterStatusDeleting, ClusterStatusDeleted,
		ClusterStatusError, ClusterStatusFailed, ClusterStatusUpgrading, ClusterStatusUpgradeFailed:
		return true
	}
	return false
}

// DeleteClusterOutOfBand removes a cluster behind the API's back (as if deleted in the console):
// it vanishes at once (GET answers 404), with its node pools and nodes, and their capacity is
// freed.
func (e *Emulator) DeleteClusterOutOfBand(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	c := e.visibleCluster(id, now)
	if c == nil {
		return fmt.Errorf("%w: %s", ErrNoCluster, id)
	}
	if c.deleteRequested.IsZero() {
		e.beginClusterDeletion(c, now, 0)
	}
	c.goneAt = now
	return nil
}

// SetClusterQuota sets how many clusters (not being deleted) the organization may have.
func (e *Emulator) SetClusterQuota(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state.clusterQuota = max(n, 0)
}

// ClusterQuota returns the cluster quota.
func (e *Emulator) ClusterQuota() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state.clusterQuota
}

// Reset puts the emulator back to the state New gave it: no VPCs or clusters, default capacity
// and quota, call counters and faults cleared. Open watches end.
func (e *Emulator) Reset() {
	e.mu.Lock()
	e.state = e.initialState(e.state.epoch + 1)
	e.mu.Unlock()
	e.Core.Stats.Reset()
	e.Core.ClearFaults()
	e.Core.ResetRateLimits()
}

// AdminHandler serves the admin API relative to its own root (see the package comment), on top
// of emucore's /stats and /faults. It has no auth of its own: the server that mounts it decides.
func (e *Emulator) AdminHandler() http.Handler {
	mux := e.Core.AdminHandler()
	mux.HandleFunc("GET /clusters", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, e.Clusters())
	})
	clusterAction := func(action func(string) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := action(r.PathValue("id")); err != nil {
				status := http.StatusConflict
				if errors.Is(err, ErrNoCluster) {
					status = http.StatusNotFound
				}
				adminError(w, status, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}
	mux.HandleFunc("POST /clusters/{id}/fail", clusterAction(e.FailCluster))
	mux.HandleFunc("DELETE /clusters/{id}", clusterAction(e.DeleteClusterOutOfBand))
	mux.HandleFunc("POST /clusters/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Status string `json:"status"`
		}
		if !decodeAdmin(w, r, &body) {
			return
		}
		if !validClusterStatus(body.Status) {
			adminError(w, http.StatusBadRequest, fmt.Errorf(`body must be {"status": S} with S a cks.v1beta1.Cluster.Status name, not %q`, body.Status))
			return
		}
		clusterAction(func(id string) error { return e.SetClusterStatus(id, body.Status) })(w, r)
	})
	mux.HandleFunc("GET /clusters/{id}/nodes", func(w http.ResponseWriter, r *http.Request) {
		nodes := e.Nodes(r.PathValue("id"))
		if nodes == nil {
			adminError(w, http.StatusNotFound, fmt.Errorf("%w: %s", ErrNoCluster, r.PathValue("id")))
			return
		}
		emucore.WriteJSON(w, http.StatusOK, nodes)
	})
	mux.HandleFunc("GET /vpcs", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, e.VPCs())
	})
	mux.HandleFunc("GET /nodepools", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, e.NodePools())
	})
	mux.HandleFunc("GET /capacity", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, e.capacityCells())
	})
	mux.HandleFunc("PUT /capacity", func(w http.ResponseWriter, r *http.Request) {
		var c capacityCell
		if !decodeAdmin(w, r, &c) {
			return
		}
		if err := e.setCapacity(c.InstanceType, c.Zone, c.Available); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		emucore.WriteJSON(w, http.StatusOK, c)
	})
	mux.HandleFunc("GET /instance-types", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, InstanceTypes())
	})
	mux.HandleFunc("GET /quota", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, map[string]int{"clusters": e.ClusterQuota()})
	})
	mux.HandleFunc("PUT /quota", func(w http.ResponseWriter, r *http.Request) {
		var q struct {
			Clusters *int `json:"clusters"`
		}
		if !decodeAdmin(w, r, &q) {
			return
		}
		if q.Clusters == nil || *q.Clusters < 0 {
			adminError(w, http.StatusBadRequest, errors.New(`body must be {"clusters": N} with N >= 0`))
			return
		}
		e.SetClusterQuota(*q.Clusters)
		emucore.WriteJSON(w, http.StatusOK, map[string]int{"clusters": *q.Clusters})
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		e.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		adminError(w, http.StatusBadRequest, fmt.Errorf("invalid JSON body: %w", err))
		return false
	}
	return true
}

// adminError answers the admin API's own failures: plain {"error": "..."}, not a vendor format,
// so nobody mistakes them for vendor answers.
func adminError(w http.ResponseWriter, status int, err error) {
	emucore.WriteJSON(w, status, map[string]string{"error": err.Error()})
}
