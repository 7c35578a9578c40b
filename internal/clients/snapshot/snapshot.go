// Package snapshot is a single-flight, short-lived cache of one list call, shared by the cloud
// adapters so that many concurrent reads of one cloud cost one request (docs/guides/reliability.md).
package snapshot

import (
	"context"
	"sync"
	"time"
)

// FetchTimeout bounds a shared fetch: it runs detached from any one caller's context (so that
// the first caller giving up does not fail everyone waiting on it), and must still end.
const FetchTimeout = 2 * time.Minute

// Cache is a single-flight, short-lived cache of one list call. Concurrent readers share
// one request in flight, and readers within the freshness they ask for share its result: a
// refresh of a hundred instances costs one GET /instances instead of a hundred.
//
// Freshness is measured from when a fetch started, not when it ended, so a reader that needs
// to see a change made at time T (an adoption after a launch) asks for notBefore = T and never
// gets an answer the server may have computed before T.
//
// Readers that need a fetch newer than the one in flight do not start another one beside it:
// they queue for the next fetch, which starts when the one in flight ends and so serves every
// reader that arrived meanwhile (a hundred creates that each ask for "a list started after
// now" cost a handful of lists, not a hundred).
type Cache[T any] struct {
	fetch func(context.Context) (T, error)
	now   func() time.Time
	// atSend: the fetch reports when its request leaves (Sent), see StampAtSend.
	atSend bool

	mu   sync.Mutex
	gen  uint64    // bumped by invalidate; a fetch from an older generation is not cached
	val  T         // the cached value, when have is set
	at   time.Time // when the fetch that produced val started
	have bool
	// call is the newest fetch in flight, if any; next is the fetch queued behind it (not
	// started yet), joined by readers that need a newer answer than call can give.
	call *flight[T]
	next *flight[T]

	// onJoin, when set (tests), is called each time a reader has chosen the fetch it waits for.
	onJoin func()
}

// flight is one fetch; done closes when val and err are set. started is set when it starts,
// and moved to when its request left for a cache that stamps at send (sent is then set).
type flight[T any] struct {
	done    chan struct{}
	started time.Time
	sent    bool
	gen     uint64
	val     T
	err     error
	// ctx is what the fetch runs with (the context of the reader that created it, detached).
	ctx context.Context
}

// New returns a cache over one fetch function.
func New[T any](fetch func(context.Context) (T, error)) *Cache[T] {
	return &Cache[T]{fetch: fetch, now: time.Now}
}

// NewWithClock is New on another clock (tests): now stamps when each fetch starts.
func NewWithClock[T any](fetch func(context.Context) (T, error), now func() time.Time) *Cache[T] {
	return &Cache[T]{fetch: fetch, now: now}
}

// StampAtSend makes the cache date each fetch from when its request left (the fetch function
// calls Sent with the context it was given, right after its rate-limiter wait; a cloud adapter
// does it in its HTTP transport), not from when the fetch was asked for. A fetch whose request
// still waits for its turn (behind a hundred deletes at the vendor's rate limit) will be sent
// later than now, so it is fresh enough for every reader that comes meanwhile: they join it
// instead of queueing a list of their own behind it. Call it before the first Get.
func (s *Cache[T]) StampAtSend() *Cache[T] {
	s.atSend = true
	return s
}

type sentKey struct{}

// Sent tells the snapshot fetch that ctx belongs to (if any, and if its cache stamps at send)
// that its request is leaving now. Only the first call counts: a retried request's answer was
// computed after its first attempt left.
func Sent(ctx context.Context) {
	if f, ok := ctx.Value(sentKey{}).(func()); ok {
		f()
	}
}

// markSent dates flight c from now, the first time its request leaves.
func (s *Cache[T]) markSent(c *flight[T]) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.sent {
		return
	}
	c.sent = true
	if t := s.now(); t.After(c.started) {
		c.started = t
	}
}

// unsent reports a fetch whose request has not left yet (in a cache that stamps at send): it
// will be sent after now, so it serves any reader whose notBefore has come. s.mu is held.
func (s *Cache[T]) unsent(c *flight[T], notBefore time.Time) bool {
	return s.atSend && !c.sent && !notBefore.After(s.now())
}

