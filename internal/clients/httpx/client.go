// Package httpx is the one HTTP stack every vendor client uses: go-retryablehttp for retries,
// a client-side rate limiter per vendor (and per route where the vendor publishes one), server
// Retry-After / RateLimit headers honoured, request logging through a tflog subsystem with
// secrets masked, and vendor error bodies turned into typed clients errors.
package httpx

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// ErrorDecoder turns a vendor's error answer into an error wrapping one of the clients
// sentinels (usually a *clients.APIError). It may return nil to fall back to the default
// classification by status code. A Kind set by the decoder is kept, also on a 5xx answer to a
// NotIdempotent request: classifying such an answer (say, as ErrCapacity) asserts that the
// server did not act. Leave Kind nil when unsure and the answer becomes ErrOutcomeUnknown.
type ErrorDecoder func(resp *http.Response, body []byte) *clients.APIError

// RouteLimit is a vendor's limit for one route, on top of the client-wide one.
type RouteLimit struct {
	// Method is matched exactly; empty matches every method.
	Method string
	// Path is matched against the whole request path relative to the base URL
	// ("/instance-operations/launch"), with path.Match patterns: "/v2/pods/*/action".
	Path    string
	Limiter *rate.Limiter
}

// Tuning is the part of Config that a vendor client takes from its own configuration and passes
// through as given: how long retries go on, the backoff between them, one attempt's timeout and
// the base transport.
type Tuning struct {
	// RetryBudget bounds the retries of a call whose context has no deadline (Terraform's plan
	// and refresh calls have none), measured from its first attempt: a retry whose wait would
	// end past it is not started (default 5 minutes). With a deadline, the deadline bounds the
	// retries instead. There is no count: seven 429s in a row must not fail an apply that still
	// has time.
	RetryBudget time.Duration
	// RetryWaitMin and RetryWaitMax bound the exponential backoff used when the server did
	// not say how long to wait.
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// RequestTimeout bounds one attempt, from the moment it is sent (the wait for the rate
	// limiters does not count) until its whole answer is read (default 60 s), so that one hung
	// call cannot stall a plan. An abandoned attempt is retried like a lost connection: for
	// idempotent requests within the budget, and a NotIdempotent one becomes
	// clients.ErrOutcomeUnknown. ScaledRequestTimeout gives the value for an emulator's clock.
	RequestTimeout time.Duration
	// Transport is the base transport (tests inject one); defaults to a pooled transport.
	Transport http.RoundTripper
}

// Config configures a Client.
type Config struct {
	// Cloud names the vendor in errors and the tflog subsystem ("lambda").
	Cloud   string
	BaseURL string
	// AllowInsecure lets BaseURL be plain http to a host that is not loopback. Without it such
	// a BaseURL is refused: every request carries the vendor key (clients.CheckEndpoint).
	AllowInsecure bool
	UserAgent     string
	// BearerToken, when set, is sent on every request as "Authorization: Bearer <token>" and
	// kept out of logs (the API key of every vendor here).
	BearerToken string
	// Authorize adds other credentials to a request.
	Authorize func(*http.Request)
	// Secrets are values never to appear in logs (API keys).
	Secrets []string
	// Limiter paces every request; RouteLimits pace matching requests further.
	Limiter     *rate.Limiter
	RouteLimits []RouteLimit
	DecodeError ErrorDecoder
	// OnResponse sees every response (e.g. to read RateLimit headers).
	OnResponse func(*http.Response)
	// Credit, when set, is asked in each request's turn at Limiter whether the server's own
	// count of the client's requests (a RateLimit header's remaining requests, less those sent
	// since) has room for it now; then the request goes without waiting for a token of
	// Limiter, whose pace still holds once the room is used up. seq is the number the request
	// gets if it goes (RequestSeq); a request whose limiter wait fails does not go.
	Credit func(seq uint64) bool
	// CreditWake, when set with Credit, returns a channel that is closed when a request waiting
	// for a token of Limiter should ask Credit again: an answer showed more room than before, or
	// the pace changed. A request that asked for credit in vain and waits for the limiter is
	// thus not held to a pace the server's newer count no longer calls for. The channel is
	// taken before Credit is asked, so that a change in between is not missed.
	CreditWake func() <-chan struct{}

	// MaxRetryAfter is the longest server-requested wait (Retry-After, or the reset of an
	// exhausted RateLimit window) that is waited out before retrying (default 2 minutes). A
	// longer ask, or one that would end past the context's deadline or the RetryBudget, stops
	// the retries: the 429/503 answer is returned at once with APIError.RetryAfter set.
	MaxRetryAfter time.Duration

	Tuning
}

