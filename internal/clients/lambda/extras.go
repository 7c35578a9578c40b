package lambda

import (
	"context"
	"errors"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Lambda-only operations the provider uses beyond clients.Cloud: filesystems (neocloud_volume,
// cluster shared storage), firewall rulesets (cluster networking) and restarts. They return the
// API's own types, with the same error kinds as the rest of the adapter.

// RestartInstance reboots an instance.
func (c *Cloud) RestartInstance(ctx context.Context, id string) error {
	if err := checkID("instance", id); err != nil {
		return err
	}
	_, err := c.api.RestartInstances(ctx, id)
	c.instances.Invalidate()
	return err
}

// ListFilesystems lists the account's filesystems.
func (c *Cloud) ListFilesystems(ctx context.Context) ([]Filesystem, error) {
	return c.api.ListFilesystems(ctx)
}

// CreateFilesystem creates a filesystem in a region. When the answer is lost, a filesystem of
// that name in that region is looked for and adopted (names are unique in an account).
func (c *Cloud) CreateFilesystem(ctx context.Context, name, region string) (*Filesystem, error) {
	fs, err := c.api.CreateFilesystem(ctx, FilesystemCreateRequest{Name: name, Region: region})
	if !errors.Is(err, clients.ErrOutcomeUnknown) {
		return fs, err
	}
	// Looked for even when ctx has ended: the lost answer may be the deadline's doing.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), snapshot.FetchTimeout)
	defer cancel()
	list, lerr := c.api.ListFilesystems(lctx)
	if lerr != nil {
		return nil, errors.Join(err, lerr)
	}
	for i := range list {
		if list[i].Name == name && list[i].Region.Name == region {
			return &list[i], nil
		}
	}
	return nil, &clients.KindError{Kind: clients.ErrOutcomeUnknown, Msg: err.Error() +
		"; no filesystem named " + name + " exists in " + region + ", so it was not created: apply again"}
}

// GetFilesystem finds a filesystem by id (the API has no single-filesystem read).
func (c *Cloud) GetFilesystem(ctx context.Context, id string) (*Filesystem, error) {
	list, err := c.api.ListFilesystems(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i], nil
		}
	}
	return nil, &clients.KindError{Kind: clients.ErrNotFound, Msg: "Lambda Cloud has no filesystem with id " + id}
}

// DeleteFilesystem deletes a filesystem; one already gone counts as deleted. A filesystem still
// mounted is refused by Lambda (ErrConflict, filesystems/filesystem-in-use).
func (c *Cloud) DeleteFilesystem(ctx context.Context, id string) error {
	_, err := c.api.DeleteFilesystem(ctx, id)
	if clients.IsNotFound(err) {
		return nil
	}
	return err
}

// ListFirewallRulesets lists the account's firewall rulesets.
func (c *Cloud) ListFirewallRulesets(ctx context.Context) ([]FirewallRuleset, error) {
	return c.api.ListFirewallRulesets(ctx)
}

// CreateFirewallRuleset creates a ruleset in a region. When the answer is lost, a ruleset of
// that name in that region is looked for and adopted.
func (c *Cloud) CreateFirewallRuleset(ctx context.Context, name, region string, rules []FirewallRule) (*FirewallRuleset, error) {
	rs, err := c.api.CreateFirewallRuleset(ctx, FirewallRulesetCreateRequest{Name: name, Region: region, Rules: rules})
	if !errors.Is(err, clients.ErrOutcomeUnknown) {
		return rs, err
	}
	// Looked for even when ctx has ended: the lost answer may be the deadline's doing.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), snapshot.FetchTimeout)
	defer cancel()
	list, lerr := c.api.ListFirewallRulesets(lctx)
	if lerr != nil {
		return nil, errors.Join(err, lerr)
	}
	for i := range list {
		if list[i].Name == name && list[i].Region.Name == region {
			return &list[i], nil
		}
	}
	return nil, &clients.KindError{Kind: clients.ErrOutcomeUnknown, Msg: err.Error() +
		"; no firewall ruleset named " + name + " exists in " + region + ", so it was not created: apply again"}
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
