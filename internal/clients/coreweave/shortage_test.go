package coreweave

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// shortPool gives cluster cl-1 a 2-node pool with one Ready node and a False capacity
// condition that changed at since (nil: no lastTransitionTime).
func shortPool(f *fakeCW, since *time.Time, reason, message string) {
	cond := map[string]any{"type": "CapacityAvailable", "status": "False", "reason": reason, "message": message}
	if since != nil {
		cond["lastTransitionTime"] = since.UTC().Format(time.RFC3339)
	}
	f.setPoolStatus("cl-1", "pretrain-gpu", 1,
		map[string]any{"type": "AtTarget", "status": "False", "reason": "ScalingUp", "message": "1 of 2 nodes ready"}, cond)
}

func newShortCluster(t *testing.T) *fakeCW {
	f := newPoolFake(t, h100Pool(2, map[string]any{"uid": "u-1"}, nil))
	f.addNode("pretrain-gpu", "g1a2b3c-pretrain-gpu-0", true, "10.0.0.10", "")
	return f
}

// A node pool that waits for capacity is a state while the condition is young, and an error of
// the neutral capacity kind, naming what was short, once it has held for the grace (measured
// from the condition's lastTransitionTime).
func TestGetClusterCapacityShortage(t *testing.T) {
	f := newShortCluster(t)
	c := newTestCloud(t, f)
	c.shortageGrace = time.Minute

	young := time.Now().Add(-10 * time.Second)
	shortPool(f, &young, "InsufficientCapacity", "no free gd-8xh100ib-i128 nodes in US-EAST-04A")
	cl, err := settledGet(t, c, "cl-1")
	if err != nil {
		t.Fatal(err)
	}
	if cl.Shortage != nil || cl.Stalled || cl.Status != clients.ClusterPending || !strings.Contains(cl.Problem, "waiting for capacity") {
		t.Fatalf("within the grace: %s stalled=%v shortage=%v %q", cl.Status, cl.Stalled, cl.Shortage, cl.Problem)
	}

	old := time.Now().Add(-2 * time.Minute)
	shortPool(f, &old, "InsufficientCapacity", "no free gd-8xh100ib-i128 nodes in US-EAST-04A")
	cl, err = settledGet(t, c, "cl-1")
	if err != nil {
		t.Fatalf("a shortage is in the view, not an error of the read: %v", err)
	}
	if cl.Shortage == nil || !clients.IsCapacity(cl.Shortage) || errors.Is(cl.Shortage, clients.ErrQuota) || !cl.Stalled || cl.Status != clients.ClusterDegraded {
		t.Fatalf("past the grace: %s stalled=%v shortage=%v", cl.Status, cl.Stalled, cl.Shortage)
	}
	for _, want := range []string{"no capacity for 2 x gd-8xh100ib-i128 in US-EAST-04A", "1 of 2 nodes ready", "InsufficientCapacity: no free"} {
		if !strings.Contains(cl.Shortage.Error(), want) {
			t.Errorf("shortage %q lacks %q", cl.Shortage, want)
		}
	}
	if cl.Problem != cl.Shortage.Error() {
		t.Errorf("problem %q", cl.Problem)
	}

	// A quota, not free capacity: of the quota kind.
	shortPool(f, &old, "QuotaExceeded", "organization quota for gd-8xh100ib-i128 nodes reached (insufficient quota)")
	cl, err = settledGet(t, c, "cl-1")
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(cl.Shortage, clients.ErrQuota) || !strings.Contains(cl.Shortage.Error(), "quota exceeded for 2 x gd-8xh100ib-i128 in US-EAST-04A") {
		t.Errorf("quota: %v", cl.Shortage)
	}

	// Capacity came back: no shortage.
	f.setPoolStatus("cl-1", "pretrain-gpu", 1,
		map[string]any{"type": "CapacityAvailable", "status": "True", "reason": "CapacityAvailable"})
	cl, err = settledGet(t, c, "cl-1")
	if err != nil {
		t.Fatal(err)
	}
	if cl.Shortage != nil || cl.Stalled || cl.Status != clients.ClusterPending {
		t.Errorf("capacity back: %s stalled=%v shortage=%v", cl.Status, cl.Stalled, cl.Shortage)
	}
}

// Without a usable lastTransitionTime (absent, or ahead of this machine's clock), the grace
// counts from when this process first saw the condition.
func TestGetClusterCapacityShortageCountsFromFirstSight(t *testing.T) {
	for name, since := range map[string]*time.Time{"absent": nil, "in the future": new(time.Now().Add(time.Hour))} {
		t.Run(name, func(t *testing.T) {
			f := newShortCluster(t)
			c := newTestCloud(t, f)
			c.shortageGrace = time.Hour
			shortPool(f, since, "InsufficientCapacity", "no free gd-8xh100ib-i128 nodes in US-EAST-04A")
			cl, err := settledGet(t, c, "cl-1")
			if err != nil {
				t.Fatal(err)
			}
			if cl.Shortage != nil {
				t.Fatalf("first sight is not past the grace: %v", cl.Shortage)
			}
			// Some time has passed since the first sight, however little: past a grace of
			// 1 ns counted from it (but not from this second sight).
			c.shortageGrace = time.Nanosecond
			cl, err = settledGet(t, c, "cl-1")
			if err != nil {
				t.Fatal(err)
			}
			if !clients.IsCapacity(cl.Shortage) {
				t.Fatalf("after the grace: %s %q", cl.Status, cl.Problem)
			}
		})
	}
}

// The grace is on the clock of the settings (an emulator running faster is matched).
func TestShortageGraceFollowsRateScale(t *testing.T) {
	c, err := NewWithOptions(clients.Settings{APIKey: testToken, RateScale: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if c.shortageGrace != DefaultShortageGrace/100 {
		t.Errorf("grace %s", c.shortageGrace)
	}
	c, err = NewWithOptions(clients.Settings{APIKey: testToken}, WithShortageGrace(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if c.shortageGrace != time.Second {
		t.Errorf("grace %s", c.shortageGrace)
	}
}
