package clients

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The launch protocol every cloud follows, in one place (a new cloud gets it by construction):
//
//  1. Every machine a resource launches carries the resource's launch token: a tag, label or
//     environment value derived from the resource's identity (IdentityToken), plus the time the
//     launch was sent. The token is the same on every run of the same configuration, so it
//     survives a crash of terraform or the provider: nothing else about the launch does.
//  2. Before launching, Before looks for live machines carrying the token. One launched within
//     the create timeout (an earlier apply of this resource that was interrupted) is adopted;
//     an older one stops the apply with an exact `terraform import` hint and nothing is launched.
//  3. A launch whose answer was lost (timeout, reset, 5xx after sending) is never blindly sent
//     again: Send keeps looking for the token until it finds the machine, or until a successful
//     look made after the launch's commit horizon shows none (then the launch provably did not
//     happen and is sent again), or until the operation's context ends (then the outcome is
//     unknown, the error says how to find the machine, and the next apply's Before finds it).

// CommitHorizon is how long after a launch was sent a cloud may still make its machine (or
// first list it), in the vendor's real time (adapters scale it with Settings.Every). Only a
// successful look after it proves that a launch whose answer was lost did not happen; until
// then the launch is not sent again.
const CommitHorizon = 5 * time.Minute

// DefaultLaunchBudget bounds Send when its context has no deadline.
var DefaultLaunchBudget = 10 * time.Minute

// IdentityToken is the launch token of a resource: derived from what identifies it in a
// configuration (its kind and name), so that a rerun after a crash looks for the same token.
func IdentityToken(kind, name string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + name))
	return "nc-" + hex.EncodeToString(sum[:12])
}

