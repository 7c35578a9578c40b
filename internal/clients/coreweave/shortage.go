package coreweave

import (
	"fmt"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Capacity that runs out after the create. CKS accepts a cluster whatever capacity its zone
// has: a shortage shows only later, when the cluster's NodePool waits for nodes with a False
// capacity condition (InsufficientCapacity). CoreWeave keeps such a pool waiting for as long as
// it takes; a short wait can end on its own (nodes freed elsewhere), a long one rarely does. So
// a pool whose capacity condition has held for DefaultShortageGrace (on the clock the adapter
// runs on, clients.Settings.Every) is reported as an error of the neutral capacity kind
// (clients.ErrCapacity, or clients.ErrQuota when CoreWeave names a quota) in the cluster's
// view (clients.Cluster.Shortage): the provider's wait stops there and cluster placement tries
// its next candidate, instead of waiting out the create timeout.

// DefaultShortageGrace is how long a cluster's node pool may wait for capacity before the
// shortage is an error.
const DefaultShortageGrace = 3 * time.Minute

// WithShortageGrace sets how long a node pool may wait for capacity before GetCluster reports
// the shortage as an error (default DefaultShortageGrace on the settings' clock).
func WithShortageGrace(d time.Duration) Option {
	return func(o *options) { o.shortageGrace = d }
}

// capacityCondition is the pool's capacity condition when it is False (nil otherwise).
func capacityCondition(p *NodePool) *Condition {
	if p == nil || p.Status == nil {
		return nil
	}
	for i, cd := range p.Status.Conditions {
		if cd.Status == "False" && (isCapacityText(cd.Reason) || isCapacityText(cd.Message)) {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// shortageKey names one pool of one cluster (its uid, when the API gives one, tells a pool
// deleted and created again from the old one).
func shortageKey(clusterID string, p *NodePool) string {
	return clusterID + "/" + p.Metadata.Name + "/" + p.Metadata.UID
}

// shortage says whether a cluster's pool is short of capacity: before its capacity condition
// has held for the grace, waiting describes the wait; after, err (of kind ErrCapacity or
// ErrQuota) says what was short. Both are empty for a pool that is not short.
//
// How long the condition has held is measured from its lastTransitionTime (CoreWeave's clock);
// one that is missing or in the future (clocks disagree) counts from when this process first
// saw the condition.
func (c *Cloud) shortage(cl *Cluster, p *NodePool, ready, target int, now time.Time) (waiting string, err error) {
	key := shortageKey(cl.ID, p)
	cd := capacityCondition(p)
	if cd == nil || ready >= target {
		c.mu.Lock()
		delete(c.shortSeen, key)
		c.mu.Unlock()
		return "", nil
	}
	c.mu.Lock()
	seen, ok := c.shortSeen[key]
	if !ok {
		seen = now
		c.shortSeen[key] = seen
	}
	c.mu.Unlock()
	since := seen
	if t := cd.LastTransitionTime; t != nil && !t.IsZero() && !t.After(now) {
		since = *t
	}
	held := now.Sub(since)
	text := strings.TrimSpace(strings.Trim(cd.Reason+": "+cd.Message, ": "))
	if held < c.shortageGrace {
		return fmt.Sprintf("%d of %d nodes ready; %s (waiting for capacity for %s; an error after %s)", ready, target, text,
			roundHeld(held), roundHeld(c.shortageGrace)), nil
	}
	kind, what := clients.ErrCapacity, "no capacity"
	if strings.Contains(strings.ToLower(text), "quota") {
		kind, what = clients.ErrQuota, "quota exceeded"
	}
	return "", clients.Errorf(kind, "%s for %d x %s in %s: CoreWeave's node pool %s of CKS cluster %s has %d of %d nodes ready and has waited %s for more (%s). "+
		"Try another zone or instance type, a placement block with other candidates, or ask CoreWeave for capacity",
		what, target, p.Spec.InstanceType, cl.Zone, p.Metadata.Name, cl.Name, ready, target, roundHeld(held), text)
}

// forgetShortages drops what this process saw of a cluster's pools (the cluster is deleted).
func (c *Cloud) forgetShortages(clusterID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.shortSeen {
		if strings.HasPrefix(k, clusterID+"/") {
			delete(c.shortSeen, k)
		}
	}
}

// roundHeld rounds a duration for a message (whole seconds, or milliseconds below one second).
func roundHeld(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
