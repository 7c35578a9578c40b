package coreweave

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// Cluster status values (cks.v1beta1.Cluster.Status names).
const (
	ClusterStatusCreating  = "STATUS_CREATING"
	ClusterStatusRunning   = "STATUS_RUNNING"
	ClusterStatusUpdating  = "STATUS_UPDATING"
	ClusterStatusUpgrading = "STATUS_UPGRADING"
	ClusterStatusDeleting  = "STATUS_DELETING"
	ClusterStatusDeleted   = "STATUS_DELETED"
	ClusterStatusFailed    = "STATUS_FAILED"
	// ClusterStatusError and ClusterStatusUpgradeFailed come, like STATUS_FAILED, only through
	// the admin API (SetClusterStatus).
	ClusterStatusError         = "STATUS_ERROR"
	ClusterStatusUpgradeFailed = "STATUS_UPGRADE_FAILED"
)

// cluster is one CKS cluster. Its status is derived from the timestamps; kube is its Kubernetes
// API state, dropped the moment the cluster's deletion is accepted.
type cluster struct {
	id, name     string
	zone         *zone
	vpc          *vpc
	version      string
	public       bool
	network      clusterNetwork
	auditPolicy  string
	oidc         json.RawMessage
	authnWebhook json.RawMessage
	authzWebhook json.RawMessage
	kubelet      json.RawMessage

	created, updated time.Time
	runningAt        time.Time // end of creation
	updateUntil      time.Time // end of the current update or upgrade
	updateStatus     string    // STATUS_UPDATING or STATUS_UPGRADING
	failedAt         time.Time // zero unless failed through the admin API
	failStatus       string    // STATUS_FAILED (when empty), STATUS_ERROR or STATUS_UPGRADE_FAILED
	deleteRequested  time.Time // zero while not deleted
	goneAt           time.Time
	seq              int64

	kube *kubeState
}

// clusterNetwork is cks.v1beta1.ClusterNetworkConfig (the IPv4 part).
type clusterNetwork struct {
	PodCidrName         string   `json:"podCidrName,omitempty"`
	ServiceCidrName     string   `json:"serviceCidrName,omitempty"`
	InternalLbCidrNames []string `json:"internalLbCidrNames,omitempty"`
}

func (n clusterNetwork) prefixNames() []string {
	return append([]string{n.PodCidrName, n.ServiceCidrName}, n.InternalLbCidrNames...)
}

func (c *cluster) status(now time.Time) string {
	switch {
	case !c.deleteRequested.IsZero():
		if now.Before(c.goneAt) {
			return ClusterStatusDeleting
		}
		return ClusterStatusDeleted
	case !c.failedAt.IsZero() && !now.Before(c.failedAt):
		if c.failStatus != "" {
			return c.failStatus
		}
		return ClusterStatusFailed
	case now.Before(c.runningAt):
		return ClusterStatusCreating
	case now.Before(c.updateUntil):
		return c.updateStatus
	default:
		return ClusterStatusRunning
	}
}

// visible reports whether the platform API still shows the cluster.
func (c *cluster) visible(now time.Time) bool { return c.goneAt.IsZero() || now.Before(c.goneAt) }

// apiUp reports whether the cluster's Kubernetes API server answers at a time: while it runs,
// including during updates and upgrades (rolling control-plane changes).
func (c *cluster) apiUp(t time.Time) bool {
	if c.kube == nil {
		return false
	}
	switch c.status(t) {
	case ClusterStatusRunning, ClusterStatusUpdating, ClusterStatusUpgrading:
		return true
	}
	return false
}

// patchVersion is the full Kubernetes version the control plane and kubelets report.
func (c *cluster) patchVersion() string {
	if i := versionIndex(c.version); i >= 0 {
		return kubeVersions[i].patch
	}
	return c.version + ".0"
}

