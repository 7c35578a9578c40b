package coreweave

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// The tests talk to an httptest server that plays both CoreWeave APIs, written here from
// CoreWeave's CKS and networking API reference (and the Kubernetes API conventions) as literal JSON maps:
// they never reuse the package's wire structs, so a wrong field name in the client cannot be
// mirrored by the test.
//
//   - platform API: /v1beta1/cks/clusters[/{id}], /v1beta1/networking/vpcs[/{id}], Connect errors;
//   - each cluster's Kubernetes API under /k8s/{cluster id}/ (its apiServerEndpoint): NodePools
//     and Nodes, metav1.Status errors, 503 while the cluster is not running.

const testToken = "CW-SECRET-test-token"

// fakeCW is the shared harness with both APIs' routes and their state.
type fakeCW struct {
	*apifake.Server

	mu       sync.Mutex
	seq      int
	clusters map[string]map[string]any
	vpcs     map[string]map[string]any
	pools    map[string]map[string]map[string]any // cluster id -> pool name -> object
	nodes    map[string][]map[string]any          // cluster id -> nodes
	// vpcReadyAfter is how many GETs a new VPC answers STATUS_CREATING before STATUS_READY.
	vpcReadyAfter int
	vpcGets       map[string]int
	// clusterGoneAfter is how many GETs a deleting cluster answers STATUS_DELETING before 404.
	clusterGoneAfter int
	clusterGets      map[string]int
	// vpcInUseRefusals is how many times deleting a VPC is refused as in use after its
	// cluster is gone (CoreWeave takes a moment to notice).
	vpcInUseRefusals int
	// before runs first for every request; returning true means it answered.
	before func(w http.ResponseWriter, r *http.Request, body []byte) bool
}

func newFake(t *testing.T) *fakeCW {
	t.Helper()
	f := &fakeCW{
		clusters: map[string]map[string]any{}, vpcs: map[string]map[string]any{},
		pools: map[string]map[string]map[string]any{}, nodes: map[string][]map[string]any{},
		vpcGets: map[string]int{}, clusterGets: map[string]int{}, clusterGoneAfter: 1,
	}
	f.Server = apifake.New(t, apifake.Config{Front: connectFront})
	f.Before(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		f.mu.Lock()
		before := f.before
		f.mu.Unlock()
		if before != nil && before(w, r, body) {
			return true
		}
		if r.Header.Get("Authorization") == "Bearer "+testToken {
			return false
		}
		if strings.HasPrefix(r.URL.Path, "/k8s/") {
			kubeStatus(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized", nil)
		} else {
			connectErr(w, http.StatusUnauthorized, "unauthenticated", "missing or invalid API access token", nil)
		}
		return true
	})
	clusters, vpcs := f.clusterCollection(), f.vpcCollection()
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /v1beta1/cks/clusters":                    f.list(clusters),
		"POST /v1beta1/cks/clusters":                   f.create(clusters),
		"GET /v1beta1/cks/clusters/{id}":               f.get(clusters),
		"DELETE /v1beta1/cks/clusters/{id}":            f.remove(clusters),
		"GET /v1beta1/networking/vpcs":                 f.list(vpcs),
		"POST /v1beta1/networking/vpcs":                f.create(vpcs),
		"GET /v1beta1/networking/vpcs/{id}":            f.get(vpcs),
		"DELETE /v1beta1/networking/vpcs/{id}":         f.remove(vpcs),
		"GET " + poolsPath("{cluster}"):                f.kube(f.listPools),
		"POST " + poolsPath("{cluster}"):               f.kube(f.createPool),
		"GET " + poolsPath("{cluster}") + "/{name}":    f.kube(f.getPool),
		"PATCH " + poolsPath("{cluster}") + "/{name}":  f.kube(f.patchPool),
		"DELETE " + poolsPath("{cluster}") + "/{name}": f.kube(f.deletePool),
		"GET /k8s/{cluster}/api/v1/nodes":              f.kube(f.listNodes),
		"/": func(w http.ResponseWriter, r *http.Request) {
			connectErr(w, http.StatusNotFound, "unimplemented", "no such endpoint: "+r.Method+" "+r.URL.Path, nil)
		},
	} {
		f.HandlePattern(pattern, h)
	}
	return f
}

// newFakeCloud is a fake and a Cloud against it (newTestCloud).
func newFakeCloud(t *testing.T) (*fakeCW, *Cloud) {
	t.Helper()
	f := newFake(t)
	return f, newTestCloud(t, f)
}

