package coreweave

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// stateFormat versions the document ExportState writes; ImportState refuses any other.
const stateFormat = 1

// stateDoc is the organization's state as ExportState writes it: every VPC and cluster (deleted
// ones too), each live cluster's Kubernetes objects, controller state and watch log, the
// capacity table and the quota, with catalog entries by name and pointers by id. It is the
// emulator's own format, not a CoreWeave API shape.
type stateDoc struct {
	Format       int            `json:"format"`
	VPCs         []vpcDoc       `json:"vpcs"`
	Clusters     []clusterDoc   `json:"clusters"`
	Capacity     []capacityCell `json:"capacity"`
	ClusterQuota int            `json:"cluster_quota"`
	Seq          int64          `json:"seq"`
	ExtIPSeq     int            `json:"external_ip_seq"`
}

type vpcDoc struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Zone            string           `json:"zone"`
	VPCPrefixes     []vpcPrefixJSON  `json:"vpc_prefixes,omitempty"`
	HostPrefixes    []hostPrefixJSON `json:"host_prefixes,omitempty"`
	Ingress         *ingressJSON     `json:"ingress,omitempty"`
	Egress          *egressJSON      `json:"egress,omitempty"`
	DHCP            *dhcpJSON        `json:"dhcp,omitempty"`
	Created         time.Time        `json:"created"`
	Updated         time.Time        `json:"updated"`
	ReadyAt         time.Time        `json:"ready_at"`
	UpdateUntil     time.Time        `json:"update_until"`
	DeleteRequested time.Time        `json:"delete_requested"`
	GoneAt          time.Time        `json:"gone_at"`
	Seq             int64            `json:"seq"`
	HostSeq         int              `json:"host_seq"`
}

type clusterDoc struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Zone            string          `json:"zone"`
	VPCID           string          `json:"vpc_id"`
	Version         string          `json:"version"`
	Public          bool            `json:"public,omitempty"`
	Network         clusterNetwork  `json:"network"`
	AuditPolicy     string          `json:"audit_policy,omitempty"`
	OIDC            json.RawMessage `json:"oidc,omitempty"`
	AuthnWebhook    json.RawMessage `json:"authn_webhook,omitempty"`
	AuthzWebhook    json.RawMessage `json:"authz_webhook,omitempty"`
	Kubelet         json.RawMessage `json:"kubelet,omitempty"`
	Created         time.Time       `json:"created"`
	Updated         time.Time       `json:"updated"`
	RunningAt       time.Time       `json:"running_at"`
	UpdateUntil     time.Time       `json:"update_until"`
	UpdateStatus    string          `json:"update_status,omitempty"`
	FailedAt        time.Time       `json:"failed_at"`
	FailStatus      string          `json:"fail_status,omitempty"`
	DeleteRequested time.Time       `json:"delete_requested"`
	GoneAt          time.Time       `json:"gone_at"`
	Seq             int64           `json:"seq"`
	// Kube is the cluster's Kubernetes API state; null once its deletion was accepted.
	Kube *kubeDoc `json:"kube,omitempty"`
}

type kubeDoc struct {
	RV     uint64     `json:"resource_version"`
	Floor  uint64     `json:"event_floor"`
	Pools  []poolDoc  `json:"node_pools"`
	Nodes  []nodeDoc  `json:"nodes"`
	Events []eventDoc `json:"events"`
}

