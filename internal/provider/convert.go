package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Small conversions between Terraform collection values and Go values. Empty collections
// become null so that an attribute left out of the configuration shows no drift.

// unknownElement stands in for a collection element that is not known until apply (an id of
// a resource created in the same run), so plan-time checks can still count elements.
const unknownElement = "(known after apply)"

func stringsFromSet(_ context.Context, v types.Set, _ *diag.Diagnostics) []string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return stringElements(v.Elements())
}

func stringsFromList(_ context.Context, v types.List, _ *diag.Diagnostics) []string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return stringElements(v.Elements())
}

func stringElements(elems []attr.Value) []string {
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		s, ok := e.(types.String)
		switch {
		case !ok:
			continue
		case s.IsUnknown():
			out = append(out, unknownElement)
		default:
			out = append(out, s.ValueString())
		}
	}
	return out
}

func stringMap(ctx context.Context, v types.Map, diags *diag.Diagnostics) map[string]string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	diags.Append(v.ElementsAs(ctx, &out, false)...)
	return out
}

func setOrNull(ctx context.Context, xs []string, diags *diag.Diagnostics) types.Set {
	return orNull(len(xs), types.SetNull(types.StringType), func() (types.Set, diag.Diagnostics) {
		return types.SetValueFrom(ctx, types.StringType, xs)
	}, diags)
}

func listOrNull(ctx context.Context, xs []string, diags *diag.Diagnostics) types.List {
	return orNull(len(xs), types.ListNull(types.StringType), func() (types.List, diag.Diagnostics) {
		return types.ListValueFrom(ctx, types.StringType, xs)
	}, diags)
}

// orNull is null for no elements, else the value build makes.
func orNull[V any](n int, null V, build func() (V, diag.Diagnostics), diags *diag.Diagnostics) V {
	if n == 0 {
		return null
	}
	v, d := build()
	diags.Append(d...)
	return v
}

func mapOrNull(ctx context.Context, m map[string]string, diags *diag.Diagnostics) types.Map {
	return orNull(len(m), types.MapNull(types.StringType), func() (types.Map, diag.Diagnostics) {
		return types.MapValueFrom(ctx, types.StringType, m)
	}, diags)
}

func stringOrNull(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func int64OrNull(n int) types.Int64 {
	if n == 0 {
		return types.Int64Null()
	}
	return types.Int64Value(int64(n))
}

func nullIfUnknown(s types.String) types.String {
	if s.IsUnknown() {
		return types.StringNull()
	}
	return s
}
