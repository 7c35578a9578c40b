package provider

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
)

// What neocloud_gpu_instance and neocloud_gpu_cluster share: a cloud or a placement block, the
// start of every operation, and the helpers both resources' plans and waits use.

// gpuResource is the base of both GPU resources: baseResource's provider data, Configure and
// "<cloud>/<id>" import, and exactly one of `cloud` and `placement`.
type gpuResource struct {
	baseResource
	typeName string // after the provider's name: "gpu_instance"
}

func (r *gpuResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + r.typeName
}

func (gpuResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{resourcevalidator.ExactlyOneOf(path.MatchRoot("cloud"), path.MatchRoot("placement"))}
}

// gpuModel is what the state and plan of both GPU resources hold alike.
type gpuModel struct {
	ID              types.String    `tfsdk:"id"`
	Name            types.String    `tfsdk:"name"`
	Cloud           types.String    `tfsdk:"cloud"`
	Region          types.String    `tfsdk:"region"`
	GPUType         types.String    `tfsdk:"gpu_type"`
	SSHKeyIDs       types.Set       `tfsdk:"ssh_key_ids"`
	MaxPricePerHour types.Float64   `tfsdk:"max_price_per_hour"`
	CapacityType    types.String    `tfsdk:"capacity_type"`
	Placement       *placementModel `tfsdk:"placement"`
	Timeouts        timeouts.Value  `tfsdk:"timeouts"`

	Status       types.String  `tfsdk:"status"`
	InstanceType types.String  `tfsdk:"instance_type"`
	PricePerHour types.Float64 `tfsdk:"price_per_hour"`
	MaxPossible  types.Float64 `tfsdk:"max_possible_price_per_hour"`
	CreatedAt    types.String  `tfsdk:"created_at"`
}

// gpuResourceAPI is what both GPU resources implement.
type gpuResourceAPI interface {
	resource.ResourceWithConfigure
	resource.ResourceWithImportState
	resource.ResourceWithModifyPlan
	resource.ResourceWithConfigValidators
}

var _ = []gpuResourceAPI{(*gpuInstanceResource)(nil), (*gpuClusterResource)(nil)}

// keptString is a computed attribute that keeps its state value in a plan.
func keptString(description string) schema.StringAttribute {
	return schema.StringAttribute{Computed: true, MarkdownDescription: description, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
}

// chosenString is an attribute the configuration may set or leave to the provider (`cloud`,
// `region`): recorded once chosen, and only a configured change replaces the resource.
func chosenString(description string, validators ...validator.String) schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true, Computed: true, MarkdownDescription: description, Validators: validators,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplaceIfConfigured()},
	}
}

// modelRead is one model an operation reads: from the plan or the state (get) into a model.
type modelRead struct {
	get  func(context.Context, any) diag.Diagnostics
	into any
}

// startOperation begins an Update or a Delete: it reads the models, then the operation's
// timeout from the model's timeouts block, and looks up the resource's cloud (a failure is
// summary's error). ctx is bounded by the timeout and carries the operation's start; ok is
// false after a diagnostic. The caller defers cancel either way.
func startOperation[C any](ctx context.Context, diags *diag.Diagnostics, reads []modelRead, timeout func() (time.Duration, diag.Diagnostics),
	cloud func() (C, error), summary string,
) (_ context.Context, cancel context.CancelFunc, c C, ok bool) {
	for _, r := range reads {
		diags.Append(r.get(ctx, r.into)...)
	}
	if diags.HasError() {
		return ctx, func() {}, c, false
	}
	t, td := timeout()
	diags.Append(td...)
	c, err := cloud()
	if err != nil {
		diags.AddError(summary, err.Error())
		return ctx, func() {}, c, false
	}
	if diags.HasError() {
		return ctx, func() {}, c, false
	}
	ctx, cancel = context.WithTimeout(withOperationStart(ctx), t)
	return ctx, cancel, c, true
}

// neutralOr prefers the catalog's neutral GPU name and falls back to the native id.
func neutralOr(gpuType, native string) string {
	if _, ok := gpus.Lookup(gpuType); ok {
		return gpuType
	}
	return native
}

// keySetOnCloud is keysOnCloud for a planned set: when an id is not known yet (a key created
// in the same run), the whole set is left unknown so plan-time checks of keys wait for apply.
func keySetOnCloud(ctx context.Context, cloud clients.Cloud, set types.Set, diags *diag.Diagnostics) types.Set {
	if set.IsNull() || set.IsUnknown() {
		return set
	}
	ids := stringsFromSet(ctx, set, diags)
	if slices.Contains(ids, unknownElement) {
		return types.SetUnknown(types.StringType)
	}
	return setOrNull(ctx, keysOnCloud(ctx, cloud, ids), diags)
}