type poolDoc struct {
	Name        string            `json:"name"`
	UID         string            `json:"uid"`
	Seq         int64             `json:"seq"`
	Created     time.Time         `json:"created"`
	RV          uint64            `json:"resource_version"`
	Generation  int64             `json:"generation"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Finalizers  []string          `json:"finalizers,omitempty"`
	OwnerRefs   []any             `json:"owner_references,omitempty"`
	Spec        map[string]any    `json:"spec"`
	DeletedAt   time.Time         `json:"deleted_at"`
	Status      *poolStatus       `json:"status,omitempty"`
	ObservedGen int64             `json:"observed_generation"`
	ReconcileAt time.Time         `json:"reconcile_at"`
	DrainAt     time.Time         `json:"drain_at"`
	Inflight    *provisionDoc     `json:"inflight,omitempty"`
	Blocked     bool              `json:"blocked,omitempty"`
}

type provisionDoc struct {
	Index        int       `json:"index"`
	InstanceType string    `json:"instance_type"`
	Start        time.Time `json:"start"`
	RegisterAt   time.Time `json:"register_at"`
	ReadyAt      time.Time `json:"ready_at"`
	// Node names the registered Node object, which is among the cluster's nodes; empty until then.
	Node string `json:"node,omitempty"`
}

type nodeDoc struct {
	Name           string            `json:"name"`
	UID            string            `json:"uid"`
	Pool           string            `json:"pool"`
	Index          int               `json:"index"`
	InstanceType   string            `json:"instance_type"`
	Zone           string            `json:"zone"`
	Created        time.Time         `json:"created"`
	ReadyAt        time.Time         `json:"ready_at"`
	RV             uint64            `json:"resource_version"`
	Cordoned       bool              `json:"cordoned,omitempty"`
	Labels         map[string]string `json:"labels,omitempty"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	Taints         []taint           `json:"taints,omitempty"`
	InternalIP     string            `json:"internal_ip,omitempty"`
	ExternalIP     string            `json:"external_ip,omitempty"`
	KubeletVersion string            `json:"kubelet_version"`
	MachineID      string            `json:"machine_id"`
}

type eventDoc struct {
	RV       uint64            `json:"resource_version"`
	Type     string            `json:"type"`
	Resource string            `json:"resource"`
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels,omitempty"`
	Object   json.RawMessage   `json:"object"`
}

// ExportState returns the organization's state as JSON that ImportState reads back, in a later
// process too. Call counters, injected faults and open watches are not part of it. The same
// state always exports to the same bytes.
func (e *Emulator) ExportState() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.state
	doc := stateDoc{Format: stateFormat, VPCs: []vpcDoc{}, Clusters: []clusterDoc{}, Capacity: []capacityCell{},
		ClusterQuota: s.clusterQuota, Seq: s.seq, ExtIPSeq: s.extIPSeq}
	vpcs := slices.Collect(maps.Values(s.vpcs))
	slices.SortFunc(vpcs, func(a, b *vpc) int { return cmp.Or(cmp.Compare(a.seq, b.seq), cmp.Compare(a.id, b.id)) })
	for _, v := range vpcs {
		doc.VPCs = append(doc.VPCs, vpcDoc{
			ID: v.id, Name: v.name, Zone: v.zone.Name, VPCPrefixes: v.vpcPrefixes, HostPrefixes: v.hostPrefixes,
			Ingress: v.ingress, Egress: v.egress, DHCP: v.dhcp, Created: v.created.UTC(), Updated: v.updated.UTC(),
			ReadyAt: v.readyAt.UTC(), UpdateUntil: v.updateUntil.UTC(), DeleteRequested: v.deleteRequested.UTC(),
			GoneAt: v.goneAt.UTC(), Seq: v.seq, HostSeq: v.hostSeq,
		})
	}
	clusters := slices.Collect(maps.Values(s.clusters))
	slices.SortFunc(clusters, func(a, b *cluster) int { return cmp.Or(cmp.Compare(a.seq, b.seq), cmp.Compare(a.id, b.id)) })
	for _, c := range clusters {
		d := clusterDoc{
			ID: c.id, Name: c.name, Zone: c.zone.Name, VPCID: c.vpc.id, Version: c.version, Public: c.public,
			Network: c.network, AuditPolicy: c.auditPolicy, OIDC: c.oidc, AuthnWebhook: c.authnWebhook,
			AuthzWebhook: c.authzWebhook, Kubelet: c.kubelet, Created: c.created.UTC(), Updated: c.updated.UTC(),
			RunningAt: c.runningAt.UTC(), UpdateUntil: c.updateUntil.UTC(), UpdateStatus: c.updateStatus,
			FailedAt: c.failedAt.UTC(), FailStatus: c.failStatus, DeleteRequested: c.deleteRequested.UTC(), GoneAt: c.goneAt.UTC(), Seq: c.seq,
		}
		if c.kube != nil {
			d.Kube = exportKube(c.kube)
		}
		doc.Clusters = append(doc.Clusters, d)
	}
	for _, t := range instanceTypes {
		for _, z := range zones {
			if n, ok := s.capacity[capacityKey{t.Name, z.Name}]; ok {
				doc.Capacity = append(doc.Capacity, capacityCell{InstanceType: t.Name, Zone: z.Name, Available: n})
			}
		}
	}
	return json.Marshal(doc)
}

