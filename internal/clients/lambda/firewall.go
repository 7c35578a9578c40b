package lambda

import (
	"context"
	"errors"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Firewall rulesets, which a cluster uses for its nodes' private network. Creates whose answer
// is lost adopt the ruleset of that name in that region (names are unique in an account).

// ListFirewallRulesets lists the account's firewall rulesets.
func (c *Cloud) ListFirewallRulesets(ctx context.Context) ([]FirewallRuleset, error) {
	return c.api.ListFirewallRulesets(ctx)
}

// CreateFirewallRuleset creates a ruleset in a region. When the answer is lost, a ruleset of
// that name in that region is looked for and adopted.
func (c *Cloud) CreateFirewallRuleset(ctx context.Context, name, region string, rules []FirewallRule) (*FirewallRuleset, error) {
	rs, err := c.api.CreateFirewallRuleset(ctx, FirewallRulesetCreateRequest{Name: name, Region: region, Rules: rules})
	return settleNamed(ctx, rs, err, "firewall ruleset", name, region, c.api.ListFirewallRulesets,
		func(r *FirewallRuleset) bool { return r.Name == name && r.Region.Name == region })
}

// settleNamed settles a create of an object Lambda names uniquely in an account (a filesystem,
// a firewall ruleset) when its answer was lost: the object of that name in that region is the
// one created. Without one nothing was created, and a second create cannot make a duplicate
// (Lambda refuses a name in use).
func settleNamed[T any](ctx context.Context, created *T, err error, what, name, region string,
	list func(context.Context) ([]T, error), is func(*T) bool) (*T, error) {
	if !errors.Is(err, clients.ErrOutcomeUnknown) {
		return created, err
	}
	// Looked for even when ctx has ended: the lost answer may be the deadline's doing.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), snapshot.FetchTimeout)
	defer cancel()
	all, lerr := list(lctx)
	if lerr != nil {
		return nil, errors.Join(err, lerr)
	}
	for i := range all {
		if is(&all[i]) {
			return &all[i], nil
		}
	}
	return nil, &clients.KindError{Kind: clients.ErrOutcomeUnknown, Msg: err.Error() +
		"; no " + what + " named " + name + " exists in " + region + ", so it was not created: apply again"}
}

// GetFirewallRuleset reads a ruleset; ErrNotFound when it does not exist.
func (c *Cloud) GetFirewallRuleset(ctx context.Context, id string) (*FirewallRuleset, error) {
	return c.api.GetFirewallRuleset(ctx, id)
}

// UpdateFirewallRuleset renames a ruleset and/or replaces its rules (nil fields are kept).
func (c *Cloud) UpdateFirewallRuleset(ctx context.Context, id string, patch FirewallRulesetPatchRequest) (*FirewallRuleset, error) {
	return c.api.UpdateFirewallRuleset(ctx, id, patch)
}

// DeleteFirewallRuleset deletes a ruleset; one already gone counts as deleted. A ruleset still
// attached to instances is refused by Lambda (ErrConflict, firewall-ruleset-in-use).
func (c *Cloud) DeleteFirewallRuleset(ctx context.Context, id string) error {
	err := c.api.DeleteFirewallRuleset(ctx, id)
	if clients.IsNotFound(err) {
		return nil
	}
	return err
}