// clusterJSON is cks.v1beta1.Cluster as protobuf JSON prints it (zero values left out).
type clusterJSON struct {
	ID                string          `json:"id,omitempty"`
	Name              string          `json:"name,omitempty"`
	Zone              string          `json:"zone,omitempty"`
	VpcID             string          `json:"vpcId,omitempty"`
	Public            bool            `json:"public,omitempty"`
	Version           string          `json:"version,omitempty"`
	Network           *clusterNetwork `json:"network,omitempty"`
	AuditPolicy       string          `json:"auditPolicy,omitempty"`
	Oidc              json.RawMessage `json:"oidc,omitempty"`
	AuthnWebhook      json.RawMessage `json:"authnWebhook,omitempty"`
	AuthzWebhook      json.RawMessage `json:"authzWebhook,omitempty"`
	Kubelet           json.RawMessage `json:"kubelet,omitempty"`
	Status            string          `json:"status,omitempty"`
	APIServerEndpoint string          `json:"apiServerEndpoint,omitempty"`
	CreatedAt         string          `json:"createdAt,omitempty"`
	UpdatedAt         string          `json:"updatedAt,omitempty"`
}

func (c *cluster) json(now time.Time, base string) clusterJSON {
	network := c.network
	return clusterJSON{
		ID: c.id, Name: c.name, Zone: c.zone.Name, VpcID: c.vpc.id, Public: c.public, Version: c.version,
		Network: &network, AuditPolicy: c.auditPolicy, Oidc: c.oidc, AuthnWebhook: c.authnWebhook,
		AuthzWebhook: c.authzWebhook, Kubelet: c.kubelet, Status: c.status(now),
		APIServerEndpoint: base + kubePathPrefix + c.id, CreatedAt: protoTime(c.created), UpdatedAt: protoTime(c.updated),
	}
}

// createClusterRequest is cks.v1beta1.CreateClusterRequest (the fields the emulator models;
// the IPv6 network names, node port range and shared storage id are accepted and ignored).
type createClusterRequest struct {
	Name         string          `json:"name"`
	Zone         string          `json:"zone"`
	VpcID        string          `json:"vpcId"`
	Version      string          `json:"version"`
	Public       bool            `json:"public"`
	Network      *clusterNetwork `json:"network"`
	AuditPolicy  string          `json:"auditPolicy"`
	Oidc         json.RawMessage `json:"oidc"`
	AuthnWebhook json.RawMessage `json:"authnWebhook"`
	AuthzWebhook json.RawMessage `json:"authzWebhook"`
	Kubelet      json.RawMessage `json:"kubelet"`
}

// updateClusterRequest is cks.v1beta1.UpdateClusterRequest; pointers and raw messages tell
// absent fields from empty ones.
type updateClusterRequest struct {
	ID          *string `json:"id"`
	Name        *string `json:"name"`
	Zone        *string `json:"zone"`
	VpcID       *string `json:"vpcId"`
	Version     *string `json:"version"`
	Public      *bool   `json:"public"`
	AuditPolicy *string `json:"auditPolicy"`
	Network     *struct {
		PodCidrName         *string   `json:"podCidrName"`
		ServiceCidrName     *string   `json:"serviceCidrName"`
		InternalLbCidrNames *[]string `json:"internalLbCidrNames"`
	} `json:"network"`
	Oidc         json.RawMessage `json:"oidc"`
	AuthnWebhook json.RawMessage `json:"authnWebhook"`
	AuthzWebhook json.RawMessage `json:"authzWebhook"`
	Kubelet      json.RawMessage `json:"kubelet"`
	UpdateMask   *string         `json:"updateMask"`
}

