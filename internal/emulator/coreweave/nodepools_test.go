package coreweave

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// testPool is a NodePool as a client decodes it (independent of the emulator's types).
type testPool struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name              string            `json:"name"`
		UID               string            `json:"uid"`
		ResourceVersion   string            `json:"resourceVersion"`
		Generation        int64             `json:"generation"`
		CreationTimestamp string            `json:"creationTimestamp"`
		DeletionTimestamp string            `json:"deletionTimestamp"`
		Finalizers        []string          `json:"finalizers"`
		Labels            map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec   map[string]any `json:"spec"`
	Status *struct {
		CurrentNodes int `json:"currentNodes"`
		Conditions   []struct {
			Type               string `json:"type"`
			Status             string `json:"status"`
			ObservedGeneration int64  `json:"observedGeneration"`
			LastTransitionTime string `json:"lastTransitionTime"`
			Reason             string `json:"reason"`
			Message            string `json:"message"`
		} `json:"conditions"`
	} `json:"status"`
}

// condition returns a condition's status and reason ("" when absent).
func (p testPool) condition(typ string) (string, string) {
	if p.Status == nil {
		return "", ""
	}
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return c.Status, c.Reason
		}
	}
	return "", ""
}

// testNode is a Node as a client decodes it.
type testNode struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Metadata   struct {
		Name            string            `json:"name"`
		ResourceVersion string            `json:"resourceVersion"`
		Labels          map[string]string `json:"labels"`
		Annotations     map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		Unschedulable bool `json:"unschedulable"`
		Taints        []struct {
			Key    string `json:"key"`
			Value  string `json:"value"`
			Effect string `json:"effect"`
		} `json:"taints"`
	} `json:"spec"`
	Status struct {
		Capacity   map[string]string `json:"capacity"`
		Conditions []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"conditions"`
		Addresses []struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"addresses"`
	} `json:"status"`
}

func (n testNode) ready() bool {
	for _, c := range n.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

func (n testNode) address(typ string) string {
	for _, a := range n.Status.Addresses {
		if a.Type == typ {
			return a.Address
		}
	}
	return ""
}

type testList[T any] struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Metadata   struct {
		ResourceVersion    string `json:"resourceVersion"`
		Continue           string `json:"continue"`
		RemainingItemCount *int   `json:"remainingItemCount"`
	} `json:"metadata"`
	Items []T `json:"items"`
}

func poolManifest(name, instanceType string, target int) map[string]any {
	return map[string]any{
		"apiVersion": "compute.coreweave.com/v1alpha1", "kind": "NodePool",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"instanceType": instanceType, "targetNodes": target},
	}
}

func (c *client) pool(clusterID, name string) testPool {
	c.t.Helper()
	var p testPool
	c.ok(200, "GET", poolPath(clusterID, name), nil, &p)
	return p
}

func (c *client) poolNodes(clusterID, pool string) []testNode {
	c.t.Helper()
	var l testList[testNode]
	c.ok(200, "GET", kpath(clusterID, "/api/v1/nodes?labelSelector="+url.QueryEscape("compute.coreweave.com/node-pool="+pool)), nil, &l)
	return l.Items
}

func (c *client) mergePatch(path string, patch any) response {
	c.t.Helper()
	return c.request("PATCH", path, patch, map[string]string{"Content-Type": "application/merge-patch+json"})
}

