package clients

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel kinds of failure the provider layer acts on. A vendor error wraps exactly one of them,
// so callers use errors.Is(err, clients.ErrNotFound) and never look at vendor codes.
var (
	ErrNotFound    = errors.New("not found")
	ErrCapacity    = errors.New("insufficient capacity")
	ErrQuota       = errors.New("quota exceeded")
	ErrRateLimited = errors.New("rate limited")
	ErrAuth        = errors.New("authentication failed")
	ErrInvalid     = errors.New("invalid request")
	ErrConflict    = errors.New("conflict")
	// ErrOutcomeUnknown means a non-idempotent request was sent but its answer was lost
	// (timeout, connection reset, 5xx after sending): the cloud may or may not have acted.
	ErrOutcomeUnknown = errors.New("outcome unknown")
	// ErrUnsupported means the cloud cannot do what was asked.
	ErrUnsupported = errors.New("not supported by this cloud")
	// ErrUnavailable means the cloud's API kept answering that it cannot serve the request now
	// (down, overloaded, timed out on its side) until the call ran out of time: transient, and
	// never proof that an object is gone. A create's such answer is ErrOutcomeUnknown instead.
	ErrUnavailable = errors.New("service unavailable")
)

// APIError is a vendor's error answer, with the vendor's own code, message and suggestion kept
// so that diagnostics can quote them.
type APIError struct {
	Kind       error // one of the sentinels above, or nil for an unclassified failure
	Cloud      string
	Operation  string // "launch instance", "get instance"
	StatusCode int
	Code       string
	Message    string
	Suggestion string
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	if e.Operation != "" {
		fmt.Fprintf(&b, "%s: ", e.Operation)
	}
	fmt.Fprintf(&b, "%s API", e.Cloud)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " returned HTTP %d", e.StatusCode)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", strings.TrimRight(e.Message, ". "))
	}
	if e.Suggestion != "" {
		fmt.Fprintf(&b, ". Suggestion: %s", e.Suggestion)
	}
	return b.String()
}

// Unwrap lets errors.Is match the kind.
func (e *APIError) Unwrap() error { return e.Kind }

// IsNotFound reports whether err means the object does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsCapacity reports whether err means the cloud had no machine to give.
func IsCapacity(err error) bool { return errors.Is(err, ErrCapacity) }

// CapacityAttempt is one placement that was tried and refused for lack of capacity.
type CapacityAttempt struct {
	Cloud        string
	Region       string
	InstanceType string
	Err          error
}

// CapacityError collects every refused attempt of a create with placement candidates, so the
// user reads what was tried instead of only the last refusal.
type CapacityError struct {
	Attempts []CapacityAttempt
}

func (e *CapacityError) Error() string {
	var b strings.Builder
	b.WriteString("no capacity for the requested machine; tried:")
	for _, a := range e.Attempts {
		region := a.Region
		if region == "" {
			region = "any region"
		}
		fmt.Fprintf(&b, "\n  - %s %s %s", a.Cloud, region, a.InstanceType)
		if a.Err != nil {
			fmt.Fprintf(&b, ": %v", a.Err)
		}
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrCapacity) true.
func (e *CapacityError) Unwrap() error { return ErrCapacity }

// IsConflict reports whether err means the object is in a state that refuses the request
// (in use, already exists).
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// KindError is an error of an adapter's own making (not an API answer) that still carries one
// of the sentinels for errors.Is, without the sentinel's text in its message.
type KindError struct {
	Kind error
	Msg  string
}

func (e *KindError) Error() string { return e.Msg }

// Unwrap lets errors.Is match the kind.
func (e *KindError) Unwrap() error { return e.Kind }

// Errorf makes a KindError.
func Errorf(kind error, format string, args ...any) error {
	return &KindError{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// WithKind returns a copy of an API error with another kind (a launch's "not found" names an
// SSH key or volume of the request: bad input, not a vanished machine); other errors pass
// unchanged.
func WithKind(err error, kind error) error {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return err
	}
	c := *apiErr
	c.Kind = kind
	return &c
}