func (e *Emulator) sortedClusters() []*cluster {
	out := make([]*cluster, 0, len(e.state.clusters))
	for _, c := range e.state.clusters {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// visibleCluster returns the cluster the API shows under id, or nil.
func (e *Emulator) visibleCluster(id string, now time.Time) *cluster {
	c := e.state.clusters[id]
	if c == nil || !c.visible(now) {
		return nil
	}
	return c
}

func writeCluster(w http.ResponseWriter, c clusterJSON) {
	emucore.WriteJSON(w, http.StatusOK, map[string]clusterJSON{"cluster": c})
}

func (e *Emulator) listClusters(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	var items []clusterJSON
	for _, c := range e.sortedClusters() {
		if c.visible(now) {
			items = append(items, c.json(now, requestBase(r)))
		}
	}
	emucore.WriteJSON(w, http.StatusOK, struct {
		Items []clusterJSON `json:"items,omitempty"`
	}{items})
}

func (e *Emulator) getCluster(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	c := e.visibleCluster(r.PathValue("id"), now)
	if c == nil {
		writeAPIError(w, errNotFound("cluster", r.PathValue("id")))
		return
	}
	writeCluster(w, c.json(now, requestBase(r)))
}

// rawSet reports whether a raw JSON field was sent with a value other than null.
func rawSet(m json.RawMessage) bool {
	return len(m) > 0 && !bytes.Equal(bytes.TrimSpace(m), []byte("null"))
}

// rawOrNil keeps a set raw message and drops null or empty objects, as protobuf JSON would not
// print an empty message field the API stores as unset.
func rawOrNil(m json.RawMessage) json.RawMessage {
	if !rawSet(m) {
		return nil
	}
	if t := bytes.TrimSpace(m); bytes.Equal(t, []byte("{}")) {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, m); err != nil {
		return m
	}
	return buf.Bytes()
}

func (e *Emulator) createCluster(w http.ResponseWriter, r *http.Request) {
	var req createClusterRequest
	if err := decodePlatformJSON(w, r, &req, "kubelet"); err != nil {
		writeAPIError(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)

	var vs []fieldViolation
	vs = append(vs, validateName("name", req.Name)...)
	z, zoneOK := findZone(req.Zone)
	if !zoneOK {
		vs = append(vs, zoneViolation(req.Zone))
	}
	if req.VpcID == "" {
		vs = append(vs, fieldViolation{Field: "vpc_id", Description: "is required"})
	}
	vs = append(vs, versionViolations(req.Version)...)
	network := clusterNetwork{}
	if req.Network != nil {
		network = *req.Network
	}
	if network.PodCidrName == "" {
		vs = append(vs, fieldViolation{Field: "network.pod_cidr_name", Description: "is required"})
	}
	if network.ServiceCidrName == "" {
		vs = append(vs, fieldViolation{Field: "network.service_cidr_name", Description: "is required"})
	}
	if network.PodCidrName != "" && network.PodCidrName == network.ServiceCidrName {
		vs = append(vs, fieldViolation{Field: "network.service_cidr_name", Description: "must name a different VPC prefix than network.pod_cidr_name"})
	}
	for i, n := range network.InternalLbCidrNames {
		if n == "" {
			vs = append(vs, fieldViolation{Field: fmt.Sprintf("network.internal_lb_cidr_names[%d]", i), Description: "must not be empty"})
		}
	}
	if rawSet(req.Kubelet) && !isJSONObject(req.Kubelet) {
		vs = append(vs, fieldViolation{Field: "kubelet", Description: "must be a JSON object"})
	}
	if len(vs) > 0 {
		writeAPIError(w, errInvalidArgument(vs...))
		return
	}
	for _, other := range e.state.clusters {
		if other.visible(now) && other.name == req.Name {
			writeAPIError(w, errAlreadyExists("cluster", req.Name, "a cluster with this name exists in the organization (id "+other.id+")"))
			return
		}
	}
	v, pv := e.clusterVPCPreconditions(req.VpcID, z, network, now)
	if len(pv) > 0 {
		writeAPIError(w, errFailedPrecondition(pv...))
		return
	}
	live := 0
	for _, c := range e.state.clusters {
		if c.deleteRequested.IsZero() {
			live++
		}
	}
	if live >= e.state.clusterQuota {
		writeAPIError(w, errQuota("organization/clusters",
			fmt.Sprintf("the organization may have %d CKS clusters and has %d; delete one or ask CoreWeave for more", e.state.clusterQuota, live)))
		return
	}

	c := &cluster{
		id: newUUID(), name: req.Name, zone: z, vpc: v, version: req.Version, public: req.Public, network: network,
		auditPolicy: req.AuditPolicy, oidc: rawOrNil(req.Oidc), authnWebhook: rawOrNil(req.AuthnWebhook),
		authzWebhook: rawOrNil(req.AuthzWebhook), kubelet: rawOrNil(req.Kubelet),
		created: now, updated: now, runningAt: now.Add(e.scaled(e.opts.ClusterCreateTime)), seq: e.nextSeq(),
	}
	c.kube = newKubeState(c)
	e.state.clusters[c.id] = c
	writeCluster(w, c.json(now, requestBase(r)))
}

func isJSONObject(m json.RawMessage) bool {
	var obj map[string]any
	return json.Unmarshal(m, &obj) == nil && obj != nil
}

func versionViolations(v string) []fieldViolation {
	switch {
	case v == "":
		// The supported versions are named here too: the API has no call that lists them.
		return []fieldViolation{{Field: "version", Description: "is required; supported: " + strings.Join(supportedVersions(), ", ")}}
	case versionIndex(v) < 0:
		return []fieldViolation{{Field: "version", Description: fmt.Sprintf("unsupported Kubernetes version %q; supported: %s",
			v, strings.Join(supportedVersions(), ", "))}}
	}
	return nil
}

// clusterVPCPreconditions checks that a cluster can live in a VPC: it exists, is in the same
// zone, is ready, and has the prefixes the network config names.
func (e *Emulator) clusterVPCPreconditions(vpcID string, z *zone, network clusterNetwork, now time.Time) (*vpc, []preconditionViolation) {
	v := e.visibleVPC(vpcID, now)
	subject := "vpcs/" + vpcID
	if v == nil {
		return nil, []preconditionViolation{{Type: "VPC_NOT_FOUND", Subject: subject,
			Description: fmt.Sprintf("VPC %s does not exist", vpcID)}}
	}
	var pv []preconditionViolation
	if v.zone != z {
		pv = append(pv, preconditionViolation{Type: "VPC_ZONE_MISMATCH", Subject: subject,
			Description: fmt.Sprintf("VPC %s is in zone %s, not %s", vpcID, v.zone.Name, z.Name)})
	}
	if st := v.status(now); st != VPCStatusReady && st != VPCStatusUpdating {
		pv = append(pv, preconditionViolation{Type: "VPC_NOT_READY", Subject: subject,
			Description: fmt.Sprintf("VPC %s is %s; create the cluster once it is %s", vpcID, st, VPCStatusReady)})
	}
	for _, name := range network.prefixNames() {
		if !v.hasPrefix(name) {
			pv = append(pv, preconditionViolation{Type: "VPC_PREFIX_NOT_FOUND", Subject: subject,
				Description: fmt.Sprintf("VPC %s has no vpc prefix named %q", vpcID, name)})
		}
	}
	return v, pv
}

func (e *Emulator) updateCluster(w http.ResponseWriter, r *http.Request) {
	var req updateClusterRequest
	if err := decodePlatformJSON(w, r, &req, "kubelet"); err != nil {
		writeAPIError(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	id := r.PathValue("id")
	c := e.visibleCluster(id, now)
	if c == nil {
		writeAPIError(w, errNotFound("cluster", id))
		return
	}
	apply := updateMask(req.UpdateMask)

	var vs []fieldViolation
	if req.ID != nil && *req.ID != id {
		vs = append(vs, fieldViolation{Field: "id", Description: "does not match the id in the path"})
	}
	if req.Name != nil && *req.Name != c.name {
		vs = append(vs, immutable("name"))
	}
	if req.Zone != nil && *req.Zone != c.zone.Name {
		vs = append(vs, immutable("zone"))
	}
	if req.VpcID != nil && *req.VpcID != c.vpc.id {
		vs = append(vs, immutable("vpc_id"))
	}
	newVersion := c.version
	if apply("version", req.Version != nil) {
		if req.Version == nil {
			vs = append(vs, fieldViolation{Field: "version", Description: "is required when named in update_mask"})
		} else {
			newVersion = *req.Version
			vs = append(vs, versionViolations(newVersion)...)
		}
	}
	newLB := c.network.InternalLbCidrNames
	if req.Network != nil {
		if req.Network.PodCidrName != nil && *req.Network.PodCidrName != c.network.PodCidrName {
			vs = append(vs, immutable("network.pod_cidr_name"))
		}
		if req.Network.ServiceCidrName != nil && *req.Network.ServiceCidrName != c.network.ServiceCidrName {
			vs = append(vs, immutable("network.service_cidr_name"))
		}
	}
	if apply("network", req.Network != nil && req.Network.InternalLbCidrNames != nil) && req.Network != nil && req.Network.InternalLbCidrNames != nil {
		newLB = *req.Network.InternalLbCidrNames
		for _, old := range c.network.InternalLbCidrNames {
			if !contains(newLB, old) {
				vs = append(vs, fieldViolation{Field: "network.internal_lb_cidr_names",
					Description: fmt.Sprintf("is append-only: %q cannot be removed", old)})
			}
		}
	}
	if rawSet(req.Kubelet) && !isJSONObject(req.Kubelet) {
		vs = append(vs, fieldViolation{Field: "kubelet", Description: "must be a JSON object"})
	}
	if len(vs) > 0 {
		writeAPIError(w, errInvalidArgument(vs...))
		return
	}
	if st := c.status(now); st != ClusterStatusRunning {
		writeAPIError(w, errFailedPrecondition(preconditionViolation{Type: "CLUSTER_STATE", Subject: "clusters/" + id,
			Description: fmt.Sprintf("cluster %s is %s; it can be updated once it is %s", id, st, ClusterStatusRunning)}))
		return
	}
	if newVersion != c.version {
		from, to := versionIndex(c.version), versionIndex(newVersion)
		switch {
		case to < from:
			writeAPIError(w, errFailedPrecondition(preconditionViolation{Type: "VERSION_DOWNGRADE", Subject: "clusters/" + id,
				Description: fmt.Sprintf("cannot downgrade cluster %s from %s to %s", id, c.version, newVersion)}))
			return
		case to > from+1:
			writeAPIError(w, errFailedPrecondition(preconditionViolation{Type: "VERSION_SKEW", Subject: "clusters/" + id,
				Description: fmt.Sprintf("cluster %s runs %s; upgrade one minor version at a time (next: %s)", id, c.version, kubeVersions[from+1].minor)}))
			return
		}
	}
	var pv []preconditionViolation
	for _, name := range newLB {
		if !c.vpc.hasPrefix(name) {
			pv = append(pv, preconditionViolation{Type: "VPC_PREFIX_NOT_FOUND", Subject: "vpcs/" + c.vpc.id,
				Description: fmt.Sprintf("VPC %s has no vpc prefix named %q", c.vpc.id, name)})
		}
	}
	if len(pv) > 0 {
		writeAPIError(w, errFailedPrecondition(pv...))
		return
	}

	changed := false
	setRaw := func(field string, in json.RawMessage, dst *json.RawMessage) {
		if apply(field, len(in) > 0) {
			if v := rawOrNil(in); !bytes.Equal(v, *dst) {
				*dst, changed = v, true
			}
		}
	}
	if apply("public", req.Public != nil) {
		p := req.Public != nil && *req.Public
		if p != c.public {
			c.public, changed = p, true
		}
	}
	if apply("auditPolicy", req.AuditPolicy != nil) {
		a := ""
		if req.AuditPolicy != nil {
			a = *req.AuditPolicy
		}
		if a != c.auditPolicy {
			c.auditPolicy, changed = a, true
		}
	}
	if !sameJSON(newLB, c.network.InternalLbCidrNames) {
		c.network.InternalLbCidrNames, changed = append([]string(nil), newLB...), true
	}
	setRaw("oidc", req.Oidc, &c.oidc)
	setRaw("authnWebhook", req.AuthnWebhook, &c.authnWebhook)
	setRaw("authzWebhook", req.AuthzWebhook, &c.authzWebhook)
	setRaw("kubelet", req.Kubelet, &c.kubelet)
	upgrade := newVersion != c.version
	if upgrade {
		c.version, changed = newVersion, true
	}
	if changed {
		c.updated = now
		c.updateUntil = now.Add(e.scaled(e.opts.ClusterUpdateTime))
		c.updateStatus = ClusterStatusUpdating
		if upgrade {
			c.updateStatus = ClusterStatusUpgrading
		}
	}
	writeCluster(w, c.json(now, requestBase(r)))
}

func (e *Emulator) deleteCluster(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	id := r.PathValue("id")
	c := e.visibleCluster(id, now)
	if c == nil {
		writeAPIError(w, errNotFound("cluster", id))
		return
	}
	if c.deleteRequested.IsZero() {
		e.beginClusterDeletion(c, now, e.scaled(e.opts.ClusterDeleteTime))
	}
	writeCluster(w, c.json(now, requestBase(r)))
}

// beginClusterDeletion marks a cluster deleting (gone after linger) and tears down its
// Kubernetes side at once: node pools and nodes vanish and their capacity is freed.
func (e *Emulator) beginClusterDeletion(c *cluster, now time.Time, linger time.Duration) {
	c.deleteRequested = now
	c.updated = now
	c.goneAt = now.Add(linger)
	if c.kube != nil {
		c.kube.teardown(e)
		c.kube = nil
	}
	e.kick(now)
}

// sameJSON compares two values by their JSON encoding.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
