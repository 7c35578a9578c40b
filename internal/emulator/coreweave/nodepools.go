package coreweave

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
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
// Schema.

// schemaNode is the part of an OpenAPI v3 structural schema the emulator needs.
type schemaNode struct {
	typ      string // object, stringMap, array, string, integer, boolean
	props    map[string]*schemaNode
	items    *schemaNode
	enum     []string
	minimum  *int64
	required []string
}

// nonNegativeInt is an integer with minimum 0.
func nonNegativeInt() *schemaNode {
	zero := int64(0)
	return &schemaNode{typ: "integer", minimum: &zero}
}

var (
	taintEffects    = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}
	computeClasses  = []string{"default", "spot", "Spot"}
	scaleDownModes  = []string{"IdleOnly", "PreferIdle"}
	updateStrategys = []string{"Manual", "OnSpecUpdate", "Always", "RolloutOnCommand"}
)

// poolSpecSchema is the emulator's NodePool spec schema (from the vendor notes and the official
// provider's manifest; CoreWeave's own CRD may allow more).
var poolSpecSchema = &schemaNode{typ: "object", required: []string{"instanceType"}, props: map[string]*schemaNode{
	"instanceType":    {typ: "string"},
	"targetNodes":     nonNegativeInt(),
	"targetRacks":     nonNegativeInt(),
	"minNodes":        nonNegativeInt(),
	"maxNodes":        nonNegativeInt(),
	"autoscaling":     {typ: "boolean"},
	"computeClass":    {typ: "string", enum: computeClasses},
	"nodeLabels":      {typ: "stringMap"},
	"nodeAnnotations": {typ: "stringMap"},
	"nodeTaints": {typ: "array", items: &schemaNode{typ: "object", required: []string{"key", "effect"}, props: map[string]*schemaNode{
		"key": {typ: "string"}, "value": {typ: "string"}, "effect": {typ: "string", enum: taintEffects},
	}}},
	"lifecycle": {typ: "object", props: map[string]*schemaNode{
		"scaleDownStrategy": {typ: "string", enum: scaleDownModes},
	}},
	"nodeConfigurationUpdateStrategy": {typ: "object", props: map[string]*schemaNode{
		"type": {typ: "string", enum: updateStrategys},
	}},
}}

// jsonTypeName names a decoded JSON value's type as OpenAPI validation messages do.
func jsonTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "unknown"
}

// prune walks a value against its schema: unknown fields are dropped and listed in unknown,
// nulls are dropped (no field is nullable), and violations are collected. It returns the
// pruned value and whether to keep it.
func prune(path string, v any, s *schemaNode, unknown *[]string, errs *[]fieldError) (any, bool) {
	if v == nil {
		return nil, false
	}
	typeErr := func(want string) {
		got := jsonTypeName(v)
		*errs = append(*errs, fieldError{Type: fieldTypeInvalid, Field: path, Value: got,
			Detail: fmt.Sprintf("%s in body must be of type %s: %q", path, want, got)})
	}
	switch s.typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			typeErr("object")
			return v, true
		}
		out := map[string]any{}
		for _, k := range sortedKeys(m) {
			ps, known := s.props[k]
			if !known {
				*unknown = append(*unknown, path+"."+k)
				continue
			}
			if nv, keep := prune(path+"."+k, m[k], ps, unknown, errs); keep {
				out[k] = nv
			}
		}
		for _, r := range s.required {
			if _, ok := out[r]; !ok {
				*errs = append(*errs, fieldError{Type: fieldRequired, Field: path + "." + r})
			}
		}
		return out, true
	case "stringMap":
		m, ok := v.(map[string]any)
		if !ok {
			typeErr("object")
			return v, true
		}
		for _, k := range sortedKeys(m) {
			if _, ok := m[k].(string); !ok {
				got := jsonTypeName(m[k])
				*errs = append(*errs, fieldError{Type: fieldTypeInvalid, Field: path + "." + k, Value: got,
					Detail: fmt.Sprintf("%s.%s in body must be of type string: %q", path, k, got)})
			}
		}
		return m, true
	case "array":
		a, ok := v.([]any)
		if !ok {
			typeErr("array")
			return v, true
		}
		out := make([]any, 0, len(a))
		for i, item := range a {
			if item == nil {
				*errs = append(*errs, fieldError{Type: fieldTypeInvalid, Field: fmt.Sprintf("%s[%d]", path, i), Value: "null",
					Detail: fmt.Sprintf("%s[%d] in body must be of type %s: \"null\"", path, i, s.items.typ)})
				continue
			}
			nv, _ := prune(fmt.Sprintf("%s[%d]", path, i), item, s.items, unknown, errs)
			out = append(out, nv)
		}
		return out, true
	case "string":
		str, ok := v.(string)
		if !ok {
			typeErr("string")
			return v, true
		}
		if len(s.enum) > 0 && !contains(s.enum, str) {
			*errs = append(*errs, fieldError{Type: fieldNotSupported, Field: path, Value: str, Supported: s.enum})
		}
		return v, true
	case "integer":
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil {
			typeErr("integer")
			return v, true
		}
		if s.minimum != nil && i < *s.minimum {
			*errs = append(*errs, fieldError{Type: fieldInvalid, Field: path, Value: i,
				Detail: fmt.Sprintf("%s in body should be greater than or equal to %d", path, *s.minimum)})
		}
		return v, true
	case "boolean":
		if _, ok := v.(bool); !ok {
			typeErr("boolean")
		}
		return v, true
	}
	return v, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// poolSpec is the typed view of a stored (valid) spec.