// Defaults of Config.
const (
	DefaultRetryBudget    = 5 * time.Minute
	DefaultRequestTimeout = 60 * time.Second
	// minScaledRequestTimeout keeps a time-scaled RequestTimeout above what a loaded test
	// machine needs to answer an ordinary request.
	minScaledRequestTimeout = 5 * time.Second
	// retrySafetyCap only guards against a retry loop that time would not end (a server
	// answering Retry-After: 0 at once, forever); time bounds the retries, not this count.
	retrySafetyCap = 1 << 16
)

// ScaledRequestTimeout is the RequestTimeout a vendor adapter uses: DefaultRequestTimeout on
// the clock of settings (an emulator running faster than real time), but never below 5 s.
func ScaledRequestTimeout(settings clients.Settings) time.Duration {
	return max(settings.Every(DefaultRequestTimeout), minScaledRequestTimeout)
}

// Client sends JSON requests to one vendor API.
type Client struct {
	cfg  Config
	base *url.URL
	// http runs one attempt (transportChain); the retries around it are set up per call, see
	// retrier.
	http *http.Client
}

// New builds a Client.
func New(cfg Config) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("%s endpoint %q is not an absolute URL", cfg.Cloud, cfg.BaseURL)
	}
	// The provider checks this at plan time already; this is the last word for every caller.
	if err := clients.CheckEndpoint(cfg.BaseURL, cfg.AllowInsecure); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Cloud, err)
	}
	if token := cfg.BearerToken; token != "" {
		authorize := cfg.Authorize
		cfg.Authorize = func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+token)
			if authorize != nil {
				authorize(r)
			}
		}
		cfg.Secrets = append(slices.Clone(cfg.Secrets), token)
	}
	if cfg.RetryBudget == 0 {
		cfg.RetryBudget = DefaultRetryBudget
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin = 500 * time.Millisecond
	}
	if cfg.RetryWaitMax == 0 {
		cfg.RetryWaitMax = 30 * time.Second
	}
	if cfg.MaxRetryAfter == 0 {
		cfg.MaxRetryAfter = 2 * time.Minute
	}
	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	c := &Client{cfg: cfg, base: base}
	c.http = &http.Client{Transport: &transportChain{cfg: &c.cfg, basePath: base.Path, next: transport, turn: make(chan struct{}, 1)}}
	return c, nil
}

// retrier runs the attempts of one call. It is made per call because the wait before the next
// attempt is decided by checkRetry, which knows the call's deadline, and retryablehttp's
// Backoff hook is not given the request to find it.
func (c *Client) retrier(st *callState) *retryablehttp.Client {
	return &retryablehttp.Client{
		HTTPClient:   c.http,
		Logger:       nil, // logging is done per request through tflog, see transport.go
		RetryWaitMin: c.cfg.RetryWaitMin,
		RetryWaitMax: c.cfg.RetryWaitMax,
		RetryMax:     retrySafetyCap,
		CheckRetry:   c.checkRetry,
		Backoff: func(time.Duration, time.Duration, int, *http.Response) time.Duration {
			return st.nextWait
		},
		RequestLogHook: c.logRetry,
		// Give the caller the last response instead of a generic "giving up" error, so the
		// vendor's error body reaches the user.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
}

// Request is one API call.
type Request struct {
	// Operation names the call in errors: "launch instance".
	Operation string
	Method    string
	// Path is relative to the base URL and already escaped where needed.
	Path  string
	Query url.Values
	Body  any
	// NotIdempotent marks a request that must not be repeated after it may have reached the
	// server (a launch): it is retried only on 429 and on failures before sending, and a lost
	// answer (a 5xx the decoder leaves unclassified, a timeout, a reset, a 2xx body that does
	// not decode) surfaces as clients.ErrOutcomeUnknown.
	NotIdempotent bool
	// List marks a GET of a collection (GET /instances, not GET /instances/{id}). A 404 to it
	// never means the objects are gone, only that the route failed (a proxy, a deploy in
	// progress): it is retried like a 503, and if it persists it is returned as an error that
	// is not clients.ErrNotFound, so that nothing is dropped from state for it. A 404 on an
	// object's own URL stays ErrNotFound.
	List bool
}

// callState is what the attempts of one Do call tell each other and Do. The attempts run one
// after another on the caller's goroutine (transportChain runs inside http.Client.Do, inside
// retryablehttp's loop), so the plain fields need no lock.
type callState struct {
	idempotent bool
	list       bool
	// wantBody is true when the caller decodes the answer, so a 2xx body that is not JSON is
	// a failure worth retrying.
	wantBody bool
	// firstSent is when the first attempt left, after its rate-limiter wait: the start of the
	// RetryBudget.
	firstSent time.Time
	// retries counts the retries decided so far (the backoff's exponent); nextWait is the wait
	// checkRetry chose for the next one.
	retries  int
	nextWait time.Duration
	// lastAnswer is the latest answer a server gave (its body is a bufferedBody), reported
	// when the call ends for want of time before a better one came.
	lastAnswer *http.Response
	// answerLost is true when the last attempt may have reached the server but its answer
	// was lost or was a 5xx: the server may have acted.
	answerLost atomic.Bool
}

type callStateKey struct{}

func callStateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}

