package httpx

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// transportChain runs under retryablehttp, so everything here happens once per attempt:
// wait for the rate limiters, send, log.
type transportChain struct {
	cfg  *Config
	next http.RoundTripper
}

func (t *transportChain) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if t.cfg.Limiter != nil {
		if err := t.cfg.Limiter.Wait(ctx); err != nil {
			return nil, dialless(err)
		}
	}
	for _, rl := range t.cfg.RouteLimits {
		if rl.Method == req.Method && strings.HasSuffix(req.URL.Path, rl.Path) {
			if err := rl.Limiter.Wait(ctx); err != nil {
				return nil, dialless(err)
			}
		}
	}

	sub := subsystem(t.cfg.Cloud)
	reqBody := ""
	if req.Body != nil && req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(rc)
			reqBody = string(b)
		}
	}
	tflog.SubsystemDebug(ctx, sub, "sending API request", map[string]any{
		"http_method":   req.Method,
		"http_url":      req.URL.String(),
		"http_body":     reqBody,
		"authorization": req.Header.Get("Authorization"),
	})
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	fields := map[string]any{
		"http_method": req.Method,
		"http_url":    req.URL.String(),
		"duration_ms": time.Since(start).Milliseconds(),
	}
	if err != nil {
		fields["error"] = err.Error()
		tflog.SubsystemWarn(ctx, sub, "API request failed", fields)
		return nil, err
	}
	// Read the body to log it, then hand back a fresh reader.
	body, readErr := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	fields["http_status"] = resp.StatusCode
	fields["http_body"] = string(body)
	if v := resp.Header.Get("Retry-After"); v != "" {
		fields["retry_after"] = v
	}
	if v := resp.Header.Get("RateLimit"); v != "" {
		fields["ratelimit"] = v
	}
	tflog.SubsystemDebug(ctx, sub, "received API response", fields)
	if readErr != nil {
		return nil, readErr
	}
	if t.cfg.OnResponse != nil {
		t.cfg.OnResponse(resp)
	}
	return resp, nil
}

// dialless marks a limiter wait that ended (deadline or cancel) before anything was sent.
func dialless(err error) error { return &notSentError{err: err} }

type notSentError struct{ err error }

func (e *notSentError) Error() string { return "request not sent: " + e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

func subsystem(cloud string) string { return cloud }

// secretFields are JSON members whose values are masked in logs wherever they appear: vendor
// keys, generated private keys, kubeconfigs and tokens.
var secretFields = regexp.MustCompile(`"(private_key|privateKey|kubeconfig|api_key|apiKey|token|password|secret)"\s*:\s*"(?:[^"\\]|\\.)*"`)

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
	ctx = tflog.SubsystemMaskAllFieldValuesRegexes(ctx, sub, secretFields)
	return ctx
}

// logRetry notes every retry with its attempt number.
func logRetry(_ retryablehttp.Logger, req *http.Request, attempt int) {
	if attempt == 0 {
		return
	}
	tflog.Info(req.Context(), "retrying API request", map[string]any{
		"http_method": req.Method, "http_url": req.URL.String(), "attempt": attempt,
	})
}

// RateLimitWindow is one member of an IETF RateLimit header: `"minute";r=0;t=12`.
type RateLimitWindow struct {
	Name      string
	Remaining int
	Reset     time.Duration
}

// ParseRateLimit reads the RateLimit header and returns its tightest window: the one with
// the fewest requests left (ties: the longest wait). ok is false when the header is absent
// or unreadable.
func ParseRateLimit(h http.Header) (RateLimitWindow, bool) {
	v := h.Get("RateLimit")
	if v == "" {
		return RateLimitWindow{}, false
	}
	var best RateLimitWindow
	found := false
	for _, member := range strings.Split(v, ",") {
		parts := strings.Split(strings.TrimSpace(member), ";")
		if len(parts) < 2 {
			continue
		}
		w := RateLimitWindow{Name: strings.Trim(parts[0], `"`), Remaining: -1, Reset: -1}
		for _, p := range parts[1:] {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(val)
			if err != nil {
				continue
			}
			switch k {
			case "r":
				w.Remaining = n
			case "t":
				w.Reset = time.Duration(n) * time.Second
			}
		}
		if w.Remaining < 0 || w.Reset < 0 {
			continue
		}
		if !found || w.Remaining < best.Remaining || (w.Remaining == best.Remaining && w.Reset > best.Reset) {
			best, found = w, true
		}
	}
	return best, found
}
