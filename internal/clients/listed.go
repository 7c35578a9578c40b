package clients

import "context"

// FindListed reads a list with list and returns the first item that match accepts, nil when
// none does. It is for the objects a vendor API reads only by listing (filesystems, rulesets,
// VPCs found by name).
func FindListed[T any](ctx context.Context, list func(context.Context) ([]T, error), match func(*T) bool) (*T, error) {
	items, err := list(ctx)
	if err != nil {
		return nil, err
	}
	for i := range items {
		if match(&items[i]) {
			return &items[i], nil
		}
	}
	return nil, nil
}

type knownSSHKeysKey struct{}

// WithKnownSSHKeys tells a read of one machine that Terraform's state already holds its SSH
// key ids. A cloud that reports a machine's keys by name and never changes them after launch
// (Lambda) may then return these ids instead of mapping the names through its key list, a call
// saved on every refresh; a machine listed with another number of keys is mapped as usual.
func WithKnownSSHKeys(ctx context.Context, ids []string) context.Context {
	return context.WithValue(ctx, knownSSHKeysKey{}, ids)
}

// KnownSSHKeys returns the ids WithKnownSSHKeys put in ctx.
func KnownSSHKeys(ctx context.Context) ([]string, bool) {
	ids, ok := ctx.Value(knownSSHKeysKey{}).([]string)
	return ids, ok
}