// retryDeadline is the time the next retry's wait must end by: the context's deadline, or
// else the end of the RetryBudget.
func (st *callState) retryDeadline(ctx context.Context, budget time.Duration, now time.Time) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	start := st.firstSent
	if start.IsZero() {
		start = now
	}
	return start.Add(budget)
}

// Do sends a request and decodes a 2xx JSON answer into out (which may be nil).
func (c *Client) Do(ctx context.Context, req Request, out any) error {
	ctx = c.withLogging(ctx)
	st := &callState{idempotent: !req.NotIdempotent, list: req.List, wantBody: out != nil}
	ctx = context.WithValue(ctx, callStateKey{}, st)

	u, err := c.url(req)
	if err != nil {
		return fmt.Errorf("%s: %w", req.Operation, err)
	}
	var body any
	if req.Body != nil {
		b, err := json.Marshal(req.Body)
		if err != nil {
			return fmt.Errorf("%s: encoding request: %w", req.Operation, err)
		}
		body = b
	}
	r, err := retryablehttp.NewRequestWithContext(ctx, req.Method, u.String(), body)
	if err != nil {
		return fmt.Errorf("%s: %w", req.Operation, err)
	}
	r.Header.Set("Accept", "application/json")
	if req.Body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if c.cfg.UserAgent != "" {
		r.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	if c.cfg.Authorize != nil {
		c.cfg.Authorize(r.Request)
	}

	resp, err := c.retrier(st).Do(r)
	if err != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		ctxErr := ctx.Err()
		// Only the last attempt can have lost its answer: a NotIdempotent request is never
		// retried after one, and an earlier 429 or refused connection says the server did not act.
		if req.NotIdempotent && st.answerLost.Load() {
			cause := err
			if ctxErr != nil {
				cause = ctxErr
			}
			return c.unknownOutcome(req, 0, cause)
		}
		var notSent *notSentError
		isNotSent := errors.As(err, &notSent)
		// The call ran out of time (or could not send again in time): the server's latest
		// answer says more than "deadline exceeded" alone.
		if (isNotSent || ctxErr != nil) && st.lastAnswer != nil {
			cause := err
			if !isNotSent {
				cause = ctxErr
			}
			if data, ok := bufferedBytes(st.lastAnswer); ok {
				return c.gaveUp(req, st.lastAnswer, data, out, cause)
			}
		}
		switch {
		case isNotSent:
			return fmt.Errorf("%s: %s API: %w", req.Operation, c.cfg.Cloud, err)
		case ctxErr != nil:
			return fmt.Errorf("%s: %s API: %w", req.Operation, c.cfg.Cloud, ctxErr)
		}
		return fmt.Errorf("%s: %s API unreachable: %w", req.Operation, c.cfg.Cloud, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		if req.NotIdempotent {
			return c.unknownOutcome(req, resp.StatusCode, fmt.Errorf("answer cut off: %w", err))
		}
		return fmt.Errorf("%s: reading %s answer: %w", req.Operation, c.cfg.Cloud, err)
	}
	return c.answerError(req, resp, data, out)
}

// answerError decodes a 2xx answer into out and turns any other into a typed error.
func (c *Client) answerError(req Request, resp *http.Response, data []byte, out any) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil || len(bytes.TrimSpace(data)) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			if req.NotIdempotent {
				// The server acted, but what it made (its id) cannot be read: the caller must
				// look for it, as for a lost answer.
				return c.unknownOutcome(req, resp.StatusCode, fmt.Errorf("answer does not decode: %w", err))
			}
			return fmt.Errorf("%s: decoding %s answer (HTTP %d): %w", req.Operation, c.cfg.Cloud, resp.StatusCode, err)
		}
		return nil
	}
	apiErr := c.decodeError(resp, data)
	apiErr.Operation = req.Operation
	if req.List && errors.Is(apiErr.Kind, clients.ErrNotFound) {
		apiErr.Kind = nil
		apiErr.Message = strings.TrimSpace(strings.TrimRight(apiErr.Message, ". ") +
			" (a list route answered this, which never means the objects it lists are gone)")
	}
	if req.NotIdempotent && resp.StatusCode >= 500 && apiErr.Kind == nil {
		// The server may have acted before failing: the caller must look before retrying.
		apiErr.Kind = clients.ErrOutcomeUnknown
	}
	return apiErr
}

