package clients

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/fakeclock"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// recordingSend is a BatchSend that records every request's ids and answers with answer.
type recordingSend struct {
	mu     sync.Mutex
	calls  [][]string
	answer func(ids []string) (map[string]error, error)
}

func (r *recordingSend) send(_ context.Context, ids []string) (map[string]error, error) {
	r.mu.Lock()
	r.calls = append(r.calls, slices.Clone(ids))
	r.mu.Unlock()
	if r.answer == nil {
		return nil, nil
	}
	return r.answer(ids)
}

func (r *recordingSend) requests() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// doAll calls b.Do for each id in its own goroutine and returns the errors by id.
func doAll(ctx context.Context, b *Batcher, ids []string) (wait func() map[string]error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := map[string]error{}
	for _, id := range ids {
		wg.Go(func() {
			err := b.Do(ctx, id)
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		})
	}
	return func() map[string]error {
		wg.Wait()
		return errs
	}
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}

// Many concurrent callers within the window: one request with every id, and each caller learns
// its own outcome.
func TestBatcherJoinsConcurrentCallersIntoOneRequest(t *testing.T) {
	clock := fakeclock.New(time.Unix(1000, 0))
	rec := &recordingSend{answer: func([]string) (map[string]error, error) {
		return map[string]error{"i-07": Errorf(ErrConflict, "i-07 cannot be terminated")}, nil
	}}
	j := apifake.NewHighWater()
	b := NewBatcherWithClock(50*time.Millisecond, rec.send, clock, j.Report)

	all := ids("i", 40)
	wait := doAll(t.Context(), b, all)
	j.Wait(len(all))    // every caller has joined the open batch
	clock.WaitTimers(1) // its window is running
	clock.Advance(50 * time.Millisecond)
	errs := wait()

	reqs := rec.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1: %v", len(reqs), reqs)
	}
	got := slices.Sorted(slices.Values(reqs[0]))
	if !slices.Equal(got, all) {
		t.Errorf("the request carried %v, want every id %v", got, all)
	}
	for _, id := range all {
		if id == "i-07" {
			if !IsConflict(errs[id]) {
				t.Errorf("%s: %v, want its own conflict", id, errs[id])
			}
		} else if errs[id] != nil {
			t.Errorf("%s: %v, want success (another id's failure is not its)", id, errs[id])
		}
	}
}

// A failure answer for the request fails every caller of the batch.
func TestBatcherFailureFailsEveryCaller(t *testing.T) {
	clock := fakeclock.New(time.Unix(1000, 0))
	boom := Errorf(ErrAuth, "the API key was refused")
	rec := &recordingSend{answer: func([]string) (map[string]error, error) { return nil, boom }}
	j := apifake.NewHighWater()
	b := NewBatcherWithClock(50*time.Millisecond, rec.send, clock, j.Report)

	all := ids("i", 12)
	wait := doAll(t.Context(), b, all)
	j.Wait(len(all))
	clock.WaitTimers(1)
	clock.Advance(50 * time.Millisecond)
	errs := wait()
	if n := len(rec.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	for _, id := range all {
		if !errors.Is(errs[id], boom) {
			t.Errorf("%s: %v, want the batch's failure", id, errs[id])
		}
	}
}

// Two batchers (two clouds, or two accounts of one) never put each other's ids in a request,
// even when their callers come at the same moment.
func TestBatchersOfTwoCloudsNeverMix(t *testing.T) {
	clock := fakeclock.New(time.Unix(1000, 0))
	lam, other := &recordingSend{}, &recordingSend{}
	jl, jo := apifake.NewHighWater(), apifake.NewHighWater()
	bl := NewBatcherWithClock(50*time.Millisecond, lam.send, clock, jl.Report)
	bo := NewBatcherWithClock(50*time.Millisecond, other.send, clock, jo.Report)

	li, oi := ids("lambda", 10), ids("other", 10)
	waitL := doAll(t.Context(), bl, li)
	waitO := doAll(t.Context(), bo, oi)
	jl.Wait(len(li))
	jo.Wait(len(oi))
	clock.WaitTimers(2)
	clock.Advance(50 * time.Millisecond)
	waitL()
	waitO()

	for name, tc := range map[string]struct {
		rec  *recordingSend
		want []string
	}{"lambda": {lam, li}, "other": {other, oi}} {
		reqs := tc.rec.requests()
		if len(reqs) != 1 || !slices.Equal(slices.Sorted(slices.Values(reqs[0])), tc.want) {
			t.Errorf("%s batcher sent %v, want one request with exactly %v", name, reqs, tc.want)
		}
	}
}

// Callers arriving while a request is out wait for it and go together in the next one; a
// caller who gave up before its batch went is left out of it.
func TestBatcherNextBatchAndCancelledCallers(t *testing.T) {
	clock := fakeclock.New(time.Unix(1000, 0))
	release := make(chan struct{})
	inFirst := make(chan struct{})
	var first sync.Once
	rec := &recordingSend{answer: func([]string) (map[string]error, error) {
		first.Do(func() { close(inFirst); <-release })
		return nil, nil
	}}
	j := apifake.NewHighWater()
	b := NewBatcherWithClock(50*time.Millisecond, rec.send, clock, j.Report)

	wait1 := doAll(t.Context(), b, []string{"a"})
	j.Wait(1)
	clock.WaitTimers(1)
	clock.Advance(50 * time.Millisecond)
	<-inFirst // the first request is out

	gone, cancel := context.WithCancel(t.Context())
	wait2 := doAll(t.Context(), b, []string{"b", "c"})
	waitGone := doAll(gone, b, []string{"d"})
	j.Wait(3)
	cancel()
	if err := waitGone()["d"]; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v", err)
	}
	clock.WaitTimers(1)
	clock.Advance(50 * time.Millisecond)
	close(release)
	if errs := wait1(); errs["a"] != nil {
		t.Errorf("a: %v", errs["a"])
	}
	if errs := wait2(); errs["b"] != nil || errs["c"] != nil {
		t.Errorf("b, c: %v", errs)
	}
	reqs := rec.requests()
	if len(reqs) != 2 || !slices.Equal(reqs[0], []string{"a"}) || !slices.Equal(slices.Sorted(slices.Values(reqs[1])), []string{"b", "c"}) {
		t.Errorf("requests %v, want [a] then [b c] without the cancelled d", reqs)
	}
}

