package lambda

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/fakeclock"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

func testIDs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

// terminateIDs is the instance_ids of a recorded terminate request.
func terminateIDs(t *testing.T, r recorded) []string {
	t.Helper()
	var body struct {
		InstanceIDs []string `json:"instance_ids"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("terminate body %s: %v", r.Body, err)
	}
	return slices.Sorted(slices.Values(body.InstanceIDs))
}

// deleteAll runs DeleteInstance for every id at once, lets the batch window pass once every
// caller has joined, and returns each caller's error.
func deleteAll(t *testing.T, c *Cloud, clock *fakeclock.Clock, j *apifake.HighWater, ids []string) map[string]error {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := map[string]error{}
	for _, id := range ids {
		wg.Go(func() {
			err := c.DeleteInstance(t.Context(), id)
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		})
	}
	j.Wait(len(ids))
	clock.WaitTimers(1)
	clock.Advance(TerminateWindow)
	wg.Wait()
	return errs
}

// Terraform deletes a configuration's machines in parallel: the terminates that arrive within
// the window go out as one POST /instance-operations/terminate carrying every id.
func TestDeleteInstancesShareOneTerminate(t *testing.T) {
	f := newFake(t)
	f.data("POST", "/instance-operations/terminate", `{"terminated_instances":[]}`)
	clock, j := fakeclock.New(time.Unix(1000, 0)), apifake.NewHighWater()
	c := newTestCloud(t, f, withBatchClock(clock, j.Report))

	ids := testIDs("i-", 25)
	for id, err := range deleteAll(t, c, clock, j, ids) {
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	reqs := f.Requests("POST", "/instance-operations/terminate")
	if len(reqs) != 1 {
		t.Fatalf("%d terminate requests, want 1", len(reqs))
	}
	if got := terminateIDs(t, reqs[0]); !slices.Equal(got, ids) {
		t.Errorf("the terminate carried %v, want %v", got, ids)
	}
	if f.Total() != 1 {
		t.Errorf("%d requests in all, want just the terminate", f.Total())
	}
}

// A failure answer to the batch's request fails every caller in it: none is told its machine
// is going.
func TestDeleteInstancesBatchFailureFailsEveryCaller(t *testing.T) {
	f := newFake(t)
	f.Handle("POST", "/instance-operations/terminate", func(w http.ResponseWriter, _ *http.Request) {
		writeErr(w, http.StatusForbidden, "global/invalid-api-key", "API key was invalid, expired, or deleted.", "")
	})
	clock, j := fakeclock.New(time.Unix(1000, 0)), apifake.NewHighWater()
	c := newTestCloud(t, f, withBatchClock(clock, j.Report))

	ids := testIDs("i-", 10)
	errs := deleteAll(t, c, clock, j, ids)
	for _, id := range ids {
		if !errors.Is(errs[id], clients.ErrAuth) {
			t.Errorf("%s: %v, want the batch's auth failure", id, errs[id])
		}
	}
	f.WantCount(t, "POST", "/instance-operations/terminate", 1, "terminate requests")
}

// Lambda refuses a whole terminate for one id it does not know: each id is then settled on its
// own, so that the machine already gone counts as deleted and the others are terminated.
func TestDeleteInstancesBatchRefusedForOneID(t *testing.T) {
	f := newFake(t)
	f.Handle("POST", "/instance-operations/terminate", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			InstanceIDs []string `json:"instance_ids"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if slices.Contains(body.InstanceIDs, "i-gone") {
			writeErr(w, http.StatusNotFound, "global/object-does-not-exist", "Specified instance does not exist.", "")
			return
		}
		writeOK(w, `{"data":{"terminated_instances":[]}}`)
	})
	clock, j := fakeclock.New(time.Unix(1000, 0)), apifake.NewHighWater()
	c := newTestCloud(t, f, withBatchClock(clock, j.Report))

	ids := append(testIDs("i-", 4), "i-gone")
	for id, err := range deleteAll(t, c, clock, j, ids) {
		if err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if n := f.Count("POST", "/instance-operations/terminate"); n != 1+len(ids) {
		t.Errorf("%d terminate requests, want the batch and one per id", n)
	}
}

// Two Lambda accounts (two adapters) never put each other's machines in one request, even
// when their deletes come at the same moment.
func TestTerminatesOfTwoAccountsNeverMix(t *testing.T) {
	clock := fakeclock.New(time.Unix(1000, 0))
	type account struct {
		f   *fakeAPI
		c   *Cloud
		j   *apifake.HighWater
		ids []string
	}
	var accounts []*account
	for _, prefix := range []string{"a-", "b-"} {
		a := &account{f: newFake(t), j: apifake.NewHighWater(), ids: testIDs(prefix, 8)}
		a.f.data("POST", "/instance-operations/terminate", `{"terminated_instances":[]}`)
		a.c = newTestCloud(t, a.f, withBatchClock(clock, a.j.Report))
		accounts = append(accounts, a)
	}
	var wg sync.WaitGroup
	for _, a := range accounts {
		for _, id := range a.ids {
			wg.Go(func() {
				if err := a.c.DeleteInstance(t.Context(), id); err != nil {
					t.Errorf("%s: %v", id, err)
				}
			})
		}
	}
	for _, a := range accounts {
		a.j.Wait(len(a.ids))
	}
	clock.WaitTimers(2)
	clock.Advance(TerminateWindow)
	wg.Wait()
	for _, a := range accounts {
		reqs := a.f.Requests("POST", "/instance-operations/terminate")
		if len(reqs) != 1 || !slices.Equal(terminateIDs(t, reqs[0]), a.ids) {
			t.Errorf("account %s got %d requests (%v), want one with exactly %v", a.ids[0], len(reqs), reqs, a.ids)
		}
	}
}

