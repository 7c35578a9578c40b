// Package httpx is the one HTTP stack every vendor client uses: go-retryablehttp for retries,
// a client-side rate limiter per vendor (and per route where the vendor publishes one), server
// Retry-After / RateLimit headers honoured, request logging through a tflog subsystem with
// secrets masked, and vendor error bodies turned into typed clients errors.
package httpx

import (
	"bytes"
	"context"
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
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// ErrorDecoder turns a vendor's error answer into an error wrapping one of the clients
// sentinels (usually a *clients.APIError). It may return nil to fall back to the default
// classification by status code.
type ErrorDecoder func(resp *http.Response, body []byte) *clients.APIError

// RouteLimit is a vendor's limit for one route, on top of the client-wide one.
type RouteLimit struct {
	Method string
	// Path is matched against the request path relative to the base URL ("/instance-operations/launch").
	Path    string
	Limiter *rate.Limiter
}

// Config configures a Client.
type Config struct {
	// Cloud names the vendor in errors and the tflog subsystem ("lambda").
	Cloud     string
	BaseURL   string
	UserAgent string
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

	RetryMax     int
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
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
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 6
	}
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin = 500 * time.Millisecond
	}
	if cfg.RetryWaitMax == 0 {
		cfg.RetryWaitMax = 30 * time.Second
	}
	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{Transport: &transportChain{cfg: &cfg, next: transport}}
	rc.Logger = nil // logging is done per request through tflog, see logging.go
	rc.RetryMax = cfg.RetryMax
	rc.RetryWaitMin = cfg.RetryWaitMin
	rc.RetryWaitMax = cfg.RetryWaitMax
	rc.CheckRetry = checkRetry
	rc.Backoff = backoff
	rc.RequestLogHook = logRetry
	// Give the caller the last response instead of a generic "giving up" error, so the
	// vendor's error body reaches the user.
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return &Client{cfg: cfg, base: base, rc: rc}, nil
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

type ctxKey int

const idempotentKey ctxKey = 0

// Do sends a request and decodes a 2xx JSON answer into out (which may be nil).
func (c *Client) Do(ctx context.Context, req Request, out any) error {
	ctx = c.withLogging(ctx)
	ctx = context.WithValue(ctx, idempotentKey, !req.NotIdempotent)

	u := *c.base
	u.Path = c.base.Path + req.Path
	if len(req.Query) > 0 {
		u.RawQuery = req.Query.Encode()
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
		if ctxErr := ctx.Err(); ctxErr != nil {
			if req.NotIdempotent && sentBeforeFailure(err) {
				return c.unknownOutcome(req, 0, fmt.Sprintf("%v while waiting for the answer", ctxErr))
			}
			return fmt.Errorf("%s: %s API: %w", req.Operation, c.cfg.Cloud, ctxErr)
		}
		if req.NotIdempotent && sentBeforeFailure(err) {
			return c.unknownOutcome(req, 0, err.Error())
		}
		return fmt.Errorf("%s: %s API unreachable: %w", req.Operation, c.cfg.Cloud, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		if req.NotIdempotent {
			return c.unknownOutcome(req, resp.StatusCode, "answer cut off: "+err.Error())
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
	if req.NotIdempotent && resp.StatusCode >= 500 {
		// The server may have acted before failing: the caller must look before retrying.
		apiErr.Kind = clients.ErrOutcomeUnknown
	}
	return apiErr
}

func (c *Client) unknownOutcome(req Request, status int, msg string) error {
	return &clients.APIError{
		Kind: clients.ErrOutcomeUnknown, Cloud: c.cfg.Cloud, Operation: req.Operation,
		StatusCode: status, Message: "the request was sent but its answer was lost (" + msg + ")",
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
	e.Cloud = c.cfg.Cloud
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
	return !errors.As(err, &dnsErr)
}

// checkRetry decides whether to try again. 429 means the server did not act, so it is always
// retried; 502/503/504 and transport errors are retried for idempotent requests only; a
// failure to connect is retried for every request since nothing was sent.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	idempotent, _ := ctx.Value(idempotentKey).(bool)
	if err != nil {
		if !sentBeforeFailure(err) {
			return true, nil
		}
		return idempotent, nil
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return true, nil
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return idempotent, nil
	}
	return false, nil
}

// backoff waits what the server asked for (Retry-After, RateLimit-Reset) when it said so, and
// otherwise an exponentially growing, fully jittered delay.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := RetryAfter(resp.Header, time.Now()); ok {
			return min(d, maxWait*4)
		}
	}
	ceiling := float64(minWait) * math.Pow(2, float64(attempt))
	if ceiling > float64(maxWait) {
		ceiling = float64(maxWait)
	}
	return time.Duration(float64(minWait)/2 + rand.Float64()*(ceiling-float64(minWait)/2))
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