type poolSpec struct {
	InstanceType                                 string
	TargetNodes, TargetRacks, MinNodes, MaxNodes *int64
	Autoscaling                                  bool
	ComputeClass                                 string
	NodeLabels, NodeAnnotations                  map[string]string
	NodeTaints                                   []taint
	UpdateStrategy                               string
}

func parsePoolSpec(m map[string]any) poolSpec {
	s := poolSpec{NodeLabels: stringMapOf(m["nodeLabels"]), NodeAnnotations: stringMapOf(m["nodeAnnotations"])}
	s.InstanceType, _ = m["instanceType"].(string)
	s.TargetNodes, s.TargetRacks = intOf(m["targetNodes"]), intOf(m["targetRacks"])
	s.MinNodes, s.MaxNodes = intOf(m["minNodes"]), intOf(m["maxNodes"])
	s.Autoscaling, _ = m["autoscaling"].(bool)
	s.ComputeClass, _ = m["computeClass"].(string)
	if ts, ok := m["nodeTaints"].([]any); ok {
		for _, t := range ts {
			if tm, ok := t.(map[string]any); ok {
				key, _ := tm["key"].(string)
				value, _ := tm["value"].(string)
				effect, _ := tm["effect"].(string)
				s.NodeTaints = append(s.NodeTaints, taint{Key: key, Value: value, Effect: effect})
			}
		}
	}
	if us, ok := m["nodeConfigurationUpdateStrategy"].(map[string]any); ok {
		s.UpdateStrategy, _ = us["type"].(string)
	}
	return s
}

func intOf(v any) *int64 {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	i, err := n.Int64()
	if err != nil {
		return nil
	}
	return &i
}

func stringMapOf(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, val := range m {
		if s, ok := val.(string); ok {
			out[k] = s
		}
	}
	return out
}

// target is the number of nodes the pool should have: targetRacks racks for rack-scale types,
// else targetNodes; with autoscaling, clamped into [minNodes, maxNodes].
func (s poolSpec) target(it *instanceType) int {
	n := int64(0)
	switch {
	case it != nil && it.RackNodes > 0 && s.TargetRacks != nil:
		n = *s.TargetRacks * int64(it.RackNodes)
	case s.TargetNodes != nil:
		n = *s.TargetNodes
	}
	if s.Autoscaling {
		if s.MinNodes != nil && n < *s.MinNodes {
			n = *s.MinNodes
		}
		if s.MaxNodes != nil && n > *s.MaxNodes {
			n = *s.MaxNodes
		}
	}
	return int(n)
}

