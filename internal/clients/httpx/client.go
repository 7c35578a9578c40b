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

// Config configures a Client.
type Config struct {
	// Cloud names the vendor in errors and the tflog subsystem ("lambda").
	Cloud   string
	BaseURL string
	// AllowInsecure lets BaseURL be plain http to a host that is not loopback. Without it such
	// a BaseURL is refused: every request carries the vendor key (clients.CheckEndpoint).
	AllowInsecure bool
	UserAgent     string
	// Authorize adds credentials to a request.
	Authorize func(*http.Request)
	// Secrets are values never to appear in logs (API keys).
	Secrets []string
	// Limiter paces every request; RouteLimits pace matching requests further.
	Limiter     *rate.Limiter
	RouteLimits []RouteLimit
	DecodeError ErrorDecoder
	// OnResponse sees every response (e.g. to read RateLimit headers).
	OnResponse func(*http.Response)

	// RetryMax is the number of retries after the first attempt (default 6; negative: none).
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff used when the server did
	// not say how long to wait.
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// MaxRetryAfter is the longest server-requested wait (Retry-After, or the reset of an
	// exhausted RateLimit window) that is waited out before retrying (default 2 minutes). A
	// longer ask, or one that would end past the context's deadline, stops the retries: the
	// 429/503 answer is returned at once with APIError.RetryAfter set.
	MaxRetryAfter time.Duration
	// Transport is the base transport (tests inject one); defaults to a pooled transport.
	Transport http.RoundTripper
}

// Client sends JSON requests to one vendor API.
type Client struct {
	cfg  Config
	base *url.URL
	rc   *retryablehttp.Client
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
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 6
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
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Transport: &transportChain{cfg: &c.cfg, basePath: base.Path, next: transport}}
	rc.Logger = nil // logging is done per request through tflog, see transport.go
	rc.RetryMax = cfg.RetryMax
	rc.RetryWaitMin = cfg.RetryWaitMin
	rc.RetryWaitMax = cfg.RetryWaitMax
	rc.CheckRetry = c.checkRetry
	rc.Backoff = backoff
	rc.RequestLogHook = c.logRetry
	// Give the caller the last response instead of a generic "giving up" error, so the
	// vendor's error body reaches the user.
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c.rc = rc
	return c, nil
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
	// answer surfaces as clients.ErrOutcomeUnknown.
	NotIdempotent bool
}

// callState is what the attempts of one Do call tell each other and Do.
type callState struct {
	idempotent bool
	// answerLost is true when the last attempt may have reached the server but its answer
	// was lost or was a 5xx: the server may have acted.
	answerLost atomic.Bool
}

type callStateKey struct{}

func callStateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}

// Do sends a request and decodes a 2xx JSON answer into out (which may be nil).
func (c *Client) Do(ctx context.Context, req Request, out any) error {
	ctx = c.withLogging(ctx)
	st := &callState{idempotent: !req.NotIdempotent}
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

	resp, err := c.rc.Do(r)
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
		switch {
		case errors.As(err, &notSent):
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
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil || len(bytes.TrimSpace(data)) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s: decoding %s answer: %w", req.Operation, c.cfg.Cloud, err)
		}
		return nil
	}
	apiErr := c.decodeError(resp, data)
	apiErr.Operation = req.Operation
	if req.NotIdempotent && resp.StatusCode >= 500 && apiErr.Kind == nil {
		// The server may have acted before failing: the caller must look before retrying.
		apiErr.Kind = clients.ErrOutcomeUnknown
	}
	return apiErr
}

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

// checkRetry decides whether to try again. 429 means the server did not act, so it is always
// retried; 502/503/504 and transport errors are retried for idempotent requests only; a
// failure to connect is retried for every request since nothing was sent. A final answer is
// returned even when the context has ended meanwhile (a launch that succeeded must reach the
// caller); a wait the server asks for that is too long, or would outlive the context, is not
// started: the answer goes back to the caller with its RetryAfter.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	idempotent := true
	if st := callStateFrom(ctx); st != nil {
		idempotent = st.idempotent
	}
	retry := false
	if err != nil {
		switch {
		case permanent(err):
			return false, nil
		case !sentBeforeFailure(err):
			retry = true
		default:
			retry = idempotent
		}
	} else {
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			retry = true
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			retry = idempotent
		}
	}
	if !retry {
		return false, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	if resp != nil {
		if wait, ok := RetryAfter(resp.Header, time.Now()); ok {
			if wait > c.cfg.MaxRetryAfter {
				return false, nil
			}
			if deadline, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(deadline) {
				return false, nil
			}
		}
	}
	return true, nil
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