// gaveUp reports a call that ran out of time after a retryable answer: the answer's own error,
// also wrapping what ended the call, so that both can be tested with errors.Is.
func (c *Client) gaveUp(req Request, last *http.Response, data []byte, out any, cause error) error {
	answerErr := c.answerError(req, last, data, out)
	if answerErr == nil {
		// Not expected (only failures are retried), but nothing says the last answer failed.
		return fmt.Errorf("%s: %s API: %w", req.Operation, c.cfg.Cloud, cause)
	}
	return &gaveUpError{answer: answerErr, cause: cause}
}

// gaveUpError is the last answer of a call that ran out of time, and what ended it.
type gaveUpError struct {
	answer error
	cause  error
}

func (e *gaveUpError) Error() string {
	return e.answer.Error() + " (no time left to try again: " + e.cause.Error() + ")"
}

func (e *gaveUpError) Unwrap() []error { return []error{e.answer, e.cause} }

// url builds the request URL. req.Path is already escaped, so it goes into RawPath as is.
func (c *Client) url(req Request) (*url.URL, error) {
	p := req.Path
	if p != "" && !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	u := *c.base
	raw := c.base.EscapedPath() + p
	unescaped, err := url.PathUnescape(raw)
	if err != nil {
		return nil, fmt.Errorf("request path %q: %w", req.Path, err)
	}
	u.Path, u.RawPath = unescaped, raw
	if len(req.Query) > 0 {
		u.RawQuery = req.Query.Encode()
	}
	return &u, nil
}

// unknownOutcomeError is an ErrOutcomeUnknown APIError that also wraps what ended the wait
// (context.DeadlineExceeded, io.EOF, a reset), so both can be tested with errors.Is.
type unknownOutcomeError struct {
	*clients.APIError
	cause error
}

func (e *unknownOutcomeError) Unwrap() []error { return []error{e.APIError, e.cause} }

func (c *Client) unknownOutcome(req Request, status int, cause error) error {
	return &unknownOutcomeError{
		APIError: &clients.APIError{
			Kind: clients.ErrOutcomeUnknown, Cloud: c.cfg.Cloud, Operation: req.Operation,
			StatusCode: status, Message: "the request was sent but its answer was lost (" + cause.Error() + ")",
		},
		cause: cause,
	}
}

func (c *Client) decodeError(resp *http.Response, body []byte) *clients.APIError {
	var e *clients.APIError
	if c.cfg.DecodeError != nil {
		e = c.cfg.DecodeError(resp, body)
	}
	if e == nil {
		e = &clients.APIError{Message: strings.TrimSpace(string(body))}
		if len(e.Message) > 512 {
			e.Message = e.Message[:512] + "..."
		}
	}
	if e.Cloud == "" {
		e.Cloud = c.cfg.Cloud
	}
	e.StatusCode = resp.StatusCode
	if e.Kind == nil {
		e.Kind = KindForStatus(resp.StatusCode)
	}
	if d, ok := RetryAfter(resp.Header, time.Now()); ok {
		e.RetryAfter = d
	}
	return e
}

// KindForStatus is the default classification of an HTTP error status.
func KindForStatus(status int) error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return clients.ErrAuth
	case status == http.StatusNotFound || status == http.StatusGone:
		return clients.ErrNotFound
	case status == http.StatusConflict:
		return clients.ErrConflict
	case status == http.StatusTooManyRequests:
		return clients.ErrRateLimited
	case status >= 400 && status < 500:
		return clients.ErrInvalid
	}
	return nil
}