// newTestCloud builds a Cloud against the fake without rate limits, with short waits and
// retry budget.
func newTestCloud(t *testing.T, f *fakeCW) *Cloud {
	t.Helper()
	c, err := NewWithOptions(clients.Settings{APIKey: testToken, Endpoint: f.URL(), UserAgent: apifake.UserAgent},
		WithRateLimiter(apifake.Unlimited()),
		WithKubeRate(1000, 1000),
		withHTTP(nil, 2*time.Millisecond, 10*time.Millisecond),
		withRetryBudget(apifake.RetryBudget),
		WithAdoptionWindow(300*time.Millisecond, 10*time.Millisecond),
		WithPolling(2*time.Millisecond, 10*time.Millisecond),
	)
	if err != nil {
		t.Fatal(err)
	}
	// Every read looks afresh, so tests can change the fake between reads; TestReadsShareListCalls
	// covers the snapshots.
	c.clusterTTL, c.kubeTTL = 0, 0
	return c
}

// kubeDown makes every cluster's Kubernetes API answer 503 with message (the platform may
// still say the cluster runs).
func (f *fakeCW) kubeDown(message string) {
	f.before = func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if strings.HasPrefix(r.URL.Path, "/k8s/") {
			kubeStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable", message, nil)
			return true
		}
		return false
	}
}

func poolsPath(clusterID string) string {
	return "/k8s/" + clusterID + "/apis/compute.coreweave.com/v1alpha1/nodepools"
}

// ---------------------------------------------------------------------------------------------
// State set-up.

func (f *fakeCW) nextID(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s-%04d", prefix, f.seq)
}

// addVPC stores a ready VPC as the API would show it.
func (f *fakeCW) addVPC(id, name, zone string, prefixes ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ps []any
	for _, p := range prefixes {
		n, v, _ := strings.Cut(p, "=")
		ps = append(ps, map[string]any{"name": n, "value": v})
	}
	f.vpcs[id] = map[string]any{
		"id": id, "name": name, "zone": zone, "status": "STATUS_READY", "vpcPrefixes": ps,
		"hostPrefixes": []any{map[string]any{"name": "primary", "type": "PRIMARY", "prefixes": []any{"10.0.0.0/16"}}},
		"createdAt":    "2026-01-02T03:04:05Z",
	}
}

// addCluster stores a cluster as the API would show it.
func (f *fakeCW) addCluster(id, name, zone, vpcID, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clusters[id] = map[string]any{
		"id": id, "name": name, "zone": zone, "vpcId": vpcID, "version": "v1.35", "status": status,
		"network":           map[string]any{"podCidrName": "pod-cidr", "serviceCidrName": "service-cidr"},
		"apiServerEndpoint": f.URL() + "/k8s/" + id,
		"createdAt":         "2026-01-02T03:04:05Z", "updatedAt": "2026-01-02T03:04:05Z",
	}
}

func (f *fakeCW) setClusterStatus(id, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clusters[id]["status"] = status
}

// addPool stores a NodePool object.
func (f *fakeCW) addPool(clusterID string, obj map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pools[clusterID] == nil {
		f.pools[clusterID] = map[string]map[string]any{}
	}
	meta := jsonObj(obj, "metadata")
	if meta["generation"] == nil {
		meta["generation"] = 1
	}
	if meta["creationTimestamp"] == nil {
		meta["creationTimestamp"] = "2026-01-02T04:00:00Z"
	}
	obj["apiVersion"], obj["kind"] = "compute.coreweave.com/v1alpha1", "NodePool"
	name, _ := meta["name"].(string)
	f.pools[clusterID][name] = obj
}

// setPoolConditions sets a pool's status.
func (f *fakeCW) setPoolStatus(clusterID, name string, current int, conditions ...map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cs := make([]any, len(conditions))
	for i, c := range conditions {
		cs[i] = c
	}
	f.pools[clusterID][name]["status"] = map[string]any{"currentNodes": current, "conditions": cs}
}

