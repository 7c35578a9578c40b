package clients

import (
	"context"
	"errors"
	"sync"
	"time"
)

// PollInterval bounds the pause between two looks at a machine while waiting. The first looks
// come quickly (a fast boot is noticed fast), later ones back off to stay well inside the
// vendors' rate limits. These are real-world intervals: Settings.Pacing puts them on the clock
// of a time-scaled emulator. Variables so that tests can shrink them.
var (
	PollInitial = 1 * time.Second
	PollMax     = 15 * time.Second
)

// PollFloor is the shortest pause Settings.Pacing gives, however small the time scale: below
// it a waiter would spend its time on list calls rather than on the cloud's progress.
const PollFloor = 10 * time.Millisecond

// Pacing is the pause schedule of a wait: Initial, doubling up to Max.
type Pacing struct {
	Initial, Max time.Duration
}

// DefaultPacing is PollInitial and PollMax as they are now.
func DefaultPacing() Pacing { return Pacing{Initial: PollInitial, Max: PollMax} }

// Pacing is PollInitial and PollMax on the clock RateScale sets (an emulator running faster
// than real time), never below PollFloor.
func (s Settings) Pacing() Pacing {
	p := Pacing{Initial: max(s.Every(PollInitial), PollFloor), Max: max(s.Every(PollMax), PollFloor)}
	if s.RateScale <= 0 || s.RateScale >= 1 {
		p = DefaultPacing() // real time: exactly the variables, whatever their values
	}
	p.Max = max(p.Max, p.Initial)
	return p
}

// Settle puts a real-world duration d (how long a cloud typically takes to terminate a machine)
// on the clock of the poll intervals: scaled like them by RateScale, and, at real time, by
// PollInitial's ratio to its default of one second (tests that shrink the poll intervals
// shrink the settle times with them).
func (s Settings) Settle(d time.Duration) time.Duration {
	if s.RateScale > 0 && s.RateScale < 1 {
		return s.Every(d)
	}
	return time.Duration(float64(d) * float64(PollInitial) / float64(time.Second))
}

// TerminationTimer is implemented by clouds that know how long a machine typically takes to be
// gone once its terminate was accepted (real-world time): a waiter for its end does not look
// before then (Cadence.WaitGoneAfter).
type TerminationTimer interface {
	TerminationTime() time.Duration
}

// Poll calls check until it reports done, returns an error, or ctx ends. The pause between
// calls starts at p.Initial and doubles up to p.Max.
func (p Pacing) Poll(ctx context.Context, check func(context.Context) (bool, error)) error {
	wait := max(p.Initial, time.Millisecond)
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, max(p.Max, p.Initial))
	}
}

// Poll calls check until it reports done, returns an error, or ctx ends. The pause between
// calls starts at PollInitial and doubles up to PollMax (real time; see Pacing.Poll).
func Poll(ctx context.Context, check func(context.Context) (bool, error)) error {
	return DefaultPacing().Poll(ctx, check)
}

