package clients

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

type machine struct{ id string }

// world is a fake cloud list for the launch protocol: what Find sees, and whether it fails.
type world struct {
	mu     sync.Mutex
	claims []Claim[*machine]
	fail   int // the next fail looks fail
	looks  int
}

func (w *world) find(context.Context, time.Time) ([]Claim[*machine], error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.looks++
	if w.fail > 0 {
		w.fail--
		return nil, errors.New("503 from the list route")
	}
	return append([]Claim[*machine](nil), w.claims...), nil
}

func (w *world) add(id string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.claims = append(w.claims, Claim[*machine]{Value: &machine{id}, ID: id, LaunchedAt: at})
}

func testLaunch(w *world, taken *Taken) Launch[*machine] {
	return Launch[*machine]{
		Cloud: "lambda", What: "instance", Token: "nc-abc", Where: "tag neocloud-launch-token",
		AdoptSince: time.Now().Add(-time.Hour), Horizon: 30 * time.Millisecond, Interval: 5 * time.Millisecond, MaxPause: 10 * time.Millisecond,
		Find: w.find, IDOf: func(m *machine) string { return m.id }, Taken: taken,
	}
}

func TestLaunchBefore(t *testing.T) {
	now := time.Now()
	for name, tc := range map[string]struct {
		claims  map[string]time.Time
		fail    bool
		adopt   string
		errHas  string
		errKind error
	}{
		"nothing there: launch":             {},
		"young machine: adopted":            {claims: map[string]time.Time{"i-1": now.Add(-time.Minute)}, adopt: "i-1"},
		"old machine: import hint":          {claims: map[string]time.Time{"i-1": now.Add(-2 * time.Hour)}, errHas: "terraform import <this resource's address> lambda/i-1", errKind: ErrConflict},
		"unknown age: import hint":          {claims: map[string]time.Time{"i-1": {}}, errHas: "lambda/i-1", errKind: ErrConflict},
		"two young machines: none adopted":  {claims: map[string]time.Time{"i-1": now, "i-2": now}, errHas: "terminate the others", errKind: ErrConflict},
		"failed look: never launch blindly": {fail: true, errHas: "before launching"},
	} {
		t.Run(name, func(t *testing.T) {
			w := &world{}
			for id, at := range tc.claims {
				w.add(id, at)
			}
			if tc.fail {
				w.fail = 1
			}
			got, err := testLaunch(w, &Taken{}).Before(t.Context())
			switch {
			case tc.errHas != "":
				if err == nil || !strings.Contains(err.Error(), tc.errHas) || (tc.errKind != nil && !errors.Is(err, tc.errKind)) {
					t.Fatalf("got %v, want an error containing %q", err, tc.errHas)
				}
			case err != nil:
				t.Fatal(err)
			case tc.adopt == "" && got != nil:
				t.Fatalf("adopted %v, want a launch", got.ID)
			case tc.adopt != "" && (got == nil || got.ID != tc.adopt):
				t.Fatalf("adopted %v, want %s", got, tc.adopt)
			}
		})
	}
}

