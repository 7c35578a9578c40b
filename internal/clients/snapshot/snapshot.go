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
type Cache[T any] struct {
	fetch func(context.Context) (T, error)

	mu   sync.Mutex
	gen  uint64    // bumped by invalidate; a fetch from an older generation is not cached
	val  T         // the cached value, when have is set
	at   time.Time // when the fetch that produced val started
	have bool
	call *flight[T] // the newest fetch in flight, if any
}

// flight is one fetch in progress; done closes when val and err are set.
type flight[T any] struct {
	done    chan struct{}
	started time.Time
	gen     uint64
	val     T
	err     error
}

// New returns a cache over one fetch function.
func New[T any](fetch func(context.Context) (T, error)) *Cache[T] {
	return &Cache[T]{fetch: fetch}
}

// Get returns a value whose fetch started at or after notBefore, joining a fetch in flight
// when that one is recent enough and starting one otherwise.
func (s *Cache[T]) Get(ctx context.Context, notBefore time.Time) (T, error) {
	s.mu.Lock()
	if s.have && !s.at.Before(notBefore) {
		v := s.val
		s.mu.Unlock()
		return v, nil
	}
	c := s.call
	if c == nil || c.started.Before(notBefore) {
		c = &flight[T]{done: make(chan struct{}), started: time.Now(), gen: s.gen}
		s.call = c
		// Detached from ctx's cancellation (values such as the tflog logger are kept): the
		// fetch serves every caller that joins it, not only this one.
		go s.run(context.WithoutCancel(ctx), c)
	}
	s.mu.Unlock()

	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func (s *Cache[T]) run(ctx context.Context, c *flight[T]) {
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
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
// still answers the readers that joined it, but is neither cached nor joined by new readers.
func (s *Cache[T]) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	s.have = false
	var zero T
	s.val = zero
	s.call = nil
}
