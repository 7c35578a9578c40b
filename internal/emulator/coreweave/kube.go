package coreweave

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// The Kubernetes API side: routing under /k8s/{cluster}/, reachability, content negotiation,
// discovery, the per-cluster resourceVersion sequence and event log, lists and watches.

const (
	kubePathPrefix = "/k8s/"
	computeGroup   = "compute.coreweave.com"
	computeVersion = "v1alpha1"
	computeGV      = computeGroup + "/" + computeVersion
	// nodePoolFinalizer is the finalizer the emulated controller puts on node pools (our name:
	// CoreWeave does not publish its own).
	nodePoolFinalizer = "compute.coreweave.com/node-pool-controller"
	// maxEventLog bounds each cluster's watch history; older resourceVersions answer 410 Expired.
	maxEventLog = 4096
	// firstResourceVersion is where each cluster's resourceVersion sequence starts, as if the
	// cluster's own system objects had taken the earlier ones.
	firstResourceVersion = 1000
)

// Resource names as they appear in URLs and in the event log.
const (
	resNodePools = "nodepools"
	resNodes     = "nodes"
)

func isKubePath(p string) bool { return strings.HasPrefix(p, kubePathPrefix) }

// isPublicKubePath reports paths the apiserver serves to anyone (system:public-info-viewer).
func isPublicKubePath(p string) bool {
	rest, ok := strings.CutPrefix(p, kubePathPrefix)
	if !ok {
		return false
	}
	_, sub, _ := strings.Cut(rest, "/")
	switch "/" + sub {
	case "/version", "/healthz", "/livez", "/readyz":
		return true
	}
	return false
}

// kubeState is one cluster's Kubernetes API state: its objects, its resourceVersion counter
// (etcd's revision: one sequence for every object in the cluster) and its event log for watches.
type kubeState struct {
	c      *cluster
	rv     uint64
	pools  map[string]*nodePool
	nodes  map[string]*node
	events []watchEvent
	// floor is the newest resourceVersion dropped from events (0: nothing dropped).
	floor uint64
	// nodePrefix is "g" plus 6 hex digits derived from the cluster id, for node names.
	nodePrefix string
}

// watchEvent is one change, with the object as it was rendered then.
type watchEvent struct {
	rv       uint64
	typ      string // ADDED, MODIFIED, DELETED
	resource string
	name     string
	labels   map[string]string
	object   json.RawMessage
}

func newKubeState(c *cluster) *kubeState {
	sum := sha256.Sum256([]byte(c.id))
	return &kubeState{
		c: c, rv: firstResourceVersion, pools: map[string]*nodePool{}, nodes: map[string]*node{},
		nodePrefix: "g" + hex.EncodeToString(sum[:3]),
	}
}

func (k *kubeState) bump() uint64 {
	k.rv++
	return k.rv
}

// record appends a change to the event log, dropping the oldest beyond maxEventLog.
func (k *kubeState) record(typ, resource, name string, labels map[string]string, obj []byte, rv uint64) {
	k.events = append(k.events, watchEvent{rv: rv, typ: typ, resource: resource, name: name, labels: labels, object: obj})
	if over := len(k.events) - maxEventLog; over > 0 {
		k.floor = k.events[over-1].rv
		k.events = append([]watchEvent(nil), k.events[over:]...)
	}
}

func formatRV(rv uint64) string { return strconv.FormatUint(rv, 10) }

// kubeReq is one Kubernetes API request being served, with the emulator lock held.
type kubeReq struct {
	e    *Emulator
	c    *cluster
	k    *kubeState
	now  time.Time
	w    http.ResponseWriter
	r    *http.Request
	body []byte
}

