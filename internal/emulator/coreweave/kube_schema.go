package coreweave

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// The part of a Kubernetes API server that checks written objects against a structural OpenAPI
// schema: unknown fields are pruned (and reported to a strict field validation), wrong types
// are field errors, as the API server does for a CustomResourceDefinition such as NodePool.
// The NodePool's own spec, read from a pruned object, follows it.

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
