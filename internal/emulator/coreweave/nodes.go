package coreweave

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Nodes: the core/v1 objects a NodePool's machines appear as. Read-only through the API.

// Labels the emulated nodes carry.
const (
	LabelNodePool     = "compute.coreweave.com/node-pool"
	LabelInstanceType = "node.kubernetes.io/instance-type"
	LabelZone         = "topology.kubernetes.io/zone"
	LabelRegion       = "topology.kubernetes.io/region"
)

// node is one Node object.
type node struct {
	name, uid  string
	pool       string
	index      int
	typ        *instanceType
	zone       *zone
	created    time.Time // registration
	readyAt    time.Time // zero until Ready
	rv         uint64
	cordoned   bool
	labels     map[string]string
	annotation map[string]string
	userTaints []taint

	internalIP, externalIP string
	kubeletVersion         string
	machineID              string
}

// taint is core/v1 Taint.
type taint struct {
	Key       string `json:"key"`
	Value     string `json:"value,omitempty"`
	Effect    string `json:"effect"`
	TimeAdded string `json:"timeAdded,omitempty"`
}

func (n *node) ready() bool { return !n.readyAt.IsZero() }

// newNode builds the Node a provisioning node registers as.
func (e *Emulator) newNode(c *cluster, p *nodePool, index int, it *instanceType, t time.Time) *node {
	name := fmt.Sprintf("%s-%s-%d", c.kube.nodePrefix, p.name, index)
	sum := sha256.Sum256([]byte(c.id + "/" + name + "/" + t.String()))
	n := &node{
		name: name, uid: newUUID(), pool: p.name, index: index, typ: it, zone: c.zone, created: t,
		internalIP: c.vpc.nextHostIP(), externalIP: e.nextExternalIP(), kubeletVersion: c.patchVersion(),
		machineID: hex.EncodeToString(sum[:16]),
	}
	n.applyConfig(c, p, parsePoolSpec(p.spec))
	return n
}

// nextExternalIP hands out a public-looking address (fake; nothing listens there).
func (e *Emulator) nextExternalIP() string {
	e.state.extIPSeq++
	s := e.state.extIPSeq
	return fmt.Sprintf("166.19.%d.%d", (s/250)%256, 1+s%250)
}

// applyConfig sets the labels, annotations and taints the pool's spec gives its nodes; it
// reports a change. System labels win over nodeLabels with the same key.
func (n *node) applyConfig(c *cluster, p *nodePool, s poolSpec) bool {
	labels := map[string]string{}
	for k, v := range s.NodeLabels {
		labels[k] = v
	}
	for k, v := range map[string]string{
		LabelNodePool: p.name, LabelInstanceType: n.typ.Name, LabelZone: c.zone.Name, LabelRegion: c.zone.Region,
		"kubernetes.io/hostname": n.name, "kubernetes.io/arch": n.typ.Arch, "kubernetes.io/os": "linux",
	} {
		labels[k] = v
	}
	var annotations map[string]string
	if len(s.NodeAnnotations) > 0 {
		annotations = map[string]string{}
		for k, v := range s.NodeAnnotations {
			annotations[k] = v
		}
	}
	taints := append([]taint(nil), s.NodeTaints...)
	if sameJSON(labels, n.labels) && sameJSON(annotations, n.annotation) && sameJSON(taints, n.userTaints) {
		return false
	}
	n.labels, n.annotation, n.userTaints = labels, annotations, taints
	return true
}

// fieldSet is what a field selector can match on a node.
func (n *node) fieldSet() map[string]string {
	return map[string]string{"metadata.name": n.name, "metadata.namespace": "", "spec.unschedulable": strconv.FormatBool(n.cordoned)}
}

type nodeJSON struct {
	Kind       string         `json:"kind,omitempty"`
	APIVersion string         `json:"apiVersion,omitempty"`
	Metadata   nodeMetaJSON   `json:"metadata"`
	Spec       nodeSpecJSON   `json:"spec"`
	Status     nodeStatusJSON `json:"status"`
}

