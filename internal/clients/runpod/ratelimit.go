package runpod

import (
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/httpx"
	"golang.org/x/time/rate"
)

// RunPod states its quotas in the RateLimit-Policy header of every authenticated answer; the
// API document's example is `"minute";q=60;w=60, "hour";q=3000;w=3600, "day";q=50000;w=86400`,
// per user (API key owner). The client paces itself below the minute quota with a token bucket,
// and tightens the pace from the live RateLimit header when the account's remaining requests
// (which other programs using the same key also consume) run short.

// DefaultLimiter paces every request under RunPod's 60 requests per minute: a token bucket
// of rate r and burst b lets through at most b + r*60 s requests in any minute, so 55/min with
// a burst of 5 never exceeds 60 in any minute, aligned to RunPod's window or not. The hour
// quota (3000, i.e. 50/min sustained) is left to the RateLimit header adaptation below, which
// slows down once that window runs short.
func DefaultLimiter() *rate.Limiter { return rate.NewLimiter(rate.Limit(55.0/60.0), 5) }

// rateLimitWindow is one member of the RateLimit header: `"minute";r=0;t=12`.
type rateLimitWindow = httpx.RateLimitWindow

// parseRateLimit reads every window of the RateLimit header (httpx.ParseRateLimit returns only
// the one with the fewest requests left, which is not always the one that binds: 3 requests
// left for 2 s allow more than 20 left for an hour).
func parseRateLimit(h http.Header) []rateLimitWindow { return httpx.RateLimitWindows(h) }

// pacer adapts the client-wide limiter to the RateLimit header. A window runs short when, at
// the configured pace, its remaining requests would be used up before it resets (looking no
// further ahead than shortHorizon: an hour or day window early on holds fewer requests than a
// steady full pace would use by its reset, yet is no danger to a Terraform run). While some
// window runs short, the limiter keeps the configured pace (or the window's own quota per its
// length, RateLimit-Policy, when that is faster) with a burst of 1, and the answers
// keep saying how many requests are left: what the window has left is spent as it comes, not
// spread over the time to its reset, so an operation that needs fewer requests than are left
// is not slowed at all. An exhausted window (r=0) empties the bucket and slows the limiter to
// one request at that window's reset, so the next request waits for the reset instead of
// collecting a 429; when the window resets, the configured pace and burst come back. This
// holds whether RunPod counts a window as a fixed minute or as a refilling bucket: the client
// never sends more than the newest answer says is left (less the requests still without an
// answer), and where the window refills, the answers show the room, which the credit (below)
// spends at once.
type pacer struct {
	lim       *rate.Limiter
	baseLimit rate.Limit
	baseBurst int

	mu        sync.Mutex
	throttled bool
	restore   *time.Timer
	gen       uint64 // invalidates a restore timer that fired after a newer observation
	// changed is closed (and replaced) when a request waiting for the limiter should ask for
	// credit again: the credit grew, or the limiter's pace was restored (wake).
	changed chan struct{}

	// credit is how many requests the server's count allows now (see grant); creditSeq is the
	// request whose answer it was last set from; sent is the highest request number known to
	// have left (requests leave in the order of their numbers), answered counts the answers
	// seen, and asking is the number of the request that asked for credit last (tests).
	credit         int
	creditSeq      uint64
	sent, answered int
	asking         uint64
	// recent is the room each answer of the last reorderHorizon reported (see observe).
	recent []roomSeen
}

// roomSeen is the room one answer reported, and when it came.
type roomSeen struct {
	at   time.Time
	room int
}

// reorderHorizon bounds how long an answer's room is kept for weighing later answers against
// (see observe): longer than any request of this client stays in flight.
const reorderHorizon = 5 * time.Minute

