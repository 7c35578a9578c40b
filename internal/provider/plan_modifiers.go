package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
)

// The requiresReplaceIfPriorSet modifiers replace the resource when a value that was known in
// state changes. A value that state does not have (the cloud does not report it back, so an
// imported resource has it null) is recorded in place instead: importing a machine or cluster
// and then writing its settings in the configuration must not destroy it.

const priorSetDescription = "Changing this value replaces the resource, unless state did not know it (after an import)."

func requiresReplaceIfPriorSet() planmodifier.String {
	return stringplanmodifier.RequiresReplaceIf(
		func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
			resp.RequiresReplace = priorSet(req.StateValue)
		}, priorSetDescription, priorSetDescription)
}

func requiresReplaceIfPriorSetInt64() planmodifier.Int64 {
	return int64planmodifier.RequiresReplaceIf(
		func(_ context.Context, req planmodifier.Int64Request, resp *int64planmodifier.RequiresReplaceIfFuncResponse) {
			resp.RequiresReplace = priorSet(req.StateValue)
		}, priorSetDescription, priorSetDescription)
}

func requiresReplaceIfPriorSetList() planmodifier.List {
	return listplanmodifier.RequiresReplaceIf(
		func(_ context.Context, req planmodifier.ListRequest, resp *listplanmodifier.RequiresReplaceIfFuncResponse) {
			resp.RequiresReplace = priorSet(req.StateValue)
		}, priorSetDescription, priorSetDescription)
}

func requiresReplaceIfPriorSetMap() planmodifier.Map {
	return mapplanmodifier.RequiresReplaceIf(
		func(_ context.Context, req planmodifier.MapRequest, resp *mapplanmodifier.RequiresReplaceIfFuncResponse) {
			resp.RequiresReplace = priorSet(req.StateValue)
		}, priorSetDescription, priorSetDescription)
}

func requiresReplaceIfPriorSetSet() planmodifier.Set {
	return setplanmodifier.RequiresReplaceIf(
		func(_ context.Context, req planmodifier.SetRequest, resp *setplanmodifier.RequiresReplaceIfFuncResponse) {
			resp.RequiresReplace = priorSet(req.StateValue)
		}, priorSetDescription, priorSetDescription)
}

func priorSet(v interface{ IsNull() bool }) bool { return !v.IsNull() }

func requiresReplaceIfPriorSetBool() planmodifier.Bool {
	return boolplanmodifier.RequiresReplaceIf(
		func(_ context.Context, req planmodifier.BoolRequest, resp *boolplanmodifier.RequiresReplaceIfFuncResponse) {
			resp.RequiresReplace = priorSet(req.StateValue)
		}, priorSetDescription, priorSetDescription)
}
