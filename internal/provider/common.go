package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// configureData extracts the provider's data in a resource's or data source's Configure.
// It returns nil (and no error) before the provider is configured, as the framework asks.
func configureData(raw any, diags *diag.Diagnostics) *providerData {
	if raw == nil {
		return nil
	}
	d, ok := raw.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("Expected *providerData, got %T. This is a bug in the provider; please report it.", raw))
		return nil
	}
	return d
}

// parseImportID splits "cloud/id" as written in `terraform import`.
func parseImportID(id string) (cloud, rest string, err error) {
	cloud, rest, ok := strings.Cut(id, "/")
	if !ok || cloud == "" || rest == "" {
		return "", "", fmt.Errorf("expected an import id of the form <cloud>/<id>, for example lambda/0920582c7ff041399e34823a0be62549; got %q", id)
	}
	if _, known := clients.Lookup(cloud); !known {
		return "", "", clients.UnknownCloudError(cloud)
	}
	return cloud, rest, nil
}

// importCloudAndID is the ImportState shared by resources whose id is "<cloud>/<native id>".
func importCloudAndID(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	cloud, id, err := parseImportID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import ID", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("cloud"), cloud)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), id)...)
}

// launchIdentity is the launch token of a resource (derived from its kind and name, so a rerun
// after a crash looks for the same one) and the time since which a machine carrying it is
// adopted: within one create timeout, an earlier apply of this resource may have launched it
// and been interrupted before it could save state.
func launchIdentity(kind, name string, createTimeout time.Duration) (string, time.Time) {
	return clients.IdentityToken(kind, name), time.Now().Add(-createTimeout)
}

// warnAdopted tells the user when a create found an existing machine instead of launching one.
func warnAdopted(diags *diag.Diagnostics, what, why string) {
	if why == "" {
		return
	}
	diags.AddWarning("Adopted an existing machine instead of launching one",
		fmt.Sprintf("%s was %s, and carries this resource's launch token: it is now in state, and nothing was launched twice.", what, why))
}

// addCloudError turns an error from a cloud into a diagnostic with a specific summary and a
// remedy where one is known.
func addCloudError(diags *diag.Diagnostics, summary string, err error) {
	detail := err.Error()
	var capErr *clients.CapacityError
	if errors.As(err, &capErr) {
		detail += "\n\nCapacity for GPUs changes by the minute. Try again later, allow more regions (leave `region` unset), " +
			"try another cloud, or choose another gpu_type. The `neocloud_gpu_offers` data source lists what is available now."
	} else {
		for _, r := range cloudErrorRemedies {
			if errors.Is(err, r.kind) {
				detail += "\n\n" + r.remedy
				break
			}
		}
	}
	diags.AddError(summary, detail)
}

// cloudErrorRemedies is what a user can do about each kind of cloud error, the first match
// in this order.
var cloudErrorRemedies = []struct {
	kind   error
	remedy string
}{
	{clients.ErrCapacity, "The cloud has no machine of this type free right now. Try again later, another region, or another gpu_type."},
	{clients.ErrQuota, "Your account's quota does not allow this. Ask the cloud's support to raise it, or release machines you do not need."},
	{clients.ErrAuth, "Check the API key in the provider configuration (or its environment variable) and that the account is active."},
	{clients.ErrRateLimited, "The cloud kept refusing requests for exceeding its rate limit, even after waiting as it asked. Run again with fewer parallel operations (terraform -parallelism=2)."},
	{clients.ErrUnavailable, "The cloud's API is unavailable right now and stayed so while the provider retried. Try again in a few minutes; check the cloud's status page if it persists."},
	{clients.ErrOutcomeUnknown, "The cloud may have acted on the request. Check the cloud's console for a machine that Terraform does not track before trying again."},
	{context.DeadlineExceeded, "The operation did not finish within its timeout. Raise it in the resource's `timeouts` block if the cloud is slow today."},
}

// checkRegion refuses, at plan time and on the attribute, a region the cloud does not have. A
// cloud whose regions come from its API (clients.RegionLister: RunPod's data centers) is asked,
// once per provider process, so a region it opened after this provider was released is
// accepted; when it cannot be asked, the region is left to the cloud's own answer at apply,
// with a warning. hint ends the error's detail.
func checkRegion(ctx context.Context, cloud clients.Cloud, region types.String, hint string) diag.Diagnostics {
	var diags diag.Diagnostics
	if region.IsNull() || region.IsUnknown() {
		return diags
	}
	at := path.Root("region")
	regions, err := clients.CloudRegions(ctx, cloud)
	if err != nil {
		diags.AddAttributeWarning(at, "Region not checked",
			fmt.Sprintf("The list of %s regions could not be read at plan time (%v); the region is checked by %s when the resource is created.",
				displayName(cloud.Name()), err, displayName(cloud.Name())))
		return diags
	}
	if !slices.Contains(regions, region.ValueString()) {
		if clients.RegionsIncomplete(cloud) {
			diags.Append(unknownOpenRegion(cloud, region.ValueString(), regions))
			return diags
		}
		detail := fmt.Sprintf("%s has no region %q. Its regions are: %s.", displayName(cloud.Name()), region.ValueString(), strings.Join(regions, ", "))
		if hint != "" {
			detail += " " + hint
		}
		diags.AddAttributeError(at, "Unknown region", detail)
	}
	return diags
}

