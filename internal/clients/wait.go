package clients

import (
	"context"
	"time"
)

// PollInterval bounds the pause between two looks at a machine while waiting. The first looks
// come quickly (a fast boot is noticed fast), later ones back off to stay well inside the
// vendors' rate limits. Variables so that tests against a time-scaled emulator can shrink them.
var (
	PollInitial = 1 * time.Second
	PollMax     = 15 * time.Second
)

// Poll calls check until it reports done, returns an error, or ctx ends. The pause between
// calls starts at PollInitial and doubles up to PollMax.
func Poll(ctx context.Context, check func(context.Context) (bool, error)) error {
	wait := PollInitial
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, PollMax)
	}
}