// keysOnCloud keeps the SSH key ids that belong to the cloud's account: a resource placed by
// `placement` may list keys of several clouds (one neocloud_ssh_key per cloud).
func keysOnCloud(ctx context.Context, cloud clients.Cloud, ids []string) []string {
	keys, ok := cloud.(clients.SSHKeyCloud)
	if !ok {
		return nil
	}
	var out []string
	for _, id := range ids {
		if _, err := keys.GetSSHKey(ctx, id); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// soldInSomeCount reports whether the cloud sells a GPU type in any count, to put a
// resolution error on gpu_count (the count is wrong) rather than gpu_type (the type is).
func soldInSomeCount(cloud clients.Cloud, gpuType string) bool {
	return len(countsSold(cloud, gpuType)) > 0
}

// countsSold lists the GPU counts (up to 16) a cloud resolves a GPU type with, without calling
// its API.
func countsSold(cloud clients.Cloud, gpuType string) []int {
	var out []int
	for n := 1; n <= 16; n++ {
		if _, err := cloud.ResolveInstanceType(gpuType, n); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// joinCounts writes counts as "1, 2, 4 or 8".
func joinCounts(counts []int) string {
	s := make([]string, len(counts))
	for i, n := range counts {
		s[i] = strconv.Itoa(n)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// ignoreRateLimit lets a waiter keep waiting through a refusal for its pace: the next look is
// paced further apart anyway.
func ignoreRateLimit(err error) error {
	if errors.Is(err, clients.ErrRateLimited) {
		return nil
	}
	return err
}

// planCapacityAndPlacement is the shared start of both GPU resources' ModifyPlan once the plan
// is read: capacity_type is planned (computeClass: what a block's deprecated compute class
// asks); a new resource (created) with placement is planned by place; a cloud not known yet
// leaves the plan as it is. ok says the plan goes on, on the fixed cloud.
func (m *gpuModel) planCapacityAndPlacement(computeClass types.String, created bool, place func(), diags *diag.Diagnostics) (ok bool) {
	m.CapacityType = plannedCapacityType(m.CapacityType, computeClass, diags)
	if diags.HasError() {
		return false
	}
	if m.Placement != nil && created {
		place()
		return false
	}
	return !m.Cloud.IsUnknown()
}

// fixedCloudKeys are the keys the resource's own cloud judges: a placed one lists keys of
// several clouds, its cloud only its own. capacity_type is checked against that cloud too.
func (m *gpuModel) fixedCloudKeys(ctx context.Context, cloud clients.Cloud, diags *diag.Diagnostics) types.Set {
	keys := m.SSHKeyIDs
	if m.Placement != nil {
		keys = keySetOnCloud(ctx, cloud, keys, diags)
	}
	checkCapacityType(cloud.Name(), m.CapacityType, diags)
	return keys
}

// startCreate begins a Create: it reads the plan and the create timeout; ctx is bounded by the
// timeout and carries the operation's start. ok is false after a diagnostic.
func startCreate(ctx context.Context, diags *diag.Diagnostics, plan modelRead, timeout func() (time.Duration, diag.Diagnostics)) (_ context.Context, cancel context.CancelFunc, ok bool) {
	ctx, cancel, _, ok = startOperation(ctx, diags, []modelRead{plan}, timeout, func() (struct{}, error) { return struct{}{}, nil }, "")
	return ctx, cancel, ok
}

// goneOrFailed ends a Read whose look found the resource gone (it leaves state) or failed
// (what: the resource in messages, "instance"); false lets the Read record what it found.
func (d *providerData) goneOrFailed(ctx context.Context, gone bool, err error, cloud, what, id string, resp *resource.ReadResponse) bool {
	if gone {
		tflog.Warn(ctx, what+" is gone, removing it from state", map[string]any{"id": id})
		resp.State.RemoveResource(ctx)
		return true
	}
	if err != nil {
		d.readError(&resp.Diagnostics, cloud, "Unable to read "+displayName(cloud)+" "+what+" "+id, err)
		return true
	}
	return false
}

// unknownNames lists the names whose value is unknown.
func unknownNames(values map[string]attr.Value) map[string]bool {
	out := map[string]bool{}
	for name, v := range values {
		if v.IsUnknown() {
			out[name] = true
		}
	}
	return out
}

// flattenPrice records the price the cloud reports; max_possible_price_per_hour was planned
// with placement, else it is the price itself.
func (m *gpuModel) flattenPrice(price float64) {
	m.PricePerHour = types.Float64Value(roundPrice(price))
	if m.MaxPossible.IsNull() || m.MaxPossible.IsUnknown() {
		m.MaxPossible = m.PricePerHour
	}
}

// flattenCreatedAt records the creation time where the cloud reports it.
func (m *gpuModel) flattenCreatedAt(at time.Time) {
	if !at.IsZero() {
		m.CreatedAt = types.StringValue(at.UTC().Format(time.RFC3339))
	} else if m.CreatedAt.IsUnknown() {
		m.CreatedAt = types.StringNull()
	}
}
