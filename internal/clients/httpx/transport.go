package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"
)

// transportChain runs under retryablehttp, so everything here happens once per attempt:
// wait for the rate limiters, send within RequestTimeout, read the whole answer, log.
type transportChain struct {
	cfg *Config
	// basePath is the base URL's path, stripped before matching RouteLimits.
	basePath string
	next     http.RoundTripper
	// turn orders the requests waiting for the client-wide limiter: first come, first served
	// (a channel's blocked senders are served in order), so that a read asked for while a
	// hundred deletes wait for their tokens goes after them instead of overtaking some of them
	// at random, and nothing waits forever behind luckier requests.
	turn chan struct{}
	// sent numbers the requests in the order they leave the client-wide limiter (RequestSeq).
	sent atomic.Uint64

	// pressing counts the requests that wait for their turn at the client-wide limiter, or
	// hold it, and do not yield (clients.Yield); clear is closed when it drops to zero.
	mu       sync.Mutex
	pressing int
	clear    chan struct{}
}

// maxYield bounds how long a request that yields waits for the others (see waitClear).
const maxYield = time.Minute

// press adds d to the requests pressing for the limiter.
func (t *transportChain) press(d int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pressing += d
	if t.pressing == 0 && t.clear != nil {
		close(t.clear)
		t.clear = nil
	}
}

// waitClear holds a request that yields (clients.Yield) until no other request presses for the
// client-wide limiter: a waiter's look goes after the stream of deletes or creates it waits on,
// not in the middle of it, where it would take a request's room and see only part of the
// outcome. It waits no longer than maxYield, nor than half the time ctx has left, so that a
// look is never starved by a stream that does not end, and still has time to be sent.
func (t *transportChain) waitClear(ctx context.Context) error {
	limit := maxYield
	if deadline, ok := ctx.Deadline(); ok {
		limit = min(limit, time.Until(deadline)/2)
	}
	timer := time.NewTimer(max(limit, 0))
	defer timer.Stop()
	start, yielded := time.Now(), 0
	for {
		t.mu.Lock()
		if t.pressing == 0 {
			t.mu.Unlock()
			if yielded > 0 {
				tflog.SubsystemDebug(ctx, subsystem(t.cfg.Cloud), "a waiter's look yielded to the queued requests", map[string]any{
					"queued": yielded, "yielded_ms": time.Since(start).Milliseconds(),
				})
			}
			return nil
		}
		if t.clear == nil {
			t.clear = make(chan struct{})
		}
		cleared, n := t.clear, t.pressing
		yielded = max(yielded, n)
		t.mu.Unlock()
		select {
		case <-cleared:
		case <-timer.C:
			tflog.SubsystemDebug(ctx, subsystem(t.cfg.Cloud), "a waiter's look stops yielding to the queued requests", map[string]any{
				"queued": n, "yielded_ms": limit.Milliseconds(),
			})
			return nil
		case <-ctx.Done():
			return &notSentError{err: ctx.Err()}
		}
	}
}

type seqKey struct{}

// sendStamp is what seqKey holds: the request's number and when it left.
type sendStamp struct {
	seq uint64
	at  time.Time
}

// RequestSeq is a request's number in the order the client's requests left its client-wide
// limiter (1 for the first), and when it left, for an OnResponse hook that weighs an answer
// against the requests sent after it (see Config.Credit); ok is false for a request of
// another client.
func RequestSeq(req *http.Request) (seq uint64, sentAt time.Time, ok bool) {
	st, ok := requestStamp(req)
	return st.seq, st.at, ok
}

func requestStamp(req *http.Request) (sendStamp, bool) {
	if req == nil {
		return sendStamp{}, false
	}
	st, ok := req.Context().Value(seqKey{}).(sendStamp)
	return st, ok
}

