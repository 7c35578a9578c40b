package clients

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/fakeclock"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"
)

// The call economy of gone waiters (docs/guides/performance.md), on a fake clock, with the
// list and looker of wait_test.go.

// econFixture is newGoneFixture (a cadence of Initial 10 ms, Max 80 ms on a fake clock) over
// a list where every machine is gone already (the cloud let them go before anyone looks);
// consistent marks the looks as those of a consistent read (a Kubernetes list).
func econFixture(consistent bool) (*fakeclock.Clock, *fakeCloudList, *Cadence, snapshotLooker) {
	clock, f, cad, l := newGoneFixture()
	l.consistent = consistent
	return clock, f, cad, l
}

func econIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("m-%02d", i)
	}
	return out
}

// startGone starts WaitGoneAfter for each id, the next one gap after the previous one (on the
// fake clock), and returns a function that drives the clock until every waiter is done and
// fails the test if any of them failed. The clock moves only while every waiter still waiting
// is parked on it, so that no waiter misses a tick it would share under any load.
func startGone(t *testing.T, clock *fakeclock.Clock, cad *Cadence, l InstanceLooker, ids []string, settle, gap time.Duration) func() {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	var waiting atomic.Int32
	waiting.Store(int32(len(ids)))
	for k, id := range ids {
		wg.Go(func() {
			err := cad.WaitGoneAfter(t.Context(), l, id, settle, nil)
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			waiting.Add(-1)
		})
		clock.WaitTimers(k + 1) // every waiter so far is parked
		if k < len(ids)-1 {
			clock.Advance(gap)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return func() {
		t.Helper()
		for {
			select {
			case <-done:
				for _, err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
				return
			default:
			}
			if n := int(waiting.Load()); n > 0 && clock.Pending() >= n {
				clock.AdvanceToNext()
			} else {
				runtime.Gosched() // a waiter is still between ticks
			}
		}
	}
}

// Ten deletes accepted 30 ms apart (270 ms from the first to the last) of a cloud that takes
// 200 ms to terminate: each waiter moves the cohort's first look to its own, so all ten look
// once, together, when the last one's machine is due to be gone. With a consistent list that
// one list is the whole proof: ten machines, one list.
func TestWaitGoneCohortFollowsLaterMembers(t *testing.T) {
	clock, f, cad, l := econFixture(true)
	start := clock.Now()
	wait := startGone(t, clock, cad, l, econIDs(10), 200*time.Millisecond, 30*time.Millisecond)
	wait()
	if n := f.calls.Load(); n != 1 {
		t.Errorf("%d list calls for 10 machines, want 1", n)
	}
	// The last delete came at 270 ms; its own first look was due at the first tick at least
	// 200 ms later.
	if got := clock.Now().Sub(start); got < 470*time.Millisecond {
		t.Errorf("the look came at %s, before the last machine's termination time", got)
	}
}

// A list that is not a consistent read still needs its confirmation: the same ten machines
// cost the shared look and one more.
func TestWaitGoneCohortStillConfirmsPlainLists(t *testing.T) {
	clock, f, cad, l := econFixture(false)
	wait := startGone(t, clock, cad, l, econIDs(10), 200*time.Millisecond, 30*time.Millisecond)
	wait()
	if n := f.calls.Load(); n != 2 {
		t.Errorf("%d list calls for 10 machines, want 2 (the shared look and its confirmation)", n)
	}
}

// A cohort's first look moves at most the termination time (or 50 ms per member) beyond its
// first member's own: deletes that keep coming for longer start a new cohort, so no waiter's
// first look is put off without bound.
func TestWaitGoneCohortMovesWithinBounds(t *testing.T) {
	clock, f, cad, l := econFixture(true)
	var mu sync.Mutex
	var looks []time.Duration
	start := clock.Now()
	watch := lookTimes{l, start, &mu, &looks}
	// Three waiters 150 ms apart, each due to look 200 ms (the termination time) after it
	// came. The second one's look (350 ms) is within 200 ms of the first one's own (200 ms):
	// the cohort looks there, together. The third one's (500 ms) is not, and the cohort's look
	// is nearer than its termination time: it starts a cohort of its own.
	wait := startGone(t, clock, cad, watch, econIDs(3), 200*time.Millisecond, 150*time.Millisecond)
	wait()
	if n := f.calls.Load(); n != 2 {
		t.Errorf("%d list calls, want 2: one per cohort", n)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []time.Duration{350 * time.Millisecond, 350 * time.Millisecond, 500 * time.Millisecond}
	if !slices.Equal(looks, want) {
		t.Errorf("looks at %v, want %v", looks, want)
	}
}

// lookTimes records when (after start) each look was asked for.
type lookTimes struct {
	snapshotLooker
	start time.Time
	mu    *sync.Mutex
	at    *[]time.Duration
}

func (l lookTimes) LookInstance(ctx context.Context, id string, notBefore time.Time) (Look, error) {
	l.mu.Lock()
	*l.at = append(*l.at, notBefore.Sub(l.start))
	l.mu.Unlock()
	return l.snapshotLooker.LookInstance(ctx, id, notBefore)
}

// Deletes that reach the cloud in a stream, each within 50 ms of the previous one (RunPod's
// deletes at its rate limit), share one first look even when their cloud lets a machine go at
// once (no termination time): 20 machines cost the look after the last one and its
// confirmation.
func TestWaitGoneCohortFollowsAStream(t *testing.T) {
	clock, f, cad, l := econFixture(false)
	wait := startGone(t, clock, cad, l, econIDs(20), 0, 20*time.Millisecond)
	wait()
	if n := f.calls.Load(); n != 2 {
		t.Errorf("%d list calls for a stream of 20 deletes, want 2", n)
	}
}

// The list that confirms an absence comes one initial poll interval after the list that
// showed it, not at the next tick of the shared schedule, which is further out: a machine whose
// first look is 500 ms out (the schedule starts there, then 520, 560 ms...) is seen absent at
// 500 ms and confirmed at 510 ms, not at 520 ms. (After a minute of deletes the schedule's
// interval is at its maximum, 15 s at real time, and the difference is that.)
func TestWaitGoneConfirmsSoonAfterTheAbsence(t *testing.T) {
	clock, f, cad, l := econFixture(false)
	var mu sync.Mutex
	var looks []time.Duration
	start := clock.Now()
	wait := startGone(t, clock, cad, lookTimes{l, start, &mu, &looks}, econIDs(1), 500*time.Millisecond, 0)
	wait()
	if n := f.calls.Load(); n != 2 {
		t.Errorf("%d list calls, want 2 (the look and its confirmation)", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(looks) != 2 || looks[0] != 500*time.Millisecond || looks[1] != 510*time.Millisecond {
		t.Errorf("looks at %v, want [500ms 510ms]", looks)
	}
}

// A gone waiter of a cloud whose machines leave at once looks soon after its delete was
// accepted (GoneGather later), not at the next tick of a schedule that other waiters have
// backed off: here a boot waiter has waited 630 ms, and the schedule's next tick is a second
// away. The delete's look (and the one confirming it) come 50 and 60 ms after it; where
// deletes queue for a rate limit, the look yields to them instead (httpx, clients.Yield).
func TestWaitGoneLooksSoonWhereMachinesLeaveAtOnce(t *testing.T) {
	clock := fakeclock.New(time.Unix(1_000_000, 0))
	f := &fakeCloudList{clock: clock, state: map[string]string{}}
	cad := NewCadenceWithClock(Pacing{Initial: 10 * time.Millisecond, Max: time.Second}, clock)
	var mu sync.Mutex
	var looks []time.Duration
	start := clock.Now()
	l := lookTimes{snapshotLooker{cache: snapshot.NewWithClock(f.list, clock.Now)}, start, &mu, &looks}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	booted := make(chan struct{})
	go func() {
		defer close(booted)
		_ = cad.Wait(ctx, func(context.Context, time.Time) (bool, error) { return false, nil })
	}()
	clock.WaitTimers(1)
	for clock.Now().Sub(start) < 630*time.Millisecond { // ticks at 10, 30, 70, 150, 310, 630 ms
		clock.AdvanceToNext()
		clock.WaitTimers(1)
	}
	gone := make(chan error, 1)
	go func() { gone <- cad.WaitGoneAfter(t.Context(), l, "m-1", 0, nil) }()
	for range 2 { // the look, and the one confirming it
		clock.WaitTimers(2)
		clock.AdvanceToNext()
	}
	if err := <-gone; err != nil {
		t.Fatal(err)
	}
	cancel()
	<-booted
	mu.Lock()
	defer mu.Unlock()
	if want := []time.Duration{680 * time.Millisecond, 690 * time.Millisecond}; !slices.Equal(looks, want) {
		t.Errorf("looks at %v, want %v", looks, want)
	}
}

// Ten machines created 40 ms apart, each up 300 ms after its creation, waited up on a
// schedule that backs off to 100 ms (looks at 10, 30, 70, 150, 250, 350, 450 ms ...). The look
// at 350 ms sees the first two up, the second in 310 ms from its creation; the last machine
// (created at 360 ms) is then due at 670 ms. The waiters still booting look once more at
// 680 ms (one initial interval later), and the last machine is seen up there, instead of at
// the schedule's tick at 750 ms.
func TestWaitUpLooksWhenTheLastMachineIsDue(t *testing.T) {
	clock := fakeclock.New(time.Unix(1_000_000, 0))
	cad := NewCadenceWithClock(Pacing{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}, clock)
	start := clock.Now()
	var mu sync.Mutex
	looks := map[time.Duration]bool{}
	var last time.Duration
	var wg sync.WaitGroup
	var waiting atomic.Int32
	const n = 10
	waiting.Store(n)
	for k := range n {
		created := start.Add(time.Duration(k) * 40 * time.Millisecond)
		wg.Go(func() {
			defer waiting.Add(-1)
			err := cad.WaitUp(t.Context(), func(_ context.Context, tick time.Time) (bool, time.Time, error) {
				now := clock.Now()
				mu.Lock()
				looks[tick.Sub(start)] = true
				up := !now.Before(created.Add(300 * time.Millisecond))
				if up {
					last = max(last, now.Sub(start))
				}
				mu.Unlock()
				return up, created, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			mu.Lock()
			defer mu.Unlock()
			if last > 680*time.Millisecond {
				t.Errorf("the last machine was seen up at %s, want 680ms", last)
			}
			if len(looks) > 10 {
				t.Errorf("looks at %v: %d, want 10 (the schedule's nine until 650 ms, and the one when the last machine is due)", looks, len(looks))
			}
			return
		default:
		}
		if w := int(waiting.Load()); w > 0 && clock.Pending() >= w {
			clock.AdvanceToNext()
		} else {
			runtime.Gosched()
		}
	}
}