func TestNodePoolNodesAppearOneByOne(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "gpu", true)
	free := e.Capacity("gd-8xh100ib-i128", zone4A)

	var created testPool
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("h100", "gd-8xh100ib-i128", 3), &created)
	m := created.Metadata
	if created.APIVersion != computeGV || created.Kind != "NodePool" || m.Name != "h100" || m.UID == "" || m.ResourceVersion == "" ||
		m.Generation != 1 || m.CreationTimestamp == "" || created.Status != nil || created.Spec["targetNodes"] != float64(3) {
		t.Fatalf("created: %+v", created)
	}
	if nodes := c.poolNodes(cl.ID, "h100"); len(nodes) != 0 {
		t.Fatalf("nodes before the controller ran: %d", len(nodes))
	}

	clk.Advance(controllerLag)
	p := c.pool(cl.ID, "h100")
	if p.Status == nil || p.Status.CurrentNodes != 0 || len(p.Metadata.Finalizers) != 1 || p.Metadata.ResourceVersion == m.ResourceVersion {
		t.Fatalf("after the controller saw it: %+v", p)
	}
	if st, _ := p.condition(CondValidated); st != "True" {
		t.Errorf("Validated %s", st)
	}
	if st, reason := p.condition(CondAtTarget); st != "False" || reason != "ScalingUp" {
		t.Errorf("AtTarget %s/%s", st, reason)
	}

	join := DefaultNodeJoinTime
	clk.Advance(join * 8 / 10)
	nodes := c.poolNodes(cl.ID, "h100")
	if len(nodes) != 1 || nodes[0].ready() || !strings.Contains(fmt.Sprint(nodes[0].Spec.Taints), "node.kubernetes.io/not-ready") {
		t.Fatalf("a registered, not yet ready node expected: %+v", nodes)
	}
	for i := 1; i <= 3; i++ {
		clk.Advance(join * 2 / 10)
		nodes = c.poolNodes(cl.ID, "h100")
		ready := 0
		for _, n := range nodes {
			if n.ready() {
				ready++
			}
		}
		if ready != i {
			t.Fatalf("step %d: %d ready nodes of %d", i, ready, len(nodes))
		}
		if got := c.pool(cl.ID, "h100").Status.CurrentNodes; got != i {
			t.Fatalf("step %d: currentNodes %d", i, got)
		}
		clk.Advance(join * 8 / 10)
	}
	p = c.pool(cl.ID, "h100")
	if st, reason := p.condition(CondAtTarget); st != "True" || reason != "AtTarget" || p.Status.CurrentNodes != 3 {
		t.Fatalf("at target: %+v", p.Status)
	}
	if e.Capacity("gd-8xh100ib-i128", zone4A) != free-3 {
		t.Fatalf("capacity not taken: %d of %d", e.Capacity("gd-8xh100ib-i128", zone4A), free)
	}

	host := netip.MustParsePrefix("10.16.192.0/18")
	var list testList[testNode]
	c.ok(200, "GET", kpath(cl.ID, "/api/v1/nodes?labelSelector="+url.QueryEscape("compute.coreweave.com/node-pool in (h100),node.kubernetes.io/instance-type=gd-8xh100ib-i128")), nil, &list)
	if list.Kind != "NodeList" || list.APIVersion != "v1" || list.Metadata.ResourceVersion == "" || len(list.Items) != 3 {
		t.Fatalf("node list: %+v", list)
	}
	seenIPs := map[string]bool{}
	for i, n := range list.Items {
		if n.Kind != "" {
			t.Errorf("list items carry no kind, as for built-in types; got %q", n.Kind)
		}
		if !strings.HasPrefix(n.Metadata.Name, "g") || !strings.HasSuffix(n.Metadata.Name, fmt.Sprintf("-h100-%d", i)) {
			t.Errorf("node name %q", n.Metadata.Name)
		}
		l := n.Metadata.Labels
		if l[LabelNodePool] != "h100" || l[LabelInstanceType] != "gd-8xh100ib-i128" || l[LabelZone] != zone4A || l["kubernetes.io/hostname"] != n.Metadata.Name {
			t.Errorf("labels %v", l)
		}
		ip, err := netip.ParseAddr(n.address("InternalIP"))
		if err != nil || !host.Contains(ip) || seenIPs[ip.String()] {
			t.Errorf("InternalIP %q not a fresh address of the VPC's host prefix", n.address("InternalIP"))
		}
		seenIPs[ip.String()] = true
		if n.address("ExternalIP") == "" || n.address("Hostname") != n.Metadata.Name {
			t.Errorf("a public cluster's node needs ExternalIP and Hostname: %+v", n.Status.Addresses)
		}
		if !n.ready() || n.Status.Capacity["nvidia.com/gpu"] != "8" || n.Status.Capacity["cpu"] != "128" {
			t.Errorf("node status %+v", n.Status)
		}
	}
	var one testNode
	c.ok(200, "GET", kpath(cl.ID, "/api/v1/nodes/"+list.Items[0].Metadata.Name), nil, &one)
	if one.Kind != "Node" || one.APIVersion != "v1" {
		t.Errorf("single node: kind %q apiVersion %q", one.Kind, one.APIVersion)
	}
	if views := e.Nodes(cl.ID); len(views) != 3 || !views[0].Ready || views[0].GPUs != 8 {
		t.Errorf("admin nodes: %+v", views)
	}
}