func spotClass(c string) bool { return strings.EqualFold(c, "spot") }

// ---------------------------------------------------------------------------------------------
// Decoding and validation of written objects.

// objectMeta is the part of metav1.ObjectMeta a write can set.
type objectMeta struct {
	name, generateName string
	labels             map[string]string
	annotations        map[string]string
	finalizers         []string
	ownerRefs          []any
	rv, uid            string
}

// decodedPool is a written NodePool after decoding and pruning (before validation).
type decodedPool struct {
	meta       objectMeta
	spec       map[string]any
	unknown    []string
	schemaErrs []fieldError
}

// objectMetaFields are the ObjectMeta fields the decoder knows (others are unknown fields).
var objectMetaFields = map[string]string{
	"name": "string", "generateName": "string", "namespace": "string", "selfLink": "string", "uid": "string",
	"resourceVersion": "string", "generation": "number", "creationTimestamp": "any", "deletionTimestamp": "any",
	"deletionGracePeriodSeconds": "number", "labels": "map", "annotations": "map", "ownerReferences": "array",
	"finalizers": "strings", "managedFields": "array",
}

func cannotHandle(format string, args ...any) *kubeStatus {
	return statusBadRequest("NodePool in version %q cannot be handled as a NodePool: %s", computeVersion, fmt.Sprintf(format, args...))
}

// decodePool checks apiVersion and kind, reads metadata, and prunes the spec. Status is ignored:
// it is a subresource, written only by the controller.
func decodePool(obj map[string]any) (*decodedPool, *kubeStatus) {
	d := &decodedPool{}
	raw, _ := json.Marshal(obj)
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	switch {
	case kind == "":
		return nil, statusBadRequest("Object 'Kind' is missing in '%s'", raw)
	case apiVersion == "":
		return nil, statusBadRequest("Object 'apiVersion' is missing in '%s'", raw)
	case apiVersion != computeGV:
		return nil, statusBadRequest("the API version in the data (%s) does not match the expected API version (%s)", apiVersion, computeGV)
	case kind != "NodePool":
		return nil, statusBadRequest("the kind in the data (%s) does not match the expected kind (NodePool)", kind)
	}
	for _, k := range sortedKeys(obj) {
		switch k {
		case "apiVersion", "kind", "metadata", "spec", "status":
		default:
			d.unknown = append(d.unknown, k)
		}
	}
	if mv, ok := obj["metadata"]; ok && mv != nil {
		m, ok := mv.(map[string]any)
		if !ok {
			return nil, cannotHandle("metadata: expected an object, got %s", jsonTypeName(mv))
		}
		for _, k := range sortedKeys(m) {
			want, known := objectMetaFields[k]
			v := m[k]
			if !known {
				d.unknown = append(d.unknown, "metadata."+k)
				continue
			}
			if v == nil {
				continue
			}
			switch want {
			case "string":
				s, ok := v.(string)
				if !ok {
					return nil, cannotHandle("metadata.%s: expected a string, got %s", k, jsonTypeName(v))
				}
				switch k {
				case "name":
					d.meta.name = s
				case "generateName":
					d.meta.generateName = s
				case "resourceVersion":
					d.meta.rv = s
				case "uid":
					d.meta.uid = s
				}
			case "number":
				if _, ok := v.(json.Number); !ok {
					return nil, cannotHandle("metadata.%s: expected a number, got %s", k, jsonTypeName(v))
				}
			case "map":
				mm, ok := v.(map[string]any)
				if !ok {
					return nil, cannotHandle("metadata.%s: expected a map of strings, got %s", k, jsonTypeName(v))
				}
				out := map[string]string{}
				for mk, mvv := range mm {
					s, ok := mvv.(string)
					if !ok {
						return nil, cannotHandle("metadata.%s.%s: expected a string, got %s", k, mk, jsonTypeName(mvv))
					}
					out[mk] = s
				}
				if k == "labels" {
					d.meta.labels = out
				} else {
					d.meta.annotations = out
				}
			case "strings":
				a, ok := v.([]any)
				if !ok {
					return nil, cannotHandle("metadata.%s: expected an array of strings, got %s", k, jsonTypeName(v))
				}
				for _, item := range a {
					s, ok := item.(string)
					if !ok {
						return nil, cannotHandle("metadata.%s: expected an array of strings", k)
					}
					d.meta.finalizers = append(d.meta.finalizers, s)
				}
			case "array":
				a, ok := v.([]any)
				if !ok {
					return nil, cannotHandle("metadata.%s: expected an array, got %s", k, jsonTypeName(v))
				}
				if k == "ownerReferences" {
					d.meta.ownerRefs = a
				}
			}
		}
	}
	if sv, ok := obj["spec"]; ok && sv != nil {
		pruned, _ := prune("spec", sv, poolSpecSchema, &d.unknown, &d.schemaErrs)
		if m, ok := pruned.(map[string]any); ok {
			d.spec = m
		}
	}
	return d, nil
}