func (e *Emulator) registerKube(mux *http.ServeMux) {
	base := kubePathPrefix + "{cluster}"
	mux.HandleFunc("GET "+base+"/version", e.kube(serveVersion))
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		mux.HandleFunc("GET "+base+p, e.kube(func(kr *kubeReq) {
			kr.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			kr.w.Header().Set("X-Content-Type-Options", "nosniff")
			_, _ = kr.w.Write([]byte("ok"))
		}))
	}
	mux.HandleFunc("GET "+base+"/api", e.kube(serveAPIVersions))
	mux.HandleFunc("GET "+base+"/api/v1", e.kube(serveCoreResources))
	mux.HandleFunc("GET "+base+"/apis", e.kube(serveAPIGroups))
	mux.HandleFunc("GET "+base+"/apis/"+computeGroup, e.kube(serveComputeGroup))
	mux.HandleFunc("GET "+base+"/apis/"+computeGV, e.kube(serveComputeResources))

	pools := base + "/apis/" + computeGV + "/nodepools"
	mux.HandleFunc("GET "+pools, e.kubeList(resNodePools))
	mux.HandleFunc("POST "+pools, e.kube(createNodePool))
	mux.HandleFunc("GET "+pools+"/{name}", e.kube(getNodePool))
	mux.HandleFunc("PUT "+pools+"/{name}", e.kube(replaceNodePool))
	mux.HandleFunc("PATCH "+pools+"/{name}", e.kube(patchNodePool))
	mux.HandleFunc("DELETE "+pools+"/{name}", e.kube(deleteNodePool))
	mux.HandleFunc("GET "+pools+"/{name}/status", e.kube(getNodePool))

	mux.HandleFunc("GET "+base+"/api/v1/nodes", e.kubeList(resNodes))
	mux.HandleFunc("GET "+base+"/api/v1/nodes/{name}", e.kube(getNode))

	mux.HandleFunc(kubePathPrefix+"{cluster}/", e.kubeFallback)
}

// setKubeHeaders adds the headers every apiserver answer carries.
func setKubeHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-cache, private")
	w.Header().Set("Audit-Id", newUUID())
}

// kube wraps a Kubernetes API handler: headers, content negotiation, the body read before the
// lock, the lock, time advanced, and the cluster's reachability.
func (e *Emulator) kube(h func(*kubeReq)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setKubeHeaders(w)
		if !acceptsJSON(r) {
			writeStatus(w, statusNotAcceptable())
			return
		}
		var body []byte
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch || r.Method == http.MethodDelete {
			b, err := readBody(w, r)
			if err != nil {
				writeStatus(w, failure(http.StatusRequestEntityTooLarge, reasonEntityTooLarge,
					"Request entity too large: "+err.Error(), nil))
				return
			}
			body = b
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		now := e.now()
		e.advance(now)
		c, st := e.reachableCluster(r.PathValue("cluster"), now)
		if st != nil {
			writeStatus(w, st)
			return
		}
		h(&kubeReq{e: e, c: c, k: c.kube, now: now, w: w, r: r, body: body})
	}
}

// reachableCluster returns the cluster whose API server answers, or the 503 a client gets
// instead. Callers hold the lock.
func (e *Emulator) reachableCluster(id string, now time.Time) (*cluster, *kubeStatus) {
	c := e.state.clusters[id]
	switch {
	case c == nil || !c.visible(now):
		return nil, statusUnavailable(fmt.Sprintf("no Kubernetes API server answers for cluster %q: no such cluster", id))
	case !c.apiUp(now):
		return nil, statusUnavailable(fmt.Sprintf("the Kubernetes API server of cluster %s is not reachable: the cluster is %s",
			id, c.status(now)))
	}
	return c, nil
}

// kubeFallback answers what no route matched: 503 while the cluster is unreachable, else 405
// for a known path with another method, else 404.
func (e *Emulator) kubeFallback(w http.ResponseWriter, r *http.Request) {
	setKubeHeaders(w)
	e.mu.Lock()
	now := e.now()
	e.advance(now)
	_, st := e.reachableCluster(r.PathValue("cluster"), now)
	e.mu.Unlock()
	switch {
	case st != nil:
		writeStatus(w, st)
	case len(e.allowedMethods(r)) > 0:
		writeStatus(w, statusMethodNotAllowed())
	default:
		writeStatus(w, statusPathNotFound())
	}
}

// acceptsJSON reports whether the Accept header allows plain JSON. A media range with an "as"
// parameter (Table, aggregated discovery) asks for something else, which the emulator does not
// produce; clients list plain application/json after it as a fallback.
func acceptsJSON(r *http.Request) bool {
	accept := strings.TrimSpace(r.Header.Get("Accept"))
	if accept == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if _, ok := params["as"]; ok {
			continue
		}
		switch mt {
		case "application/json", "*/*", "application/*":
			return true
		}
	}
	return false
}

// mediaType returns the request's Content-Type without parameters.
func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return strings.TrimSpace(r.Header.Get("Content-Type"))
	}
	return mt
}

// requireJSONBody checks a create or update body's Content-Type.
func requireJSONBody(r *http.Request) *kubeStatus {
	if mt := mediaType(r); mt != "application/json" {
		return statusUnsupportedMediaType(r.Header.Get("Content-Type"), "application/json")
	}
	return nil
}

// writeRaw writes an already rendered JSON object.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	_, _ = w.Write([]byte("\n"))
}

// decodeObject parses a JSON object keeping numbers exact.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the body is not a JSON object")
	}
	return obj, nil
}

