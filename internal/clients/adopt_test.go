package clients

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

var fastAdopt = AdoptPolicy{Window: 300 * time.Millisecond, Interval: 10 * time.Millisecond, MaxPause: 40 * time.Millisecond}

func TestAdoptFindsWhatAppearsLate(t *testing.T) {
	looks := 0
	v, err := Adopt(context.Background(), fastAdopt, func(context.Context) (*string, error) {
		looks++
		if looks < 3 {
			return nil, nil
		}
		s := "i-1"
		return &s, nil
	})
	if v == nil || *v != "i-1" || err != nil || looks != 3 {
		t.Errorf("Adopt = %v, %v after %d looks", v, err, looks)
	}
}

// The usual lost answer is a deadline: the search must go on after ctx has ended.
func TestAdoptKeepsLookingAfterTheCallerGaveUp(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	looks := 0
	v, _ := Adopt(ctx, fastAdopt, func(ctx context.Context) (*int, error) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		looks++
		if looks == 2 {
			return &looks, nil
		}
		return nil, nil
	})
	if v == nil {
		t.Fatal("a cancelled caller must not stop the search for a billed machine")
	}
}

// Failed looks prove nothing: the search goes on until the operation's time runs out and
// returns the last look's error; successful empty looks after the window prove absence.
func TestAdoptGivesUpWithTheLastLookError(t *testing.T) {
	boom := errors.New("list failed")
	ctx, cancel := context.WithTimeout(context.Background(), 2*fastAdopt.Window)
	defer cancel()
	looks := 0
	v, err := Adopt(ctx, fastAdopt, func(context.Context) (*int, error) { looks++; return nil, boom })
	if v != nil || !errors.Is(err, boom) {
		t.Errorf("Adopt = %v, %v; want nothing and the last look's error", v, err)
	}
	if ctx.Err() == nil {
		t.Errorf("gave up after %d failed looks before the operation's time ran out", looks)
	}
	v, err = Adopt(context.Background(), fastAdopt, func(context.Context) (*int, error) { return nil, nil })
	if v != nil || err != nil {
		t.Errorf("nothing found without errors: %v, %v", v, err)
	}
}

func TestAdoptStopsOnConflict(t *testing.T) {
	looks := 0
	notOurs := fmt.Errorf("a cluster of that name exists elsewhere: %w", ErrConflict)
	_, err := Adopt(context.Background(), fastAdopt, func(context.Context) (*int, error) { looks++; return nil, notOurs })
	if !IsConflict(err) || looks != 1 {
		t.Errorf("Adopt = %v after %d looks; want the conflict at once", err, looks)
	}
}

func TestTokenValue(t *testing.T) {
	for _, safe := range []string{"0d5a3a5e-8e6f-4f1c-9a55-3b7a0b8f6a11", "abc123", RandomToken()} {
		if TokenValue(safe) != safe {
			t.Errorf("TokenValue(%q) changed a safe token", safe)
		}
	}
	odd := "Not A Label Value!"
	v := TokenValue(odd)
	if v != TokenValue(odd) || !tokenPattern.MatchString(v) || v == TokenValue(odd+"x") {
		t.Errorf("TokenValue(%q) = %q: want a stable, safe digest distinct per token", odd, v)
	}
	if a, b := RandomToken(), RandomToken(); a == b || len(a) != 32 {
		t.Errorf("RandomToken gave %q then %q: want distinct 32-hex tokens", a, b)
	}
}