// addNode stores a Node of a pool of cluster cl-1: ready or not, with an internal and (when
// given) an external address.
func (f *fakeCW) addNode(pool, name string, ready bool, internalIP, externalIP string) {
	const clusterID = "cl-1"
	f.mu.Lock()
	defer f.mu.Unlock()
	status := "False"
	if ready {
		status = "True"
	}
	addrs := []any{map[string]any{"type": "InternalIP", "address": internalIP}, map[string]any{"type": "Hostname", "address": name}}
	if externalIP != "" {
		addrs = append(addrs, map[string]any{"type": "ExternalIP", "address": externalIP})
	}
	f.nodes[clusterID] = append(f.nodes[clusterID], map[string]any{
		"metadata": map[string]any{
			"name": name, "uid": "uid-" + name, "resourceVersion": "7", "creationTimestamp": "2026-01-02T05:00:00Z",
			"labels": map[string]any{
				"compute.coreweave.com/node-pool":  pool,
				"node.kubernetes.io/instance-type": "gd-8xh100ib-i128",
				"kubernetes.io/hostname":           name,
			},
		},
		"spec": map[string]any{"providerID": "coreweave://" + name},
		"status": map[string]any{
			"addresses":  addrs,
			"conditions": []any{map[string]any{"type": "Ready", "status": status, "reason": "KubeletReady"}},
		},
	})
}

// ---------------------------------------------------------------------------------------------
// Platform API handlers.

// collection is one kind of platform API object (clusters, VPCs) as the fake keeps it; its
// hooks run under f.mu.
type collection struct {
	kind, idPrefix string // "cluster", "cl": the answer's member, the errors' word, new ids
	items          func() map[string]map[string]any
	// check refuses a create request the API refuses (false: it answered).
	check func(w http.ResponseWriter, req map[string]any) bool
	// build is the object a create makes.
	build func(id string, req map[string]any) map[string]any
	// onGet moves a stored object along on a read; false means it is gone now.
	onGet func(id string, obj map[string]any) bool
	// refuseDelete answers a delete the API refuses (true: it answered).
	refuseDelete func(w http.ResponseWriter, id string) bool
}

func (f *fakeCW) clusterCollection() collection {
	return collection{
		kind: "cluster", idPrefix: "cl", items: func() map[string]map[string]any { return f.clusters },
		check: func(w http.ResponseWriter, req map[string]any) bool {
			if v, _ := req["version"].(string); v == "" {
				// CoreWeave requires a version; the refusal names the ones it offers.
				connectErr(w, http.StatusBadRequest, "invalid_argument", "invalid request: version: is required; supported: v1.34, v1.36, v1.35", nil)
				return false
			}
			return true
		},
		build: func(id string, req map[string]any) map[string]any {
			obj := map[string]any{
				"id": id, "name": req["name"], "zone": req["zone"], "vpcId": req["vpcId"], "version": req["version"],
				"network": req["network"], "status": "STATUS_CREATING", "apiServerEndpoint": f.URL() + "/k8s/" + id,
				"createdAt": "2026-01-02T03:04:05Z", "updatedAt": "2026-01-02T03:04:05Z",
			}
			if req["public"] == true {
				obj["public"] = true
			}
			return obj
		},
		onGet: func(id string, c map[string]any) bool {
			if c["status"] == "STATUS_DELETING" {
				f.clusterGets[id]++
				if f.clusterGets[id] > f.clusterGoneAfter {
					delete(f.clusters, id)
					delete(f.pools, id)
					delete(f.nodes, id)
					return false
				}
			}
			return true
		},
		refuseDelete: func(http.ResponseWriter, string) bool { return false },
	}
}

func (f *fakeCW) vpcCollection() collection {
	return collection{
		kind: "vpc", idPrefix: "vpc", items: func() map[string]map[string]any { return f.vpcs },
		check: func(http.ResponseWriter, map[string]any) bool { return true },
		build: func(id string, req map[string]any) map[string]any {
			return map[string]any{
				"id": id, "name": req["name"], "zone": req["zone"], "vpcPrefixes": req["vpcPrefixes"],
				"hostPrefixes": req["hostPrefixes"], "status": "STATUS_CREATING", "createdAt": "2026-01-02T03:00:00Z",
			}
		},
		onGet: func(id string, v map[string]any) bool {
			switch v["status"] {
			case "STATUS_CREATING":
				f.vpcGets[id]++
				if f.vpcGets[id] > f.vpcReadyAfter {
					v["status"] = "STATUS_READY"
				}
			case "STATUS_DELETING":
				delete(f.vpcs, id)
				return false
			}
			return true
		},
		refuseDelete: func(w http.ResponseWriter, id string) bool {
			inUse := f.vpcInUseRefusals > 0
			for _, c := range f.clusters {
				if c["vpcId"] == id {
					inUse = true
				}
			}
			if !inUse {
				return false
			}
			if f.vpcInUseRefusals > 0 {
				f.vpcInUseRefusals--
			}
			connectErr(w, http.StatusBadRequest, "failed_precondition", "VPC "+id+" is in use by a cluster; delete the cluster first",
				[]any{map[string]any{"type": "google.rpc.PreconditionFailure", "value": "",
					"debug": map[string]any{"violations": []any{map[string]any{"type": "VPC_IN_USE", "subject": "vpcs/" + id,
						"description": "VPC " + id + " is in use"}}}}})
			return true
		},
	}
}

