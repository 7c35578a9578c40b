package apifake

import (
	"context"
	"sync"
	"testing"
)

// Concurrently runs call(0) … call(n-1) at once, each in its own goroutine, and returns their
// errors (error i is call(i)'s) when every one has returned.
func Concurrently(n int, call func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = call(i) })
	}
	wg.Wait()
	return errs
}

// HeldReads is Concurrently for n reads that wait on something the test holds (a Gate): each
// read gets its own watched context, and once every one of them waits, release lets them go.
func HeldReads(t testing.TB, n int, release func(), read func(ctx context.Context, i int) error) []error {
	t.Helper()
	readers := make([]*Watched, n)
	for i := range readers {
		readers[i] = Watch(t.Context())
	}
	var errs []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		errs = Concurrently(n, func(i int) error { return read(readers[i], i) })
	}()
	WaitWaiting(t, readers...)
	release()
	<-done
	return errs
}