// Clock is the time a Cadence keeps (tests inject their own).
type Clock interface {
	Now() time.Time
	// After is time.After.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Cadence is the one look schedule of every waiter of one cloud (docs/guides/performance.md): while
// anything waits for that cloud's machines, looks happen at shared ticks, the first Initial
// after the first waiter came, then further apart (doubling) up to Max; a waiter that comes
// while others wait takes the next tick, it does not start the schedule over. At a tick every
// waiter reads the same list (the snapshot's fetch started at or after the tick), so polling
// for a hundred booting machines costs what polling for one does: calls grow with the time
// waited, not with the number of machines. When the last waiter leaves, the schedule ends; the
// next waiter starts a new one.
type Cadence struct {
	pacing Pacing
	clock  Clock

	mu       sync.Mutex
	waiters  int
	next     time.Time     // the next tick, while waiters > 0
	interval time.Duration // the pause after next
	// cohort is the latest group of gone waiters (WaitGoneAfter) sharing one first look: gone
	// waiters that come before that look, and need not wait longer, look first there too, and
	// one that would look later moves the whole group's first look there, within the cloud's
	// termination time (see join).
	cohort *goneCohort

	// booting holds the creation times of the machines being waited up (WaitUp), and upIn the
	// shortest time from a machine's creation to a look that saw it up, while the schedule
	// runs (zero until a machine was seen up).
	booting map[uint64]time.Time
	upIn    time.Duration
	lastID  uint64
}

// goneCohort is a group of gone waiters sharing one first look.
type goneCohort struct {
	first   time.Time // the first look its first member would have had on its own
	look    time.Time // the group's first look (moves later while members join; see join)
	members int
}

// GoneGather is the least time (real time, whatever the time scale) between a terminate's
// acceptance and the first look for its end: the waiters of deletes that Terraform hands over
// within it share that look (and the one confirming it) instead of starting looks of their
// own at the next ticks. Terraform delivers the deletes of one apply over tens of
// milliseconds; at real time the first tick comes later than this anyway.
const GoneGather = 50 * time.Millisecond

// NewCadence returns the cadence of one cloud.
func NewCadence(p Pacing) *Cadence { return NewCadenceWithClock(p, realClock{}) }

// NewCadenceWithClock is NewCadence on another clock (tests).
func NewCadenceWithClock(p Pacing, clock Clock) *Cadence {
	p.Initial = max(p.Initial, time.Millisecond)
	p.Max = max(p.Max, p.Initial)
	return &Cadence{pacing: p, clock: clock}
}

// Pacing returns the cadence's schedule.
func (c *Cadence) Pacing() Pacing { return c.pacing }

// join registers a waiter and returns the first tick it looks at: the first one at least
// settle from now (the first one after now when settle is 0). A waiter that gathers (gather >
// 0, a gone waiter) would look first at the first tick at least max(settle, gather) from now;
// it joins the latest cohort of gathering waiters whose first look is still ahead when
//   - that look is no earlier than its own (it looks there too);
//   - or moving that look to its own keeps it within settle, or within gather per member (this
//     one included), of the look the cohort's first member would have had alone: the whole
//     cohort then looks there (the members that came earlier look a little later, and one list
//     serves them all instead of one list per tick). Deletes that reach the cloud in a stream
//     (RunPod's, one per rate-limit interval, each accepted before the look its predecessors
//     wait for) so share one first look after the stream, and no first look is put off by
//     more than gather per member beyond the first member's own;
//   - or, beyond that, the cohort's look is still at least settle from now.
//
// Otherwise it starts a new cohort at its own first look. The returned cohort (nil for a
// waiter that does not gather) has the first look as it stands; it may move later until it
// comes.
func (c *Cadence) join(settle, gather time.Duration) (time.Time, *goneCohort) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if c.waiters == 0 {
		c.cohort, c.upIn = nil, 0
		// Looks at Initial, 3, 7, 15 x Initial ... (the pauses of Pacing.Poll after its
		// first look, which a waiter does not need: it has just been told where things stand).
		// A schedule started by a waiter that need not look before settle starts there.
		c.next, c.interval = now.Add(max(c.pacing.Initial, settle)), min(2*c.pacing.Initial, c.pacing.Max)
	}
	c.waiters++
	wait := max(settle, gather)
	if wait <= 0 {
		return c.tickAfterLocked(now), nil
	}
	// A tick in the future of the shared schedule, found without moving the schedule there:
	// the other waiters still look at the ticks before it.
	next, interval, at := c.next, c.interval, now.Add(wait)
	for next.Before(at) {
		next = next.Add(interval)
		interval = min(interval*2, c.pacing.Max)
	}
	if gather <= 0 {
		return next, nil
	}
	// A gone waiter looks first when its machine is due to be gone (settle, or at once for a
	// cloud whose machines leave at once), not at the schedule's next tick, which may be up to
	// Max later (a delete accepted just after a tick of a schedule that has backed off); it
	// takes a tick that comes within Initial of that, to share the list of the waiters looking
	// there. Where deletes come in a stream paced by the rate limit, the looks of their waiters
	// yield to the deletes still queued (Yield): they wait for the stream's end, and share the
	// one list sent then.
	if next.After(at.Add(c.pacing.Initial)) {
		next = at
	}
	if k := c.cohort; k != nil && k.look.After(now) {
		switch {
		case !next.After(k.look):
			// The cohort looks when this waiter would, or later.
		case !next.After(k.first.Add(max(settle, time.Duration(k.members+1)*gather))):
			k.look = next // the whole cohort looks when this waiter would
		case !k.look.Before(now.Add(settle)):
			// Beyond what the cohort may move, but its look is late enough for this one.
		default:
			c.cohort = &goneCohort{first: next, look: next, members: 1}
			return next, c.cohort
		}
		k.members++
		return k.look, k
	}
	c.cohort = &goneCohort{first: next, look: next, members: 1}
	return next, c.cohort
}

