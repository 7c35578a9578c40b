package httpx

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/hashicorp/go-retryablehttp"
)

// RPC frameworks (connect-go for CoreWeave) build and decode their own requests; HTTPClient
// gives them the same stack Do runs: the rate limiters, a per-attempt timeout, tflog logging
// with secrets masked, the Authorization and User-Agent headers, and retries bounded by the
// call's deadline (RetryBudget without one). What kind of call a request is comes from its
// context (WithCall): a request without one is an idempotent read.

// Call describes one RPC sent through HTTPClient.
type Call struct {
	// Operation names the call in errors ("create CKS cluster").
	Operation string
	// NotIdempotent and List mean what they mean on Request.
	NotIdempotent bool
	List          bool
}

type callKey struct{}

// WithCall marks ctx as the context of one call through HTTPClient.
func WithCall(ctx context.Context, call Call) context.Context {
	return context.WithValue(ctx, callKey{}, call)
}

// HTTPClient returns an *http.Client that sends every request through this client's stack. A
// NotIdempotent call whose answer may have been lost fails with an error wrapping
// clients.ErrOutcomeUnknown; a call that runs out of time after retryable answers gets the
// server's last answer (so the framework decodes the vendor's own error).
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{Transport: rpcTransport{c: c}}
}

type rpcTransport struct{ c *Client }

func (t rpcTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	call, _ := req.Context().Value(callKey{}).(Call)
	if call.Operation == "" {
		call.Operation = req.Method + " " + req.URL.Path
	}
	ctx := t.c.withLogging(req.Context())
	st := &callState{idempotent: !call.NotIdempotent, list: call.List}
	ctx = context.WithValue(ctx, callStateKey{}, st)

	var body any
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	r, err := retryablehttp.NewRequestWithContext(ctx, req.Method, req.URL.String(), body)
	if err != nil {
		return nil, err
	}
	r.Header = req.Header.Clone()
	if t.c.cfg.UserAgent != "" {
		r.Header.Set("User-Agent", t.c.cfg.UserAgent)
	}
	if t.c.cfg.Authorize != nil {
		t.c.cfg.Authorize(r.Request)
	}

	resp, err := t.c.retrier(st).Do(r)
	if err == nil {
		return resp, nil
	}
	if resp != nil {
		_ = resp.Body.Close()
	}
	cause := err
	if ctxErr := ctx.Err(); ctxErr != nil {
		cause = ctxErr
	}
	if call.NotIdempotent && st.answerLost.Load() {
		return nil, t.c.unknownOutcome(Request{Operation: call.Operation}, 0, cause)
	}
	if st.lastAnswer != nil {
		if data, ok := bufferedBytes(st.lastAnswer); ok {
			last := *st.lastAnswer
			last.Body = bufferedBody{Reader: bytes.NewReader(data), data: data}
			return &last, nil
		}
	}
	return nil, err
}
