package provider

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// A launch in doubt is a launch whose answer never came while the create's time lasted: the
// machine may appear later. The resource is saved in state (tainted) with an id that records
// the launch token and a time no earlier than the send, so that the next plan finds the machine
// if it appeared, and the replacement first settles the launch: it terminates the machine if
// it is there, and otherwise waits for proof (a successful look after the cloud's commit
// horizon) that it never will be, before launching again. Without this record, a launch that
// commits late would be launched a second time by the next apply.

const inDoubtPrefix = "launch-in-doubt/"

// inDoubtID is the id of a launch in doubt.
func inDoubtID(token string, sentBy time.Time) string {
	return inDoubtPrefix + token + "/" + strconv.FormatInt(sentBy.Unix(), 10)
}

// parseInDoubt reads an inDoubtID.
func parseInDoubt(id string) (token string, sentBy time.Time, ok bool) {
	rest, found := strings.CutPrefix(id, inDoubtPrefix)
	if !found {
		return "", time.Time{}, false
	}
	token, secs, found := strings.Cut(rest, "/")
	n, err := strconv.ParseInt(secs, 10, 64)
	if !found || token == "" || err != nil {
		return "", time.Time{}, false
	}
	return token, time.Unix(n, 0), true
}

// saveInDoubt records a launch whose outcome is unknown in state, when the cloud can settle it
// later, and returns err with what happens next added.
func saveInDoubt(ctx context.Context, cloud clients.Cloud, spec clients.InstanceSpec, plan *gpuInstanceModel, err error, resp *resource.CreateResponse) error {
	if cloud == nil || !errors.Is(err, clients.ErrOutcomeUnknown) {
		return err
	}
	if _, ok := cloud.(clients.LaunchFinder); !ok {
		return err
	}
	id := inDoubtID(spec.LaunchToken, time.Now().Add(time.Second))
	pending := &clients.Instance{
		ID: id, Cloud: cloud.Name(), Name: spec.Name, Region: spec.Region, Status: "unknown",
		GPUType: spec.GPUType, GPUCount: spec.GPUCount, Image: spec.Image, SSHKeyIDs: spec.SSHKeyIDs, Tags: spec.Tags,
	}
	echoBlocks(ctx, *plan, pending, &resp.Diagnostics)
	plan.Cloud = types.StringValue(cloud.Name())
	flattenInstance(ctx, pending, plan, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	return fmt.Errorf("%w\n\nThe launch is saved in state as %s (tainted). The next plan looks for the machine; the next apply terminates it "+
		"if it appeared, or waits until the cloud's commit horizon has passed, and only then launches again", err, id)
}

// readInDoubt looks, during a refresh, for the machine of a launch in doubt: found, it takes the
// placeholder's place in state (the resource stays tainted, so the next apply replaces it).
func (r *gpuInstanceResource) readInDoubt(ctx context.Context, cloud clients.Cloud, token string, sentBy time.Time, state *gpuInstanceModel, resp *resource.ReadResponse) {
	f, ok := cloud.(clients.LaunchFinder)
	if !ok {
		return
	}
	createTimeout, _ := state.Timeouts.Create(ctx, defaultInstanceCreateTimeout)
	inst, err := f.FindLaunched(ctx, clients.InstanceSpec{LaunchToken: token, AdoptSince: sentBy.Add(-createTimeout)})
	switch {
	case err != nil:
		resp.Diagnostics.AddWarning("Launch still in doubt", fmt.Sprintf("Looking for the machine of the launch %s failed: %v", state.ID.ValueString(), err))
	case inst == nil:
		tflog.Info(ctx, "the machine of a launch in doubt has not appeared (yet)", map[string]any{"id": state.ID.ValueString()})
	default:
		warnAdopted(&resp.Diagnostics, displayName(cloud.Name())+" instance "+inst.ID, "launched by an earlier apply whose launch answer was lost")
		flattenInstance(ctx, inst, state, &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// settleInDoubt settles a launch in doubt within ctx: its machine, or nil once it provably
// never appears.
func settleInDoubt(ctx context.Context, cloud clients.Cloud, token string, sentBy time.Time) (*clients.Instance, error) {
	f, ok := cloud.(clients.LaunchFinder)
	if !ok {
		return nil, fmt.Errorf("%s cannot look for a machine by its launch token", displayName(cloud.Name()))
	}
	return f.SettleLaunch(ctx, clients.InstanceSpec{LaunchToken: token}, sentBy)
}
