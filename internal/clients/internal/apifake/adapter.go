package apifake

import (
	"context"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// The settings below are what every adapter's tests build their Cloud with: no rate limits,
// short retry waits and budget and a short adoption window, so that the tests stay fast.
const (
	// RetryBudget bounds the retries of a call without a deadline, so that a failure the fake
	// keeps answering (a 500, a 404 on a list route) ends the test's call quickly.
	RetryBudget = 300 * time.Millisecond
	// RetryWaitMin and RetryWaitMax are the shortest and longest wait between two tries.
	RetryWaitMin = 5 * time.Millisecond
	RetryWaitMax = 20 * time.Millisecond
	// AdoptionWindow is how long a lost launch is looked for; AdoptionPoll, how often.
	AdoptionWindow = 300 * time.Millisecond
	AdoptionPoll   = 20 * time.Millisecond
)

// Unlimited is a rate limiter that never makes a call wait.
func Unlimited() *rate.Limiter { return rate.NewLimiter(rate.Inf, 1) }

// As is v as a *T: the vendor settings an instance or cluster reports or a spec carries, nil
// when v holds none (or another type).
func As[T any](v any) *T {
	o, _ := v.(*T)
	return o
}

// Build is newWithOptions(settings, opts...), an adapter's constructor, failing the test when
// it refuses.
func Build[S, C, O any](t testing.TB, newWithOptions func(S, ...O) (C, error), settings S, opts ...O) C {
	t.Helper()
	c, err := newWithOptions(settings, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// MustCreate is create(spec) (an adapter's CreateInstance, CreateCluster ...) with the test's
// context, failing the test when it fails.
func MustCreate[S, T any](t testing.TB, create func(context.Context, S) (T, error), spec S) T {
	t.Helper()
	v, err := create(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
