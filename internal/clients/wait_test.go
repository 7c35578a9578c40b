package clients

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/fakeclock"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"
)

// fakeCloudList is an account's machine list as a cloud would answer GET /instances: the test
// sets each machine's status (absent = not listed) and counts the list calls. There is no GET
// of one machine at all: the looker below can only list.
type fakeCloudList struct {
	clock *fakeclock.Clock
	mu    sync.Mutex
	state map[string]string // id -> status; missing = not listed
	fail  error             // when set, every list fails with it
	calls atomic.Int32
}

func (f *fakeCloudList) set(status string, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if status == "" {
			delete(f.state, id)
		} else {
			f.state[id] = status
		}
	}
}

func (f *fakeCloudList) setFail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

func (f *fakeCloudList) list(context.Context) (map[string]string, error) {
	f.calls.Add(1)
	f.clock.Advance(time.Millisecond) // a call takes a moment
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	out := make(map[string]string, len(f.state))
	for k, v := range f.state {
		out[k] = v
	}
	return out, nil
}

// snapshotLooker is an InstanceLooker over a shared snapshot of fakeCloudList, as the adapters
// build theirs; consistent marks its looks as those of a consistent read (a Kubernetes list).
type snapshotLooker struct {
	cache      *snapshot.Cache[map[string]string]
	consistent bool
}

func (l snapshotLooker) LookInstance(ctx context.Context, id string, notBefore time.Time) (Look, error) {
	m, at, err := l.cache.GetAt(ctx, notBefore)
	if err != nil {
		return Look{}, err
	}
	if st, ok := m[id]; ok {
		return Look{Instance: &Instance{ID: id, Status: st}, ListedAt: at, Consistent: l.consistent}, nil
	}
	return Look{ListedAt: at, Consistent: l.consistent}, nil
}

func newGoneFixture(ids ...string) (*fakeclock.Clock, *fakeCloudList, *Cadence, snapshotLooker) {
	clock := fakeclock.New(time.Unix(1_000_000, 0))
	f := &fakeCloudList{clock: clock, state: map[string]string{}}
	f.set(StatusTerminating, ids...)
	cad := NewCadenceWithClock(Pacing{Initial: 10 * time.Millisecond, Max: 80 * time.Millisecond}, clock)
	return clock, f, cad, snapshotLooker{cache: snapshot.NewWithClock(f.list, clock.Now)}
}

// waitGoneAll starts WaitGone for every id and returns a function collecting the results.
func waitGoneAll(ctx context.Context, cad *Cadence, l InstanceLooker, ids []string) func() map[string]error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	out := map[string]error{}
	for _, id := range ids {
		wg.Go(func() {
			err := cad.WaitGone(ctx, l, id)
			mu.Lock()
			out[id] = err
			mu.Unlock()
		})
	}
	return func() map[string]error { wg.Wait(); return out }
}

// A hundred machines leaving together are proven gone by the lists their waiters share: one
// list per tick while they are terminating, then the list that lacks them and the next tick's
// list, which confirms it, for all of them at once. No machine is asked for by id (the
// looker cannot), and nobody is let go on a single list's word.
func TestWaitGoneSharesListsAndConfirmsAbsence(t *testing.T) {
	machines := ids("m", 100)
	clock, f, cad, l := newGoneFixture(machines...)
	collect := waitGoneAll(t.Context(), cad, l, machines)

	clock.WaitTimers(len(machines)) // every waiter is parked on the first tick
	clock.AdvanceToNext()
	clock.WaitTimers(len(machines)) // ... looked (terminating) and parked on the second
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("first tick: %d list calls for %d waiters, want 1", n, len(machines))
	}

	f.set("", machines...) // the cloud forgets them all
	clock.AdvanceToNext()
	clock.WaitTimers(len(machines)) // lacked by one list: not proof yet
	if n := f.calls.Load(); n != 2 {
		t.Fatalf("second tick: %d list calls, want 2", n)
	}
	clock.AdvanceToNext()
	got := collect()
	for _, id := range machines {
		if got[id] != nil {
			t.Errorf("%s: %v", id, got[id])
		}
	}
	if n := f.calls.Load(); n != 3 {
		t.Errorf("%d list calls in all, want 3: one per tick, the last confirming the absence", n)
	}
}

// A terminated status in a list is proof on its own.
func TestWaitGoneTerminatedStatus(t *testing.T) {
	clock, f, cad, l := newGoneFixture("m-1")
	f.set(StatusTerminated, "m-1")
	collect := waitGoneAll(t.Context(), cad, l, []string{"m-1"})
	clock.WaitTimers(1)
	clock.AdvanceToNext()
	if err := collect()["m-1"]; err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("%d list calls, want 1", n)
	}
}

