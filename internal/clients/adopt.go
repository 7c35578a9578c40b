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
// made: a cloud may list a new object only after a while.
type AdoptPolicy struct {
	Window   time.Duration // the commit horizon: only a successful look after it proves absence
	Interval time.Duration // the first pause between looks; it doubles
	MaxPause time.Duration // the longest pause between looks
}

// Adopt looks, with look, for what a create whose answer was lost made, and never creates: the
// lookup half of Launch.Send, for objects whose create is not a machine launch (VPCs, volumes,
// node pools with a chosen name). look returns the object, nil when it is not there, or an
// error; an error wrapping ErrConflict (found, but not ours) ends the search at once.
//
// It returns the object when found. When a successful look after the window shows none, it
// returns nil, nil: the create did not happen. While looks fail it keeps looking until ctx ends
// and then returns nil and the last look's error.
func Adopt[T any](ctx context.Context, p AdoptPolicy, look func(context.Context) (*T, error)) (*T, error) {
	l := Launch[*T]{
		Horizon: p.Window, Interval: p.Interval, MaxPause: p.MaxPause,
		Find: func(ctx context.Context, _ time.Time) ([]Claim[*T], error) {
			v, err := look(ctx)
			if err != nil || v == nil {
				return nil, err
			}
			return []Claim[*T]{{Value: v}}, nil
		},
	}
	found, proven, err := l.lookAfter(ctx, time.Now())
	switch {
	case found != nil:
		return found.Value, nil
	case proven:
		return nil, nil
	}
	return nil, err
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
