package clients

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"time"
)

// AdoptPolicy says how long and how often to look for what a create whose answer was lost
// made: a cloud may list a new machine only after a while.
type AdoptPolicy struct {
	Window   time.Duration // how long to keep looking after the answer was lost
	Interval time.Duration // the first pause between looks; it doubles
	MaxPause time.Duration // the longest pause between looks
	// FetchTimeout bounds one look beyond the window.
	FetchTimeout time.Duration
}

// Adopt looks, with look, for what a create whose answer was lost made, and never creates. It
// keeps looking even when ctx has ended, since a lost answer is most often a deadline's doing
// and a machine that exists but is not returned would be billed outside any state; the window
// bounds it all the same.
//
// It returns the value look found. When nothing was found within the window it returns nil and
// the last look's error (nil when every look succeeded); a look error wrapping ErrConflict
// (found, but not ours) ends the search at once and is returned.
func Adopt[T any](ctx context.Context, p AdoptPolicy, look func(context.Context) (*T, error)) (*T, error) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.Window+p.FetchTimeout)
	defer cancel()
	// The window counts from when the answer was found lost, however long the create took.
	deadline := time.Now().Add(p.Window)
	pause := p.Interval
	var lastErr error
	for {
		v, err := look(actx)
		switch {
		case err == nil && v != nil:
			return v, nil
		case IsConflict(err):
			return nil, err
		}
		lastErr = err
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return nil, lastErr
		}
		t := time.NewTimer(min(pause, remaining))
		select {
		case <-actx.Done():
			t.Stop()
			return nil, actx.Err()
		case <-t.C:
		}
		pause = min(pause*2, p.MaxPause)
	}
}

// tokenPattern is what a launch token may look like on any cloud unchanged: a valid
// Kubernetes label value, a Lambda tag value and a RunPod environment value alike.
var tokenPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// TokenValue is the bookkeeping value a cloud stores for a launch token: the token itself when
// it is safe everywhere, else a stable digest, so the same token always finds the same machine.
func TokenValue(token string) string {
	if tokenPattern.MatchString(token) {
		return token
	}
	sum := sha256.Sum256([]byte(token))
	return "t-" + hex.EncodeToString(sum[:16])
}

// RandomToken makes a launch token, for a create whose caller gave none.
func RandomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