func exportKube(k *kubeState) *kubeDoc {
	d := &kubeDoc{RV: k.rv, Floor: k.floor, Pools: []poolDoc{}, Nodes: []nodeDoc{}, Events: []eventDoc{}}
	for _, name := range emucore.SortedKeys(k.pools) {
		p := k.pools[name]
		pd := poolDoc{
			Name: p.name, UID: p.uid, Seq: p.seq, Created: p.created.UTC(), RV: p.rv, Generation: p.generation,
			Labels: p.labels, Annotations: p.annotations, Finalizers: p.finalizers, OwnerRefs: p.ownerRefs, Spec: p.spec,
			DeletedAt: p.deletedAt.UTC(), Status: p.status, ObservedGen: p.observedGen, ReconcileAt: p.reconcileAt.UTC(),
			DrainAt: p.drainAt.UTC(), Blocked: p.blocked,
		}
		if pr := p.inflight; pr != nil {
			pd.Inflight = &provisionDoc{Index: pr.index, InstanceType: pr.typ.Name, Start: pr.start.UTC(),
				RegisterAt: pr.registerAt.UTC(), ReadyAt: pr.readyAt.UTC()}
			if pr.node != nil {
				pd.Inflight.Node = pr.node.name
			}
		}
		d.Pools = append(d.Pools, pd)
	}
	for _, name := range emucore.SortedKeys(k.nodes) {
		n := k.nodes[name]
		d.Nodes = append(d.Nodes, nodeDoc{
			Name: n.name, UID: n.uid, Pool: n.pool, Index: n.index, InstanceType: n.typ.Name, Zone: n.zone.Name,
			Created: n.created.UTC(), ReadyAt: n.readyAt.UTC(), RV: n.rv, Cordoned: n.cordoned, Labels: n.labels,
			Annotations: n.annotation, Taints: n.userTaints, InternalIP: n.internalIP, ExternalIP: n.externalIP,
			KubeletVersion: n.kubeletVersion, MachineID: n.machineID,
		})
	}
	for _, ev := range k.events {
		d.Events = append(d.Events, eventDoc{RV: ev.rv, Type: ev.typ, Resource: ev.resource, Name: ev.name,
			Labels: ev.labels, Object: ev.object})
	}
	return d
}

// ImportState replaces the organization's state with one ExportState wrote. Lifecycles and the
// NodePool controller carry on from the saved timestamps, as if the emulator had kept running.
// Open watches end. Counters and faults are left as they are. On error nothing changes.
func (e *Emulator) ImportState(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	// NodePool specs hold numbers as json.Number, as the Kubernetes handlers decode them.
	dec.UseNumber()
	var doc stateDoc
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("coreweave emulator state: %w", err)
	}
	if doc.Format != stateFormat {
		return fmt.Errorf("coreweave emulator state: format %d, this emulator reads format %d", doc.Format, stateFormat)
	}
	e.mu.Lock()
	epoch := e.state.epoch + 1
	e.mu.Unlock()
	s := e.initialState(epoch)
	s.clusterQuota, s.seq, s.extIPSeq = max(doc.ClusterQuota, 0), doc.Seq, doc.ExtIPSeq
	for _, d := range doc.VPCs {
		z, ok := findZone(d.Zone)
		if !ok {
			return fmt.Errorf("coreweave emulator state: VPC %s: unknown zone %q", d.ID, d.Zone)
		}
		s.vpcs[d.ID] = &vpc{
			id: d.ID, name: d.Name, zone: z, vpcPrefixes: d.VPCPrefixes, hostPrefixes: d.HostPrefixes,
			ingress: d.Ingress, egress: d.Egress, dhcp: d.DHCP, created: d.Created, updated: d.Updated,
			readyAt: d.ReadyAt, updateUntil: d.UpdateUntil, deleteRequested: d.DeleteRequested, goneAt: d.GoneAt,
			seq: d.Seq, hostSeq: d.HostSeq,
		}
	}
	for _, d := range doc.Clusters {
		z, ok := findZone(d.Zone)
		if !ok {
			return fmt.Errorf("coreweave emulator state: cluster %s: unknown zone %q", d.ID, d.Zone)
		}
		v := s.vpcs[d.VPCID]
		if v == nil {
			return fmt.Errorf("coreweave emulator state: cluster %s: no VPC %s", d.ID, d.VPCID)
		}
		c := &cluster{
			id: d.ID, name: d.Name, zone: z, vpc: v, version: d.Version, public: d.Public, network: d.Network,
			auditPolicy: d.AuditPolicy, oidc: d.OIDC, authnWebhook: d.AuthnWebhook, authzWebhook: d.AuthzWebhook,
			kubelet: d.Kubelet, created: d.Created, updated: d.Updated, runningAt: d.RunningAt,
			updateUntil: d.UpdateUntil, updateStatus: d.UpdateStatus, failedAt: d.FailedAt, failStatus: d.FailStatus,
			deleteRequested: d.DeleteRequested, goneAt: d.GoneAt, seq: d.Seq,
		}
		if d.Kube != nil {
			k, err := importKube(c, d.Kube)
			if err != nil {
				return fmt.Errorf("coreweave emulator state: cluster %s: %w", d.ID, err)
			}
			c.kube = k
		}
		s.clusters[c.id] = c
	}
	if doc.Capacity != nil {
		s.capacity = map[capacityKey]int{}
		for _, cell := range doc.Capacity {
			if _, ok := findInstanceType(cell.InstanceType); !ok {
				return fmt.Errorf("coreweave emulator state: capacity: unknown instance type %q", cell.InstanceType)
			}
			if _, ok := findZone(cell.Zone); !ok {
				return fmt.Errorf("coreweave emulator state: capacity: unknown zone %q", cell.Zone)
			}
			s.capacity[capacityKey{cell.InstanceType, cell.Zone}] = max(cell.Available, 0)
		}
	}
	e.mu.Lock()
	e.state = s
	e.mu.Unlock()
	return nil
}

