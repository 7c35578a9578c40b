package clients

import (
	"errors"
	"strings"
	"testing"
)

type mineOptions struct{ A string }

type otherOptions struct{ B string }

type mineUpdate struct{ A *string }

func (u mineUpdate) IsZero() bool { return u.A == nil }

func TestOptionsOf(t *testing.T) {
	if o, err := OptionsOf[mineOptions]("mine", nil); o != nil || err != nil {
		t.Errorf("nil: %v, %v", o, err)
	}
	if o, err := OptionsOf[mineOptions]("mine", (*otherOptions)(nil)); o != nil || err != nil {
		t.Errorf("a nil pointer says none: %v, %v", o, err)
	}
	p := &mineOptions{A: "x"}
	if o, err := OptionsOf[mineOptions]("mine", p); o != p || err != nil {
		t.Errorf("pointer: %v, %v", o, err)
	}
	if o, err := OptionsOf[mineOptions]("mine", mineOptions{A: "y"}); o == nil || o.A != "y" || err != nil {
		t.Errorf("value: %v, %v", o, err)
	}
	_, err := OptionsOf[mineOptions]("mine", &otherOptions{})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "*clients.otherOptions") || !strings.Contains(err.Error(), "*clients.mineOptions") {
		t.Errorf("another cloud's settings: %v", err)
	}
}

func TestInstanceUpdateIsZeroAsksTheOptions(t *testing.T) {
	a := "a"
	for _, c := range []struct {
		u    InstanceUpdate
		zero bool
	}{
		{InstanceUpdate{}, true},
		{InstanceUpdate{Options: (*mineUpdate)(nil)}, true},
		{InstanceUpdate{Options: &mineUpdate{}}, true},
		{InstanceUpdate{Options: mineUpdate{}}, true},
		{InstanceUpdate{Options: &mineUpdate{A: &a}}, false},
		{InstanceUpdate{Options: &otherOptions{}}, false}, // not known to be empty: sent, and refused
		{InstanceUpdate{Options: otherOptions{}}, true},
		{InstanceUpdate{Name: &a}, false},
	} {
		if got := c.u.IsZero(); got != c.zero {
			t.Errorf("%+v IsZero = %v, want %v", c.u, got, c.zero)
		}
	}
}

func TestInterconnectDefaults(t *testing.T) {
	if got := MachineInterconnect("no-such-cloud", "x"); got != InterconnectEthernet {
		t.Errorf("an unknown cloud's machines: %q", got)
	}
	if got := ClusterInterconnect("no-such-cloud", "x"); got != InterconnectEthernet {
		t.Errorf("an unknown cloud's clusters: %q", got)
	}
}