// cohortLook is where a cohort's first look stands now.
func (c *Cadence) cohortLook(k *goneCohort) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return k.look
}

func (c *Cadence) leave() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waiters--
}

// tickAfter is the first tick strictly after t.
func (c *Cadence) tickAfter(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tickAfterLocked(t)
}

func (c *Cadence) tickAfterLocked(t time.Time) time.Time {
	for !c.next.After(t) {
		c.next = c.next.Add(c.interval)
		c.interval = min(c.interval*2, c.pacing.Max)
	}
	return c.next
}

// Wait calls check at the cadence's ticks (the first one after now, then every following one
// that has not passed while check ran) until it reports done, returns an error, or ctx ends.
// check gets the tick: reads answered from a shared snapshot should ask for one started at or
// after it, which all waiters of that tick then share.
func (c *Cadence) Wait(ctx context.Context, check func(ctx context.Context, tick time.Time) (bool, error)) error {
	return c.WaitAfter(ctx, 0, check)
}

// WaitAfter is Wait whose first look is at the first tick at least settle from now, for a
// waiter that knows nothing is likely to change before then (a machine the cloud takes that
// long to terminate): the looks it skips are calls saved, and the later ones back off as
// Wait's do, so that the looks grow with the time waited only logarithmically.
func (c *Cadence) WaitAfter(ctx context.Context, settle time.Duration, check func(ctx context.Context, tick time.Time) (bool, error)) error {
	return c.wait(ctx, settle, 0, check, nil)
}

// wait calls check at the cadence's ticks (see WaitAfter). sooner, when not nil, may name a
// look earlier than the next tick (the zero time for none), for a waiter that needs one more
// list soon: all waiters that read the same list ask for the same time, so they share the
// next list too.
func (c *Cadence) wait(ctx context.Context, settle, gather time.Duration, check func(ctx context.Context, tick time.Time) (bool, error), sooner func() time.Time) error {
	tick, cohort := c.join(settle, gather)
	defer c.leave()
	for {
		if d := tick.Sub(c.clock.Now()); d > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-c.clock.After(d):
			}
		}
		if cohort != nil {
			// The first look of a cohort moves later while waiters join it (see join).
			if look := c.cohortLook(cohort); look.After(tick) {
				tick = look
				continue
			}
			cohort = nil
		}
		done, err := check(Yield(ctx), tick)
		if err != nil || done {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// The next tick after this one that has not passed yet.
		after := c.clock.Now().Add(-time.Nanosecond)
		if after.Before(tick) {
			after = tick
		}
		tick = c.tickAfter(after)
		if sooner != nil {
			if at := sooner(); at.After(after) && at.Before(tick) {
				tick = at
			}
		}
	}
}