func (f *fakeCW) list(c collection) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var items []any
		for _, id := range slices.Sorted(maps.Keys(c.items())) {
			items = append(items, c.items()[id])
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": items})
	}
}

func (f *fakeCW) create(c collection) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			connectErr(w, http.StatusBadRequest, "invalid_argument", "bad body", nil)
			return
		}
		if !c.check(w, req) {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, o := range c.items() {
			if o["name"] == req["name"] {
				connectErr(w, http.StatusConflict, "already_exists", fmt.Sprintf("%s %q already exists", c.kind, req["name"]), nil)
				return
			}
		}
		id := f.nextID(c.idPrefix)
		obj := c.build(id, req)
		c.items()[id] = obj
		writeJSON(w, http.StatusOK, map[string]any{c.kind: obj})
	}
}

// byID runs h under f.mu on the object the path's id names; when there is none, or h says it
// is gone (false), the answer is not_found.
func (f *fakeCW) byID(c collection, h func(w http.ResponseWriter, id string, obj map[string]any) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		id := r.PathValue("id")
		if obj, ok := c.items()[id]; !ok || !h(w, id, obj) {
			connectErr(w, http.StatusNotFound, "not_found", fmt.Sprintf("%s %q not found", c.kind, id), nil)
		}
	}
}

func (f *fakeCW) get(c collection) http.HandlerFunc {
	return f.byID(c, func(w http.ResponseWriter, id string, obj map[string]any) bool {
		if !c.onGet(id, obj) {
			return false
		}
		writeJSON(w, http.StatusOK, map[string]any{c.kind: obj})
		return true
	})
}

func (f *fakeCW) remove(c collection) http.HandlerFunc {
	return f.byID(c, func(w http.ResponseWriter, id string, obj map[string]any) bool {
		if !c.refuseDelete(w, id) {
			obj["status"] = "STATUS_DELETING"
			writeJSON(w, http.StatusOK, map[string]any{c.kind: obj})
		}
		return true
	})
}

// ---------------------------------------------------------------------------------------------
// Kubernetes API handlers.

// kube serves a cluster's Kubernetes API only while the cluster runs: otherwise 503, as the
// API server cannot be reached.
func (f *fakeCW) kube(h func(w http.ResponseWriter, r *http.Request, clusterID string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("cluster")
		f.mu.Lock()
		c, ok := f.clusters[id]
		up := ok && (c["status"] == "STATUS_RUNNING" || c["status"] == "STATUS_UPDATING" || c["status"] == "STATUS_UPGRADING")
		f.mu.Unlock()
		if !up {
			kubeStatus(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the API server is not reachable", nil)
			return
		}
		h(w, r, id)
	}
}

// kubeBody is the request's JSON object when its Content-Type is one the route takes
// (accepts); otherwise, or when the body does not decode, it answers the Kubernetes error.
func kubeBody(w http.ResponseWriter, r *http.Request, accepts func(contentType string) bool) (map[string]any, bool) {
	if ct := r.Header.Get("Content-Type"); !accepts(ct) {
		kubeStatus(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "unsupported media type "+ct, nil)
		return nil, false
	}
	var obj map[string]any
	if err := json.NewDecoder(r.Body).Decode(&obj); err != nil {
		kubeStatus(w, http.StatusBadRequest, "BadRequest", err.Error(), nil)
		return nil, false
	}
	return obj, true
}

func (f *fakeCW) createPool(w http.ResponseWriter, r *http.Request, clusterID string) {
	obj, ok := kubeBody(w, r, func(ct string) bool { return strings.HasPrefix(ct, "application/json") })
	if !ok {
		return
	}
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pools[clusterID] == nil {
		f.pools[clusterID] = map[string]map[string]any{}
	}
	if _, exists := f.pools[clusterID][name]; exists {
		kubeStatus(w, http.StatusConflict, "AlreadyExists", fmt.Sprintf("nodepools.compute.coreweave.com %q already exists", name),
			map[string]any{"name": name, "group": "compute.coreweave.com", "kind": "nodepools"})
		return
	}
	meta["uid"], meta["resourceVersion"], meta["generation"] = "uid-"+name, "1001", 1
	meta["creationTimestamp"] = "2026-01-02T04:00:00Z"
	f.pools[clusterID][name] = obj
	writeJSON(w, http.StatusCreated, obj)
}

func notFoundPool(w http.ResponseWriter, name string) {
	kubeStatus(w, http.StatusNotFound, "NotFound", fmt.Sprintf("nodepools.compute.coreweave.com %q not found", name),
		map[string]any{"name": name, "group": "compute.coreweave.com", "kind": "nodepools"})
}

// pool is the pool the path names (under f.mu); when there is none it answers NotFound.
func (f *fakeCW) pool(w http.ResponseWriter, r *http.Request, clusterID string) (map[string]any, bool) {
	p, ok := f.pools[clusterID][r.PathValue("name")]
	if !ok {
		notFoundPool(w, r.PathValue("name"))
	}
	return p, ok
}

func (f *fakeCW) getPool(w http.ResponseWriter, r *http.Request, clusterID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.pool(w, r, clusterID); ok {
		writeJSON(w, http.StatusOK, p)
	}
}

func (f *fakeCW) patchPool(w http.ResponseWriter, r *http.Request, clusterID string) {
	patch, ok := kubeBody(w, r, func(ct string) bool { return ct == "application/merge-patch+json" })
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pool(w, r, clusterID)
	if !ok {
		return
	}
	if spec, ok := patch["spec"].(map[string]any); ok {
		for k, v := range spec {
			jsonObj(p, "spec")[k] = v
		}
		meta := jsonObj(p, "metadata")
		meta["generation"] = toInt(meta["generation"]) + 1
	}
	writeJSON(w, http.StatusOK, p)
}

func (f *fakeCW) deletePool(w http.ResponseWriter, r *http.Request, clusterID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := r.PathValue("name")
	if _, ok := f.pool(w, r, clusterID); !ok {
		return
	}
	delete(f.pools[clusterID], name)
	writeJSON(w, http.StatusOK, map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{}, "status": "Success",
		"details": map[string]any{"name": name, "group": "compute.coreweave.com", "kind": "nodepools"}})
}