// validatePool runs the checks that make a write 422 Invalid: schema violations, name and label
// syntax, catalog membership, cross-field rules and immutability (against old, for updates).
func validatePool(d *decodedPool, old *nodePool, name string) []fieldError {
	errs := append([]fieldError(nil), d.schemaErrs...)
	if old == nil {
		switch {
		case name == "":
			errs = append(errs, fieldError{Type: fieldRequired, Field: "metadata.name", Detail: "name or generateName is required"})
		case len(name) > 63:
			errs = append(errs, fieldError{Type: fieldInvalid, Field: "metadata.name", Value: name, Detail: "must be no more than 63 characters"})
		case !dns1123LabelRE.MatchString(name):
			errs = append(errs, fieldError{Type: fieldInvalid, Field: "metadata.name", Value: name, Detail: dns1123LabelMsg})
		}
	}
	errs = append(errs, validateLabels("metadata.labels", d.meta.labels)...)
	errs = append(errs, validateAnnotations("metadata.annotations", d.meta.annotations)...)
	if d.spec == nil {
		return sortedFieldErrors(append(errs, fieldError{Type: fieldRequired, Field: "spec"}))
	}
	if len(d.schemaErrs) > 0 {
		return sortedFieldErrors(errs)
	}
	s := parsePoolSpec(d.spec)
	it, known := findInstanceType(s.InstanceType)
	if !known {
		errs = append(errs, fieldError{Type: fieldNotSupported, Field: "spec.instanceType", Value: s.InstanceType, Supported: instanceTypeNames()})
	}
	if s.TargetRacks != nil {
		if known && it.RackNodes == 0 {
			errs = append(errs, fieldError{Type: fieldForbidden, Field: "spec.targetRacks",
				Detail: "targetRacks applies only to rack-scale instance types (" + strings.Join(rackTypeNames(), ", ") + ")"})
		}
		if s.TargetNodes != nil {
			errs = append(errs, fieldError{Type: fieldForbidden, Field: "spec.targetNodes", Detail: "may not be set together with targetRacks"})
		}
	} else if known && it.RackNodes > 0 && s.TargetNodes != nil && *s.TargetNodes%int64(it.RackNodes) != 0 {
		errs = append(errs, fieldError{Type: fieldInvalid, Field: "spec.targetNodes", Value: *s.TargetNodes,
			Detail: fmt.Sprintf("%s nodes come in racks of %d: use a multiple of %d, or targetRacks", it.Name, it.RackNodes, it.RackNodes)})
	}
	if s.Autoscaling {
		if s.MaxNodes == nil {
			errs = append(errs, fieldError{Type: fieldRequired, Field: "spec.maxNodes", Detail: "required when autoscaling is true"})
		}
		if s.MinNodes != nil && s.MaxNodes != nil && *s.MinNodes > *s.MaxNodes {
			errs = append(errs, fieldError{Type: fieldInvalid, Field: "spec.minNodes", Value: *s.MinNodes, Detail: "must be less than or equal to maxNodes"})
		}
	}
	errs = append(errs, validateLabels("spec.nodeLabels", s.NodeLabels)...)
	errs = append(errs, validateAnnotations("spec.nodeAnnotations", s.NodeAnnotations)...)
	for i, t := range s.NodeTaints {
		for _, m := range validateLabelKey(t.Key) {
			errs = append(errs, fieldError{Type: fieldInvalid, Field: fmt.Sprintf("spec.nodeTaints[%d].key", i), Value: t.Key, Detail: m})
		}
	}
	if old != nil {
		os := parsePoolSpec(old.spec)
		if s.InstanceType != os.InstanceType {
			errs = append(errs, fieldError{Type: fieldInvalid, Field: "spec.instanceType", Value: s.InstanceType, Detail: "field is immutable"})
		}
		if spotClass(s.ComputeClass) != spotClass(os.ComputeClass) {
			errs = append(errs, fieldError{Type: fieldInvalid, Field: "spec.computeClass", Value: s.ComputeClass, Detail: "field is immutable"})
		}
	}
	return sortedFieldErrors(errs)
}

