package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Waiting on a machine: until it is ready, stopped or started, or gone, at the cloud's shared
// look cadence (one list serves every waiter of a cloud).

// setPowerState starts or stops a machine and waits until it is running (and reachable) or
// stopped.
func setPowerState(ctx context.Context, cad *clients.Cadence, cloud clients.Cloud, id, desired string) (*clients.Instance, error) {
	if _, err := cloud.UpdateInstance(ctx, id, clients.InstanceUpdate{DesiredState: &desired}); err != nil {
		return nil, err
	}
	return waitPowerState(ctx, cad, cloud, id, desired)
}

// waitPowerState waits until a machine is running and reachable, or stopped.
func waitPowerState(ctx context.Context, cad *clients.Cadence, cloud clients.Cloud, id, desired string) (*clients.Instance, error) {
	if desired == clients.DesiredRunning {
		return waitInstanceReady(ctx, cad, cloud, id)
	}
	return waitInstanceStopped(ctx, cad, cloud, id)
}

// waitInstanceStopped looks, at the cloud's shared cadence, until the machine reports stopped.
func waitInstanceStopped(ctx context.Context, cad *clients.Cadence, cloud clients.Cloud, id string) (*clients.Instance, error) {
	last, _, err := watchInstance(ctx, cad, cloud, id, clients.StatusStopped, false, func(inst *clients.Instance) (bool, error) {
		if inst.Status == clients.StatusError || inst.Gone() {
			return false, fmt.Errorf("the cloud reports the machine as %s (%s) while stopping it", inst.Status, inst.NativeStatus)
		}
		return inst.Status == clients.StatusStopped, nil
	})
	return last, err
}

// watchInstance looks, at the cloud's shared cadence, until done says the machine is where it
// should be (waitingFor, in the progress log), or fails, or ctx ends. It returns the last view
// of the machine and the watch's progress. up marks a wait for the machine to come up: the
// cadence then also looks when the last machine coming up is due (clients.Cadence.WaitUp).
func watchInstance(ctx context.Context, cad *clients.Cadence, cloud clients.Cloud, id, waitingFor string, up bool, done func(*clients.Instance) (bool, error)) (*clients.Instance, *progress, error) {
	var last *clients.Instance
	prog := newProgress(ctx)
	look := func(ctx context.Context, tick time.Time) (bool, time.Time, error) {
		inst, err := clients.LookOrGet(ctx, cloud, id, tick)
		if err != nil {
			return false, time.Time{}, ignoreRateLimit(err)
		}
		last = inst
		prog.instance(ctx, inst, waitingFor)
		ok, err := done(inst)
		return ok, inst.CreatedAt, err
	}
	var err error
	if up {
		err = cad.WaitUp(ctx, look)
	} else {
		err = cad.Wait(ctx, func(ctx context.Context, tick time.Time) (bool, error) {
			ok, _, err := look(ctx, tick)
			return ok, err
		})
	}
	return last, prog, err
}

// waitInstanceReady looks, at the cloud's shared cadence, until the machine is usable, has
// failed, or ctx ends. Every machine of the cloud being waited for is read from the same list
// at each look (clients.Cadence), so booting a hundred machines costs no more polling than one.
func waitInstanceReady(ctx context.Context, cad *clients.Cadence, cloud clients.Cloud, id string) (*clients.Instance, error) {
	last, prog, err := watchInstance(ctx, cad, cloud, id, "running and reachable", true, func(inst *clients.Instance) (bool, error) {
		if inst.Ready {
			return true, nil
		}
		if inst.Failed() || inst.Status == clients.StatusStopped {
			return false, fmt.Errorf("the cloud reports the machine (%s in %s) as %s (%s)", inst.InstanceType, regionOrAny(inst.Region), inst.Status, inst.NativeStatus)
		}
		return false, nil
	})
	if err != nil && last != nil && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s while the machine was %s: %w", prog.elapsed(), instanceStatusText(last), err)
	}
	return last, err
}

// waitInstanceGone waits, at the cloud's shared cadence, until there is proof that the machine
// is gone (docs/guides/reliability.md, "Only proof removes a machine"). Where the cloud reads machines from a list snapshot, that
// proof comes from the lists every deleted machine's waiter shares (a terminated status, or a
// complete list that lacks it, confirmed by a later one), never from a GET per machine; other
// clouds are asked for the machine itself. Every status change on the way is logged.
//
// The first look waits for settle, the time the cloud typically takes to terminate a machine
// (on the cadence's clock), and later looks back off: looks grow with the time waited only
// logarithmically, never with the number of machines.
func waitInstanceGone(ctx context.Context, cad *clients.Cadence, settle time.Duration, cloud clients.Cloud, id string) error {
	prog := newProgress(ctx)
	if l, ok := cloud.(clients.InstanceLooker); ok {
		return cad.WaitGoneAfter(ctx, l, id, settle, func(ctx context.Context, inst *clients.Instance) {
			prog.instance(ctx, inst, clients.StatusTerminated)
		})
	}
	return cad.WaitAfter(ctx, settle, func(ctx context.Context, tick time.Time) (bool, error) {
		inst, err := cloud.GetInstance(clients.FreshSince(ctx, tick), id)
		if clients.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, ignoreRateLimit(err)
		}
		prog.instance(ctx, inst, clients.StatusTerminated)
		return inst.Gone(), nil
	})
}

// terminationTime is how long the cloud typically takes to terminate a machine whose terminate
// it accepted (0: unknown, or at once, as a RunPod pod leaves its list).
func terminationTime(cloud clients.Cloud) time.Duration {
	if t, ok := cloud.(clients.TerminationTimer); ok {
		return t.TerminationTime()
	}
	return 0
}