// listPools lists every pool; custom resource lists carry kind and apiVersion on each item.
func (f *fakeCW) listPools(w http.ResponseWriter, _ *http.Request, clusterID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	items := []any{}
	for _, name := range slices.Sorted(maps.Keys(f.pools[clusterID])) {
		items = append(items, f.pools[clusterID][name])
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": "NodePoolList", "apiVersion": "compute.coreweave.com/v1alpha1",
		"metadata": map[string]any{"resourceVersion": "1234"}, "items": items})
}

// listNodes honours labelSelector "key=value" and "key" (exists). Like the apiserver it leaves
// kind and apiVersion out of the items.
func (f *fakeCW) listNodes(w http.ResponseWriter, r *http.Request, clusterID string) {
	sel := r.URL.Query().Get("labelSelector")
	key, value, hasValue := strings.Cut(sel, "=")
	f.mu.Lock()
	defer f.mu.Unlock()
	items := []any{}
	for _, n := range f.nodes[clusterID] {
		labels := jsonObj(jsonObj(n, "metadata"), "labels")
		v, has := labels[key]
		if sel == "" || (hasValue && v == value) || (!hasValue && has) {
			items = append(items, n)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": "NodeList", "apiVersion": "v1",
		"metadata": map[string]any{"resourceVersion": "1234"}, "items": items})
}

// ---------------------------------------------------------------------------------------------
// Helpers.

func writeJSON(w http.ResponseWriter, status int, v any) { apifake.WriteJSON(w, status, v) }

// connectErr writes a Connect error body.
func connectErr(w http.ResponseWriter, status int, code, message string, details []any) {
	body := map[string]any{"code": code, "message": message}
	if details != nil {
		body["details"] = details
	}
	writeJSON(w, status, body)
}

// kubeStatus writes a metav1.Status failure.
func kubeStatus(w http.ResponseWriter, code int, reason, message string, details map[string]any) {
	body := map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{}, "status": "Failure",
		"message": message, "reason": reason, "code": code}
	if details != nil {
		body["details"] = details
	}
	writeJSON(w, code, body)
}

func toInt(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case float64:
		return int(x)
	case json.Number:
		n, _ := x.Int64()
		return int(n)
	}
	return 0
}

// assertJSON compares a request body with the expected JSON, ignoring formatting and key order.
func assertJSON(t *testing.T, got []byte, want string) { t.Helper(); apifake.AssertJSON(t, got, want) }

// jsonObj is m[key] as a JSON object (nil when it is not one).
func jsonObj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}