// grant is the httpx Credit hook: a request goes at once, without waiting for the limiter,
// while the server's RateLimit header says its windows have room for it. Room is the fewest
// requests any window has left in an answer, less every request that left without its answer
// counted yet (sent before that one but not yet counted by the server, or after it), less a
// reserve of one. A granted request also takes every token the limiter holds: the limiter's
// bucket would otherwise stay full while credit is spent, and let its burst through at once on
// top of the server's room when the credit runs out. Drained, it lets a request through only
// at its pace, which is the window's own (see pace) while the window runs short; the reserve
// covers the one token it may give before the answer that says the window is empty has come.
// A cloud whose windows start full (a fresh minute, or a token bucket) thus takes the first
// requests of a burst at once instead of at the configured pace, and never more than it has
// left. A request asks again when woken while it waits for the limiter (wake), and every
// request numbered below it has left by then: those that left on the limiter's tokens since
// the credit was set are taken off it. A request that never gets an answer (cancelled while
// in flight, or a lost connection) keeps counting as unanswered: that can only make the
// credit smaller.
func (p *pacer) grant(seq uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asking = max(p.asking, seq)
	p.leftBefore(seq)
	if p.credit <= 0 {
		return false
	}
	p.credit--
	p.sent = max(p.sent, int(seq))
	now := time.Now()
	if n := int(p.lim.TokensAt(now)); n > 0 {
		p.lim.AllowN(now, n)
	}
	return true
}

// leftBefore records that every request numbered below seq has left, and takes those the
// credit did not count off it (p.mu held).
func (p *pacer) leftBefore(seq uint64) {
	if left := int(seq) - 1; left > p.sent {
		p.credit = max(p.credit-(left-p.sent), 0)
		p.sent = left
	}
}

// wake is the httpx CreditWake hook.
func (p *pacer) wake() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// wakeLocked wakes the requests waiting for the limiter (p.mu held).
func (p *pacer) wakeLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// observe updates the credit from the windows an answer to request seq, sent at sentAt,
// reports. RunPod counts requests in the order they reach it, which is not always the order
// they were sent: the answer to the newest request may have been counted before an older
// request that was answered first, and then neither its room nor the unanswered requests
// account for that older one. So an answer's room is the least it and every answer that came
// after its request was sent reported (those requests were in flight together, and any of them
// may have been counted last; rooms only grow with time, so a smaller room of another answer
// is never too generous). The answer to the newest request sets the credit from that; an older
// one can only lower it (its count may miss requests admitted after it but answered before it).
func (p *pacer) observe(seq uint64, sentAt time.Time, windows []rateLimitWindow) {
	p.mu.Lock()
	defer p.mu.Unlock()
	own := -1
	for _, w := range windows {
		if own < 0 || w.Remaining < own {
			own = w.Remaining
		}
	}
	now := time.Now()
	room := own
	kept := p.recent[:0]
	for _, r := range p.recent {
		if now.Sub(r.at) >= reorderHorizon {
			continue
		}
		kept = append(kept, r)
		if r.at.After(sentAt) {
			room = min(room, r.room)
		}
	}
	p.recent = append(kept, roomSeen{at: now, room: own})
	p.leftBefore(seq + 1) // an answered request has left, and every one numbered below it
	c := max(room-max(p.sent-p.answered, 0)-creditReserve, 0)
	before := p.credit
	if seq > p.creditSeq {
		p.creditSeq, p.credit = seq, c
	} else {
		p.credit = min(p.credit, c)
	}
	if p.credit > before {
		p.wakeLocked()
	}
}

// creditReserve is the room the credit leaves unspent (see grant).
const creditReserve = 1

// answer counts an answer (every answer, with or without a RateLimit header).
func (p *pacer) answer() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answered++
}

func newPacer(lim *rate.Limiter) *pacer {
	return &pacer{lim: lim, baseLimit: lim.Limit(), baseBurst: lim.Burst(), changed: make(chan struct{})}
}

