package coreweave

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"
)

// The NodePool custom resource (compute.coreweave.com/v1alpha1, cluster-scoped): its schema,
// its REST handlers, and the emulated controller that turns it into Nodes.

// Condition types the emulated controller sets (ours: CoreWeave publishes none).
const (
	CondValidated         = "Validated"
	CondCapacityAvailable = "CapacityAvailable"
	CondAtTarget          = "AtTarget"
)

// ReasonInsufficientCapacity is the CapacityAvailable=False reason while a pool waits for nodes.
const ReasonInsufficientCapacity = "InsufficientCapacity"

// nodePool is one NodePool object plus the controller's private state.
type nodePool struct {
	name, uid   string
	seq         int64
	created     time.Time
	rv          uint64
	generation  int64
	labels      map[string]string
	annotations map[string]string
	finalizers  []string
	ownerRefs   []any
	spec        map[string]any // as stored: pruned, no defaults
	deletedAt   time.Time      // deletionTimestamp; zero while not deleted
	status      *poolStatus    // nil until the controller first sees the pool

	// Controller state.
	observedGen int64
	reconcileAt time.Time  // when the controller observes the latest write; zero if nothing pending
	drainAt     time.Time  // deletion: when the drained nodes go; zero otherwise
	inflight    *provision // the node being provisioned, if any
	blocked     bool       // waiting for capacity
}

// provision is a node on its way: it holds one unit of capacity from start on, registers
// (a NotReady Node object appears) at registerAt and turns Ready at readyAt.
type provision struct {
	index                      int
	typ                        *instanceType
	start, registerAt, readyAt time.Time
	node                       *node
}

type poolStatus struct {
	CurrentNodes int         `json:"currentNodes"`
	Conditions   []condition `json:"conditions,omitempty"`
}

// condition is metav1.Condition.
type condition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	ObservedGeneration int64  `json:"observedGeneration,omitempty"`
	LastTransitionTime string `json:"lastTransitionTime"`
	Reason             string `json:"reason"`
	Message            string `json:"message"`
}

func (p *nodePool) deleting() bool { return !p.deletedAt.IsZero() }

func (p *nodePool) hasFinalizer(f string) bool { return contains(p.finalizers, f) }

// object is the NodePool as the API shows it.
func (p *nodePool) object() map[string]any {
	meta := map[string]any{
		"name": p.name, "uid": p.uid, "resourceVersion": formatRV(p.rv), "generation": p.generation,
		"creationTimestamp": kubeTime(p.created),
	}
	if len(p.labels) > 0 {
		meta["labels"] = p.labels
	}
	if len(p.annotations) > 0 {
		meta["annotations"] = p.annotations
	}
	if len(p.finalizers) > 0 {
		meta["finalizers"] = p.finalizers
	}
	if len(p.ownerRefs) > 0 {
		meta["ownerReferences"] = p.ownerRefs
	}
	if p.deleting() {
		meta["deletionTimestamp"] = kubeTime(p.deletedAt)
		meta["deletionGracePeriodSeconds"] = 0
	}
	obj := map[string]any{"apiVersion": computeGV, "kind": "NodePool", "metadata": meta, "spec": p.spec}
	if p.status != nil {
		obj["status"] = p.status
	}
	return obj
}

func (p *nodePool) render() []byte {
	b, _ := json.Marshal(p.object())
	return b
}

// ---------------------------------------------------------------------------------------------
// Handlers.

func getNodePool(kr *kubeReq) {
	p := kr.k.pools[nameFromPath(kr.r)]
	if p == nil {
		writeStatus(kr.w, statusNotFound(grNodePools, nameFromPath(kr.r)))
		return
	}
	writeRaw(kr.w, http.StatusOK, p.render())
}

const generateNameChars = "bcdfghjklmnpqrstvwxz2456789"