func (t *transportChain) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st := callStateFrom(ctx)
	if st != nil {
		st.answerLost.Store(false)
	}
	// Every limiter that applies (the route's and the client-wide one) gives its token at the
	// same moment, right before sending: waiting on them one after the other would let a token
	// taken early be spent late, and the real sends could bunch up above a vendor's rate.
	rel := strings.TrimPrefix(req.URL.Path, t.basePath)
	var lims []*rate.Limiter
	for _, rl := range t.cfg.RouteLimits {
		if rl.Limiter == nil || (rl.Method != "" && rl.Method != req.Method) {
			continue
		}
		if ok, _ := path.Match(rl.Path, rel); ok {
			lims = append(lims, rl.Limiter)
		}
	}
	if t.cfg.Limiter != nil {
		// The route's own limit first, outside the queue (a launch waiting its 12 s must not
		// hold up every other request), then the client-wide limit in turn.
		if len(lims) > 0 {
			if err := waitLimiters(ctx, lims, false, nil); err != nil {
				return nil, err
			}
		}
		// A request that does not yield presses from now until it gives its turn back.
		yields := clients.Yields(ctx)
		if yields {
			if err := t.waitClear(ctx); err != nil {
				return nil, err
			}
		} else {
			t.press(1)
		}
		if err := t.takeTurn(ctx); err != nil {
			if !yields {
				t.press(-1)
			}
			return nil, err
		}
		seq := t.sent.Load() + 1
		var err error
		for {
			var wake <-chan struct{}
			if t.cfg.CreditWake != nil {
				wake = t.cfg.CreditWake()
			}
			if t.cfg.Credit != nil && t.cfg.Credit(seq) {
				err = waitLimiters(ctx, lims, true, nil) // the server's own count has room for it now
				break
			}
			err = waitLimiters(ctx, append(lims, t.cfg.Limiter), true, wake)
			if !errors.Is(err, errWoken) {
				break
			}
		}
		if err == nil {
			t.sent.Store(seq)
			ctx = context.WithValue(ctx, seqKey{}, sendStamp{seq: seq, at: time.Now()})
		}
		<-t.turn
		if !yields {
			t.press(-1)
		}
		if err != nil {
			return nil, err
		}
	} else if err := waitLimiters(ctx, lims, true, nil); err != nil {
		return nil, err
	} else {
		ctx = context.WithValue(ctx, seqKey{}, sendStamp{seq: t.sent.Add(1), at: time.Now()})
	}

	// The attempt's own clock starts only now: a request queued behind the rate limiter has
	// not been sent, so it cannot have hung.
	start := time.Now()
	if st != nil && st.firstSent.IsZero() {
		st.firstSent = start
	}
	snapshot.Sent(ctx) // a shared list's fetch is dated from now (snapshot.Cache.StampAtSend)
	attemptCtx, cancel := context.WithTimeout(ctx, t.cfg.RequestTimeout)
	defer cancel()
	// The attempt's time ended, not the call's: the caller may still have time for another.
	abandoned := func(err error) error {
		if ctx.Err() == nil && attemptCtx.Err() != nil {
			return &attemptTimeoutError{after: t.cfg.RequestTimeout, mayHaveBeenSent: sentBeforeFailure(err)}
		}
		return err
	}

	sub := subsystem(t.cfg.Cloud)
	// Bodies are logged at debug level only, redacted (redactBody); the work is skipped when
	// nobody reads them.
	logBodies := tflog.SubsystemIsDebug(ctx, sub)
	reqBody := ""
	if logBodies && req.Body != nil && req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(rc)
			_ = rc.Close()
			reqBody = redactBody(b)
		}
	}
	tflog.SubsystemDebug(ctx, sub, "sending API request", map[string]any{
		"http_method":   req.Method,
		"http_url":      req.URL.String(),
		"http_body":     reqBody,
		"authorization": req.Header.Get("Authorization"),
	})
	resp, err := t.next.RoundTrip(req.WithContext(attemptCtx))
	fields := map[string]any{
		"http_method": req.Method,
		"http_url":    req.URL.String(),
		"duration_ms": time.Since(start).Milliseconds(),
	}
	if err != nil {
		err = abandoned(err)
		if st != nil {
			st.answerLost.Store(sentBeforeFailure(err))
		}
		fields["error"] = err.Error()
		tflog.SubsystemWarn(ctx, sub, "API request failed", fields)
		return nil, err
	}
	// Read the whole body here, within the attempt's time, to log it and so that the retry
	// policy can look at it; the caller reads it again from bufferedBody.
	body, readErr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = bufferedBody{Reader: bytes.NewReader(body), data: body}
	if st != nil {
		st.answerLost.Store(readErr != nil || resp.StatusCode >= 500)
	}
	fields["http_status"] = resp.StatusCode
	if logBodies || readErr != nil {
		fields["http_body"] = redactBody(body)
	}
	if v := resp.Header.Get("Retry-After"); v != "" {
		fields["retry_after"] = v
	}
	if v := resp.Header.Get("RateLimit"); v != "" {
		fields["ratelimit"] = v
	}
	if readErr != nil {
		readErr = abandoned(readErr)
		fields["error"] = readErr.Error()
		tflog.SubsystemWarn(ctx, sub, "API response cut off", fields)
		return nil, readErr
	}
	if st != nil {
		st.lastAnswer = resp
	}
	tflog.SubsystemDebug(ctx, sub, "received API response", fields)
	if t.cfg.OnResponse != nil {
		t.cfg.OnResponse(resp)
	}
	return resp, nil
}