// authFailed reports err when it is an authentication failure and says whether it was one.
// The first report of a cloud's rejection in a run is the whole error; later ones add nothing
// (quiet: at plan and refresh, where the run fails anyway) or a short error pointing at the
// first (an apply-time operation, which must fail on its own).
func (d *providerData) authFailed(diags *diag.Diagnostics, name string, err error, quiet bool) bool {
	if !errors.Is(err, clients.ErrAuth) {
		return false
	}
	name = cloudOfError(name, err)
	d.mu.Lock()
	first := !d.authReported[name]
	if d.authReported == nil {
		d.authReported = map[string]bool{}
	}
	d.authReported[name] = true
	src, known := d.keyFrom[name]
	d.mu.Unlock()

	info, _ := clients.Lookup(name)
	display := displayName(name)
	noun := "API key"
	if info.KeyAttribute == "api_token" {
		noun = "API token"
	}
	summary := fmt.Sprintf("%s rejected the %s", display, noun)
	switch {
	case first && known:
		diags.AddError(summary, authErrorDetail(display, noun, src, err))
	case first:
		diags.AddError(summary, err.Error()+"\n\nCheck the "+noun+" in the provider configuration (or its environment variable) and that the account is active.")
	case !quiet:
		diags.AddError(summary, fmt.Sprintf("%s refused the %s again (%v): see the first error about it.", display, noun, err))
	}
	return true
}

// authErrorDetail says what was refused, where the key came from and how to fix it.
func authErrorDetail(display, noun string, src keySource, err error) string {
	setting := fmt.Sprintf("`%s.%s`", src.block, src.attribute)
	var from, fix string
	if src.fromEnv {
		from = fmt.Sprintf("the %s environment variable (the provider configuration sets no %s)", src.env, setting)
		fix = fmt.Sprintf("Set %s to a valid %s %s, or set %s in the provider's `%s` block.", src.env, display, noun, setting, src.block)
	} else {
		from = setting + " in the provider configuration"
		fix = fmt.Sprintf("Set %s in the provider's `%s` block to a valid %s %s (or remove it to use the %s environment variable).",
			setting, src.block, display, noun, src.env)
	}
	return fmt.Sprintf("%s refused the %s: %v.\n\nThe %s comes from %s. %s "+
		"Check also that the account is active and the key has not been revoked. Every %s operation of this run needs it; this is reported once.",
		display, noun, strings.TrimRight(err.Error(), "."), noun, from, fix, display)
}

// cloudOfError is name, or when the caller does not know which cloud answered, the cloud an
// API error names.
func cloudOfError(name string, err error) string {
	if name != "" {
		return name
	}
	var apiErr *clients.APIError
	if errors.As(err, &apiErr) {
		for _, n := range clients.Names() {
			if n == apiErr.Cloud || displayName(n) == apiErr.Cloud {
				return n
			}
		}
	}
	return name
}

// cloudError reports a failed apply-time operation: an authentication failure as authFailed
// does, anything else as addCloudError.
func (d *providerData) cloudError(diags *diag.Diagnostics, name, summary string, err error) {
	if !d.authFailed(diags, name, err, false) {
		addCloudError(diags, summary, err)
	}
}

// readError reports a failed refresh: an authentication failure once per cloud and run (the
// run fails on it), anything else as addCloudError.
func (d *providerData) readError(diags *diag.Diagnostics, name, summary string, err error) {
	if !d.authFailed(diags, name, err, true) {
		addCloudError(diags, summary, err)
	}
}

// cloudNameOf is a cloud's name, or "" for none.
func cloudNameOf(c clients.Cloud) string {
	if c == nil {
		return ""
	}
	return c.Name()
}

// displayName is a cloud's name for diagnostics.
func displayName(cloud string) string {
	if info, ok := clients.Lookup(cloud); ok {
		return info.DisplayName
	}
	return cloud
}

// attrPath turns a neutral dotted field name ("lambda.file_system_names") into a path.
func attrPath(field string) path.Path {
	parts := strings.Split(field, ".")
	p := path.Root(parts[0])
	for _, part := range parts[1:] {
		p = p.AtName(part)
	}
	return p
}

func quotedList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "`" + x + "`"
	}
	return strings.Join(q, ", ")
}

// regionOrAny names a region in messages, or says none was reported.
func regionOrAny(region string) string {
	if region == "" {
		return "no region reported"
	}
	return region
}