func createNodePool(kr *kubeReq) {
	if st := requireJSONBody(kr.r); st != nil {
		writeStatus(kr.w, st)
		return
	}
	opts, st := parseWriteOptions(kr.r, "CreateOptions")
	if st != nil {
		writeStatus(kr.w, st)
		return
	}
	obj, err := decodeObject(kr.body)
	if err != nil {
		writeStatus(kr.w, statusBadRequest("the body of the request could not be decoded: %v", err))
		return
	}
	kr.create(obj, opts)
}

// create stores a new NodePool (POST, or an apply patch of a missing one).
func (kr *kubeReq) create(obj map[string]any, opts writeOpts) {
	d, st := decodePool(obj)
	if st == nil {
		st = opts.checkUnknown(kr.w, d.unknown)
	}
	if st != nil {
		writeStatus(kr.w, st)
		return
	}
	if d.meta.rv != "" {
		writeStatus(kr.w, statusBadRequest("resourceVersion should not be set on objects to be created"))
		return
	}
	name := d.meta.name
	if name == "" && d.meta.generateName != "" {
		for range 8 {
			b := make([]byte, 5)
			for i := range b {
				b[i] = generateNameChars[rand.IntN(len(generateNameChars))]
			}
			name = d.meta.generateName + string(b)
			if kr.k.pools[name] == nil {
				break
			}
		}
	}
	if errs := validatePool(d, nil, name); len(errs) > 0 {
		kr.invalid(name, errs)
		return
	}
	if kr.k.pools[name] != nil {
		writeStatus(kr.w, statusAlreadyExists(grNodePools, name))
		return
	}
	p := &nodePool{
		name: name, uid: newUUID(), seq: kr.e.nextSeq(), created: kr.now, generation: 1,
		labels: emptyToNil(d.meta.labels), annotations: emptyToNil(d.meta.annotations),
		finalizers: d.meta.finalizers, ownerRefs: d.meta.ownerRefs, spec: d.spec,
	}
	if opts.dryRun {
		obj := p.object()
		delete(obj["metadata"].(map[string]any), "resourceVersion") //nolint:forcetypeassert // built just above
		b, _ := json.Marshal(obj)
		writeRaw(kr.w, http.StatusCreated, b)
		return
	}
	kr.k.pools[name] = p
	kr.k.savePool(p, "ADDED")
	p.reconcileAt = kr.now.Add(kr.e.scaled(controllerLag))
	writeRaw(kr.w, http.StatusCreated, p.render())
}

