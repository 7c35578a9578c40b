package coreweave

import (
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Kubernetes wire types: the NodePool custom resource and the few fields of core/v1 Node the
// adapter reads. They are small structs of our own rather than k8s.io/api types: the NodePool
// has no published Go types, and importing k8s.io/api/core/v1 for five Node fields would
// pull its whole API into the binary. Objects cross client-go's dynamic client as
// unstructured maps and are converted through JSON (toUnstructured, fromUnstructured).

// NodePool API coordinates.
const (
	NodePoolGroup    = "compute.coreweave.com"
	NodePoolVersion  = "v1alpha1"
	NodePoolResource = "nodepools"
	NodePoolKind     = "NodePool"
)

var (
	nodePoolGVR = schema.GroupVersionResource{Group: NodePoolGroup, Version: NodePoolVersion, Resource: NodePoolResource}
	nodeGVR     = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
)

// Labels CoreWeave puts on the nodes of a pool.
const (
	// LabelNodePool names the NodePool a node belongs to.
	LabelNodePool = "compute.coreweave.com/node-pool"
	// LabelInstanceType is the node's instance type.
	LabelInstanceType = "node.kubernetes.io/instance-type"
)

// Compute classes: the neutral spellings (InstanceOptions.ComputeClass, ClusterOptions.ComputeClass). On the wire
// NodePoolSpec.ComputeClass is "default" or "Spot", as the notes show it.
const (
	ComputeClassDefault  = "default"
	ComputeClassSpot     = "spot"
	wireComputeClassSpot = "Spot"
)

// ObjectMeta is the part of metav1.ObjectMeta the adapter uses.
type ObjectMeta struct {
	Name              string            `json:"name"`
	UID               string            `json:"uid,omitempty"`
	ResourceVersion   string            `json:"resourceVersion,omitempty"`
	Generation        int64             `json:"generation,omitempty"`
	CreationTimestamp *time.Time        `json:"creationTimestamp,omitempty"`
	DeletionTimestamp *time.Time        `json:"deletionTimestamp,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	Annotations       map[string]string `json:"annotations,omitempty"`
}

// NodePool is compute.coreweave.com/v1alpha1 NodePool, cluster-scoped.
type NodePool struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   ObjectMeta      `json:"metadata"`
	Spec       NodePoolSpec    `json:"spec"`
	Status     *NodePoolStatus `json:"status,omitempty"`
}

// NodePoolSpec is what a pool should be. InstanceType and ComputeClass are immutable.
type NodePoolSpec struct {
	InstanceType string `json:"instanceType"`
	// TargetNodes is sent also when 0 (a pool scaled to nothing), hence no omitempty.
	TargetNodes     int               `json:"targetNodes"`
	TargetRacks     *int              `json:"targetRacks,omitempty"`
	MinNodes        *int              `json:"minNodes,omitempty"`
	MaxNodes        *int              `json:"maxNodes,omitempty"`
	Autoscaling     bool              `json:"autoscaling,omitempty"`
	ComputeClass    string            `json:"computeClass,omitempty"`
	NodeLabels      map[string]string `json:"nodeLabels,omitempty"`
	NodeAnnotations map[string]string `json:"nodeAnnotations,omitempty"`
	NodeTaints      []Taint           `json:"nodeTaints,omitempty"`
}

// Taint is a core/v1 taint put on a pool's nodes.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

// NodePoolStatus is what the NodePool controller reports.
type NodePoolStatus struct {
	CurrentNodes int         `json:"currentNodes"`
	Conditions   []Condition `json:"conditions,omitempty"`
}

// Condition is a metav1.Condition. CoreWeave does not publish its NodePool condition types;
// the adapter reads any condition that is False with a capacity-sounding reason or message
// as the pool's problem (see poolProblem).
type Condition struct {
	Type               string     `json:"type"`
	Status             string     `json:"status"`
	ObservedGeneration int64      `json:"observedGeneration,omitempty"`
	LastTransitionTime *time.Time `json:"lastTransitionTime,omitempty"`
	Reason             string     `json:"reason,omitempty"`
	Message            string     `json:"message,omitempty"`
}

// Node is the part of a core/v1 Node the adapter reads.
type Node struct {
	Metadata ObjectMeta `json:"metadata"`
	Spec     struct {
		Unschedulable bool   `json:"unschedulable,omitempty"`
		ProviderID    string `json:"providerID,omitempty"`
	} `json:"spec"`
	Status struct {
		Addresses  []NodeAddress `json:"addresses,omitempty"`
		Conditions []Condition   `json:"conditions,omitempty"`
	} `json:"status"`
}

// NodeAddress is one of a node's addresses (types InternalIP, ExternalIP, Hostname).
type NodeAddress struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

// Address returns the node's first address of a type ("" when it has none).
func (n Node) Address(typ string) string {
	for _, a := range n.Status.Addresses {
		if a.Type == typ && a.Address != "" {
			return a.Address
		}
	}
	return ""
}

// Ready reports whether the node's Ready condition is True.
func (n Node) Ready() bool {
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// toUnstructured turns a typed object into the map the dynamic client sends.
func toUnstructured(v any) (*unstructured.Unstructured, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// fromUnstructured decodes what the dynamic client returned into a typed object.
func fromUnstructured(u *unstructured.Unstructured, out any) error {
	if u == nil {
		return fmt.Errorf("empty object")
	}
	b, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