// bufferedBody is an answer's body, read in full by transportChain.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

func (bufferedBody) Close() error { return nil }

// bufferedBytes returns the body transportChain read, without consuming it.
func bufferedBytes(resp *http.Response) ([]byte, bool) {
	if resp == nil {
		return nil, false
	}
	b, ok := resp.Body.(bufferedBody)
	return b.data, ok
}

// attemptTimeoutError is an attempt abandoned after RequestTimeout while the call's context
// was still live. It deliberately does not wrap context.DeadlineExceeded: the operation's
// timeout has not passed, and callers read that error as "raise the timeout".
type attemptTimeoutError struct {
	after time.Duration
	// mayHaveBeenSent is false only when the attempt was still connecting.
	mayHaveBeenSent bool
}

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("no answer within the per-request timeout of %s", e.after)
}

// Timeout marks the error as a timeout for net.Error-style checks.
func (e *attemptTimeoutError) Timeout() bool { return true }

// takeTurn waits for this request's turn at the client-wide limiter (see transportChain.turn).
func (t *transportChain) takeTurn(ctx context.Context) error {
	select {
	case t.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &notSentError{err: ctx.Err()}
	}
}

// waitLimiters waits until every limiter has a token at the same instant and takes them
// all then (or, with take false, only waits until they would all have one). Its errors say why in a way callers can test: a wait the context cannot outlive
// wraps context.DeadlineExceeded at once (rate.Limiter.Wait returns an unwrappable error for
// that), a cancelled wait wraps ctx.Err(). Either way nothing was sent, which notSentError
// records. A wait that wake (when not nil) interrupts returns errWoken, with no token taken.
func waitLimiters(ctx context.Context, lims []*rate.Limiter, take bool, wake <-chan struct{}) error {
	for {
		if err := ctx.Err(); err != nil {
			return &notSentError{err: err}
		}
		now := time.Now()
		var delay time.Duration
		rs := make([]*rate.Reservation, 0, len(lims))
		for _, lim := range lims {
			r := lim.ReserveN(now, 1)
			if !r.OK() {
				cancelAll(rs, now)
				return &notSentError{err: errors.New("rate limiter burst is 0: no request can ever pass")}
			}
			rs = append(rs, r)
			delay = max(delay, r.DelayFrom(now))
		}
		if delay <= 0 {
			if !take {
				cancelAll(rs, now)
			}
			return nil
		}
		// Give every token back and wait for the slowest limiter; the others are then
		// asked again, so none is taken before the request can really go.
		cancelAll(rs, now)
		if deadline, ok := ctx.Deadline(); ok && now.Add(delay).After(deadline) {
			return &notSentError{err: fmt.Errorf("rate limiter wait of %s would outlast the deadline: %w",
				delay.Round(time.Millisecond), context.DeadlineExceeded)}
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-wake:
			timer.Stop()
			return errWoken
		case <-ctx.Done():
			timer.Stop()
			return &notSentError{err: ctx.Err()}
		}
	}
}

// WaitForToken waits until lim would let a request through at once, without taking the token
// (nil waits for nothing): for a caller that wants to gather work until its request can leave
// (clients.Batcher.Ready).
func WaitForToken(ctx context.Context, lim *rate.Limiter) error {
	if lim == nil {
		return nil
	}
	return waitLimiters(ctx, []*rate.Limiter{lim}, false, nil)
}

// errWoken is waitLimiters' answer when its wake channel closed first (Config.CreditWake).
var errWoken = errors.New("rate limiter wait interrupted: the credit may have changed")

func cancelAll(rs []*rate.Reservation, at time.Time) {
	for _, r := range rs {
		r.CancelAt(at)
	}
}

type notSentError struct{ err error }