// decodeAny parses any JSON value keeping numbers exact.
func decodeAny(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// ---------------------------------------------------------------------------------------------
// Discovery.

func serveVersion(kr *kubeReq) {
	full := kr.c.patchVersion()
	minor := strings.TrimPrefix(kr.c.version, "v1.")
	sum := sha256.Sum256([]byte(full))
	emucore.WriteJSON(kr.w, http.StatusOK, map[string]string{
		"major": "1", "minor": minor, "emulationMajor": "1", "emulationMinor": minor,
		"minCompatibilityMajor": "1", "minCompatibilityMinor": minor,
		"gitVersion": full, "gitCommit": hex.EncodeToString(sum[:20]), "gitTreeState": "clean",
		"buildDate": "2026-01-15T00:00:00Z", "goVersion": "go1.25.5", "compiler": "gc", "platform": "linux/amd64",
	})
}

func serveAPIVersions(kr *kubeReq) {
	emucore.WriteJSON(kr.w, http.StatusOK, map[string]any{
		"kind": "APIVersions", "versions": []string{"v1"},
		"serverAddressByClientCIDRs": []map[string]string{{"clientCIDR": "0.0.0.0/0", "serverAddress": kr.r.Host}},
	})
}

type apiResource struct {
	Name               string   `json:"name"`
	SingularName       string   `json:"singularName"`
	Namespaced         bool     `json:"namespaced"`
	Kind               string   `json:"kind"`
	Verbs              []string `json:"verbs"`
	ShortNames         []string `json:"shortNames,omitempty"`
	StorageVersionHash string   `json:"storageVersionHash,omitempty"`
}

func storageVersionHash(gv, kind string) string {
	sum := sha256.Sum256([]byte(gv + "/" + kind))
	return base64.StdEncoding.EncodeToString(sum[:8])
}

func resourceList(gv string, resources []apiResource) map[string]any {
	return map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}
}

func serveCoreResources(kr *kubeReq) {
	emucore.WriteJSON(kr.w, http.StatusOK, resourceList("v1", []apiResource{
		{Name: "nodes", SingularName: "node", Kind: "Node", Verbs: []string{"get", "list", "watch"},
			ShortNames: []string{"no"}, StorageVersionHash: storageVersionHash("v1", "Node")},
	}))
}

func computeGroupJSON() map[string]any {
	gv := map[string]string{"groupVersion": computeGV, "version": computeVersion}
	return map[string]any{"name": computeGroup, "versions": []any{gv}, "preferredVersion": gv}
}

func serveAPIGroups(kr *kubeReq) {
	emucore.WriteJSON(kr.w, http.StatusOK, map[string]any{
		"kind": "APIGroupList", "apiVersion": "v1", "groups": []any{computeGroupJSON()},
	})
}

func serveComputeGroup(kr *kubeReq) {
	g := computeGroupJSON()
	g["kind"], g["apiVersion"] = "APIGroup", "v1"
	emucore.WriteJSON(kr.w, http.StatusOK, g)
}

func serveComputeResources(kr *kubeReq) {
	emucore.WriteJSON(kr.w, http.StatusOK, resourceList(computeGV, []apiResource{
		{Name: "nodepools", SingularName: "nodepool", Kind: "NodePool",
			Verbs:              []string{"delete", "get", "list", "patch", "create", "update", "watch"},
			StorageVersionHash: storageVersionHash(computeGV, "NodePool")},
		{Name: "nodepools/status", Kind: "NodePool", Verbs: []string{"get"}},
	}))
}

// ---------------------------------------------------------------------------------------------
// Lists.

// listed is one object as lists and watches see it.
type listed struct {
	name   string
	labels map[string]string
	fields map[string]string
	object json.RawMessage
}