// LaunchedAtValue is the bookkeeping value of a launch's send time: Unix seconds.
func LaunchedAtValue(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// ParseLaunchedAt reads a LaunchedAtValue; the zero time when it is absent or unreadable.
func ParseLaunchedAt(v string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}

// Claim is a live machine (or cluster) found carrying a launch token.
type Claim[T any] struct {
	Value T
	// ID is what `terraform import` takes after the cloud's name ("lambda/<ID>").
	ID string
	// LaunchedAt is when its launch was sent; zero when the cloud does not say.
	LaunchedAt time.Time
}

// Launch is one resource's launch on one cloud.
type Launch[T any] struct {
	Cloud string // the cloud's key: "lambda"
	What  string // what is launched, for messages: "instance", "pod", "cluster node"
	Token string // the token value the cloud stores
	// Where says how a user finds the token on the cloud: "tag neocloud-launch-token".
	Where string
	// AdoptSince: a machine found before the launch whose launch was sent at or after this time
	// is adopted; an older one (or one of unknown age) is not. Zero adopts nothing.
	AdoptSince time.Time
	// Horizon is how long after a launch was sent the cloud may still make (or first list) its
	// machine. Only a successful look after it proves a launch did not happen.
	Horizon time.Duration
	// Interval is the first pause between looks; it doubles up to MaxPause.
	Interval, MaxPause time.Duration
	// Find lists the live machines carrying Token from a listing that started no earlier than
	// notBefore. An error means the listing failed or was incomplete: never "none".
	Find func(ctx context.Context, notBefore time.Time) ([]Claim[T], error)
	// IDOf is the id of a launched machine, as in Claim.ID.
	IDOf func(T) string
	// Taken, when set, records what this launch got, and Before never adopts what another
	// launch of the same adapter got.
	Taken *Taken
	// Turn, when set, waits until this launch may leave (a cloud whose launches queue for its
	// launch rate limit) before Send stamps the attempt with its send time, so that the commit
	// horizon and the launched-at bookkeeping count from when the launch really left, not from
	// when it joined the queue. It returns the context to send under and release, which Send
	// calls once the attempt was answered; an error means nothing was sent.
	Turn func(ctx context.Context) (context.Context, func(), error)
}

// Taken holds the machines one cloud adapter (one provider process) has launched or adopted,
// by token and id: two resources of one configuration with the same name share a token, and
// the second must not adopt the machine the first just launched. The zero value is ready.
type Taken struct{ m sync.Map }

func (t *Taken) has(token, id string) bool {
	if t == nil {
		return false
	}
	_, ok := t.m.Load(token + "\x00" + id)
	return ok
}

// ids returns the machines taken for token.
func (t *Taken) ids(token string) []string {
	if t == nil {
		return nil
	}
	var out []string
	t.m.Range(func(k, _ any) bool {
		key, _ := k.(string)
		if tok, id, ok := strings.Cut(key, "\x00"); ok && tok == token {
			out = append(out, id)
		}
		return true
	})
	slices.Sort(out)
	return out
}

func (l Launch[T]) take(v T) T {
	if l.Taken != nil && l.IDOf != nil {
		l.Taken.m.Store(l.Token+"\x00"+l.IDOf(v), true)
	}
	return v
}

// BeforeGather is how old the list Before reads may be: the creates Terraform hands over
// together (a hundred within a few hundred milliseconds) share one list instead of each
// asking for a newer one than the last, which on a rate-limited cloud would cost a request
// per few creates before the first launch. What it looks for, a machine an interrupted apply
// launched, has been committed long before, or commits at a moment no list can foresee; and
// what this process launched since is known without a list (Taken).
const BeforeGather = time.Second

// Before looks for a machine of this resource launched by an earlier run. It returns the one
// to adopt, or nil when there is none and the launch may go ahead. A machine that carries the
// token but is too old to be an interrupted launch of this resource is an ErrConflict whose
// message holds the import command; a failed look is an error too (launching after a failed
// look could duplicate a machine).
func (l Launch[T]) Before(ctx context.Context) (*Claim[T], error) {
	found, err := l.Find(ctx, time.Now().Add(-BeforeGather))
	if err != nil {
		return nil, fmt.Errorf("looking for a %s launched earlier for this resource (%s=%s) before launching: %w", l.What, l.Where, l.Token, err)
	}
	var held []string
	found = slices.DeleteFunc(found, func(c Claim[T]) bool {
		ok := l.Taken.has(l.Token, c.ID)
		if ok {
			held = append(held, c.ID)
		}
		return ok
	})
	if len(found) == 0 && len(held) == 0 {
		// Taken since the list began (a list up to BeforeGather old may not show it yet).
		held = l.Taken.ids(l.Token)
	}
	if len(found) == 0 && len(held) > 0 {
		return nil, Errorf(ErrConflict, "another resource of this configuration with the same name already launched %s %s (%s=%s) in this apply: "+
			"the name identifies a machine to the provider, so give each resource a unique name (for example with count.index or each.key in it)",
			l.What, strings.Join(held, ", "), l.Where, l.Token)
	}
	if len(found) == 0 {
		return nil, nil
	}
	var adopt *Claim[T]
	for i := range found {
		c := &found[i]
		if l.AdoptSince.IsZero() || c.LaunchedAt.IsZero() || c.LaunchedAt.Before(l.AdoptSince) {
			continue
		}
		if adopt == nil || c.LaunchedAt.Before(adopt.LaunchedAt) {
			adopt = c
		}
	}
	if adopt != nil && len(found) == 1 {
		adopt.Value = l.take(adopt.Value)
		return adopt, nil
	}
	return nil, l.conflict(found)
}

// conflict is the error for machines carrying the token that cannot be adopted automatically.
func (l Launch[T]) conflict(found []Claim[T]) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s already has ", displayCloud(l.Cloud))
	if len(found) == 1 {
		fmt.Fprintf(&b, "a %s launched for a resource of this name (%s=%s) that this apply did not launch: %s %s", l.What, l.Where, l.Token, l.What, describeClaim(found[0]))
	} else {
		fmt.Fprintf(&b, "%d %ss launched for a resource of this name (%s=%s) that this apply did not launch:", len(found), l.What, l.Where, l.Token)
		for _, c := range found {
			fmt.Fprintf(&b, "\n  - %s", describeClaim(c))
		}
	}
	b.WriteString(".\nNothing was launched, so that no machine is billed twice. ")
	if len(found) == 1 {
		fmt.Fprintf(&b, "If it is this resource's machine (an earlier apply was interrupted longer ago than the create timeout), import it:\n"+
			"  terraform import <this resource's address> %s/%s\n"+
			"or add an import block { to = <this resource's address>, id = %q } and apply again. ", l.Cloud, found[0].ID, l.Cloud+"/"+found[0].ID)
	} else {
		b.WriteString("Import the one that is this resource's machine (terraform import <this resource's address> " + l.Cloud + "/<id>) and terminate the others. ")
	}
	b.WriteString("If it belongs to another configuration, give this resource another name.")
	return &KindError{Kind: ErrConflict, Msg: b.String()}
}