func importKube(c *cluster, d *kubeDoc) (*kubeState, error) {
	k := newKubeState(c)
	k.rv, k.floor = d.RV, d.Floor
	for _, nd := range d.Nodes {
		it, ok := findInstanceType(nd.InstanceType)
		if !ok {
			return nil, fmt.Errorf("node %s: unknown instance type %q", nd.Name, nd.InstanceType)
		}
		z, ok := findZone(nd.Zone)
		if !ok {
			return nil, fmt.Errorf("node %s: unknown zone %q", nd.Name, nd.Zone)
		}
		k.nodes[nd.Name] = &node{
			name: nd.Name, uid: nd.UID, pool: nd.Pool, index: nd.Index, typ: it, zone: z, created: nd.Created,
			readyAt: nd.ReadyAt, rv: nd.RV, cordoned: nd.Cordoned, labels: nd.Labels, annotation: nd.Annotations,
			userTaints: nd.Taints, internalIP: nd.InternalIP, externalIP: nd.ExternalIP,
			kubeletVersion: nd.KubeletVersion, machineID: nd.MachineID,
		}
	}
	for _, pd := range d.Pools {
		p := &nodePool{
			name: pd.Name, uid: pd.UID, seq: pd.Seq, created: pd.Created, rv: pd.RV, generation: pd.Generation,
			labels: pd.Labels, annotations: pd.Annotations, finalizers: pd.Finalizers, ownerRefs: pd.OwnerRefs,
			spec: pd.Spec, deletedAt: pd.DeletedAt, status: pd.Status, observedGen: pd.ObservedGen,
			reconcileAt: pd.ReconcileAt, drainAt: pd.DrainAt, blocked: pd.Blocked,
		}
		if p.spec == nil {
			p.spec = map[string]any{}
		}
		if pr := pd.Inflight; pr != nil {
			it, ok := findInstanceType(pr.InstanceType)
			if !ok {
				return nil, fmt.Errorf("node pool %s: unknown instance type %q", pd.Name, pr.InstanceType)
			}
			p.inflight = &provision{index: pr.Index, typ: it, start: pr.Start, registerAt: pr.RegisterAt, readyAt: pr.ReadyAt}
			if pr.Node != "" {
				if p.inflight.node = k.nodes[pr.Node]; p.inflight.node == nil {
					return nil, fmt.Errorf("node pool %s: provisioning node %s is not among the nodes", pd.Name, pr.Node)
				}
			}
		}
		k.pools[p.name] = p
	}
	for _, ev := range d.Events {
		k.events = append(k.events, watchEvent{rv: ev.RV, typ: ev.Type, resource: ev.Resource, name: ev.Name,
			labels: ev.Labels, object: ev.Object})
	}
	return k, nil
}