// Waiting for terminated machines costs the lists all waiters share, never a GET per machine:
// a terminated status in the list is proof; a machine the list lacks is gone once the next
// tick's list lacks it too; a failed list is not proof.
func TestWaitGoneFromTheSharedList(t *testing.T) {
	ids := testIDs("i-", 30)
	setup := func(t *testing.T, list func() string) (*fakeAPI, *fakeclock.Clock, *clients.Cadence, *Cloud) {
		f := newFake(t)
		clock := fakeclock.New(time.Unix(1_000_000, 0))
		f.Handle("GET", "/instances", func(w http.ResponseWriter, _ *http.Request) {
			clock.Advance(time.Millisecond) // a list takes a moment
			writeOK(w, list())
		})
		f.data("GET", "/ssh-keys", sshKeysJSON)
		cad := clients.NewCadenceWithClock(clients.Pacing{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond}, clock)
		return f, clock, cad, newTestCloud(t, f, withSnapshotClock(clock.Now))
	}
	waitAll := func(t *testing.T, cad *clients.Cadence, c *Cloud) func() map[string]error {
		var wg sync.WaitGroup
		var mu sync.Mutex
		out := map[string]error{}
		for _, id := range ids {
			wg.Go(func() {
				err := cad.WaitGone(t.Context(), c, id)
				mu.Lock()
				out[id] = err
				mu.Unlock()
			})
		}
		return func() map[string]error { wg.Wait(); return out }
	}
	listOf := func(status string) string {
		items := make([]string, len(ids))
		for i, id := range ids {
			items[i] = instanceJSON(id, status, "", "us-east-1", "gpu_1x_a10", 75, nil)
		}
		return `{"data":[` + joinComma(items) + `]}`
	}

	t.Run("terminated status", func(t *testing.T) {
		f, clock, cad, c := setup(t, func() string { return listOf("terminated") })
		collect := waitAll(t, cad, c)
		clock.WaitTimers(len(ids))
		clock.AdvanceToNext()
		for id, err := range collect() {
			if err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
		if n := f.Count("GET", "/instances"); n != 1 {
			t.Errorf("%d lists for %d waiters, want 1", n, len(ids))
		}
		if f.Total() != 1 {
			t.Errorf("%d requests, want only the one list (no GET per machine, no SSH key list)", f.Total())
		}
	})
	t.Run("absent twice", func(t *testing.T) {
		f, clock, cad, c := setup(t, func() string { return `{"data":[]}` })
		collect := waitAll(t, cad, c)
		clock.WaitTimers(len(ids))
		clock.AdvanceToNext() // absent from one list: not proof yet
		clock.WaitTimers(len(ids))
		clock.AdvanceToNext() // absent from the next one too
		for id, err := range collect() {
			if err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
		f.WantCount(t, "GET", "/instances", 2, "lists")
		for _, r := range f.Log() {
			if r.Path != "/instances" {
				t.Errorf("unexpected request %s %s", r.Method, r.Path)
			}
		}
	})
	t.Run("failed list", func(t *testing.T) {
		f := newFake(t)
		clock := fakeclock.New(time.Unix(1_000_000, 0))
		calls := 0
		f.Handle("GET", "/instances", func(w http.ResponseWriter, _ *http.Request) {
			clock.Advance(time.Millisecond)
			calls++
			if calls == 1 {
				writeOK(w, `{"data":[]}`)
				return
			}
			// The list fails (with an answer httpx does not retry, to keep the test short).
			writeErr(w, http.StatusBadRequest, "global/invalid-parameters", "Something is off.", "")
		})
		cad := clients.NewCadenceWithClock(clients.Pacing{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond}, clock)
		c := newTestCloud(t, f, withSnapshotClock(clock.Now))
		done := make(chan error, 1)
		go func() { done <- cad.WaitGone(t.Context(), c, "i-00") }()
		clock.WaitTimers(1)
		clock.AdvanceToNext() // absent once
		clock.WaitTimers(1)
		clock.AdvanceToNext() // the confirming list fails
		if err := <-done; err == nil || clients.IsNotFound(err) {
			t.Fatalf("wait ended with %v: a failed list was taken as proof", err)
		}
		f.WantCount(t, "GET", "/instances/i-00", 0, "GETs of the machine")
	})
}

func joinComma(items []string) string {
	out := ""
	for i, s := range items {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

// Launches queue and each leaves one launch interval after the previous one's answer, so that
// Lambda, which counts its limit when a launch arrives, never sees two closer than the limit
// however the network delays them (no 429 in normal operation).
func TestLaunchesLeaveOneIntervalAfterTheLastAnswer(t *testing.T) {
	const every = 40 * time.Millisecond
	f := newFake(t)
	var mu sync.Mutex
	var arrived, answered []time.Time
	f.Handle("POST", "/instance-operations/launch", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		arrived = append(arrived, time.Now())
		mu.Unlock()
		writeOK(w, `{"data":{"instance_ids":["i-1"]}}`)
		mu.Lock()
		answered = append(answered, time.Now())
		mu.Unlock()
	})
	c := newTestCloud(t, f, WithRateLimiters(nil, rateEvery(every)))
	req := LaunchRequest{RegionName: "us-east-1", InstanceTypeName: "gpu_1x_a10", SSHKeyNames: []string{"me"}}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := c.API().LaunchInstance(t.Context(), req); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for k := 1; k < len(arrived); k++ {
		if gap := arrived[k].Sub(answered[k-1]); gap < every {
			t.Errorf("launch %d arrived %v after launch %d was answered, want at least %v", k, gap, k-1, every)
		}
	}
}

func rateEvery(d time.Duration) *rate.Limiter { return rate.NewLimiter(rate.Every(d), 1) }
