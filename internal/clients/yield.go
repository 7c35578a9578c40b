package clients

import "context"

type yieldKey struct{}

// Yield marks ctx's requests as looks that can wait: a client whose requests queue for a
// rate limiter sends them only when no other request of its own is waiting for the limiter
// (httpx.Config.Limiter), so that a stream of deletes or creates held back by the limit is
// not slowed by the looks that wait for its outcome. A look taken while machines are still
// queued for their delete would only have to be taken again after the last one; taken after
// it, one list serves every waiter (they share its snapshot). Waiters mark their looks
// (Cadence), and nothing else: a read the user waits on, such as a refresh, keeps its turn.
func Yield(ctx context.Context) context.Context { return context.WithValue(ctx, yieldKey{}, true) }

// Yields reports whether ctx's requests were marked by Yield.
func Yields(ctx context.Context) bool {
	y, _ := ctx.Value(yieldKey{}).(bool)
	return y
}