func describeClaim[T any](c Claim[T]) string {
	if c.LaunchedAt.IsZero() {
		return c.ID + " (launch time unknown)"
	}
	return fmt.Sprintf("%s (launched %s)", c.ID, c.LaunchedAt.UTC().Format(time.RFC3339))
}

// displayCloud is a cloud's name for messages, from the registry when it is there.
func displayCloud(name string) string {
	if info, ok := Lookup(name); ok && info.DisplayName != "" {
		return info.DisplayName
	}
	return name
}

// Send sends a launch through the protocol. send makes one attempt, stamped with the time it
// was sent; it returns the machine when the cloud accepted it with an id, an error wrapping
// ErrOutcomeUnknown when the answer was lost (or came without an id), or any other error,
// which is returned as it is (capacity, bad input: the caller decides what to try next). The
// bool result is true when the machine was found by its token rather than answered.
//
// After a lost answer Send looks for the token: a machine found is returned as adopted; when
// a successful look after the horizon shows none, the launch did not happen and is sent
// again; when the context ends first, the error says the outcome is unknown and how to find
// the machine (the next apply's Before will).
func (l Launch[T]) Send(ctx context.Context, send func(ctx context.Context, sentAt time.Time) (T, error)) (T, bool, error) {
	var zero T
	if _, ok := ctx.Deadline(); !ok {
		// Every create has a timeout; a caller without one still gets an end to resending.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultLaunchBudget)
		defer cancel()
	}
	for {
		sctx, release := ctx, func() {}
		if l.Turn != nil {
			var err error
			if sctx, release, err = l.Turn(ctx); err != nil {
				return zero, false, err
			}
		}
		sentAt := time.Now()
		v, err := send(sctx, sentAt)
		release()
		if err == nil {
			return l.take(v), false, nil
		}
		if !errors.Is(err, ErrOutcomeUnknown) {
			return zero, false, err
		}
		found, proven, lookErr := l.lookAfter(ctx, sentAt)
		if found != nil {
			return l.take(found.Value), true, nil
		}
		if !proven {
			return zero, false, l.unknown(err, lookErr)
		}
		// A successful look after the horizon found nothing: the launch did not happen, and
		// sending it again cannot make a second machine.
		if ctx.Err() != nil {
			return zero, false, fmt.Errorf("%v; a look after the launch found no %s with %s=%s, so nothing was launched, and no time was left to send it again", err, l.What, l.Where, l.Token)
		}
	}
}

// lookAfter looks for the machine of a launch sent at sentAt whose answer was lost, until it
// is found, a successful look after the horizon proves it absent, or ctx ends. When ctx has
// already ended (the answer was lost to a deadline), one detached look is still made.
func (l Launch[T]) lookAfter(ctx context.Context, sentAt time.Time) (found *Claim[T], proven bool, lastErr error) {
	if ctx.Err() != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(l.MaxPause, 30*time.Second))
		defer cancel()
		ctx = dctx
	} else if _, ok := ctx.Deadline(); !ok {
		dctx, cancel := context.WithTimeout(ctx, DefaultLaunchBudget)
		defer cancel()
		ctx = dctx
	}
	pause := max(l.Interval, time.Millisecond)
	for {
		started := time.Now()
		claims, err := l.Find(ctx, started)
		switch {
		case err == nil && len(claims) > 0:
			return &claims[0], false, nil
		case err == nil && !started.Before(sentAt.Add(l.Horizon)):
			return nil, true, nil
		case errors.Is(err, ErrConflict):
			return nil, false, err // found, but not ours: looking longer will not change that
		case err != nil:
			lastErr = err
		}
		wait := pause
		if err == nil {
			// Nothing yet, and the horizon is ahead: the next look that can prove anything is
			// the one after it.
			wait = min(wait, time.Until(sentAt.Add(l.Horizon)))
		}
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			if lastErr == nil {
				lastErr = ctx.Err()
			}
			return nil, false, lastErr
		case <-t.C:
		}
		pause = min(pause*2, max(l.MaxPause, l.Interval))
	}
}