// sentBeforeFailure reports whether a transport error may have happened after the request
// reached the server. Only failures to connect are known to be harmless.
func sentBeforeFailure(err error) bool {
	var notSent *notSentError
	if errors.As(err, &notSent) {
		return false
	}
	var timedOut *attemptTimeoutError
	if errors.As(err, &timedOut) {
		return timedOut.mayHaveBeenSent
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return false
	}
	// A certificate the client refuses ends the handshake before the request is written.
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	return !errors.As(err, &certErr) && !errors.As(err, &unknownAuthority) && !errors.As(err, &hostnameErr)
}

// permanent reports transport errors that another attempt cannot fix.
func permanent(err error) bool {
	var notSent *notSentError // a rate-limiter wait ended by the context, or a misconfigured limiter
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	return errors.As(err, &notSent) || errors.As(err, &certErr) ||
		errors.As(err, &unknownAuthority) || errors.As(err, &hostnameErr)
}

// checkRetry decides whether to try again, and how long to wait before (nextWait). 429 means
// the server did not act, so it is always retried; 500, 502-504, transport errors, abandoned
// attempts (RequestTimeout) and 2xx bodies that are not JSON are retried for idempotent
// requests only; a 404 to a List request is retried as a passing failure of the route; a
// failure to connect is retried for every request since nothing was sent. A final answer is
// returned even when the context has ended meanwhile (a launch that succeeded must reach the
// caller). There is no count: retries go on while the next wait ends before the context's
// deadline (without one, the RetryBudget); a wait that would end later, or a server ask longer
// than MaxRetryAfter, is not started and the last answer goes back to the caller.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := callStateFrom(ctx)
	if st == nil {
		st = &callState{idempotent: true}
	}
	if !retryable(st, resp, err) {
		return false, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	now := time.Now()
	if resp != nil {
		if ask, ok := RetryAfter(resp.Header, now); ok && ask > c.cfg.MaxRetryAfter {
			return false, nil
		}
	}
	wait := backoff(c.cfg.RetryWaitMin, c.cfg.RetryWaitMax, st.retries, resp)
	if now.Add(wait).After(st.retryDeadline(ctx, c.cfg.RetryBudget, now)) {
		return false, nil
	}
	st.retries++
	st.nextWait = wait
	return true, nil
}

// retryable reports whether a failed attempt is worth another, time permitting.
func retryable(st *callState, resp *http.Response, err error) bool {
	if err != nil {
		switch {
		case permanent(err):
			return false
		case !sentBeforeFailure(err):
			return true
		default:
			return st.idempotent
		}
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests:
		return true
	case code == http.StatusInternalServerError, code == http.StatusBadGateway,
		code == http.StatusServiceUnavailable, code == http.StatusGatewayTimeout:
		return st.idempotent
	case code == http.StatusNotFound:
		return st.list
	case code >= 200 && code < 300:
		// A gateway's HTML page or a cut JSON document under a 2xx status: the next answer is
		// likely whole. A valid document that does not fit the caller's type is not retried.
		if !st.idempotent || !st.wantBody {
			return false
		}
		data, ok := bufferedBytes(resp)
		return ok && len(bytes.TrimSpace(data)) > 0 && !json.Valid(data)
	}
	return false
}

// backoff waits what the server asked for (Retry-After, RateLimit reset) when it said so
// (checkRetry has already refused asks that are too long), and otherwise an exponentially
// growing, jittered delay between RetryWaitMin/2 and min(RetryWaitMin*2^attempt, RetryWaitMax).
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := RetryAfter(resp.Header, time.Now()); ok {
			return d
		}
	}
	ceiling := float64(minWait) * math.Pow(2, float64(attempt))
	if ceiling > float64(maxWait) {
		ceiling = float64(maxWait)
	}
	floor := float64(minWait) / 2
	if ceiling < floor {
		ceiling = floor
	}
	return time.Duration(floor + rand.Float64()*(ceiling-floor))
}

// RetryAfter reads how long the server asked us to wait: Retry-After (seconds or an HTTP date),
// else the reset of an IETF RateLimit header when nothing is left.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			return time.Duration(secs) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	if rl, ok := ParseRateLimit(h); ok && rl.Remaining == 0 {
		return rl.Reset, true
	}
	return 0, false
}