// A batch whose request must wait for the rate limiter (Ready) keeps taking callers until it
// can leave: the ten callers who come after the window, while it waits, go in the same request,
// not in a second one that would wait again.
func TestBatcherTakesCallersUntilReady(t *testing.T) {
	clock := fakeclock.New(time.Unix(1000, 0))
	rec := &recordingSend{}
	joins := apifake.NewHighWater() // how many callers have joined a batch, whichever
	var mu sync.Mutex
	n, most := 0, 0 // joins, and the most ids one batch held
	b := NewBatcherWithClock(50*time.Millisecond, rec.send, clock, func(waiting int) {
		mu.Lock()
		n++
		most = max(most, waiting)
		k := n
		mu.Unlock()
		joins.Report(k)
	})
	waiting, ready := make(chan struct{}), make(chan struct{})
	b.Ready = func(context.Context) error {
		close(waiting)
		<-ready
		return nil
	}

	first, later := ids("a", 5), ids("b", 10)
	wait1 := doAll(t.Context(), b, first)
	joins.Wait(len(first))
	clock.WaitTimers(1)
	clock.Advance(50 * time.Millisecond)
	<-waiting // the window is over; the request waits for the rate limiter
	wait2 := doAll(t.Context(), b, later)
	joins.Wait(len(first) + len(later))
	close(ready)
	mu.Lock()
	held := most
	mu.Unlock()
	if held != len(first)+len(later) {
		// The later callers went to a batch of their own, which waits for its window.
		t.Fatalf("the waiting batch held %d ids, want all %d", held, len(first)+len(later))
	}
	for _, errs := range []map[string]error{wait1(), wait2()} {
		for id, err := range errs {
			if err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
	}
	if reqs := rec.requests(); len(reqs) != 1 {
		t.Errorf("%d requests %v, want one with all %d ids", len(reqs), reqs, len(first)+len(later))
	}
}

// Callers who keep coming within the window of the one before join the same batch (Terraform
// hands the deletes of one destroy over a few hundred milliseconds); the batch goes once the
// window passes without one, or 20 windows after it opened.
func TestBatcherWindowRunsFromTheLastCaller(t *testing.T) {
	for _, tc := range []struct {
		name    string
		callers int
		want    int // ids in the first request
	}{
		{"a stream shorter than the cap", 10, 10},
		{"a stream longer than the cap", 40, 34}, // callers at 0, 30, ... 990 ms; the cap is 1 s
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.New(time.Unix(1000, 0))
			rec := &recordingSend{}
			joins := apifake.NewHighWater()
			var mu sync.Mutex
			n := 0
			b := NewBatcherWithClock(50*time.Millisecond, rec.send, clock, func(int) {
				mu.Lock()
				n++
				k := n
				mu.Unlock()
				joins.Report(k)
			})
			all := ids("s", tc.callers)
			var waits []func() map[string]error
			for i, id := range all {
				if i > 0 && i*30 >= 1000 {
					break // the rest come after the cap
				}
				waits = append(waits, doAll(t.Context(), b, []string{id}))
				joins.Wait(i + 1)
				clock.WaitTimers(1)
				if i < tc.callers-1 && (i+1)*30 < 1000 {
					clock.Advance(30 * time.Millisecond)
				}
			}
			// The window after the last caller, or the rest of the cap's second.
			if len(waits) < tc.callers {
				clock.Advance(time.Second - time.Duration(len(waits)-1)*30*time.Millisecond)
			} else {
				clock.Advance(50 * time.Millisecond)
			}
			apifake.WaitUntil(t, apifake.Patience, func() bool { return len(rec.requests()) > 0 })
			if reqs := rec.requests(); len(reqs) != 1 || len(reqs[0]) != tc.want {
				t.Fatalf("requests %v, want one with %d ids", reqs, tc.want)
			}
			for _, w := range waits {
				for id, err := range w() {
					if err != nil {
						t.Errorf("%s: %v", id, err)
					}
				}
			}
		})
	}
}