// Get returns a value whose fetch started at or after notBefore, joining a fetch in flight
// when that one is recent enough and queueing for the next one otherwise.
func (s *Cache[T]) Get(ctx context.Context, notBefore time.Time) (T, error) {
	v, _, err := s.GetAt(ctx, notBefore)
	return v, err
}

// GetAt is Get, also returning when the fetch that produced the value started (never before
// notBefore): what a reader comparing two answers (is it still missing from a newer list?)
// needs.
func (s *Cache[T]) GetAt(ctx context.Context, notBefore time.Time) (T, time.Time, error) {
	s.mu.Lock()
	if s.have && !s.at.Before(notBefore) {
		v, at := s.val, s.at
		s.mu.Unlock()
		return v, at, nil
	}
	var c *flight[T]
	switch cur := s.call; {
	case cur != nil && cur.gen == s.gen && (!cur.started.Before(notBefore) || s.unsent(cur, notBefore)):
		c = cur // in flight and fresh enough (or not sent yet)
	case s.next != nil:
		c = s.next // queued: it starts later than now
	case cur != nil:
		// In flight but too old (or from before an invalidation): the next fetch, started
		// when this one ends, is fresh enough for everyone who arrives until then.
		if s.next == nil {
			s.next = &flight[T]{done: make(chan struct{}), ctx: context.WithoutCancel(ctx)}
			go s.after(cur, s.next)
		}
		c = s.next
	default:
		c = &flight[T]{done: make(chan struct{}), started: s.now(), gen: s.gen}
		s.call = c
		// Detached from ctx's cancellation (values such as the tflog logger are kept): the
		// fetch serves every caller that joins it, not only this one.
		go s.run(context.WithoutCancel(ctx), c)
	}
	s.mu.Unlock()
	if s.onJoin != nil {
		s.onJoin()
	}

	select {
	case <-c.done:
		s.mu.Lock()
		started := c.started
		s.mu.Unlock()
		return c.val, started, c.err
	case <-ctx.Done():
		var zero T
		return zero, time.Time{}, ctx.Err()
	}
}

// after starts queued fetch c once prev has ended.
func (s *Cache[T]) after(prev, c *flight[T]) {
	<-prev.done
	s.mu.Lock()
	c.started, c.gen = s.now(), s.gen
	if s.next == c {
		s.next = nil
	}
	s.call = c
	s.mu.Unlock()
	s.run(c.ctx, c)
}

func (s *Cache[T]) run(ctx context.Context, c *flight[T]) {
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	if s.atSend {
		ctx = context.WithValue(ctx, sentKey{}, func() { s.markSent(c) })
	}
	v, err := s.fetch(ctx)

	s.mu.Lock()
	c.val, c.err = v, err
	if err == nil && c.gen == s.gen && (!s.have || !c.started.Before(s.at)) {
		s.val, s.at, s.have = v, c.started, true
	}
	if s.call == c {
		s.call = nil
	}
	s.mu.Unlock()
	close(c.done)
}

// Invalidate forgets the cached value after a change this process made (launch, terminate,
// rename), so that no later reader sees the world as it was before. A fetch already in flight
// still answers the readers that joined it, but is neither cached nor joined by new readers
// (they queue for the next fetch, which starts after it) — unless its cache stamps at send and
// its request has not left yet: that one will see the change.
func (s *Cache[T]) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	if c := s.call; c != nil && s.atSend && !c.sent {
		c.gen = s.gen // not sent yet: its answer will be computed after the change
	}
	s.have = false
	var zero T
	s.val = zero
}

// Find reads a value at most maxAge old and asks use for what it needs from it; when use finds
// it missing (ok false), Find reads once more from a fetch started now. A cached value may
// predate an object made a moment ago, so only a fresh one may say "missing".
func Find[T, R any](ctx context.Context, s *Cache[T], maxAge time.Duration, use func(T) (R, bool)) (R, bool, error) {
	var r R
	for _, notBefore := range []time.Time{time.Now().Add(-maxAge), time.Now()} {
		v, err := s.Get(ctx, notBefore)
		if err != nil {
			return r, false, err
		}
		var ok bool
		if r, ok = use(v); ok {
			return r, true, nil
		}
	}
	return r, false, nil
}