// unknown is the error of a launch whose outcome could not be settled before the operation's
// time ran out.
func (l Launch[T]) unknown(launchErr, lookErr error) error {
	msg := fmt.Sprintf("%v; the %s may still appear: it would carry %s=%s. The launch was not repeated, so that no machine is billed twice. "+
		"The next apply looks for that %s before launching and adopts it", launchErr, l.What, l.Where, l.Token, l.What)
	if lookErr != nil {
		msg += fmt.Sprintf(" (the last look failed: %v)", lookErr)
	}
	return &KindError{Kind: ErrOutcomeUnknown, Msg: msg}
}

// FindLaunched is Before for instance launches: the machine to adopt, marked as adopted.
func FindLaunched(ctx context.Context, l Launch[*Instance]) (*Instance, error) {
	claim, err := l.Before(ctx)
	if err != nil || claim == nil {
		return nil, err
	}
	inst := claim.Value
	inst.Adopted = "launched by an earlier apply that was interrupted"
	return inst, nil
}

// Settle decides the outcome of a launch sent no later than sentAt whose answer never came
// (an earlier apply gave up on it): the machine when it is there; nil when a successful look
// after the commit horizon shows none (it will not appear any more); an error wrapping
// ErrOutcomeUnknown while neither can be told and ctx runs out.
func (l Launch[T]) Settle(ctx context.Context, sentAt time.Time) (T, bool, error) {
	var zero T
	found, proven, err := l.lookAfter(ctx, sentAt)
	switch {
	case found != nil:
		return found.Value, true, nil
	case proven:
		return zero, false, nil
	}
	return zero, false, l.unknown(Errorf(ErrOutcomeUnknown, "a launch sent at %s never answered", sentAt.UTC().Format(time.RFC3339)), err)
}

// SettleLaunched is Settle for instance launches.
func SettleLaunched(ctx context.Context, l Launch[*Instance], sentAt time.Time) (*Instance, error) {
	inst, _, err := l.Settle(ctx, sentAt)
	return inst, err
}

// Launches describes a cloud's instance launches: the Launch of one token value, adopting
// machines launched since adoptSince. A cloud adapter embeds it to implement LaunchFinder.
type Launches func(tokenValue string, adoptSince time.Time) Launch[*Instance]

// FindLaunched implements LaunchFinder.
func (f Launches) FindLaunched(ctx context.Context, spec InstanceSpec) (*Instance, error) {
	return FindLaunched(ctx, f(TokenValue(spec.LaunchToken), spec.AdoptSince))
}

// SettleLaunch implements LaunchFinder.
func (f Launches) SettleLaunch(ctx context.Context, spec InstanceSpec, sentAt time.Time) (*Instance, error) {
	return SettleLaunched(ctx, f(TokenValue(spec.LaunchToken), time.Time{}), sentAt)
}

// Begin starts a create of spec: the Launch of its token (a random one when spec has none, so
// that a lost answer can still be looked for), and, when spec has a token and look is set, the
// machine an interrupted earlier apply launched with it (a rerun after a crash adopts it
// instead of launching again).
func (f Launches) Begin(ctx context.Context, spec InstanceSpec, look bool) (Launch[*Instance], *Instance, error) {
	token := spec.LaunchToken
	if token == "" {
		token = RandomToken()
	}
	l := f(TokenValue(token), spec.AdoptSince)
	if spec.LaunchToken == "" || !look {
		return l, nil, nil
	}
	inst, err := FindLaunched(ctx, l)
	return l, inst, err
}