func emptyToNil(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func replaceNodePool(kr *kubeReq) {
	if st := requireJSONBody(kr.r); st != nil {
		writeStatus(kr.w, st)
		return
	}
	opts, st := parseWriteOptions(kr.r, "UpdateOptions")
	if st != nil {
		writeStatus(kr.w, st)
		return
	}
	obj, err := decodeObject(kr.body)
	if err != nil {
		writeStatus(kr.w, statusBadRequest("the body of the request could not be decoded: %v", err))
		return
	}
	kr.update(obj, opts, true)
}

// update is the common tail of PUT and PATCH: obj is the complete new object.
func (kr *kubeReq) update(obj map[string]any, opts writeOpts, rvRequired bool) {
	name := nameFromPath(kr.r)
	d, st := decodePool(obj)
	if st == nil {
		st = opts.checkUnknown(kr.w, d.unknown)
	}
	if st != nil {
		writeStatus(kr.w, st)
		return
	}
	if d.meta.name != name {
		writeStatus(kr.w, statusBadRequest("the name of the object (%s) does not match the name on the URL (%s)", d.meta.name, name))
		return
	}
	p := kr.k.pools[name]
	if p == nil {
		writeStatus(kr.w, statusNotFound(grNodePools, name))
		return
	}
	if st := checkPreconditions(p, d.meta.rv, d.meta.uid, rvRequired); st != nil {
		writeStatus(kr.w, st)
		return
	}
	if errs := validatePool(d, p, name); len(errs) > 0 {
		kr.invalid(name, errs)
		return
	}
	labels, annotations := emptyToNil(d.meta.labels), emptyToNil(d.meta.annotations)
	specChanged := !sameJSON(d.spec, p.spec)
	metaChanged := !sameJSON(labels, p.labels) || !sameJSON(annotations, p.annotations) ||
		!sameJSON(d.meta.finalizers, p.finalizers) || !sameJSON(d.meta.ownerRefs, p.ownerRefs)
	if !specChanged && !metaChanged {
		writeRaw(kr.w, http.StatusOK, p.render())
		return
	}
	target := p
	if opts.dryRun {
		cp := *p
		target = &cp
	}
	target.labels, target.annotations = labels, annotations
	target.finalizers, target.ownerRefs = d.meta.finalizers, d.meta.ownerRefs
	if specChanged {
		target.spec = d.spec
		target.generation++
	}
	if opts.dryRun {
		writeRaw(kr.w, http.StatusOK, target.render())
		return
	}
	if specChanged || (!p.hasFinalizer(nodePoolFinalizer) && p.status != nil && !p.deleting()) {
		p.reconcileAt = kr.now.Add(kr.e.scaled(controllerLag))
	}
	if p.deleting() && len(p.finalizers) == 0 {
		// The last finalizer went: the object goes now, and with it whatever nodes it still had.
		p.rv = kr.k.bump()
		out := p.render()
		kr.e.removePool(kr.c, p, kr.now)
		writeRaw(kr.w, http.StatusOK, out)
		return
	}
	kr.k.savePool(p, "MODIFIED")
	writeRaw(kr.w, http.StatusOK, p.render())
}

// Patch content types.
const (
	mergePatchType     = "application/merge-patch+json"
	jsonPatchType      = "application/json-patch+json"
	applyPatchType     = "application/apply-patch+yaml"
	strategicPatchType = "application/strategic-merge-patch+json"
)

func patchNodePool(kr *kubeReq) {
	ct := mediaType(kr.r)
	switch ct {
	case mergePatchType, jsonPatchType, applyPatchType:
	default:
		writeStatus(kr.w, statusUnsupportedMediaType(kr.r.Header.Get("Content-Type"), jsonPatchType, mergePatchType, applyPatchType))
		return
	}
	opts, st := parseWriteOptions(kr.r, "PatchOptions")
	if st != nil {
		writeStatus(kr.w, st)
		return
	}
	name := nameFromPath(kr.r)
	if ct == applyPatchType && opts.fieldManager == "" {
		writeStatus(kr.w, statusInvalid("PatchOptions", "meta.k8s.io", "", []fieldError{{Type: fieldRequired,
			Field: "fieldManager", Detail: "is required for apply patch"}}))
		return
	}
	p := kr.k.pools[name]
	var patched any
	switch ct {
	case mergePatchType:
		pv, err := decodeAny(kr.body)
		if err != nil {
			writeStatus(kr.w, statusBadRequest("error decoding patch: %v", err))
			return
		}
		if _, isObject := pv.(map[string]any); !isObject {
			writeStatus(kr.w, statusBadRequest("Invalid JSON Patch"))
			return
		}
		if p == nil {
			writeStatus(kr.w, statusNotFound(grNodePools, name))
			return
		}
		cur, _ := decodeObject(p.render())
		patched = mergePatch(cur, pv)
	case jsonPatchType:
		ops, err := decodeJSONPatch(kr.body)
		if err != nil {
			writeStatus(kr.w, statusBadRequest("%v", err))
			return
		}
		if p == nil {
			writeStatus(kr.w, statusNotFound(grNodePools, name))
			return
		}
		cur, _ := decodeObject(p.render())
		if patched, err = applyJSONPatch(cur, ops); err != nil {
			// The apiserver's own (terse) message; the cause says what did not apply.
			writeStatus(kr.w, failure(http.StatusUnprocessableEntity, reasonInvalid,
				"the server rejected our request due to an error in our request",
				&statusDetails{Causes: []statusCause{{Message: err.Error()}}}))
			return
		}
	case applyPatchType:
		body, err := decodeObject(kr.body)
		if err != nil {
			writeStatus(kr.w, statusBadRequest("error decoding YAML: the emulator accepts JSON-encoded apply configurations only: %v", err))
			return
		}
		if meta, _ := body["metadata"].(map[string]any); meta == nil || meta["name"] != name {
			writeStatus(kr.w, statusBadRequest("the name of the object (%v) does not match the name on the URL (%s)", nestedName(body), name))
			return
		}
		delete(body, "status")
		if p == nil {
			kr.create(body, opts)
			return
		}
		cur, _ := decodeObject(p.render())
		patched = mergePatch(cur, body)
	}
	obj, ok := patched.(map[string]any)
	if !ok {
		writeStatus(kr.w, failure(http.StatusUnprocessableEntity, reasonInvalid, "the patched document is not a JSON object", &statusDetails{}))
		return
	}
	kr.update(obj, opts, false)
}

func nestedName(obj map[string]any) any {
	if meta, ok := obj["metadata"].(map[string]any); ok {
		return meta["name"]
	}
	return ""
}

// deleteOptions is metav1.DeleteOptions (the parts the emulator reads).
type deleteOptions struct {
	Preconditions *struct {
		UID             *string `json:"uid"`
		ResourceVersion *string `json:"resourceVersion"`
	} `json:"preconditions"`
	DryRun            []string `json:"dryRun"`
	PropagationPolicy *string  `json:"propagationPolicy"`
}

func deleteNodePool(kr *kubeReq) {
	name := nameFromPath(kr.r)
	opts, st := parseWriteOptions(kr.r, "DeleteOptions")
	if st != nil {
		writeStatus(kr.w, st)
		return
	}
	var do deleteOptions
	if len(bytes.TrimSpace(kr.body)) > 0 {
		if err := json.Unmarshal(kr.body, &do); err != nil {
			writeStatus(kr.w, statusBadRequest("the body of the request could not be decoded as DeleteOptions: %v", err))
			return
		}
	}
	for _, v := range do.DryRun {
		if v != "All" {
			writeStatus(kr.w, statusInvalid("DeleteOptions", "meta.k8s.io", "", []fieldError{{Type: fieldNotSupported, Field: "dryRun", Value: v, Supported: []string{"All"}}}))
			return
		}
		opts.dryRun = true
	}
	p := kr.k.pools[name]
	if p == nil {
		writeStatus(kr.w, statusNotFound(grNodePools, name))
		return
	}
	if pc := do.Preconditions; pc != nil {
		if pc.UID != nil && *pc.UID != p.uid {
			writeStatus(kr.w, statusConflict(grNodePools, name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", *pc.UID, p.uid)))
			return
		}
		if pc.ResourceVersion != nil && *pc.ResourceVersion != formatRV(p.rv) {
			writeStatus(kr.w, statusConflict(grNodePools, name, fmt.Sprintf("Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s", *pc.ResourceVersion, formatRV(p.rv))))
			return
		}
	}
	if p.deleting() {
		writeRaw(kr.w, http.StatusOK, p.render())
		return
	}
	if len(p.finalizers) == 0 {
		if !opts.dryRun {
			kr.e.removePool(kr.c, p, kr.now)
		}
		emitJSON(kr.w, http.StatusOK, &kubeStatus{Kind: "Status", APIVersion: "v1", Status: "Success",
			Details: &statusDetails{Name: name, Group: computeGroup, Kind: "nodepools", UID: p.uid}})
		return
	}
	if opts.dryRun {
		cp := *p
		cp.deletedAt, cp.generation = kr.now, p.generation+1
		writeRaw(kr.w, http.StatusOK, cp.render())
		return
	}
	p.deletedAt = kr.now
	p.generation++
	p.reconcileAt = kr.now.Add(kr.e.scaled(controllerLag))
	kr.k.savePool(p, "MODIFIED")
	writeRaw(kr.w, http.StatusOK, p.render())
}

func emitJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, status, b)
}
