package emucore_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// commitRecorder is a tiny vendor API with one create route that records what it committed.
type commitRecorder struct {
	mu      sync.Mutex
	bodies  []string
	at      []time.Time
	ctxErrs []error
}

func (c *commitRecorder) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /things", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.bodies = append(c.bodies, string(b))
		c.at = append(c.at, time.Now())
		c.ctxErrs = append(c.ctxErrs, r.Context().Err())
		c.mu.Unlock()
		emucore.WriteJSON(w, http.StatusCreated, map[string]string{"id": "t1"})
	})
	return mux
}

func (c *commitRecorder) commits() ([]string, []time.Time, []error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.bodies...), append([]time.Time(nil), c.at...), append([]error(nil), c.ctxErrs...)
}

func newCore() *emucore.Core {
	return emucore.NewCore(emucore.Vendor{
		Name: "test",
		WriteError: func(w http.ResponseWriter, _ *http.Request, status int, kind, _ string) {
			emucore.WriteJSON(w, status, map[string]string{"error": kind})
		},
	}, emucore.Clock{Scale: 1})
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A commit_late fault drops the connection without an answer, then commits the very same
// request (body included) in the background after its delay, with a context that the dropped
// connection did not cancel; the next request, past Times, is served normally.
func TestFaultCommitLate(t *testing.T) {
	rec := &commitRecorder{}
	core := newCore()
	srv := httptest.NewServer(core.Wrap(rec.mux()))
	defer srv.Close()
	const delay = 300 * time.Millisecond
	core.AddFault(emucore.Fault{Route: "POST /things", Action: emucore.FaultCommitLate, Delay: delay, Times: 1})

	resp, err := http.Post(srv.URL+"/things", "application/json", strings.NewReader(`{"name":"late"}`))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the client got an answer (%s); the connection should have been dropped", resp.Status)
	}
	late := core.LateCommits()
	if len(late) != 1 || late[0].Route != "POST /things" {
		t.Fatalf("expected one held-back request on POST /things, got %+v", late)
	}

	waitUntil(t, "the late commit", func() bool { return core.PendingLateCommits() == 0 })
	bodies, at, ctxErrs := rec.commits()
	if len(bodies) != 1 || bodies[0] != `{"name":"late"}` {
		t.Fatalf("expected the request committed once with its body, got %q", bodies)
	}
	if ctxErrs[0] != nil {
		t.Errorf("the late handler ran with a dead context: %v", ctxErrs[0])
	}
	if due := core.LateCommits()[0].Due; at[0].Before(due) {
		t.Errorf("the handler ran at %s, before its due time %s", at[0].Format(time.RFC3339Nano), due.Format(time.RFC3339Nano))
	}
	if lc := core.LateCommits()[0]; !lc.Done || lc.Status != http.StatusCreated {
		t.Errorf("the record should say done with the handler's 201: %+v", lc)
	}
	if n := core.Stats.Get("POST /things"); n != 1 {
		t.Errorf("the held-back request is counted once, when it arrived; got %d", n)
	}

	// Times is spent: the next create is answered at once.
	resp, err = http.Post(srv.URL+"/things", "application/json", strings.NewReader(`{"name":"now"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("second create: %s", resp.Status)
	}
	if bodies, _, _ := rec.commits(); len(bodies) != 2 {
		t.Fatalf("expected two commits in all, got %q", bodies)
	}
}

// ClearFaults removes the rule but not a commit already held back: it still lands.
func TestFaultCommitLateSurvivesClearFaults(t *testing.T) {
	rec := &commitRecorder{}
	core := newCore()
	srv := httptest.NewServer(core.Wrap(rec.mux()))
	defer srv.Close()
	core.AddFault(emucore.Fault{Route: "POST /things", Action: emucore.FaultCommitLate, Delay: 200 * time.Millisecond})
	if resp, err := http.Post(srv.URL+"/things", "application/json", strings.NewReader(`{}`)); err == nil {
		resp.Body.Close()
		t.Fatal("expected a dropped connection")
	}
	core.ClearFaults()
	waitUntil(t, "the late commit", func() bool { return core.PendingLateCommits() == 0 })
	if bodies, _, _ := rec.commits(); len(bodies) != 1 {
		t.Fatalf("expected the held-back create to land after ClearFaults, got %d commits", len(bodies))
	}
}

// The admin API takes commit_late with a Go duration and lists the held-back requests.
func TestAdminCommitLate(t *testing.T) {
	rec := &commitRecorder{}
	core := newCore()
	api := httptest.NewServer(core.Wrap(rec.mux()))
	defer api.Close()
	admin := httptest.NewServer(core.AdminHandler())
	defer admin.Close()

	resp, err := http.Post(admin.URL+"/faults", "application/json",
		strings.NewReader(`{"route":"POST /things","action":"commit_late","delay":"150ms","times":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /faults: %s", resp.Status)
	}
	if resp, err := http.Post(api.URL+"/things", "application/json", strings.NewReader(`{}`)); err == nil {
		resp.Body.Close()
		t.Fatal("expected a dropped connection")
	}
	waitUntil(t, "the late commit", func() bool { return core.PendingLateCommits() == 0 })

	resp, err = http.Get(admin.URL + "/late-commits")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []emucore.LateCommit
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Done || got[0].Status != http.StatusCreated || got[0].Route != "POST /things" {
		t.Fatalf("GET /late-commits: %+v", got)
	}

	resp, err = http.Post(admin.URL+"/faults", "application/json", strings.NewReader(`{"action":"commit_later"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("an unknown action must be refused, got %s", resp.Status)
	}
}

// GET /stats/429 lists, per route, the calls answered 429 (here an injected rate_limit): the
// "429" column of /stats?by=status, and nothing for routes that had none.
func TestAdminStats429(t *testing.T) {
	rec := &commitRecorder{}
	core := newCore()
	api := httptest.NewServer(core.Wrap(rec.mux()))
	defer api.Close()
	admin := httptest.NewServer(core.AdminHandler())
	defer admin.Close()

	resp, err := http.Post(admin.URL+"/faults", "application/json",
		strings.NewReader(`{"route":"POST /things","action":"rate_limit","retry_after_seconds":1,"times":2}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for range 3 {
		resp, err := http.Post(api.URL+"/things", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err = http.Get(admin.URL + "/stats/429")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["POST /things"] != 2 {
		t.Fatalf("GET /stats/429: %v, want {\"POST /things\": 2}", got)
	}
	if n := core.Stats.GetStatus("POST /things", http.StatusTooManyRequests); n != 2 {
		t.Errorf("by status: %d answers 429, want 2", n)
	}
}
