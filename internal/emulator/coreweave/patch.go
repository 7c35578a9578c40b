package coreweave

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// JSON merge patch (RFC 7386) and JSON patch (RFC 6902) over decoded JSON values
// (map[string]any, []any, json.Number, string, bool, nil).

// mergePatch applies an RFC 7386 merge patch: objects merge key by key, null deletes, anything
// else replaces. The target is not modified.
func mergePatch(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return deepCopy(patch)
	}
	tm, ok := target.(map[string]any)
	out := map[string]any{}
	if ok {
		for k, v := range tm {
			out[k] = v
		}
	}
	for k, v := range pm {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}

// jsonPatchOp is one RFC 6902 operation.
type jsonPatchOp struct {
	Op    string          `json:"op"`
	Path  *string         `json:"path"`
	From  *string         `json:"from"`
	Value json.RawMessage `json:"value"`
}

// maxJSONPatchOps is the apiserver's limit on operations in one JSON patch.
const maxJSONPatchOps = 10000

// decodeJSONPatch parses a JSON patch document; errors are the client's (400).
func decodeJSONPatch(b []byte) ([]jsonPatchOp, error) {
	var ops []jsonPatchOp
	if err := json.Unmarshal(b, &ops); err != nil {
		return nil, fmt.Errorf("invalid JSON patch: %v", err)
	}
	if len(ops) > maxJSONPatchOps {
		return nil, fmt.Errorf("the allowed maximum operations in a JSON patch is %d, got %d", maxJSONPatchOps, len(ops))
	}
	for i, op := range ops {
		switch op.Op {
		case "add", "replace", "test":
			if op.Value == nil {
				return nil, fmt.Errorf("operation %d (%s) has no value", i, op.Op)
			}
		case "remove":
		case "move", "copy":
			if op.From == nil {
				return nil, fmt.Errorf("operation %d (%s) has no from", i, op.Op)
			}
		default:
			return nil, fmt.Errorf("unexpected kind: %q", op.Op)
		}
		if op.Path == nil {
			return nil, fmt.Errorf("operation %d (%s) has no path", i, op.Op)
		}
	}
	return ops, nil
}

// applyJSONPatch applies operations in order; an error means the patch does not apply to this
// document (the apiserver answers 422).
func applyJSONPatch(doc any, ops []jsonPatchOp) (any, error) {
	doc = deepCopy(doc)
	for _, op := range ops {
		path, err := parsePointer(*op.Path)
		if err != nil {
			return nil, err
		}
		var value any
		if op.Value != nil {
			if value, err = decodeAny(op.Value); err != nil {
				return nil, fmt.Errorf("invalid value in %s operation: %v", op.Op, err)
			}
		}
		switch op.Op {
		case "add":
			doc, err = pointerAdd(doc, path, value)
		case "remove":
			doc, _, err = pointerRemove(doc, path)
		case "replace":
			if _, err = pointerGet(doc, path); err == nil {
				if len(path) == 0 {
					doc = value
				} else {
					doc, _, err = pointerRemove(doc, path)
					if err == nil {
						doc, err = pointerAdd(doc, path, value)
					}
				}
			}
		case "move", "copy":
			var from []string
			if from, err = parsePointer(*op.From); err != nil {
				return nil, err
			}
			var v any
			if op.Op == "move" {
				doc, v, err = pointerRemove(doc, from)
			} else if v, err = pointerGet(doc, from); err == nil {
				v = deepCopy(v)
			}
			if err == nil {
				doc, err = pointerAdd(doc, path, v)
			}
		case "test":
			var got any
			if got, err = pointerGet(doc, path); err == nil && !sameJSON(got, value) {
				err = fmt.Errorf("testing value %s failed: test failed", *op.Path)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// parsePointer splits an RFC 6901 JSON pointer into unescaped reference tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("JSON pointer %q must start with '/'", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

func pointerGet(doc any, path []string) (any, error) {
	cur := doc
	for _, tok := range path {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, fmt.Errorf("doc is missing path: %q", "/"+strings.Join(path, "/"))
			}
			cur = v
		case []any:
			i, err := arrayIndex(tok, len(c), false)
			if err != nil {
				return nil, err
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("doc is missing path: %q", "/"+strings.Join(path, "/"))
		}
	}
	return cur, nil
}

// pointerAdd inserts value at path (RFC 6902 "add": objects set the member, arrays insert,
// "-" appends) and returns the new document.
func pointerAdd(doc any, path []string, value any) (any, error) {
	if len(path) == 0 {
		return value, nil
	}
	tok := path[0]
	switch c := doc.(type) {
	case map[string]any:
		if len(path) == 1 {
			c[tok] = value
			return c, nil
		}
		child, ok := c[tok]
		if !ok {
			return nil, fmt.Errorf("doc is missing path: %q", "/"+strings.Join(path, "/"))
		}
		nc, err := pointerAdd(child, path[1:], value)
		if err != nil {
			return nil, err
		}
		c[tok] = nc
		return c, nil
	case []any:
		if len(path) == 1 {
			if tok == "-" {
				return append(c, value), nil
			}
			i, err := arrayIndex(tok, len(c), true)
			if err != nil {
				return nil, err
			}
			out := make([]any, 0, len(c)+1)
			out = append(out, c[:i]...)
			out = append(out, value)
			return append(out, c[i:]...), nil
		}
		i, err := arrayIndex(tok, len(c), false)
		if err != nil {
			return nil, err
		}
		nc, err := pointerAdd(c[i], path[1:], value)
		if err != nil {
			return nil, err
		}
		c[i] = nc
		return c, nil
	default:
		return nil, fmt.Errorf("doc is missing path: %q", "/"+strings.Join(path, "/"))
	}
}

// pointerRemove removes the value at path and returns the new document and the removed value.
func pointerRemove(doc any, path []string) (any, any, error) {
	if len(path) == 0 {
		return nil, doc, nil
	}
	tok := path[0]
	switch c := doc.(type) {
	case map[string]any:
		child, ok := c[tok]
		if !ok {
			return nil, nil, fmt.Errorf("unable to remove nonexistent key: %s: missing value", tok)
		}
		if len(path) == 1 {
			delete(c, tok)
			return c, child, nil
		}
		nc, removed, err := pointerRemove(child, path[1:])
		if err != nil {
			return nil, nil, err
		}
		c[tok] = nc
		return c, removed, nil
	case []any:
		i, err := arrayIndex(tok, len(c), false)
		if err != nil {
			return nil, nil, err
		}
		if len(path) == 1 {
			removed := c[i]
			out := append(append([]any{}, c[:i]...), c[i+1:]...)
			return out, removed, nil
		}
		nc, removed, err := pointerRemove(c[i], path[1:])
		if err != nil {
			return nil, nil, err
		}
		c[i] = nc
		return c, removed, nil
	default:
		return nil, nil, fmt.Errorf("doc is missing path: %q", "/"+strings.Join(path, "/"))
	}
}

// arrayIndex parses an array reference token; inserting allows index == length.
func arrayIndex(tok string, n int, insert bool) (int, error) {
	i, err := strconv.Atoi(tok)
	if err != nil || (len(tok) > 1 && tok[0] == '0') {
		return 0, fmt.Errorf("invalid array index %q", tok)
	}
	limit := n - 1
	if insert {
		limit = n
	}
	if i < 0 || i > limit {
		return 0, fmt.Errorf("unable to access invalid index: %d: invalid index referenced", i)
	}
	return i, nil
}

// deepCopy copies decoded JSON.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[k] = deepCopy(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = deepCopy(val)
		}
		return out
	default:
		return v
	}
}