func TestPrivateClusterNodesHaveNoExternalIP(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "private", false)
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("a100", "gd-8xa100-i128", 1), nil)
	clk.Advance(controllerLag + DefaultNodeJoinTime)
	nodes := c.poolNodes(cl.ID, "a100")
	if len(nodes) != 1 || nodes[0].address("InternalIP") == "" || nodes[0].address("ExternalIP") != "" {
		t.Fatalf("private node addresses: %+v", nodes)
	}
}

func TestNodePoolScaleWithMergePatch(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "scale", false)
	free := e.Capacity("gd-8xh100ib-i128", zone4A)
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("p", "gd-8xh100ib-i128", 2), nil)
	clk.Advance(controllerLag + 2*DefaultNodeJoinTime)
	before := c.pool(cl.ID, "p")
	if before.Status.CurrentNodes != 2 {
		t.Fatalf("currentNodes %d, want 2", before.Status.CurrentNodes)
	}

	res := c.mergePatch(poolPath(cl.ID, "p"), map[string]any{"spec": map[string]any{"targetNodes": 4,
		"nodeLabels": map[string]string{"team": "research"}}})
	var patched testPool
	res.decode(t, &patched)
	if res.status != 200 || patched.Spec["targetNodes"] != float64(4) || patched.Metadata.Generation != 2 ||
		patched.Metadata.ResourceVersion == before.Metadata.ResourceVersion {
		t.Fatalf("merge patch to 4: %d %s", res.status, res.body)
	}
	clk.Advance(controllerLag + 2*DefaultNodeJoinTime)
	nodes := c.poolNodes(cl.ID, "p")
	if len(nodes) != 4 || c.pool(cl.ID, "p").Status.CurrentNodes != 4 {
		t.Fatalf("after scaling to 4: %d nodes", len(nodes))
	}
	for _, n := range nodes {
		if n.Metadata.Labels["team"] != "research" {
			t.Errorf("nodeLabels not on %s: %v", n.Metadata.Name, n.Metadata.Labels)
		}
	}
	highest := nodes[3].Metadata.Name

	c.mergePatch(poolPath(cl.ID, "p"), map[string]any{"spec": map[string]any{"targetNodes": 3}})
	clk.Advance(controllerLag)
	nodes = c.poolNodes(cl.ID, "p")
	if len(nodes) != 3 {
		t.Fatalf("after scaling to 3: %d nodes", len(nodes))
	}
	for _, n := range nodes {
		if n.Metadata.Name == highest {
			t.Fatalf("scale down kept the highest-numbered node %s", highest)
		}
	}
	p := c.pool(cl.ID, "p")
	if st, _ := p.condition(CondAtTarget); st != "True" || p.Status.CurrentNodes != 3 {
		t.Fatalf("after scale down: %+v", p.Status)
	}
	if got := e.Capacity("gd-8xh100ib-i128", zone4A); got != free-3 {
		t.Fatalf("capacity %d, want %d", got, free-3)
	}
	c.kubeStatusErr("GET", kpath(cl.ID, "/api/v1/nodes/"+highest), nil, nil, 404, "NotFound")
}