// A machine missing from one list but back in the next is not gone: the wait goes on until a
// list lacks it and the following one agrees.
func TestWaitGoneAbsenceMustBeConfirmed(t *testing.T) {
	clock, f, cad, l := newGoneFixture("m-1")
	f.set("", "m-1") // the first list lacks m-1 (a glitch)
	collect := waitGoneAll(t.Context(), cad, l, []string{"m-1"})
	clock.WaitTimers(1)
	clock.AdvanceToNext()
	clock.WaitTimers(1)
	f.set(StatusTerminating, "m-1") // ... the next one lists it again: not gone
	clock.AdvanceToNext()
	clock.WaitTimers(1)
	f.set("", "m-1")
	clock.AdvanceToNext() // lacks it
	clock.WaitTimers(1)
	if n := f.calls.Load(); n != 3 {
		t.Fatalf("%d list calls, want 3, and still waiting", n)
	}
	clock.AdvanceToNext() // lacks it again: confirmed
	if err := collect()["m-1"]; err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Load(); n != 4 {
		t.Errorf("%d list calls, want 4", n)
	}
}

// A failed list is never proof: a failure ends the wait with that failure (the machine stays in
// state), a rate-limit refusal waits for the next tick; a failed confirming list proves nothing
// either.
func TestWaitGoneFailedListIsNotProof(t *testing.T) {
	t.Run("failure", func(t *testing.T) {
		clock, f, cad, l := newGoneFixture("m-1")
		f.set("", "m-1")
		boom := &APIError{StatusCode: 503, Message: "list instances: service unavailable"}
		f.setFail(boom)
		collect := waitGoneAll(t.Context(), cad, l, []string{"m-1"})
		clock.WaitTimers(1)
		clock.AdvanceToNext()
		if err := collect()["m-1"]; !errors.Is(err, boom) {
			t.Fatalf("wait ended with %v, want the list's failure", err)
		}
	})
	t.Run("a list route's 404", func(t *testing.T) {
		clock, f, cad, l := newGoneFixture("m-1")
		f.set("", "m-1")
		// httpx turns a 404 on a list route into an error that is not ErrNotFound.
		f.setFail(&APIError{StatusCode: 404, Message: "list instances: not found (a list route answered this)"})
		collect := waitGoneAll(t.Context(), cad, l, []string{"m-1"})
		clock.WaitTimers(1)
		clock.AdvanceToNext()
		if err := collect()["m-1"]; err == nil {
			t.Fatal("a 404 on the list route was taken as proof")
		}
	})
	t.Run("rate limited", func(t *testing.T) {
		clock, f, cad, l := newGoneFixture("m-1")
		f.set("", "m-1")
		f.setFail(Errorf(ErrRateLimited, "slow down"))
		collect := waitGoneAll(t.Context(), cad, l, []string{"m-1"})
		clock.WaitTimers(1)
		clock.AdvanceToNext()
		clock.WaitTimers(1) // refused: still waiting, at the next tick
		f.setFail(nil)
		clock.AdvanceToNext()
		clock.WaitTimers(1) // lacks it
		clock.AdvanceToNext()
		if err := collect()["m-1"]; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("failed confirmation", func(t *testing.T) {
		clock, f, cad, l := newGoneFixture("m-1")
		f.set("", "m-1")
		boom := &APIError{StatusCode: 500, Message: "list instances: internal error"}
		n := atomic.Int32{}
		l.cache = snapshot.NewWithClock(func(ctx context.Context) (map[string]string, error) {
			if n.Add(1) == 2 {
				f.calls.Add(1)
				return nil, boom // the confirming list fails
			}
			return f.list(ctx)
		}, clock.Now)
		collect := waitGoneAll(t.Context(), cad, l, []string{"m-1"})
		clock.WaitTimers(1)
		clock.AdvanceToNext() // lacks it
		clock.WaitTimers(1)
		clock.AdvanceToNext() // the confirming list fails
		if err := collect()["m-1"]; !errors.Is(err, boom) {
			t.Fatalf("wait ended with %v, want the confirming list's failure, not success", err)
		}
	})
	t.Run("404 on the machine's own URL", func(t *testing.T) {
		clock, _, cad, _ := newGoneFixture("m-1")
		own := lookerFunc(func(context.Context, string, time.Time) (Look, error) {
			return Look{}, &APIError{Kind: ErrNotFound, StatusCode: 404, Message: "no such instance"}
		})
		collect := waitGoneAll(t.Context(), cad, own, []string{"m-1"})
		clock.WaitTimers(1)
		clock.AdvanceToNext()
		if err := collect()["m-1"]; err != nil {
			t.Fatal(err)
		}
	})
}

type lookerFunc func(ctx context.Context, id string, notBefore time.Time) (Look, error)

func (f lookerFunc) LookInstance(ctx context.Context, id string, notBefore time.Time) (Look, error) {
	return f(ctx, id, notBefore)
}

// The cadence is one schedule for every waiter of a cloud: ticks double up to Max while
// anything waits, a waiter arriving later takes the next tick rather than starting over, and
// the schedule starts again after everyone has left.
func TestCadenceSchedule(t *testing.T) {
	clock := fakeclock.New(time.Unix(1_000_000, 0))
	start := clock.Now()
	cad := NewCadenceWithClock(Pacing{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond}, clock)
	var mu sync.Mutex
	seen := map[string][]time.Duration{}
	stop := map[string]*atomic.Bool{"a": {}, "b": {}}
	wait := func(name string) chan error {
		done := make(chan error, 1)
		go func() {
			done <- cad.Wait(t.Context(), func(_ context.Context, tick time.Time) (bool, error) {
				mu.Lock()
				seen[name] = append(seen[name], tick.Sub(start))
				mu.Unlock()
				return stop[name].Load(), nil
			})
		}()
		return done
	}
	a := wait("a")
	clock.WaitTimers(1)
	for range 3 { // ticks at 10, 30, 70 ms
		clock.AdvanceToNext()
		clock.WaitTimers(1)
	}
	b := wait("b") // joins at 70 ms: its first tick is the schedule's next, 110 ms
	clock.WaitTimers(2)
	stop["a"].Store(true)
	stop["b"].Store(true)
	clock.AdvanceToNext()
	for _, done := range []chan error{a, b} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	if got, want := fmt.Sprint(seen["a"]), fmt.Sprint(ms(10, 30, 70, 110)); got != want {
		t.Errorf("a looked at %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(seen["b"]), fmt.Sprint(ms(110)); got != want {
		t.Errorf("b looked at %s, want %s (the shared tick)", got, want)
	}
	// Everyone left: the next waiter starts a new schedule, Initial after it comes.
	stop["a"].Store(true)
	seen["a"] = nil
	again := wait("a")
	clock.WaitTimers(1)
	clock.AdvanceToNext()
	if err := <-again; err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(seen["a"]), fmt.Sprint(ms(120)); got != want {
		t.Errorf("a new schedule looked at %s, want %s", got, want)
	}
}

// Settings.Pacing puts PollInitial and PollMax on the emulator's clock, never below PollFloor,
// and leaves them alone in real time.
func TestSettingsPacing(t *testing.T) {
	if p := (Settings{}).Pacing(); p != (Pacing{Initial: PollInitial, Max: PollMax}) {
		t.Errorf("real time: %+v", p)
	}
	if p := (Settings{RateScale: 0.01}).Pacing(); p.Initial != PollFloor || p.Max != PollMax/100 {
		t.Errorf("scale 0.01: %+v", p)
	}
	if p := (Settings{RateScale: 0.0001}).Pacing(); p.Initial != PollFloor || p.Max != PollFloor {
		t.Errorf("scale 0.0001: %+v", p)
	}
}

// A waiter for a machine the cloud takes settle to terminate does not look before then: one
// machine terminating for 200 ms (twenty ticks' worth at Initial 10 ms) is proven gone by the
// one list at 200 ms that shows it terminated, not by a list per tick.
func TestWaitGoneAfterFirstLooksAtSettle(t *testing.T) {
	clock, f, cad, l := newGoneFixture("m-1")
	start := clock.Now()
	done := make(chan error, 1)
	go func() { done <- cad.WaitGoneAfter(t.Context(), l, "m-1", 200*time.Millisecond, nil) }()
	clock.WaitTimers(1)
	f.set(StatusTerminated, "m-1") // the cloud finishes the terminate before the first look
	clock.AdvanceToNext()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("%d list calls, want 1", n)
	}
	if got := clock.Now().Sub(start); got < 200*time.Millisecond {
		t.Errorf("the look came %s after the terminate, before the settle time", got)
	}
}

// A machine still terminating after the settle time is looked at again on the backing-off
// schedule (its ticks 2, 4, 8 x Initial ... up to Max apart), and a list that lacks it is
// confirmed by another one before it counts; a waiter that settles looks first at the settle
// time without moving the shared schedule, so a waiter already there keeps its own ticks.
func TestWaitGoneAfterBacksOffAndKeepsTheSharedSchedule(t *testing.T) {
	clock, f, cad, l := newGoneFixture("m-1")
	start := clock.Now()
	var mu sync.Mutex
	var ticks []time.Duration
	other := make(chan error, 1)
	stopOther := atomic.Bool{}
	go func() {
		other <- cad.Wait(t.Context(), func(_ context.Context, tick time.Time) (bool, error) {
			mu.Lock()
			ticks = append(ticks, tick.Sub(start))
			mu.Unlock()
			return stopOther.Load(), nil
		})
	}()
	clock.WaitTimers(1)
	done := make(chan error, 1)
	go func() { done <- cad.WaitGoneAfter(t.Context(), l, "m-1", 100*time.Millisecond, nil) }()
	clock.WaitTimers(2)
	clock.AdvanceToNext() // 10 ms: only the other waiter looks
	clock.WaitTimers(2)
	mu.Lock()
	if len(ticks) != 1 || ticks[0] != 10*time.Millisecond {
		t.Fatalf("the other waiter looked at %v, want [10ms]: the settling waiter moved the schedule", ticks)
	}
	mu.Unlock()
	if n := f.calls.Load(); n != 0 {
		t.Fatalf("%d list calls before the settle time, want 0", n)
	}
	stopOther.Store(true)
	clock.AdvanceToNext() // 30 ms
	if err := <-other; err != nil {
		t.Fatal(err)
	}
	// Its looks: 100 ms (the settle time, not the schedule's next tick at 150 ms: terminating),
	// 150 (the schedule's next tick: lacked), 160 (one initial interval later: confirmed).
	clock.WaitTimers(1)
	clock.AdvanceToNext() // 100 ms: still terminating
	clock.WaitTimers(1)
	if got := clock.Now().Sub(start); got != 101*time.Millisecond { // the list takes 1 ms
		t.Fatalf("first look ended at %s, want 101ms", got)
	}
	if n := f.calls.Load(); n != 1 {
		t.Fatalf("%d list calls by the first tick after the settle time, want 1", n)
	}
	f.set("", "m-1")
	clock.AdvanceToNext() // lacked: not proof yet
	clock.WaitTimers(1)
	clock.AdvanceToNext() // confirmed
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Load(); n != 3 {
		t.Errorf("%d list calls in all, want 3", n)
	}
}

// Settings.Settle is on the poll intervals' clock.
func TestSettingsSettle(t *testing.T) {
	if got := (Settings{RateScale: 0.01}).Settle(20 * time.Second); got != 200*time.Millisecond {
		t.Errorf("scaled: %s", got)
	}
	initial := PollInitial
	t.Cleanup(func() { PollInitial = initial })
	PollInitial = time.Second
	if got := (Settings{}).Settle(20 * time.Second); got != 20*time.Second {
		t.Errorf("real time: %s", got)
	}
	PollInitial = 10 * time.Millisecond
	if got := (Settings{}).Settle(20 * time.Second); got != 200*time.Millisecond {
		t.Errorf("real time, shrunk poll intervals: %s", got)
	}
}

// Gone waiters whose terminates were accepted a few milliseconds apart (Terraform hands the
// deletes of one apply over tens of milliseconds) share one first look and one confirming
// look, instead of each starting looks at the next ticks of a fast schedule.
func TestWaitGoneGathersTheFirstLook(t *testing.T) {
	machines := ids("m", 3)
	clock, f, cad, l := newGoneFixture()
	var wg sync.WaitGroup
	errs := make(chan error, len(machines))
	for k, id := range machines {
		wg.Go(func() { errs <- cad.WaitGoneAfter(t.Context(), l, id, 0, nil) })
		clock.WaitTimers(k + 1)
		clock.Advance(20 * time.Millisecond) // the next delete is answered 20 ms later (2 ticks' worth)
	}
	// All three are lacked by the gathering look (the cloud let them go at once) and by the
	// one after it. (The clock is driven until they are done: the gathering look may move to
	// a later tick while they come.)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		case <-time.After(time.Millisecond):
			clock.AdvanceToNext()
		}
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.calls.Load(); n != 2 {
		t.Errorf("%d list calls for 3 machines, want 2: the shared first look and its confirmation", n)
	}
}
