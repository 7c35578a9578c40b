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
	if len(xs) == 0 {
		return types.SetNull(types.StringType)
	}
	v, d := types.SetValueFrom(ctx, types.StringType, xs)
	diags.Append(d...)
	return v
}

func listOrNull(ctx context.Context, xs []string, diags *diag.Diagnostics) types.List {
	if len(xs) == 0 {
		return types.ListNull(types.StringType)
	}
	v, d := types.ListValueFrom(ctx, types.StringType, xs)
	diags.Append(d...)
	return v
}

func mapOrNull(ctx context.Context, m map[string]string, diags *diag.Diagnostics) types.Map {
	if len(m) == 0 {
		return types.MapNull(types.StringType)
	}
	v, d := types.MapValueFrom(ctx, types.StringType, m)
	diags.Append(d...)
	return v
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