// onResponse is the httpx OnResponse hook.
func (p *pacer) onResponse(resp *http.Response) {
	p.answer()
	windows := parseRateLimit(resp.Header)
	if len(windows) == 0 {
		return
	}
	if seq, sentAt, ok := httpx.RequestSeq(resp.Request); ok {
		p.observe(seq, sentAt, windows)
	}
	limit, until, throttle, exhausted, binding := p.pace(windows)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	if p.restore != nil {
		p.restore.Stop()
		p.restore = nil
	}
	now := time.Now()
	if !throttle {
		if p.throttled {
			p.lim.SetLimitAt(now, p.baseLimit)
			p.lim.SetBurstAt(now, p.baseBurst)
			p.throttled = false
			p.wakeLocked()
		}
		return
	}
	p.lim.SetLimitAt(now, limit)
	p.lim.SetBurstAt(now, 1)
	if exhausted {
		// Take the one token the bucket may hold: the next request then waits 1/limit, which
		// is at least the exhausted window's reset.
		p.lim.AllowN(now, 1)
	}
	if !p.throttled && resp.Request != nil {
		tflog.SubsystemInfo(resp.Request.Context(), cloudName, "RunPod rate limit running short: slowing down", map[string]any{
			"window": binding.Name, "remaining": binding.Remaining, "reset_seconds": int(binding.Reset.Seconds()),
			"requests_per_second": float64(limit),
		})
	}
	p.throttled = true
	gen := p.gen
	p.restore = time.AfterFunc(until, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.gen != gen {
			return
		}
		t := time.Now()
		p.lim.SetLimitAt(t, p.baseLimit)
		p.lim.SetBurstAt(t, p.baseBurst)
		p.throttled = false
		p.restore = nil
		p.wakeLocked()
	})
}

// shortHorizon bounds how far ahead a window's remaining requests are weighed against the
// configured pace.
const shortHorizon = time.Minute

// pace computes the limiter's pace from the windows: while some window runs short, the
// configured pace or that window's own rate (policyRate), whichever is faster (its requests
// are spent as they come, see pacer), and, when one has nothing
// left, one request at its reset; until is when the binding window (the exhausted one with the
// latest reset, else the short one with the fewest requests left) resets. throttle is false
// when no window runs short; exhausted is true when some window has nothing left.
func (p *pacer) pace(windows []rateLimitWindow) (limit rate.Limit, until time.Duration, throttle, exhausted bool, binding rateLimitWindow) {
	for _, w := range windows {
		if w.Reset <= 0 {
			continue // resets now: no constraint
		}
		// What the configured pace could send before the reset (or within the horizon).
		budget := float64(p.baseLimit)*min(w.Reset, shortHorizon).Seconds() + float64(p.baseBurst)
		if w.Remaining > 0 && float64(w.Remaining) >= budget {
			continue
		}
		switch {
		case w.Remaining <= 0:
			if !exhausted || w.Reset > binding.Reset {
				binding = w
			}
			exhausted = true
		case !exhausted && (!throttle || w.Remaining < binding.Remaining):
			binding = w
		}
		throttle = true
	}
	switch {
	case exhausted:
		limit = min(rate.Every(binding.Reset), p.baseLimit) // one request when the window resets
	case throttle:
		limit = max(p.baseLimit, policyRate(binding))
	}
	return limit, binding.Reset, throttle, exhausted, binding
}

// policyRate is a window's quota over its length (RateLimit-Policy: 60 a minute is one a
// second), 0 when the policy does not name the window. A short window is spent at that rate
// when it is faster than the configured pace: RunPod lets a window's quota through per its
// length, whether it refills as it goes (then this is the refill) or all at once at its reset
// (then the room runs out first, and the next request waits for the reset).
func policyRate(w rateLimitWindow) rate.Limit {
	if w.Quota <= 0 || w.Length <= 0 {
		return 0
	}
	return rate.Limit(float64(w.Quota) / w.Length.Seconds())
}

// state reports the limiter's current pace (tests).
func (p *pacer) state() (rate.Limit, int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lim.Limit(), p.lim.Burst(), p.throttled
}