func TestNodePoolImmutableFields(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "immut", false)
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("p", "gd-8xh100ib-i128", 1), nil)
	s := c.kubeStatusErr("PATCH", poolPath(cl.ID, "p"), map[string]any{"spec": map[string]any{"instanceType": "gd-8xa100-i128"}},
		map[string]string{"Content-Type": "application/merge-patch+json"}, 422, "Invalid")
	if s.Details == nil || s.Details.Kind != "NodePool" || s.Details.Group != computeGroup || s.Details.Name != "p" ||
		len(s.Details.Causes) != 1 || s.Details.Causes[0].Field != "spec.instanceType" || s.Details.Causes[0].Reason != "FieldValueInvalid" {
		t.Fatalf("immutable instanceType: %+v", s)
	}
	if !strings.HasPrefix(s.Message, `NodePool.compute.coreweave.com "p" is invalid: spec.instanceType: Invalid value: "gd-8xa100-i128": field is immutable`) {
		t.Errorf("message %q", s.Message)
	}
	// Through PUT too, and for computeClass.
	p := c.pool(cl.ID, "p")
	p.Spec["computeClass"] = "spot"
	s = c.kubeStatusErr("PUT", poolPath(cl.ID, "p"), p, nil, 422, "Invalid")
	if s.Details.Causes[0].Field != "spec.computeClass" {
		t.Errorf("computeClass causes: %+v", s.Details.Causes)
	}
}

