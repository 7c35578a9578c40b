package lambda

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"
)

// Lambda account SSH keys (neocloud_ssh_key), and the name-to-id lookups a machine's keys need:
// Lambda reports a machine's keys by name.

// keyIDsByName maps SSH key names to ids through the shared key snapshot, refreshing it once
// when a name is missing (a key added outside this process).
func (c *Cloud) keyIDsByName(ctx context.Context, names []string) (map[string]string, error) {
	keys, err := c.sshKeys.Get(ctx, time.Now().Add(-c.keyTTL))
	if err != nil {
		return nil, err
	}
	byName := keyIndex(keys)
	for _, n := range names {
		if _, ok := byName[n]; !ok {
			if keys, err = c.sshKeys.Get(ctx, time.Now().Add(-c.instanceTTL)); err != nil {
				return nil, err
			}
			return keyIndex(keys), nil
		}
	}
	return byName, nil
}

func keyIndex(keys []SSHKey) map[string]string {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k.Name] = k.ID
	}
	return m
}

// CreateSSHKey adds an account SSH key. Without a public key Lambda generates a pair and the
// private key is returned once, in SSHKey.PrivateKey.
func (c *Cloud) CreateSSHKey(ctx context.Context, spec clients.SSHKeySpec) (*clients.SSHKey, error) {
	k, err := c.api.AddSSHKey(ctx, AddSSHKeyRequest{Name: spec.Name, PublicKey: strings.TrimSpace(spec.PublicKey)})
	c.sshKeys.Invalidate()
	if errors.Is(err, clients.ErrOutcomeUnknown) {
		return c.adoptSSHKey(ctx, spec, err)
	}
	if err != nil {
		return nil, err
	}
	return &clients.SSHKey{ID: k.ID, Name: k.Name, PublicKey: k.PublicKey, PrivateKey: k.PrivateKey}, nil
}

// adoptSSHKey looks for a key whose add lost its answer. Names are unique in an account, so a
// key of that name with the same public key is ours. A generated key cannot be adopted: its
// private key was in the lost answer.
func (c *Cloud) adoptSSHKey(ctx context.Context, spec clients.SSHKeySpec, addErr error) (*clients.SSHKey, error) {
	// A list started after the answer was lost also sees an add the server finished late.
	keys, err := c.sshKeys.Get(ctx, time.Now())
	if err != nil {
		return nil, errors.Join(addErr, err)
	}
	for _, k := range keys {
		if k.Name != spec.Name {
			continue
		}
		if spec.PublicKey != "" && sameKey(k.PublicKey, spec.PublicKey) {
			return &clients.SSHKey{ID: k.ID, Name: k.Name, PublicKey: k.PublicKey}, nil
		}
		if spec.PublicKey == "" {
			return nil, &clients.KindError{Kind: clients.ErrOutcomeUnknown, Msg: addErr.Error() +
				"; Lambda Cloud created SSH key " + k.Name + " (id " + k.ID + ") but its generated private key was in the lost answer: delete that key and apply again"}
		}
	}
	return nil, &clients.KindError{Kind: clients.ErrOutcomeUnknown, Msg: addErr.Error() +
		"; no SSH key named " + spec.Name + " exists, so the key was not added: apply again"}
}

// sameKey compares two OpenSSH public keys by type and key material, ignoring comments.
func sameKey(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	return len(fa) >= 2 && len(fb) >= 2 && fa[0] == fb[0] && fa[1] == fb[1]
}

// GetSSHKey finds a key by id in the account's key list.
func (c *Cloud) GetSSHKey(ctx context.Context, id string) (*clients.SSHKey, error) {
	if err := checkID("SSH key", id); err != nil {
		return nil, err
	}
	k, ok, err := snapshot.Find(ctx, c.sshKeys, c.keyTTL, func(keys []SSHKey) (*clients.SSHKey, bool) {
		for _, k := range keys {
			if k.ID == id {
				return &clients.SSHKey{ID: k.ID, Name: k.Name, PublicKey: k.PublicKey}, true
			}
		}
		return nil, false
	})
	if ok || err != nil {
		return k, err
	}
	return nil, &clients.KindError{Kind: clients.ErrNotFound, Msg: "Lambda Cloud has no SSH key with id " + id}
}

// DeleteSSHKey removes a key; a key already gone counts as deleted.
func (c *Cloud) DeleteSSHKey(ctx context.Context, id string) error {
	err := c.api.DeleteSSHKey(ctx, id)
	c.sshKeys.Invalidate()
	if clients.IsNotFound(err) {
		return nil
	}
	return err
}