// writeOpts are a write request's query options.
type writeOpts struct {
	dryRun       bool
	validation   string // Ignore, Warn (default) or Strict
	fieldManager string
	force        bool
}

func parseWriteOptions(r *http.Request, kind string) (writeOpts, *kubeStatus) {
	q := r.URL.Query()
	o := writeOpts{validation: "Warn", fieldManager: q.Get("fieldManager"), force: q.Get("force") == "true"}
	for _, v := range q["dryRun"] {
		if v != "All" {
			return o, statusInvalid(kind, "meta.k8s.io", "", []fieldError{{Type: fieldNotSupported, Field: "dryRun", Value: v, Supported: []string{"All"}}})
		}
		o.dryRun = true
	}
	if v := q.Get("fieldValidation"); v != "" {
		if !contains([]string{"Ignore", "Warn", "Strict"}, v) {
			return o, statusBadRequest("fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got %q", v)
		}
		o.validation = v
	}
	return o, nil
}

// checkUnknown applies the field validation directive to unknown (pruned) fields.
func (o writeOpts) checkUnknown(w http.ResponseWriter, unknown []string) *kubeStatus {
	if len(unknown) == 0 || o.validation == "Ignore" {
		return nil
	}
	msgs := make([]string, len(unknown))
	for i, u := range unknown {
		msgs[i] = fmt.Sprintf("unknown field %q", u)
	}
	if o.validation == "Strict" {
		return statusBadRequest("strict decoding error: %s", strings.Join(msgs, ", "))
	}
	for _, m := range msgs {
		w.Header().Add("Warning", fmt.Sprintf("299 - %q", m))
	}
	return nil
}

// rawValue prints verbatim in a field error (the apiserver's 0x0 for an unset resourceVersion).
type rawValue string

func (kr *kubeReq) invalid(name string, errs []fieldError) {
	writeStatus(kr.w, statusInvalid("NodePool", computeGroup, name, errs))
}

// checkPreconditions applies an update's resourceVersion and uid preconditions.
func checkPreconditions(p *nodePool, rv, uid string, rvRequired bool) *kubeStatus {
	if rv == "" && rvRequired {
		return statusInvalid("NodePool", computeGroup, p.name, []fieldError{{Type: fieldInvalid,
			Field: "metadata.resourceVersion", Value: rawValue("0x0"), Detail: "must be specified for an update"}})
	}
	if rv != "" && rv != formatRV(p.rv) {
		return statusConflict(grNodePools, p.name, staleObject)
	}
	if uid != "" && uid != p.uid {
		return statusConflict(grNodePools, p.name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, p.uid))
	}
	return nil
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

// ---------------------------------------------------------------------------------------------
// Object bookkeeping.

// savePool gives a pool a new resourceVersion and logs the change for watchers.
func (k *kubeState) savePool(p *nodePool, typ string) {
	p.rv = k.bump()
	k.record(typ, resNodePools, p.name, p.labels, p.render(), p.rv)
}

// dropPool removes a pool object and logs its deletion.
func (k *kubeState) dropPool(p *nodePool) {
	p.rv = k.bump()
	k.record("DELETED", resNodePools, p.name, p.labels, p.render(), p.rv)
	delete(k.pools, p.name)
}