func TestNodePoolStatusErrors(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "errs", false)

	s := c.kubeStatusErr("GET", poolPath(cl.ID, "nope"), nil, nil, 404, "NotFound")
	if s.Message != `nodepools.compute.coreweave.com "nope" not found` || s.Details.Name != "nope" ||
		s.Details.Group != computeGroup || s.Details.Kind != "nodepools" {
		t.Fatalf("404: %+v", s)
	}
	s = c.kubeStatusErr("GET", kpath(cl.ID, "/api/v1/nodes/nope"), nil, nil, 404, "NotFound")
	if s.Message != `nodes "nope" not found` || s.Details.Kind != "nodes" || s.Details.Group != "" {
		t.Fatalf("node 404: %+v", s)
	}
	c.kubeStatusErr("DELETE", poolPath(cl.ID, "nope"), nil, nil, 404, "NotFound")
	c.kubeStatusErr("PATCH", poolPath(cl.ID, "nope"), map[string]any{}, map[string]string{"Content-Type": "application/merge-patch+json"}, 404, "NotFound")

	var created testPool
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("p", "gd-8xh100ib-i128", 1), &created)
	s = c.kubeStatusErr("POST", poolsPath(cl.ID), poolManifest("p", "gd-8xh100ib-i128", 1), nil, 409, "AlreadyExists")
	if s.Message != `nodepools.compute.coreweave.com "p" already exists` || s.Details.Kind != "nodepools" {
		t.Fatalf("409: %+v", s)
	}

	// Optimistic concurrency: the controller has written status since, so the create's
	// resourceVersion is stale.
	clk.Advance(controllerLag)
	stale := created
	stale.Spec["targetNodes"] = 2
	s = c.kubeStatusErr("PUT", poolPath(cl.ID, "p"), stale, nil, 409, "Conflict")
	if !strings.Contains(s.Message, "the object has been modified") || s.Details.Kind != "nodepools" {
		t.Fatalf("conflict: %+v", s)
	}
	noRV := stale
	noRV.Metadata.ResourceVersion = ""
	s = c.kubeStatusErr("PUT", poolPath(cl.ID, "p"), noRV, nil, 422, "Invalid")
	if s.Details.Causes[0].Field != "metadata.resourceVersion" {
		t.Fatalf("PUT without resourceVersion: %+v", s)
	}
	fresh := c.pool(cl.ID, "p")
	fresh.Spec["targetNodes"] = 2
	var updated testPool
	c.ok(200, "PUT", poolPath(cl.ID, "p"), fresh, &updated)
	if updated.Metadata.Generation != 2 || updated.Spec["targetNodes"] != float64(2) {
		t.Fatalf("PUT: %+v", updated)
	}
	// A merge patch carrying a stale resourceVersion is conditional too.
	c.kubeStatusErr("PATCH", poolPath(cl.ID, "p"), map[string]any{"metadata": map[string]any{"resourceVersion": fresh.Metadata.ResourceVersion}},
		map[string]string{"Content-Type": "application/merge-patch+json"}, 409, "Conflict")

	// Validation: unknown instance type, bad values, bad names.
	s = c.kubeStatusErr("POST", poolsPath(cl.ID), poolManifest("q", "gd-99xh900-i1", 1), nil, 422, "Invalid")
	if s.Details.Causes[0].Reason != "FieldValueNotSupported" || s.Details.Causes[0].Field != "spec.instanceType" {
		t.Fatalf("unknown instance type: %+v", s)
	}
	s = c.kubeStatusErr("POST", poolsPath(cl.ID), poolManifest("q", "gd-8xh100ib-i128", -1), nil, 422, "Invalid")
	if s.Details.Causes[0].Field != "spec.targetNodes" {
		t.Fatalf("negative targetNodes: %+v", s)
	}
	bad := poolManifest("q", "gd-8xh100ib-i128", 1)
	bad["spec"].(map[string]any)["targetNodes"] = "two" //nolint:forcetypeassert // test fixture
	s = c.kubeStatusErr("POST", poolsPath(cl.ID), bad, nil, 422, "Invalid")
	if s.Details.Causes[0].Reason != "FieldValueTypeInvalid" || !strings.Contains(s.Message, "must be of type integer") {
		t.Fatalf("string targetNodes: %+v", s)
	}
	c.kubeStatusErr("POST", poolsPath(cl.ID), poolManifest("Bad_Name", "gd-8xh100ib-i128", 1), nil, 422, "Invalid")
	c.kubeStatusErr("POST", poolsPath(cl.ID), map[string]any{"apiVersion": computeGV, "kind": "NodePool", "metadata": map[string]any{"name": "q"}}, nil, 422, "Invalid")
	rack := poolManifest("q", "gd-8xh100ib-i128", 0)
	rack["spec"] = map[string]any{"instanceType": "gd-8xh100ib-i128", "targetRacks": 1}
	c.kubeStatusErr("POST", poolsPath(cl.ID), rack, nil, 422, "Invalid")
	auto := poolManifest("q", "gd-8xh100ib-i128", 0)
	auto["spec"] = map[string]any{"instanceType": "gd-8xh100ib-i128", "autoscaling": true, "minNodes": 1}
	c.kubeStatusErr("POST", poolsPath(cl.ID), auto, nil, 422, "Invalid")

	// Malformed requests.
	c.kubeStatusErr("POST", poolsPath(cl.ID), map[string]any{"metadata": map[string]any{"name": "q"}}, nil, 400, "BadRequest")
	c.kubeStatusErr("POST", poolsPath(cl.ID), "{not json", nil, 400, "BadRequest")
	c.kubeStatusErr("POST", poolsPath(cl.ID), poolManifest("q", "gd-8xh100ib-i128", 1), map[string]string{"Content-Type": "text/plain"}, 415, "UnsupportedMediaType")
	c.kubeStatusErr("PUT", poolPath(cl.ID, "p"), poolManifest("other", "gd-8xh100ib-i128", 1), nil, 400, "BadRequest")
	c.kubeStatusErr("PATCH", poolPath(cl.ID, "p"), map[string]any{}, map[string]string{"Content-Type": "application/strategic-merge-patch+json"}, 415, "UnsupportedMediaType")
	c.kubeStatusErr("GET", poolsPath(cl.ID), nil, map[string]string{"Accept": "application/vnd.kubernetes.protobuf"}, 406, "NotAcceptable")
}