// WaitUp is Wait for a machine coming up, for a check that also says when its machine was
// created (the zero time when it cannot tell). Besides the schedule's ticks, it looks once when
// the last machine being waited up is due: the latest creation time among the waiters, plus
// the shortest time a machine of this wait took from its creation to a look that saw it up,
// plus one initial interval (clouds give creation times to the second). Machines created in a
// stream (RunPod's creates at its rate limit) come up in a stream: the schedule's ticks, 15 s
// apart by then, would see the last one up to 15 s late, and a look at each one's own time
// would cost a list per machine. This is one list more, which the waiters still booting share.
// The times are differences of the cloud's creation times and this clock's, so a skew between
// the two cancels out.
func (c *Cadence) WaitUp(ctx context.Context, check func(ctx context.Context, tick time.Time) (done bool, created time.Time, err error)) error {
	c.mu.Lock()
	c.lastID++
	w := c.lastID
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.booting, w)
		c.mu.Unlock()
	}()
	return c.wait(ctx, 0, 0, func(ctx context.Context, tick time.Time) (bool, error) {
		done, created, err := check(ctx, tick)
		if !created.IsZero() {
			c.mu.Lock()
			if c.booting == nil {
				c.booting = map[uint64]time.Time{}
			}
			c.booting[w] = created
			if up := c.clock.Now().Sub(created); done && err == nil && up > 0 && (c.upIn == 0 || up < c.upIn) {
				c.upIn = up
			}
			if done || err != nil {
				delete(c.booting, w)
			}
			c.mu.Unlock()
		}
		return done, err
	}, c.lastUp)
}

// lastUp is when the last machine being waited up is due (see WaitUp); the zero time when
// that is not known yet.
func (c *Cadence) lastUp() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.upIn <= 0 {
		return time.Time{}
	}
	var last time.Time
	for _, created := range c.booting {
		if created.After(last) {
			last = created
		}
	}
	if last.IsZero() {
		return time.Time{}
	}
	return last.Add(c.upIn + c.pacing.Initial)
}

// InstanceLooker is implemented by clouds whose machines are read from a shared list snapshot
// (GET /instances, GET /pods, a cluster's NodePool list), for waiters that must not cost a call
// per machine.
type InstanceLooker interface {
	// LookInstance reads machine id from a complete, successful list of the account's machines
	// whose fetch started at or after notBefore (the shared snapshot, so concurrent lookers
	// share it). It never calls the machine's own URL: a machine the list lacks comes back as
	// a Look without Instance. An error means the list failed or was incomplete, never that
	// the machine is absent; ErrNotFound means a 404 on the machine's own URL or on its parent's
	// (a CoreWeave node pool's cluster).
	LookInstance(ctx context.Context, id string, notBefore time.Time) (Look, error)
}

// Look is what one list said about one machine.
type Look struct {
	// Instance is the machine as listed; nil when the list lacked it.
	Instance *Instance
	// ListedAt is when the list's fetch started.
	ListedAt time.Time
	// Consistent marks a list the cloud serves as a consistent read of its current state (a
	// Kubernetes list without resourceVersion, which the API server answers from etcd at the
	// latest revision, or from a cache it has first brought up to that revision): one that
	// lacks a machine says what a 404 on the machine's own URL would, so it needs no second
	// list to confirm it. Lists of clouds that may omit a machine for a moment (an eventually
	// consistent index) leave it false.
	Consistent bool
}

// WaitGone waits, at the cadence's ticks, until there is proof that machine id is gone
// (docs/guides/reliability.md, "Only proof removes a machine"): a terminated status in a list, ErrNotFound from the looker (a 404
// on the machine's own URL), or a complete successful list that lacks the machine, confirmed
// by the list of a later tick that lacks it too (a consistent list, Look.Consistent, needs no
// confirmation: it answers as the machine's own URL would). Every waiter of the cloud reads the
// same list at a tick, so a hundred machines leaving together cost a list per tick, not a GET
// per machine.
// A failed list is never proof: a rate-limit refusal waits for the next tick, any other failure
// ends the wait with its error. Call it after the cloud has accepted the terminate.
func (c *Cadence) WaitGone(ctx context.Context, looker InstanceLooker, id string) error {
	return c.WaitGoneWatch(ctx, looker, id, nil)
}