func (k *kubeState) sortedPools() []*nodePool {
	out := make([]*nodePool, 0, len(k.pools))
	for _, p := range k.pools {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// poolNodes lists a pool's registered nodes by index.
func (k *kubeState) poolNodes(p *nodePool) []*node {
	var out []*node
	for _, n := range k.nodes {
		if n.pool == p.name {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].index < out[j].index })
	return out
}

func (k *kubeState) readyNodes(p *nodePool) int {
	ready := 0
	for _, n := range k.poolNodes(p) {
		if n.ready() {
			ready++
		}
	}
	return ready
}

// teardown frees the capacity of every node and provisioning of a cluster being deleted. The
// objects simply vanish with the cluster's API server; nobody can watch them go.
func (k *kubeState) teardown(e *Emulator) {
	for _, n := range k.nodes {
		e.release(n.typ, n.zone)
	}
	for _, p := range k.pools {
		if p.inflight != nil {
			e.release(p.inflight.typ, k.c.zone)
		}
	}
	k.nodes, k.pools = map[string]*node{}, map[string]*nodePool{}
}

func (e *Emulator) release(t *instanceType, z *zone) {
	e.state.capacity[capacityKey{t.Name, z.Name}]++
}

// removePool deletes a pool object at once with all its nodes.
func (e *Emulator) removePool(c *cluster, p *nodePool, t time.Time) {
	released := e.releasePoolNodes(c, p)
	c.kube.dropPool(p)
	if released {
		e.kick(t)
	}
}

// releasePoolNodes cancels a pool's provisioning and deletes its nodes, freeing their capacity.
func (e *Emulator) releasePoolNodes(c *cluster, p *nodePool) bool {
	released := e.cancelInflight(c, p)
	for _, n := range c.kube.poolNodes(p) {
		c.kube.dropNode(n)
		e.release(n.typ, n.zone)
		released = true
	}
	return released
}

// cancelInflight abandons the node being provisioned (and its Node object if it registered).
func (e *Emulator) cancelInflight(c *cluster, p *nodePool) bool {
	pr := p.inflight
	if pr == nil {
		return false
	}
	p.inflight = nil
	if pr.node != nil {
		c.kube.dropNode(pr.node)
	}
	e.release(pr.typ, c.zone)
	return true
}

// ---------------------------------------------------------------------------------------------
// The controller, run lazily.

type eventKind int

const (
	evReconcile eventKind = iota
	evDrain
	evRegister
	evReady
)

// nextEvent is the pool's earliest pending controller event.
func (p *nodePool) nextEvent() (time.Time, eventKind, bool) {
	var best time.Time
	var kind eventKind
	found := false
	consider := func(t time.Time, k eventKind) {
		if !t.IsZero() && (!found || t.Before(best)) {
			best, kind, found = t, k, true
		}
	}
	consider(p.reconcileAt, evReconcile)
	consider(p.drainAt, evDrain)
	if pr := p.inflight; pr != nil {
		if pr.node == nil {
			consider(pr.registerAt, evRegister)
		} else {
			consider(pr.readyAt, evReady)
		}
	}
	return best, kind, found
}

// advance runs every controller event due by now, oldest first, across all clusters (they share
// the capacity table). Events of a cluster whose API server is down at the event's time wait.
// Callers hold the lock.
func (e *Emulator) advance(now time.Time) {
	for {
		var (
			bestC *cluster
			bestP *nodePool
			bestT time.Time
			bestK eventKind
		)
		for _, c := range e.state.clusters {
			if c.kube == nil {
				continue
			}
			for _, p := range c.kube.pools {
				t, k, ok := p.nextEvent()
				if !ok || t.After(now) || !c.apiUp(t) {
					continue
				}
				if bestP == nil || t.Before(bestT) || (t.Equal(bestT) && p.seq < bestP.seq) {
					bestC, bestP, bestT, bestK = c, p, t, k
				}
			}
		}
		if bestP == nil {
			return
		}
		switch bestK {
		case evReconcile:
			e.reconcile(bestC, bestP, bestT)
		case evDrain:
			e.finishDrain(bestC, bestP, bestT)
		case evRegister:
			e.registerNode(bestC, bestP, bestT)
		case evReady:
			e.nodeReady(bestC, bestP, bestT)
		}
	}
}

// kick lets pools that wait for capacity try again at t (capacity was freed or set).
func (e *Emulator) kick(t time.Time) {
	var pools []*nodePool
	owner := map[*nodePool]*cluster{}
	for _, c := range e.state.clusters {
		if !c.apiUp(t) {
			continue
		}
		for _, p := range c.kube.pools {
			if p.blocked && !p.deleting() {
				pools = append(pools, p)
				owner[p] = c
			}
		}
	}
	sort.Slice(pools, func(i, j int) bool { return pools[i].seq < pools[j].seq })
	for _, p := range pools {
		c := owner[p]
		if e.tryStart(c, p, t) && e.refreshStatus(c, p, t) {
			c.kube.savePool(p, "MODIFIED")
		}
	}
}

// tryStart begins provisioning the pool's next node if it is below target and capacity is
// free; otherwise it marks the pool blocked (or not, once at target).
func (e *Emulator) tryStart(c *cluster, p *nodePool, t time.Time) bool {
	if p.deleting() || p.inflight != nil {
		return false
	}
	s := parsePoolSpec(p.spec)
	it, ok := findInstanceType(s.InstanceType)
	if !ok {
		return false
	}
	nodes := c.kube.poolNodes(p)
	if len(nodes) >= s.target(it) {
		p.blocked = false
		return false
	}
	key := capacityKey{it.Name, c.zone.Name}
	if e.state.capacity[key] <= 0 {
		p.blocked = true
		return false
	}
	e.state.capacity[key]--
	next := 0
	if len(nodes) > 0 {
		next = nodes[len(nodes)-1].index + 1
	}
	join := e.scaled(e.opts.NodeJoinTime)
	p.inflight = &provision{index: next, typ: it, start: t,
		registerAt: t.Add(time.Duration(float64(join) * 0.8)), readyAt: t.Add(join)}
	p.blocked = false
	return true
}

// reconcile is the controller observing the pool's latest write at t.
func (e *Emulator) reconcile(c *cluster, p *nodePool, t time.Time) {
	k := c.kube
	p.reconcileAt = time.Time{}
	changed := p.observedGen != p.generation
	p.observedGen = p.generation
	released := false
	if p.deleting() {
		released = e.cancelInflight(c, p)
		if p.drainAt.IsZero() {
			nodes := k.poolNodes(p)
			p.drainAt = t
			if len(nodes) > 0 {
				p.drainAt = t.Add(e.scaled(e.opts.NodeDrainTime))
			}
			for _, n := range nodes {
				if !n.cordoned {
					n.cordoned = true
					k.saveNode(n, "MODIFIED")
				}
			}
		}
	} else {
		if !p.hasFinalizer(nodePoolFinalizer) {
			p.finalizers = append(p.finalizers, nodePoolFinalizer)
			changed = true
		}
		s := parsePoolSpec(p.spec)
		it, _ := findInstanceType(s.InstanceType)
		target := s.target(it)
		// Scale down: the node being provisioned goes first, then the highest-numbered ones.
		for {
			nodes := k.poolNodes(p)
			count := len(nodes)
			if p.inflight != nil && p.inflight.node == nil {
				count++
			}
			if count <= target {
				break
			}
			if p.inflight != nil {
				e.cancelInflight(c, p)
			} else {
				n := nodes[len(nodes)-1]
				k.dropNode(n)
				e.release(n.typ, n.zone)
			}
			released = true
		}
		// Propagate node configuration unless the strategy defers it.
		if s.UpdateStrategy == "" || s.UpdateStrategy == "OnSpecUpdate" || s.UpdateStrategy == "Always" {
			for _, n := range k.poolNodes(p) {
				if n.applyConfig(c, p, s) {
					k.saveNode(n, "MODIFIED")
				}
			}
		}
		e.tryStart(c, p, t)
	}
	if e.refreshStatus(c, p, t) {
		changed = true
	}
	if changed {
		k.savePool(p, "MODIFIED")
	}
	if released {
		e.kick(t)
	}
}

// registerNode: the provisioning node's kubelet registers; a NotReady Node appears.
func (e *Emulator) registerNode(c *cluster, p *nodePool, t time.Time) {
	n := e.newNode(c, p, p.inflight.index, p.inflight.typ, t)
	p.inflight.node = n
	c.kube.nodes[n.name] = n
	c.kube.saveNode(n, "ADDED")
}

// nodeReady: the node turns Ready, the pool counts it and starts the next one.
func (e *Emulator) nodeReady(c *cluster, p *nodePool, t time.Time) {
	n := p.inflight.node
	n.readyAt = t
	c.kube.saveNode(n, "MODIFIED")
	p.inflight = nil
	e.tryStart(c, p, t)
	e.refreshStatus(c, p, t)
	c.kube.savePool(p, "MODIFIED")
}

// finishDrain: a deleted pool's drained nodes go, then the controller's finalizer, then (if no
// other finalizer holds it) the pool.
func (e *Emulator) finishDrain(c *cluster, p *nodePool, t time.Time) {
	k := c.kube
	p.drainAt = time.Time{}
	for _, n := range k.poolNodes(p) {
		k.dropNode(n)
		e.release(n.typ, n.zone)
	}
	var rest []string
	for _, f := range p.finalizers {
		if f != nodePoolFinalizer {
			rest = append(rest, f)
		}
	}
	p.finalizers = rest
	if len(rest) == 0 {
		k.dropPool(p)
	} else {
		e.refreshStatus(c, p, t)
		k.savePool(p, "MODIFIED")
	}
	e.kick(t)
}

// refreshStatus recomputes status.currentNodes and the conditions at t; it reports a change.
func (e *Emulator) refreshStatus(c *cluster, p *nodePool, t time.Time) bool {
	k := c.kube
	before, _ := json.Marshal(p.status)
	if p.status == nil {
		p.status = &poolStatus{}
	}
	s := parsePoolSpec(p.spec)
	it, _ := findInstanceType(s.InstanceType)
	target := s.target(it)
	ready := k.readyNodes(p)
	provisioned := len(k.poolNodes(p))
	if p.inflight != nil && p.inflight.node == nil {
		provisioned++
	}
	p.status.CurrentNodes = ready
	set := func(typ, status, reason, message string) {
		for i := range p.status.Conditions {
			cd := &p.status.Conditions[i]
			if cd.Type != typ {
				continue
			}
			if cd.Status != status {
				cd.Status, cd.LastTransitionTime = status, kubeTime(t)
			}
			cd.Reason, cd.Message, cd.ObservedGeneration = reason, message, p.observedGen
			return
		}
		p.status.Conditions = append(p.status.Conditions, condition{Type: typ, Status: status, ObservedGeneration: p.observedGen,
			LastTransitionTime: kubeTime(t), Reason: reason, Message: message})
	}
	set(CondValidated, "True", "Valid", fmt.Sprintf("instance type %s can run in zone %s", s.InstanceType, c.zone.Name))
	if p.blocked {
		set(CondCapacityAvailable, "False", ReasonInsufficientCapacity,
			fmt.Sprintf("no free %s nodes in %s: %d of %d nodes provisioned; waiting for capacity", s.InstanceType, c.zone.Name, provisioned, target))
	} else {
		set(CondCapacityAvailable, "True", "CapacityAvailable", fmt.Sprintf("capacity for %s in %s is available", s.InstanceType, c.zone.Name))
	}
	switch {
	case p.deleting():
		set(CondAtTarget, "False", "Deleting", "the node pool is being deleted; its nodes are draining")
	case ready == target && p.inflight == nil:
		set(CondAtTarget, "True", "AtTarget", fmt.Sprintf("%d of %d nodes ready", ready, target))
	default:
		set(CondAtTarget, "False", "ScalingUp", fmt.Sprintf("%d of %d nodes ready", ready, target))
	}
	after, _ := json.Marshal(p.status)
	return !bytes.Equal(before, after)
}
