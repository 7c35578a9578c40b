package clients

import (
	"context"
	"errors"
	"sync"
	"time"
)

// BatchSend sends one call for many ids (Lambda's POST /instance-operations/terminate takes a
// list). err set fails every id of the batch with it; otherwise perID holds the error of each id
// that failed on its own (a missing entry is success).
type BatchSend func(ctx context.Context, ids []string) (perID map[string]error, err error)

// Batcher turns the calls of one cloud API that takes many ids, made at about the same time by
// different callers (Terraform deletes resources in parallel; a cluster deletes its nodes
// together), into as few requests as possible: the first caller opens a batch, every caller
// that comes within window of the one before joins it (Terraform hands a hundred deletes to
// the provider over a few hundred milliseconds, as fast as the provider takes them), and the
// batch goes out as one request once window passes without a caller, or maxGather after it
// opened. While one request is out, new
// callers gather in the next batch, which goes when it is back. One Batcher serves one cloud
// account (one adapter), so ids of different clouds or accounts never share a request.
type Batcher struct {
	send   BatchSend
	window time.Duration
	clock  Clock

	// Ready, when set, is waited for before a batch closes, after its window and once no other
	// request of the batcher is out: until the request could leave at once (the cloud's rate
	// limiter has a token for it). Callers who come meanwhile still join, so a batch that must
	// wait for the rate limit anyway takes everyone who came while it waited, rather than
	// leaving them for a next request that waits again.
	Ready func(ctx context.Context) error

	sending sync.Mutex // one request out at a time

	mu      sync.Mutex
	pending *batch
	// onJoin, when set, is called (without mu) after each caller joined a batch (tests).
	onJoin func(waiting int)
}

// maxGather bounds how long a batch takes callers for (in windows): a steady stream of
// callers does not hold its first one back for longer.
const maxGather = 20

// batch is the ids of the callers who joined before it went out.
type batch struct {
	callers  []*batchCaller
	lastJoin time.Time
	done     chan struct{}
	err      error
	perID    map[string]error
}

type batchCaller struct {
	ctx context.Context
	ids []string
}

// NewBatcher returns a batcher that sends through send, gathering callers for window.
func NewBatcher(window time.Duration, send BatchSend) *Batcher {
	return &Batcher{send: send, window: window, clock: realClock{}}
}

// NewBatcherWithClock is NewBatcher on another clock, calling onJoin with the number of ids
// waiting after each caller joins (tests).
func NewBatcherWithClock(window time.Duration, send BatchSend, clock Clock, onJoin func(waiting int)) *Batcher {
	return &Batcher{send: send, window: window, clock: clock, onJoin: onJoin}
}

// Do sends ids in the next batch and returns once that batch's request has been answered:
// nil when the cloud accepted all of them, the batch's error when the request failed, or the
// errors of this caller's ids. It returns ctx's error when ctx ends first (the ids may still
// go out: a terminate asked for is not taken back).
func (b *Batcher) Do(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	b.mu.Lock()
	bt := b.pending
	if bt == nil {
		bt = &batch{done: make(chan struct{})}
		b.pending = bt
		go b.flush(context.WithoutCancel(ctx), bt)
	}
	bt.callers = append(bt.callers, &batchCaller{ctx: ctx, ids: ids})
	bt.lastJoin = b.clock.Now()
	waiting := 0
	for _, c := range bt.callers {
		waiting += len(c.ids)
	}
	b.mu.Unlock()
	if b.onJoin != nil {
		b.onJoin(waiting)
	}

	select {
	case <-bt.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if bt.err != nil {
		return bt.err
	}
	var errs []error
	for _, id := range ids {
		if err := bt.perID[id]; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// flush sends bt once window has passed since its last caller joined (or maxGather windows
// since it opened) and no other request of this batcher is out.
func (b *Batcher) flush(ctx context.Context, bt *batch) {
	last := b.clock.Now().Add(maxGather * b.window)
	for {
		b.mu.Lock()
		quietAt := bt.lastJoin.Add(b.window)
		b.mu.Unlock()
		now := b.clock.Now()
		if !quietAt.After(now) || !last.After(now) {
			break
		}
		if quietAt.After(last) {
			quietAt = last
		}
		<-b.clock.After(quietAt.Sub(now))
	}
	b.sending.Lock()
	defer b.sending.Unlock()
	if b.Ready != nil {
		_ = b.Ready(ctx) // ctx is never cancelled; a failure to wait only sends sooner
	}
	b.mu.Lock()
	if b.pending == bt {
		b.pending = nil
	}
	// Callers who gave up before it went are left out; the rest keep their order, each id once.
	var ids []string
	seen := map[string]bool{}
	var deadline time.Time
	noDeadline := false
	for _, c := range bt.callers {
		if c.ctx.Err() != nil {
			continue
		}
		if d, ok := c.ctx.Deadline(); !ok {
			noDeadline = true
		} else if d.After(deadline) {
			deadline = d
		}
		for _, id := range c.ids {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	b.mu.Unlock()
	if len(ids) > 0 {
		// The request serves every caller, so it lasts as long as the most patient one.
		if !noDeadline && !deadline.IsZero() {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
		bt.perID, bt.err = b.send(ctx, ids)
	}
	close(bt.done)
}