func TestNodePoolCapacityShortfall(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "short", false)
	e.SetCapacity("gd-8xh200ib-i128", zone4A, 2)
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("h200", "gd-8xh200ib-i128", 4), nil)
	clk.Advance(controllerLag + 10*DefaultNodeJoinTime)
	p := c.pool(cl.ID, "h200")
	st, reason := p.condition(CondCapacityAvailable)
	if p.Status.CurrentNodes != 2 || st != "False" || reason != ReasonInsufficientCapacity {
		t.Fatalf("short of capacity: %+v", p.Status)
	}
	if st, _ := p.condition(CondAtTarget); st != "False" {
		t.Fatalf("AtTarget %s while short", st)
	}
	if views := e.NodePools(); len(views) != 1 || !views[0].WaitingForCapacity || views[0].CurrentNodes != 2 || views[0].TargetNodes != 4 {
		t.Fatalf("admin view: %+v", views)
	}
	// Capacity comes back: the pool resumes from that moment.
	e.SetCapacity("gd-8xh200ib-i128", zone4A, 5)
	clk.Advance(2 * DefaultNodeJoinTime)
	p = c.pool(cl.ID, "h200")
	if st, _ := p.condition(CondCapacityAvailable); st != "True" || p.Status.CurrentNodes != 4 {
		t.Fatalf("after capacity returned: %+v", p.Status)
	}
	if got := e.Capacity("gd-8xh200ib-i128", zone4A); got != 3 {
		t.Fatalf("capacity left %d, want 3", got)
	}
	// A type with no capacity in the zone at all waits from the start.
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("b200", "gd-8xb200ib-i128", 1), nil)
	clk.Advance(controllerLag)
	if _, reason := c.pool(cl.ID, "b200").condition(CondCapacityAvailable); reason != ReasonInsufficientCapacity {
		t.Fatalf("no B200 in %s, reason %q", zone4A, reason)
	}
}

func TestNodePoolDelete(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "del", false)
	free := e.Capacity("gd-8xl40s-i128", zone4A)

	// Deleted before the controller put its finalizer on: gone at once, with a Success Status.
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("quick", "gd-8xl40s-i128", 1), nil)
	var st statusBody
	c.ok(200, "DELETE", poolPath(cl.ID, "quick"), nil, &st)
	if st.Kind != "Status" || st.Status != "Success" || st.Details == nil || st.Details.Name != "quick" || st.Details.UID == "" {
		t.Fatalf("immediate delete: %+v", st)
	}
	c.kubeStatusErr("GET", poolPath(cl.ID, "quick"), nil, nil, 404, "NotFound")

	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("p", "gd-8xl40s-i128", 2), nil)
	clk.Advance(controllerLag + 2*DefaultNodeJoinTime)
	var deleting testPool
	c.ok(200, "DELETE", poolPath(cl.ID, "p"), nil, &deleting)
	if deleting.Metadata.DeletionTimestamp == "" || len(deleting.Metadata.Finalizers) != 1 {
		t.Fatalf("graceful delete: %+v", deleting.Metadata)
	}
	c.ok(200, "DELETE", poolPath(cl.ID, "p"), nil, nil)
	clk.Advance(controllerLag)
	p := c.pool(cl.ID, "p")
	if st, reason := p.condition(CondAtTarget); st != "False" || reason != "Deleting" {
		t.Fatalf("deleting pool status: %+v", p.Status)
	}
	for _, n := range c.poolNodes(cl.ID, "p") {
		if !n.Spec.Unschedulable {
			t.Errorf("node %s not cordoned while draining", n.Metadata.Name)
		}
	}
	clk.Advance(DefaultNodeDrainTime)
	c.kubeStatusErr("GET", poolPath(cl.ID, "p"), nil, nil, 404, "NotFound")
	if nodes := c.poolNodes(cl.ID, "p"); len(nodes) != 0 {
		t.Fatalf("nodes outlive their pool: %d", len(nodes))
	}
	if got := e.Capacity("gd-8xl40s-i128", zone4A); got != free {
		t.Fatalf("capacity %d, want %d back", got, free)
	}

	// Preconditions on DELETE.
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("pre", "gd-8xl40s-i128", 0), nil)
	c.kubeStatusErr("DELETE", poolPath(cl.ID, "pre"), map[string]any{"preconditions": map[string]any{"uid": "not-the-uid"}}, nil, 409, "Conflict")
}

