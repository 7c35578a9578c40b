package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The requiresReplaceIfPriorSet modifiers replace the resource when a value that was known in
// state changes. A value that state does not have (the cloud does not report it back, so an
// imported resource has it null) is recorded in place instead: importing a machine or cluster
// and then writing its settings in the configuration must not destroy it.

const priorSetDescription = "Changing this value replaces the resource, unless state did not know it (after an import)."

// priorSetReplace is that modifier, for every kind of attribute that uses it. Like the
// framework's RequiresReplaceIf, it never replaces on create or destroy, nor for an unchanged
// value.
type priorSetReplace struct{}

func requiresReplaceIfPriorSet() planmodifier.String     { return priorSetReplace{} }
func requiresReplaceIfPriorSetInt64() planmodifier.Int64 { return priorSetReplace{} }
func requiresReplaceIfPriorSetList() planmodifier.List   { return priorSetReplace{} }
func requiresReplaceIfPriorSetMap() planmodifier.Map     { return priorSetReplace{} }
func requiresReplaceIfPriorSetSet() planmodifier.Set     { return priorSetReplace{} }
func requiresReplaceIfPriorSetBool() planmodifier.Bool   { return priorSetReplace{} }

func (priorSetReplace) Description(context.Context) string         { return priorSetDescription }
func (priorSetReplace) MarkdownDescription(context.Context) string { return priorSetDescription }

// replaces decides for one attribute: state and plan are the whole resource's.
func (priorSetReplace) replaces(state, plan tftypes.Value, planValue, stateValue attr.Value) bool {
	return !state.IsNull() && !plan.IsNull() && !planValue.Equal(stateValue) && !stateValue.IsNull()
}

func (m priorSetReplace) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	resp.RequiresReplace = m.replaces(req.State.Raw, req.Plan.Raw, req.PlanValue, req.StateValue)
}
func (m priorSetReplace) PlanModifyInt64(_ context.Context, req planmodifier.Int64Request, resp *planmodifier.Int64Response) {
	resp.RequiresReplace = m.replaces(req.State.Raw, req.Plan.Raw, req.PlanValue, req.StateValue)
}
func (m priorSetReplace) PlanModifyList(_ context.Context, req planmodifier.ListRequest, resp *planmodifier.ListResponse) {
	resp.RequiresReplace = m.replaces(req.State.Raw, req.Plan.Raw, req.PlanValue, req.StateValue)
}
func (m priorSetReplace) PlanModifyMap(_ context.Context, req planmodifier.MapRequest, resp *planmodifier.MapResponse) {
	resp.RequiresReplace = m.replaces(req.State.Raw, req.Plan.Raw, req.PlanValue, req.StateValue)
}
func (m priorSetReplace) PlanModifySet(_ context.Context, req planmodifier.SetRequest, resp *planmodifier.SetResponse) {
	resp.RequiresReplace = m.replaces(req.State.Raw, req.Plan.Raw, req.PlanValue, req.StateValue)
}
func (m priorSetReplace) PlanModifyBool(_ context.Context, req planmodifier.BoolRequest, resp *planmodifier.BoolResponse) {
	resp.RequiresReplace = m.replaces(req.State.Raw, req.Plan.Raw, req.PlanValue, req.StateValue)
}