// WaitGoneWatch is WaitGone that also hands every look that listed the machine to seen (when
// not nil), for a progress log of its status changes.
func (c *Cadence) WaitGoneWatch(ctx context.Context, looker InstanceLooker, id string, seen func(context.Context, *Instance)) error {
	return c.WaitGoneAfter(ctx, looker, id, 0, seen)
}

// WaitGoneAfter is WaitGoneWatch for a machine the cloud typically takes settle to terminate
// (on the cadence's clock; see Settings.Settle): its first look is settle, and at least
// GoneGather, after the call (or at a tick of the shared schedule within Initial after that),
// or at the first look of an earlier gone waiter that is still ahead and at least settle away
// (see join); later looks are at the shared schedule's ticks. The first look always comes after the call (after the cloud accepted the
// terminate), and only what the looks say ends the wait: settle is when to look, never proof.
func (c *Cadence) WaitGoneAfter(ctx context.Context, looker InstanceLooker, id string, settle time.Duration, seen func(context.Context, *Instance)) error {
	var absentIn time.Time // when the list that last lacked the machine started
	// The list that confirms an absence is taken one initial poll interval after the list that
	// showed it, not at the next tick of the shared schedule, whose intervals have grown while
	// the machines were being deleted (a minute of RunPod deletes puts them at the maximum):
	// the absence is the news the waiters were waiting for.
	confirm := func() time.Time {
		if absentIn.IsZero() {
			return time.Time{}
		}
		return absentIn.Add(c.pacing.Initial)
	}
	return c.wait(ctx, settle, GoneGather, func(ctx context.Context, tick time.Time) (bool, error) {
		look, err := looker.LookInstance(ctx, id, tick)
		if err != nil || look.Instance != nil {
			if look.Instance != nil {
				absentIn = time.Time{} // listed again: the earlier absence proves nothing
				if seen != nil {
					seen(ctx, look.Instance)
				}
			}
			return goneOrWait(look, err)
		}
		if look.Consistent {
			return true, nil // lacked by a consistent read, begun after the terminate was accepted
		}
		if !absentIn.IsZero() && look.ListedAt.After(absentIn) {
			return true, nil // lacked by two complete lists, one after the other
		}
		absentIn = look.ListedAt
		return false, nil
	}, confirm)
}

// goneOrWait reads one look for WaitGone: gone on a terminated status or a 404 on the machine's
// own URL; a rate-limit refusal is no error (the next tick looks again).
func goneOrWait(look Look, err error) (bool, error) {
	switch {
	case IsNotFound(err):
		return true, nil
	case errors.Is(err, ErrRateLimited):
		return false, nil
	case err != nil:
		return false, err
	case look.Instance != nil:
		return look.Instance.Gone(), nil
	}
	return false, nil
}

// LookOrGet reads a machine for a waiter at tick: from the shared list (InstanceLooker) when
// the cloud has one, and with GetInstance when the list lacks the machine (a cloud may list a
// new machine late; only its own URL may say it does not exist) or the cloud has no looker.
func LookOrGet(ctx context.Context, cloud Cloud, id string, tick time.Time) (*Instance, error) {
	if l, ok := cloud.(InstanceLooker); ok {
		look, err := l.LookInstance(ctx, id, tick)
		if err != nil || look.Instance != nil {
			return look.Instance, err
		}
	}
	return cloud.GetInstance(FreshSince(ctx, tick), id)
}

type freshKey struct{}

// FreshSince returns ctx carrying a freshness demand for reads answered from a shared snapshot
// (GetInstance, GetCluster): their list's fetch must have started at or after t. Waiters use
// it so that a read at a tick sees the world after the tick, while a plain read (a refresh)
// takes whatever the adapter's short time-to-live allows.
func FreshSince(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, freshKey{}, t)
}

// NotBefore is the freshness a snapshot read under ctx needs: no older than ttl, and no older
// than a FreshSince demand.
func NotBefore(ctx context.Context, ttl time.Duration) time.Time {
	nb := time.Now().Add(-ttl)
	if t, ok := ctx.Value(freshKey{}).(time.Time); ok && t.After(nb) {
		return t
	}
	return nb
}