func TestNodePoolJSONPatch(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "jp", false)
	c.ok(201, "POST", poolsPath(cl.ID), poolManifest("p", "gd-8xa100-i128", 1), nil)
	jp := map[string]string{"Content-Type": "application/json-patch+json"}
	res := c.request("PATCH", poolPath(cl.ID, "p"), `[{"op":"test","path":"/spec/targetNodes","value":1},{"op":"replace","path":"/spec/targetNodes","value":2},{"op":"add","path":"/metadata/labels","value":{"tier":"a"}}]`, jp)
	var p testPool
	res.decode(t, &p)
	if res.status != 200 || p.Spec["targetNodes"] != float64(2) || p.Metadata.Labels["tier"] != "a" {
		t.Fatalf("json patch: %d %s", res.status, res.body)
	}
	c.kubeStatusErr("PATCH", poolPath(cl.ID, "p"), `[{"op":"test","path":"/spec/targetNodes","value":7}]`, jp, 422, "Invalid")
	c.kubeStatusErr("PATCH", poolPath(cl.ID, "p"), `[{"op":"remove","path":"/spec/nope"}]`, jp, 422, "Invalid")
	c.kubeStatusErr("PATCH", poolPath(cl.ID, "p"), `{"op":"replace"}`, jp, 400, "BadRequest")
	c.kubeStatusErr("PATCH", poolPath(cl.ID, "p"), `[{"op":"replace","path":"/spec/instanceType","value":"gd-8xh100ib-i128"}]`, jp, 422, "Invalid")
}

func TestNodePoolApplyPatch(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "ssa", false)
	apply := map[string]string{"Content-Type": "application/apply-patch+yaml"}
	c.kubeStatusErr("PATCH", poolPath(cl.ID, "p"), poolManifest("p", "gd-8xa100-i128", 1), apply, 422, "Invalid")
	res := c.request("PATCH", poolPath(cl.ID, "p")+"?fieldManager=tf", poolManifest("p", "gd-8xa100-i128", 1), apply)
	if res.status != 201 {
		t.Fatalf("apply of a missing pool creates it: %d %s", res.status, res.body)
	}
	res = c.request("PATCH", poolPath(cl.ID, "p")+"?fieldManager=tf", poolManifest("p", "gd-8xa100-i128", 2), apply)
	var p testPool
	res.decode(t, &p)
	if res.status != 200 || p.Spec["targetNodes"] != float64(2) {
		t.Fatalf("apply update: %d %s", res.status, res.body)
	}
}

func TestNodePoolFieldValidationAndDryRun(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "fv", false)
	body := poolManifest("p", "gd-8xa100-i128", 1)
	body["spec"].(map[string]any)["bogus"] = true //nolint:forcetypeassert // test fixture
	s := c.kubeStatusErr("POST", poolsPath(cl.ID)+"?fieldValidation=Strict", body, nil, 400, "BadRequest")
	if !strings.Contains(s.Message, `strict decoding error: unknown field "spec.bogus"`) {
		t.Fatalf("strict: %s", s.Message)
	}
	// Dry run: validated and answered, not stored.
	c.ok(201, "POST", poolsPath(cl.ID)+"?dryRun=All", body, nil)
	c.kubeStatusErr("GET", poolPath(cl.ID, "p"), nil, nil, 404, "NotFound")
	// Default (Warn): accepted, the unknown field pruned, a Warning header sent.
	res := c.ok(201, "POST", poolsPath(cl.ID), body, nil)
	if w := res.header.Get("Warning"); !strings.Contains(w, `unknown field \"spec.bogus\"`) {
		t.Errorf("Warning header %q", w)
	}
	if p := c.pool(cl.ID, "p"); p.Spec["bogus"] != nil {
		t.Errorf("unknown field kept: %v", p.Spec)
	}
	// generateName.
	gen := poolManifest("", "gd-8xa100-i128", 0)
	gen["metadata"] = map[string]any{"generateName": "gen-"}
	var created testPool
	c.ok(201, "POST", poolsPath(cl.ID), gen, &created)
	if !strings.HasPrefix(created.Metadata.Name, "gen-") || len(created.Metadata.Name) != len("gen-")+5 {
		t.Errorf("generated name %q", created.Metadata.Name)
	}
}
