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