func (e *notSentError) Error() string { return "request not sent: " + e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

func subsystem(cloud string) string { return cloud }

// secretFields are JSON members whose values are masked in logs wherever they appear: vendor
// keys, generated private keys, kubeconfigs, tokens and passwords, also under a prefix or
// suffix ("ssh_private_key", "access_token", "client_secret") and in any letter case.
var secretFields = regexp.MustCompile(`"[A-Za-z0-9_-]*` + secretName + `[A-Za-z0-9_-]*"\s*:\s*"(?:[^"\\]|\\.)*"`)

// secretName is what in a JSON member's name makes its value a secret (secretFields, secretKey).
const secretName = `(?i:private_?key|kubeconfig|api_?key|token|password|secret)`

// privateKeyBlocks are PEM private keys, masked whatever member or text carries them.
var privateKeyBlocks = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)-----END [A-Z0-9 ]*PRIVATE KEY-----`)

// withLogging gives the request context a tflog subsystem for the vendor, with the
// Authorization header, the configured secrets and secret JSON members masked.
func (c *Client) withLogging(ctx context.Context) context.Context {
	sub := subsystem(c.cfg.Cloud)
	ctx = tflog.NewSubsystem(ctx, sub, tflog.WithLevelFromEnv("TF_LOG_PROVIDER_NEOCLOUD_"+strings.ToUpper(c.cfg.Cloud)))
	ctx = tflog.SubsystemMaskFieldValuesWithFieldKeys(ctx, sub, "authorization")
	secrets := make([]string, 0, len(c.cfg.Secrets))
	for _, s := range c.cfg.Secrets {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) > 0 {
		ctx = tflog.SubsystemMaskAllFieldValuesStrings(ctx, sub, secrets...)
		ctx = tflog.SubsystemMaskMessageStrings(ctx, sub, secrets...)
	}
	ctx = tflog.SubsystemMaskAllFieldValuesRegexes(ctx, sub, secretFields, privateKeyBlocks)
	ctx = tflog.SubsystemMaskMessageRegexes(ctx, sub, secretFields, privateKeyBlocks)
	return ctx
}

// logRetry notes every retry with its attempt number, in the vendor subsystem so that the
// same masks apply as to the request log (the root logger does not know the secrets).
func (c *Client) logRetry(_ retryablehttp.Logger, req *http.Request, attempt int) {
	if attempt == 0 {
		return
	}
	tflog.SubsystemInfo(req.Context(), subsystem(c.cfg.Cloud), "retrying API request", map[string]any{
		"http_method": req.Method, "http_url": req.URL.String(), "attempt": attempt,
	})
}

// RateLimitWindow is one member of an IETF RateLimit header: `"minute";r=0;t=12`, with the
// quota and length the RateLimit-Policy header gives the window of that name
// (`"minute";q=60;w=60`; zero when it does not).
type RateLimitWindow struct {
	Name      string
	Remaining int
	Reset     time.Duration
	Quota     int
	Length    time.Duration
}

// ParseRateLimit reads the RateLimit header and returns its tightest window: the one with
// the fewest requests left (ties: the longest wait). ok is false when the header is absent
// or unreadable.
func ParseRateLimit(h http.Header) (RateLimitWindow, bool) {
	var best RateLimitWindow
	found := false
	for _, w := range RateLimitWindows(h) {
		if !found || w.Remaining < best.Remaining || (w.Remaining == best.Remaining && w.Reset > best.Reset) {
			best, found = w, true
		}
	}
	return best, found
}

// RateLimitWindows reads every window of the RateLimit header, nil when it is absent, with
// its quota and length from RateLimit-Policy where that header names it. Unreadable members
// are skipped.
func RateLimitWindows(h http.Header) []RateLimitWindow {
	var out []RateLimitWindow
	policy := map[string]map[string]int{}
	for _, m := range rateLimitMembers(h.Get("RateLimit-Policy")) {
		policy[m.name] = m.params
	}
	for _, m := range rateLimitMembers(h.Get("RateLimit")) {
		r, okR := m.params["r"]
		t, okT := m.params["t"]
		if !okR || !okT {
			continue
		}
		w := RateLimitWindow{Name: m.name, Remaining: r, Reset: time.Duration(t) * time.Second}
		if q, w2 := policy[m.name]["q"], policy[m.name]["w"]; q > 0 && w2 > 0 {
			w.Quota, w.Length = q, time.Duration(w2)*time.Second
		}
		out = append(out, w)
	}
	return out
}

// rateLimitMember is one member of a RateLimit or RateLimit-Policy header: its name and its
// non-negative integer parameters.
type rateLimitMember struct {
	name   string
	params map[string]int
}

func rateLimitMembers(v string) []rateLimitMember {
	if v == "" {
		return nil
	}
	var out []rateLimitMember
	for _, member := range strings.Split(v, ",") {
		parts := strings.Split(strings.TrimSpace(member), ";")
		if len(parts) < 2 {
			continue
		}
		m := rateLimitMember{name: strings.Trim(parts[0], `"`), params: map[string]int{}}
		for _, p := range parts[1:] {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok {
				continue
			}
			if n, err := strconv.Atoi(val); err == nil && n >= 0 {
				m.params[k] = n
			}
		}
		out = append(out, m)
	}
	return out
}
