package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
)

// requiresReplaceIfPriorSet replaces the resource when a value that was known in state
// changes. A value that state does not have (the cloud does not report it, so an imported
// resource has it null) is recorded in place instead: importing a machine and then writing
// its image in the configuration must not destroy it.
func requiresReplaceIfPriorSet() planmodifier.String {
	return stringplanmodifier.RequiresReplaceIf(
		func(_ context.Context, req planmodifier.StringRequest, resp *stringplanmodifier.RequiresReplaceIfFuncResponse) {
			resp.RequiresReplace = !req.StateValue.IsNull()
		},
		"Changing this value replaces the machine, unless state did not know it (after an import).",
		"Changing this value replaces the machine, unless state did not know it (after an import).",
	)
}
