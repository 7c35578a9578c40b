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
	// onLook, when set, runs at the start of each look with its 1-based number: a machine
	// appearing late, a caller giving up after so many looks.
	onLook func(n int)
}

func (w *world) find(context.Context, time.Time) ([]Claim[*machine], error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.looks++
	if w.onLook != nil {
		w.onLook(w.looks)
	}
	if w.fail > 0 {
		w.fail--
		return nil, errors.New("503 from the list route")
	}
	return append([]Claim[*machine](nil), w.claims...), nil
}

func (w *world) add(id string, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.addLocked(id, at)
}

func (w *world) addLocked(id string, at time.Time) {
	w.claims = append(w.claims, Claim[*machine]{Value: &machine{id}, ID: id, LaunchedAt: at})
}

// appearsAtSecondLook makes the machine launched at *at listed from the second look on: the
// first look, right after the lost answer, sees nothing.
func (w *world) appearsAtSecondLook(id string, at *time.Time) {
	w.onLook = func(n int) {
		if n == 2 {
			w.addLocked(id, *at)
		}
	}
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

// TestLaunchBeforeKnowsWhatThisProcessLaunchedWithoutTheList: the list Before reads may have
// begun before another resource of the same name launched (BeforeGather); what this process
// launched is a conflict all the same.
func TestLaunchBeforeKnowsWhatThisProcessLaunchedWithoutTheList(t *testing.T) {
	w := &world{}
	taken := &Taken{}
	l := testLaunch(w, taken)
	if _, _, err := l.Send(t.Context(), func(context.Context, time.Time) (*machine, error) {
		return &machine{"i-1"}, nil // launched, and not listed yet
	}); err != nil {
		t.Fatal(err)
	}
	_, err := l.Before(t.Context())
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "unique name") || !strings.Contains(err.Error(), "i-1") {
		t.Fatalf("second resource of the same name, before the first is listed: %v", err)
	}
}

func TestLaunchSend(t *testing.T) {
	lost := Errorf(ErrOutcomeUnknown, "launch: connection reset")
	t.Run("lost answer, machine appears late: adopted, sent once", func(t *testing.T) {
		w := &world{}
		var sentAt time.Time
		w.appearsAtSecondLook("i-late", &sentAt)
		l := testLaunch(w, nil)
		l.Horizon = time.Hour // the second look is well within it, however slow the machine
		sends := 0
		got, adopted, err := l.Send(t.Context(), func(_ context.Context, at time.Time) (*machine, error) {
			sends++
			sentAt = at
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
		// The caller gives up at the third failed look.
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		w.onLook = func(n int) {
			if n == 3 {
				cancel()
			}
		}
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
	var sentAt time.Time
	w.appearsAtSecondLook("i-1", &sentAt)
	l := testLaunch(w, nil)
	l.Horizon = time.Hour
	released := 0
	var left time.Time // when the launch left the queue
	l.Turn = func(ctx context.Context) (context.Context, func(), error) {
		left = time.Now()
		return ctx, func() { released++ }, nil
	}
	var sent []time.Time
	_, _, err := l.Send(context.Background(), func(_ context.Context, at time.Time) (*machine, error) {
		sent = append(sent, at)
		if len(sent) == 1 {
			// The launch reached the cloud, but its answer was lost; the machine is listed
			// only a moment later, within the horizon counted from the send.
			sentAt = at
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
	if sent[0].Before(left) {
		t.Errorf("stamped %v before leaving the queue, want after the turn", left.Sub(sent[0]))
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