func TestLaunchBeforeNeverAdoptsWhatAnotherResourceGot(t *testing.T) {
	w := &world{}
	taken := &Taken{}
	l := testLaunch(w, taken)
	if _, _, err := l.Send(t.Context(), func(context.Context, time.Time) (*machine, error) {
		w.add("i-1", time.Now())
		return &machine{"i-1"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err := l.Before(t.Context())
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "unique name") {
		t.Fatalf("second resource of the same name: %v", err)
	}
	// Another process (a rerun after a crash) has its own record and adopts it.
	if got, err := testLaunch(w, &Taken{}).Before(t.Context()); err != nil || got == nil || got.ID != "i-1" {
		t.Fatalf("rerun: %v %v", got, err)
	}
}

func TestLaunchSend(t *testing.T) {
	lost := Errorf(ErrOutcomeUnknown, "launch: connection reset")
	t.Run("lost answer, machine appears late: adopted, sent once", func(t *testing.T) {
		w := &world{}
		sends := 0
		got, adopted, err := testLaunch(w, nil).Send(t.Context(), func(_ context.Context, at time.Time) (*machine, error) {
			sends++
			time.AfterFunc(15*time.Millisecond, func() { w.add("i-late", at) })
			return nil, lost
		})
		if err != nil || !adopted || got.id != "i-late" || sends != 1 {
			t.Fatalf("got %v adopted=%v err=%v sends=%d", got, adopted, err, sends)
		}
	})
	t.Run("lost answer, nothing after the horizon: sent again", func(t *testing.T) {
		w := &world{}
		sends := 0
		got, adopted, err := testLaunch(w, nil).Send(t.Context(), func(context.Context, time.Time) (*machine, error) {
			sends++
			if sends == 1 {
				return nil, lost
			}
			return &machine{"i-2"}, nil
		})
		if err != nil || adopted || got.id != "i-2" || sends != 2 {
			t.Fatalf("got %v adopted=%v err=%v sends=%d", got, adopted, err, sends)
		}
	})
	t.Run("lost answer, looks keep failing: unknown until the deadline, not sent again", func(t *testing.T) {
		w := &world{fail: 1 << 30}
		sends := 0
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		_, _, err := testLaunch(w, nil).Send(ctx, func(context.Context, time.Time) (*machine, error) {
			sends++
			return nil, lost
		})
		if !errors.Is(err, ErrOutcomeUnknown) || !strings.Contains(err.Error(), "neocloud-launch-token=nc-abc") || sends != 1 {
			t.Fatalf("err=%v sends=%d", err, sends)
		}
		if w.looks < 3 {
			t.Errorf("%d looks: it should keep looking while looks fail", w.looks)
		}
	})
	t.Run("other errors pass through unsent again", func(t *testing.T) {
		sends := 0
		_, _, err := testLaunch(&world{}, nil).Send(t.Context(), func(context.Context, time.Time) (*machine, error) {
			sends++
			return nil, Errorf(ErrCapacity, "no capacity")
		})
		if !IsCapacity(err) || sends != 1 {
			t.Fatalf("err=%v sends=%d", err, sends)
		}
	})
}

func TestIdentityToken(t *testing.T) {
	a, b := IdentityToken("gpu_instance", "finetune-1"), IdentityToken("gpu_instance", "finetune-2")
	if a != IdentityToken("gpu_instance", "finetune-1") || a == b || a == IdentityToken("gpu_cluster", "finetune-1") {
		t.Fatalf("tokens %s %s", a, b)
	}
	if TokenValue(a) != a {
		t.Errorf("identity token %s is not usable as a tag, label and env value unchanged", a)
	}
}

// A launch that queues for its turn (Launch.Turn) is stamped when it leaves the queue: a lost
// answer's commit horizon counts from then, so a long queue never makes an early look "after
// the horizon" (which would prove absence too soon and send the launch twice).
func TestLaunchSendStampsAfterTheTurn(t *testing.T) {
	w := &world{}
	l := testLaunch(w, nil)
	l.Horizon = 50 * time.Millisecond
	const queued = 100 * time.Millisecond // longer than the horizon
	released := 0
	l.Turn = func(ctx context.Context) (context.Context, func(), error) {
		time.Sleep(queued)
		return ctx, func() { released++ }, nil
	}
	joined := time.Now()
	var sent []time.Time
	_, _, err := l.Send(context.Background(), func(_ context.Context, sentAt time.Time) (*machine, error) {
		sent = append(sent, sentAt)
		if len(sent) == 1 {
			// The launch reached the cloud, but its answer was lost; the machine is listed
			// only a moment later, within the horizon counted from the send.
			time.AfterFunc(20*time.Millisecond, func() { w.add("i-1", sentAt) })
			return nil, Errorf(ErrOutcomeUnknown, "launch: connection reset")
		}
		return &machine{"i-2"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 {
		t.Fatalf("the launch was sent %d times; the first, found later by its token, must be adopted", len(sent))
	}
	if got := sent[0].Sub(joined); got < queued {
		t.Errorf("stamped %v after joining the queue, want after the turn (%v)", got, queued)
	}
	if released != 1 {
		t.Errorf("turn released %d times, want 1", released)
	}
}

// A turn refused (the queue would outlast the deadline) sends nothing.
func TestLaunchSendTurnRefused(t *testing.T) {
	l := testLaunch(&world{}, nil)
	l.Turn = func(context.Context) (context.Context, func(), error) {
		return nil, nil, errors.New("request not sent: waiting would outlast the deadline")
	}
	_, _, err := l.Send(context.Background(), func(context.Context, time.Time) (*machine, error) {
		t.Fatal("sent without a turn")
		return nil, nil
	})
	if err == nil || !strings.Contains(err.Error(), "not sent") {
		t.Fatalf("want the turn's error, got %v", err)
	}
}
