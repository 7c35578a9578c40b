package snapshot

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A list that waits for its turn at the rate limiter (behind a hundred deletes) has not been
// sent: with StampAtSend it is dated from when it leaves, and every reader that comes before
// then shares it. Counted calls, on a hand-moved clock; no timing.

// heldFetch is a list call whose request leaves (Sent) only when the test lets it.
type heldFetch struct {
	mu      sync.Mutex
	now     time.Time
	calls   atomic.Int32
	release chan struct{}
	started chan struct{}
}

func newHeldFetch() *heldFetch {
	return &heldFetch{now: time.Unix(3_000_000, 0), release: make(chan struct{}, 8), started: make(chan struct{}, 8)}
}

func (h *heldFetch) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// advance moves the clock 40 ms on and returns the new time.
func (h *heldFetch) advance() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(40 * time.Millisecond)
	return h.now
}

func (h *heldFetch) fetch(ctx context.Context) (int, error) {
	n := h.calls.Add(1)
	h.started <- struct{}{}
	<-h.release // the rate limiter's turn
	Sent(ctx)
	Sent(ctx) // a retry's second attempt does not move the date again
	return int(n), nil
}

type answer struct {
	v   int
	at  time.Time
	err error
}

func get(c *Cache[int], notBefore time.Time) chan answer {
	out := make(chan answer, 1)
	go func() {
		v, at, err := c.GetAt(context.Background(), notBefore)
		out <- answer{v, at, err}
	}()
	return out
}

// both is the two readers' answers; it fails the test unless neither is an error.
func both(t *testing.T, first, second chan answer) (a, b answer) {
	t.Helper()
	a, b = <-first, <-second
	if a.err != nil || b.err != nil {
		t.Fatal(a.err, b.err)
	}
	return a, b
}

// twoLists lets the list in flight leave, then the one queued behind it, and returns both
// readers' answers; it fails the test unless they came back after exactly two lists.
func (h *heldFetch) twoLists(t *testing.T, first, second chan answer) (a, b answer) {
	t.Helper()
	h.release <- struct{}{}
	<-h.started
	h.release <- struct{}{}
	a, b = both(t, first, second)
	if n := h.calls.Load(); n != 2 {
		t.Fatalf("%d list calls, want 2", n)
	}
	return a, b
}

// joined reports each reader of c that has chosen the fetch it waits for.
func joined[T any](c *Cache[T]) <-chan struct{} {
	joins := make(chan struct{}, 16)
	c.onJoin = func() { joins <- struct{}{} }
	return joins
}

// waitUntil waits (real time, bounded) until check holds.
func waitUntil(t *testing.T, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStampAtSendSharesAListThatWaitsForItsTurn(t *testing.T) {
	h := newHeldFetch()
	c := NewWithClock(h.fetch, h.clock).StampAtSend()
	joins := joined(c)
	t0 := h.clock()
	first := get(c, t0)
	<-h.started
	// 40 ms later (the fetch still waits for its turn), a reader that needs a list begun at or
	// after now, and a change this process made (a delete's answer), come.
	t1 := h.advance()
	c.Invalidate()
	second := get(c, t1)
	<-joins
	<-joins // both readers have chosen the list they wait for
	t2 := h.advance()
	h.release <- struct{}{}
	h.release <- struct{}{} // for a second list, should the second reader (wrongly) queue one
	a, b := both(t, first, second)
	if n := h.calls.Load(); n != 1 {
		t.Fatalf("%d list calls, want 1: the second reader should share the list that had not left yet", n)
	}
	if !a.at.Equal(t2) || !b.at.Equal(t2) {
		t.Errorf("dated %s and %s, want %s (when it left)", a.at.Sub(t0), b.at.Sub(t0), t2.Sub(t0))
	}
	// It was sent after the change, so it serves later readers from the cache.
	if v, at, err := c.GetAt(context.Background(), t2); err != nil || v != 1 || !at.Equal(t2) {
		t.Errorf("cached answer %d at %s (%v), want the list dated when it left", v, at.Sub(t0), err)
	}
	if n := h.calls.Load(); n != 1 {
		t.Errorf("%d list calls, want 1", n)
	}
}

func TestStampAtSendSentListIsNotJoinedByNewerReaders(t *testing.T) {
	h := newHeldFetch()
	var sent atomic.Bool
	c := NewWithClock(func(ctx context.Context) (int, error) {
		n := h.calls.Add(1)
		h.started <- struct{}{}
		Sent(ctx)
		sent.Store(true)
		<-h.release // the answer is on its way
		return int(n), nil
	}, h.clock).StampAtSend()
	t0 := h.clock()
	first := get(c, t0)
	<-h.started
	waitUntil(t, sent.Load)
	t1 := h.advance()
	second := get(c, t1) // needs a list begun after the one in flight left: queues the next
	a, b := h.twoLists(t, first, second)
	if a.v != 1 || b.v != 2 || b.at.Before(t1) {
		t.Errorf("answers %d (at %s) and %d (at %s)", a.v, a.at.Sub(t0), b.v, b.at.Sub(t0))
	}
}

// Without StampAtSend a list is dated from when it was asked for, as before: a reader that
// needs a newer one queues the next list.
func TestWithoutStampAtSendAListIsDatedWhenAskedFor(t *testing.T) {
	h := newHeldFetch()
	c := NewWithClock(h.fetch, h.clock)
	joins := joined(c)
	t0 := h.clock()
	first := get(c, t0)
	<-h.started
	t1 := h.advance()
	second := get(c, t1)
	<-joins
	<-joins // both readers have chosen the list they wait for
	a, _ := h.twoLists(t, first, second)
	if !a.at.Equal(t0) {
		t.Errorf("dated %s, want when asked for", a.at.Sub(t0))
	}
}