// snapshot renders every object of a resource, sorted by name. Node pools carry kind and
// apiVersion in lists (custom resources are stored that way); nodes do not, as for every
// built-in type.
func (k *kubeState) snapshot(resource string, c *cluster) []listed {
	var out []listed
	switch resource {
	case resNodePools:
		for _, p := range k.pools {
			out = append(out, listed{name: p.name, labels: p.labels, fields: map[string]string{"metadata.name": p.name}, object: p.render()})
		}
	case resNodes:
		for _, n := range k.nodes {
			out = append(out, listed{name: n.name, labels: n.labels, fields: n.fieldSet(), object: n.render(c, false)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// selectors are a list or watch request's labelSelector and fieldSelector.
type selectors struct {
	labels labelSelector
	fields []fieldRequirement
}

func (s selectors) matches(name string, labels map[string]string, fields map[string]string) bool {
	if fields == nil {
		fields = map[string]string{"metadata.name": name}
	}
	return s.labels.matches(labels) && matchFields(s.fields, fields)
}

func parseSelectors(r *http.Request, resource string) (selectors, *kubeStatus) {
	q := r.URL.Query()
	ls, err := parseLabelSelector(q.Get("labelSelector"))
	if err != nil {
		return selectors{}, statusBadRequest("unable to parse requirement: %v", err)
	}
	allowed := []string{"metadata.name", "metadata.namespace"}
	if resource == resNodes {
		allowed = append(allowed, "spec.unschedulable")
	}
	fs, st := parseFieldSelector(q.Get("fieldSelector"), allowed)
	if st != nil {
		return selectors{}, st
	}
	return selectors{labels: ls, fields: fs}, nil
}

// continueToken is the opaque list continuation: where the next page starts.
type continueToken struct {
	RV    uint64 `json:"rv"`
	Start string `json:"start"`
}

func (e *Emulator) kubeList(resource string) http.HandlerFunc {
	list := e.kube(func(kr *kubeReq) { kr.list(resource) })
	return func(w http.ResponseWriter, r *http.Request) {
		if wv := r.URL.Query().Get("watch"); wv == "true" || wv == "1" {
			e.serveWatch(w, r, resource)
			return
		}
		list(w, r)
	}
}

func (kr *kubeReq) list(resource string) {
	sel, st := parseSelectors(kr.r, resource)
	if st != nil {
		writeStatus(kr.w, st)
		return
	}
	q := kr.r.URL.Query()
	limit := 0
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			writeStatus(kr.w, statusBadRequest("limit must be a non-negative integer, got %q", l))
			return
		}
		limit = n
	}
	start := ""
	if tok := q.Get("continue"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		var ct continueToken
		if err != nil || json.Unmarshal(raw, &ct) != nil {
			writeStatus(kr.w, statusBadRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"))
			return
		}
		if ct.RV < kr.k.floor {
			writeStatus(kr.w, statusExpired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter."))
			return
		}
		start = ct.Start
	}
	var items []json.RawMessage
	next, remaining := "", 0
	for _, o := range kr.k.snapshot(resource, kr.c) {
		if start != "" && o.name <= start {
			continue
		}
		if !sel.matches(o.name, o.labels, o.fields) {
			continue
		}
		if limit > 0 && len(items) == limit {
			remaining++
			continue
		}
		items = append(items, o.object)
		next = o.name
	}
	meta := map[string]any{"resourceVersion": formatRV(kr.k.rv)}
	if remaining > 0 {
		tok, _ := json.Marshal(continueToken{RV: kr.k.rv, Start: next})
		meta["continue"] = base64.RawURLEncoding.EncodeToString(tok)
		meta["remainingItemCount"] = remaining
	}
	kind, apiVersion := "NodePoolList", computeGV
	if resource == resNodes {
		kind, apiVersion = "NodeList", "v1"
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	emucore.WriteJSON(kr.w, http.StatusOK, map[string]any{"kind": kind, "apiVersion": apiVersion, "metadata": meta, "items": items})
}

// ---------------------------------------------------------------------------------------------
// Watches.

// watchTick is how often a watch looks for new events: a scaled second, within [5ms, 250ms].
func (e *Emulator) watchTick() time.Duration {
	return min(max(e.scaled(time.Second), 5*time.Millisecond), 250*time.Millisecond)
}

// maxWatchTimeout caps a watch's life, as the apiserver's request timeout does.
const maxWatchTimeout = 30 * time.Minute

type watchFrame struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// serveWatch streams watch events for a resource: synthetic ADDED events for the current state
// when no resourceVersion (or "0") is given or sendInitialEvents=true, then every change. The
// request goroutine polls the (lazily advanced) state; nothing else runs in the background.
func (e *Emulator) serveWatch(w http.ResponseWriter, r *http.Request, resource string) {
	setKubeHeaders(w)
	if !acceptsJSON(r) {
		writeStatus(w, statusNotAcceptable())
		return
	}
	sel, st := parseSelectors(r, resource)
	if st != nil {
		writeStatus(w, st)
		return
	}
	q := r.URL.Query()
	timeout := maxWatchTimeout
	if ts := q.Get("timeoutSeconds"); ts != "" {
		n, err := strconv.Atoi(ts)
		if err != nil || n < 0 {
			writeStatus(w, statusBadRequest("timeoutSeconds must be a non-negative integer, got %q", ts))
			return
		}
		if n > 0 {
			timeout = min(time.Duration(n)*time.Second, maxWatchTimeout)
		}
	}
	sendInitial := q.Get("sendInitialEvents") == "true"
	bookmarks := q.Get("allowWatchBookmarks") == "true"
	if sendInitial && (!bookmarks || q.Get("resourceVersionMatch") != "NotOlderThan") {
		writeStatus(w, statusInvalid("ListOptions", "meta.k8s.io", "", []fieldError{{Type: fieldForbidden, Field: "sendInitialEvents",
			Detail: "sendInitialEvents is allowed only with allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan"}}))
		return
	}
	rvParam := q.Get("resourceVersion")

	e.mu.Lock()
	now := e.now()
	e.advance(now)
	c, st := e.reachableCluster(r.PathValue("cluster"), now)
	if st != nil {
		e.mu.Unlock()
		writeStatus(w, st)
		return
	}
	k, epoch := c.kube, e.state.epoch
	var frames []watchFrame
	var expired *kubeStatus
	matched := map[string]bool{}
	snap := k.snapshot(resource, c)
	for _, o := range snap {
		matched[o.name] = sel.matches(o.name, o.labels, o.fields)
	}
	cursor := k.rv
	switch {
	case rvParam == "" || rvParam == "0" || sendInitial:
		for _, o := range snap {
			if matched[o.name] {
				frames = append(frames, watchFrame{Type: "ADDED", Object: o.object})
			}
		}
	default:
		n, err := strconv.ParseUint(rvParam, 10, 64)
		switch {
		case err != nil:
			e.mu.Unlock()
			writeStatus(w, statusBadRequest("invalid resource version %q", rvParam))
			return
		case n < k.floor:
			expired = statusExpired(fmt.Sprintf("too old resource version: %d (%d)", n, k.floor+1))
		default:
			cursor = min(n, k.rv)
		}
	}
	e.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	send := func(fs ...watchFrame) bool {
		for _, f := range fs {
			if enc.Encode(f) != nil {
				return false
			}
		}
		return rc.Flush() == nil
	}
	if expired != nil {
		b, _ := json.Marshal(expired)
		send(watchFrame{Type: "ERROR", Object: b})
		return
	}
	if sendInitial {
		kind, apiVersion := "NodePool", computeGV
		if resource == resNodes {
			kind, apiVersion = "Node", "v1"
		}
		b, _ := json.Marshal(map[string]any{"kind": kind, "apiVersion": apiVersion, "metadata": map[string]any{
			"resourceVersion": formatRV(cursor), "annotations": map[string]string{"k8s.io/initial-events-end": "true"}}})
		frames = append(frames, watchFrame{Type: "BOOKMARK", Object: b})
	}
	if !send(frames...) {
		return
	}

	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	ticker := time.NewTicker(e.watchTick())
	defer ticker.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-deadline.C:
			return
		case <-ticker.C:
		}
		e.mu.Lock()
		now := e.now()
		e.advance(now)
		if e.state.epoch != epoch || e.state.clusters[c.id] != c || c.kube != k || !c.apiUp(now) {
			e.mu.Unlock()
			return
		}
		if cursor < k.floor {
			e.mu.Unlock()
			b, _ := json.Marshal(statusExpired(fmt.Sprintf("too old resource version: %d (%d)", cursor, k.floor+1)))
			send(watchFrame{Type: "ERROR", Object: b})
			return
		}
		i := sort.Search(len(k.events), func(i int) bool { return k.events[i].rv > cursor })
		var out []watchFrame
		for _, ev := range k.events[i:] {
			cursor = ev.rv
			if ev.resource != resource {
				continue
			}
			was := matched[ev.name]
			is := ev.typ != "DELETED" && sel.matches(ev.name, ev.labels, eventFields(ev))
			typ := ""
			switch {
			case ev.typ == "DELETED" && was:
				typ = "DELETED"
			case is && !was:
				typ = "ADDED"
			case is && was:
				typ = "MODIFIED"
			case !is && was:
				typ = "DELETED"
			}
			matched[ev.name] = is
			if typ != "" {
				out = append(out, watchFrame{Type: typ, Object: ev.object})
			}
		}
		e.mu.Unlock()
		if len(out) > 0 && !send(out...) {
			return
		}
	}
}

// eventFields are the selectable fields of a logged object.
func eventFields(ev watchEvent) map[string]string {
	f := map[string]string{"metadata.name": ev.name}
	if ev.resource == resNodes {
		var n struct {
			Spec struct {
				Unschedulable bool `json:"unschedulable"`
			} `json:"spec"`
		}
		_ = json.Unmarshal(ev.object, &n)
		f["spec.unschedulable"] = strconv.FormatBool(n.Spec.Unschedulable)
	}
	return f
}
