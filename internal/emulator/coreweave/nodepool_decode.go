package coreweave

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Decoding and validation of written NodePool objects, and the generic write options of the
// Kubernetes API (fieldValidation, dryRun, preconditions) that every write verb honours.

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