type nodeMetaJSON struct {
	Name              string            `json:"name"`
	UID               string            `json:"uid"`
	ResourceVersion   string            `json:"resourceVersion"`
	CreationTimestamp string            `json:"creationTimestamp"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
}

type nodeSpecJSON struct {
	ProviderID    string  `json:"providerID,omitempty"`
	Unschedulable bool    `json:"unschedulable,omitempty"`
	Taints        []taint `json:"taints,omitempty"`
}

type nodeStatusJSON struct {
	Capacity    map[string]string   `json:"capacity"`
	Allocatable map[string]string   `json:"allocatable"`
	Conditions  []nodeConditionJSON `json:"conditions"`
	Addresses   []nodeAddressJSON   `json:"addresses"`
	NodeInfo    nodeInfoJSON        `json:"nodeInfo"`
}

type nodeConditionJSON struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	LastHeartbeatTime  string `json:"lastHeartbeatTime"`
	LastTransitionTime string `json:"lastTransitionTime"`
	Reason             string `json:"reason"`
	Message            string `json:"message"`
}

type nodeAddressJSON struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

type nodeInfoJSON struct {
	MachineID               string `json:"machineID"`
	SystemUUID              string `json:"systemUUID"`
	BootID                  string `json:"bootID"`
	KernelVersion           string `json:"kernelVersion"`
	OSImage                 string `json:"osImage"`
	ContainerRuntimeVersion string `json:"containerRuntimeVersion"`
	KubeletVersion          string `json:"kubeletVersion"`
	KubeProxyVersion        string `json:"kubeProxyVersion"`
	OperatingSystem         string `json:"operatingSystem"`
	Architecture            string `json:"architecture"`
}

// render is the Node as the API shows it; withType adds kind and apiVersion (single GETs and
// watch events carry them, list items do not).
func (n *node) render(c *cluster, withType bool) []byte {
	heartbeat := n.created
	if n.ready() {
		heartbeat = n.readyAt
	}
	annotations := map[string]string{
		"node.alpha.kubernetes.io/ttl":                           "0",
		"volumes.kubernetes.io/controller-managed-attach-detach": "true",
	}
	for k, v := range n.annotation {
		annotations[k] = v
	}
	taints := append([]taint(nil), n.userTaints...)
	if !n.ready() {
		taints = append(taints, taint{Key: "node.kubernetes.io/not-ready", Effect: "NoSchedule"})
	}
	if n.cordoned {
		taints = append(taints, taint{Key: "node.kubernetes.io/unschedulable", Effect: "NoSchedule", TimeAdded: kubeTime(heartbeat)})
	}
	capacity := map[string]string{
		"cpu": strconv.Itoa(n.typ.VCPUs), "memory": fmt.Sprintf("%dKi", n.typ.MemoryGiB*1024*1024),
		"ephemeral-storage": "7501312000Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "pods": "110",
	}
	allocatable := map[string]string{
		"cpu": fmt.Sprintf("%dm", n.typ.VCPUs*1000-1500), "memory": fmt.Sprintf("%dKi", n.typ.MemoryGiB*1024*1024*95/100),
		"ephemeral-storage": "6913297632Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "pods": "110",
	}
	if n.typ.GPUs > 0 {
		capacity["nvidia.com/gpu"] = strconv.Itoa(n.typ.GPUs)
		allocatable["nvidia.com/gpu"] = strconv.Itoa(n.typ.GPUs)
	}
	if n.typ.InfiniBand {
		capacity["rdma/ib"], allocatable["rdma/ib"] = "1k", "1k"
	}
	ready := nodeConditionJSON{Type: "Ready", Status: "False", LastHeartbeatTime: kubeTime(heartbeat),
		LastTransitionTime: kubeTime(n.created), Reason: "KubeletNotReady",
		Message: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"}
	if n.ready() {
		ready = nodeConditionJSON{Type: "Ready", Status: "True", LastHeartbeatTime: kubeTime(heartbeat),
			LastTransitionTime: kubeTime(n.readyAt), Reason: "KubeletReady", Message: "kubelet is posting ready status"}
	}
	pressure := func(typ, reason, msg string) nodeConditionJSON {
		return nodeConditionJSON{Type: typ, Status: "False", LastHeartbeatTime: kubeTime(heartbeat),
			LastTransitionTime: kubeTime(n.created), Reason: reason, Message: msg}
	}
	addresses := []nodeAddressJSON{{Type: "InternalIP", Address: n.internalIP}}
	if c.public {
		addresses = append(addresses, nodeAddressJSON{Type: "ExternalIP", Address: n.externalIP})
	}
	addresses = append(addresses, nodeAddressJSON{Type: "Hostname", Address: n.name})
	out := nodeJSON{
		Metadata: nodeMetaJSON{Name: n.name, UID: n.uid, ResourceVersion: formatRV(n.rv), CreationTimestamp: kubeTime(n.created),
			Labels: n.labels, Annotations: annotations},
		Spec: nodeSpecJSON{ProviderID: "coreweave://" + n.zone.Name + "/" + n.name, Unschedulable: n.cordoned, Taints: taints},
		Status: nodeStatusJSON{
			Capacity: capacity, Allocatable: allocatable,
			Conditions: []nodeConditionJSON{
				pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
				pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
				pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
				ready,
			},
			Addresses: addresses,
			NodeInfo: nodeInfoJSON{MachineID: n.machineID, SystemUUID: n.uid, BootID: n.machineID[:8] + "-" + n.uid[9:],
				KernelVersion: "6.8.0-60-generic", OSImage: "Ubuntu 22.04.5 LTS", ContainerRuntimeVersion: "containerd://1.7.27",
				KubeletVersion: n.kubeletVersion, KubeProxyVersion: n.kubeletVersion, OperatingSystem: "linux", Architecture: n.typ.Arch},
		},
	}
	if withType {
		out.Kind, out.APIVersion = "Node", "v1"
	}
	b, _ := json.Marshal(out)
	return b
}

// saveNode gives a node a new resourceVersion and logs the change for watchers.
func (k *kubeState) saveNode(n *node, typ string) {
	n.rv = k.bump()
	k.record(typ, resNodes, n.name, n.labels, n.render(k.c, true), n.rv)
}

// dropNode removes a Node object and logs its deletion.
func (k *kubeState) dropNode(n *node) {
	n.rv = k.bump()
	k.record("DELETED", resNodes, n.name, n.labels, n.render(k.c, true), n.rv)
	delete(k.nodes, n.name)
}

func getNode(kr *kubeReq) {
	n := kr.k.nodes[nameFromPath(kr.r)]
	if n == nil {
		writeStatus(kr.w, statusNotFound(grNodes, nameFromPath(kr.r)))
		return
	}
	writeRaw(kr.w, http.StatusOK, n.render(kr.c, true))
}
