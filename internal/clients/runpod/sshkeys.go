package runpod

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"
)

// RunPod keeps an account's SSH keys as one list of authorized_keys lines, read with GET and
// replaced whole with PUT /account/ssh-keys; keys have no id and no name. The adapter defines:
//
//   - the id of a key is its SHA256 fingerprint ("SHA256:<base64>", as ssh-keygen -l prints
//     it): stable, derived from the key material alone, and the same whoever added the key;
//   - the name of a key it adds is stored in the line's comment, as "neocloud-name=<name>"
//     in front of the key's own comment, so that both the name and the public key as given read
//     back unchanged. Keys added elsewhere read back with their comment as the name.
//
// Adding or removing a key is a read-modify-write of the whole list that leaves every other
// key as it was.

// keyNameMarker starts the comment of a key added by the adapter.
const keyNameMarker = "neocloud-name="

// keyLinePattern is the document's pattern for an entry of UpdateSshKeysRequest.keys, split
// into type, key material and comment.
var keyLinePattern = regexp.MustCompile(`^((?:ssh|ecdsa|sk)-\S+) (\S+)(?:[ \t]+([^\n\r]*))?$`)

// accountKey is one line of the account's key list, understood.
type accountKey struct {
	Line        string // as RunPod holds it
	Fingerprint string // the neutral id
	Name        string
	PublicKey   string // the key as it was given: type, material and its own comment
	Managed     bool   // carries a name written by this adapter
}

// parsePublicKey splits an OpenSSH public key line and computes its fingerprint.
func parsePublicKey(line string) (typ, material, comment, fingerprint string, err error) {
	line = strings.TrimSpace(line)
	if strings.ContainsAny(line, "\r\n") {
		return "", "", "", "", clients.Errorf(clients.ErrInvalid, "an SSH public key is one line; give one key per resource")
	}
	// Tolerate tabs or several spaces between type and key, which ssh accepts; RunPod's
	// pattern wants one space, which is what is stored.
	if f := strings.Fields(line); len(f) >= 2 {
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(line, f[0])), f[1]))
		line = f[0] + " " + f[1]
		if rest != "" {
			line += " " + rest
		}
	}
	m := keyLinePattern.FindStringSubmatch(line)
	if m == nil {
		return "", "", "", "", clients.Errorf(clients.ErrInvalid, "not an OpenSSH public key (expected \"<type> <base64 key> [comment]\" on one line, such as the content of ~/.ssh/id_ed25519.pub)")
	}
	blob, derr := base64.StdEncoding.DecodeString(m[2])
	if derr != nil {
		if blob, derr = base64.RawStdEncoding.DecodeString(m[2]); derr != nil {
			return "", "", "", "", clients.Errorf(clients.ErrInvalid, "the key material of the %s public key is not valid base64", m[1])
		}
	}
	sum := sha256.Sum256(blob)
	return m[1], m[2], strings.TrimSpace(m[3]), "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:]), nil
}

// parseAccountKey reads one stored line; ok is false for a line that is not a public key
// (kept as it is by every rewrite, but never matched).
func parseAccountKey(line string) (accountKey, bool) {
	typ, material, comment, fp, err := parsePublicKey(line)
	if err != nil {
		return accountKey{}, false
	}
	k := accountKey{Line: line, Fingerprint: fp, Name: comment}
	if rest, ok := strings.CutPrefix(comment, keyNameMarker); ok {
		encoded, original, _ := strings.Cut(rest, " ")
		if name, err := url.QueryUnescape(encoded); err == nil {
			k.Name, k.Managed, comment = name, true, strings.TrimSpace(original)
		}
	}
	k.PublicKey = typ + " " + material
	if comment != "" {
		k.PublicKey += " " + comment
	}
	return k, true
}

// storedKeyLine is the line the adapter registers for a key with a name.
func storedKeyLine(typ, material, comment, name string) string {
	line := typ + " " + material
	if name != "" {
		line += " " + keyNameMarker + url.QueryEscape(name)
	}
	if comment != "" {
		line += " " + comment
	}
	return line
}

func (k accountKey) neutral() *clients.SSHKey {
	return &clients.SSHKey{ID: k.Fingerprint, Name: k.Name, PublicKey: k.PublicKey}
}

// CreateSSHKey registers a public key with the account, keeping every key already there.
// RunPod does not generate key pairs, so a spec without a public key is refused. The key's id
// is its SHA256 fingerprint. Registering a key that is already there under the same name (a
// retried create) returns it; the same key under another name, or added outside the provider,
// is a conflict: RunPod holds a key once, and deleting one of two resources would remove it
// for both.
func (c *Cloud) CreateSSHKey(ctx context.Context, spec clients.SSHKeySpec) (*clients.SSHKey, error) {
	if strings.TrimSpace(spec.PublicKey) == "" {
		return nil, clients.Errorf(clients.ErrUnsupported, "RunPod does not generate SSH key pairs: give the public key of a pair you made "+
			"(public_key, for example file(\"~/.ssh/id_ed25519.pub\") after ssh-keygen -t ed25519)")
	}
	if strings.ContainsAny(spec.Name, "\r\n") {
		return nil, clients.Errorf(clients.ErrInvalid, "an SSH key name cannot contain line breaks")
	}
	typ, material, comment, fp, err := parsePublicKey(spec.PublicKey)
	if err != nil {
		return nil, err
	}
	line := storedKeyLine(typ, material, comment, spec.Name)

	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	keys, err := c.api.GetSSHKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range keys {
		k, ok := parseAccountKey(l)
		if !ok || k.Fingerprint != fp {
			continue
		}
		if k.Managed && k.Name == spec.Name {
			return k.neutral(), nil
		}
		how := "added outside the provider"
		if k.Managed {
			how = "under the name " + k.Name
		}
		return nil, clients.Errorf(clients.ErrConflict, "this public key (%s) is already registered with the RunPod account, %s; RunPod holds a key once: "+
			"import that key (terraform import with id runpod/%s) or remove it from the account first", fp, how, fp)
	}
	got, err := c.api.PutSSHKeys(ctx, append(slices.Clone(keys), line))
	c.sshKeys.Invalidate()
	if err != nil {
		return nil, err
	}
	for _, l := range got {
		if k, ok := parseAccountKey(l); ok && k.Fingerprint == fp {
			return k.neutral(), nil
		}
	}
	return nil, &clients.KindError{Kind: clients.ErrInvalid, Msg: "RunPod accepted the new SSH key list but does not list key " + fp + " in its answer"}
}

// GetSSHKey finds a key by fingerprint in the account's key list.
func (c *Cloud) GetSSHKey(ctx context.Context, id string) (*clients.SSHKey, error) {
	k, ok, err := snapshot.Find(ctx, c.sshKeys, c.keyTTL, func(lines []string) (*clients.SSHKey, bool) {
		for _, l := range lines {
			if k, ok := parseAccountKey(l); ok && k.Fingerprint == id {
				return k.neutral(), true
			}
		}
		return nil, false
	})
	if ok || err != nil {
		return k, err
	}
	return nil, clients.Errorf(clients.ErrNotFound, "the RunPod account has no SSH key with fingerprint %s", id)
}

// ListSSHKeys lists the account's keys in neutral form (lines that are not keys left out).
func (c *Cloud) ListSSHKeys(ctx context.Context) ([]clients.SSHKey, error) {
	keys, err := c.sshKeys.Get(ctx, time.Now().Add(-c.keyTTL))
	if err != nil {
		return nil, err
	}
	var out []clients.SSHKey
	for _, l := range keys {
		if k, ok := parseAccountKey(l); ok {
			out = append(out, *k.neutral())
		}
	}
	return out, nil
}

// DeleteSSHKey removes the key with this fingerprint and leaves every other key as it was; a
// key already gone counts as deleted. Pods created with the key keep it (RunPod does not
// update running pods).
func (c *Cloud) DeleteSSHKey(ctx context.Context, id string) error {
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	keys, err := c.api.GetSSHKeys(ctx)
	if err != nil {
		return err
	}
	kept := make([]string, 0, len(keys))
	for _, l := range keys {
		if k, ok := parseAccountKey(l); ok && k.Fingerprint == id {
			continue
		}
		kept = append(kept, l)
	}
	if len(kept) == len(keys) {
		return nil
	}
	_, err = c.api.PutSSHKeys(ctx, kept)
	c.sshKeys.Invalidate()
	return err
}

// publicKeysFor turns neutral SSH key ids (fingerprints) into the public keys to install in a
// pod, as they were given (without the adapter's name marker).
func (c *Cloud) publicKeysFor(ctx context.Context, ids []string) ([]string, error) {
	var missing string
	keys, ok, err := snapshot.Find(ctx, c.sshKeys, c.keyTTL, func(lines []string) ([]string, bool) {
		byID := map[string]string{}
		for _, l := range lines {
			if k, ok := parseAccountKey(l); ok {
				byID[k.Fingerprint] = k.PublicKey
			}
		}
		out := make([]string, 0, len(ids))
		for _, id := range ids {
			pk, ok := byID[id]
			if !ok {
				missing = id
				return nil, false
			}
			out = append(out, pk)
		}
		return out, true
	})
	if ok || err != nil {
		return keys, err
	}
	return nil, clients.Errorf(clients.ErrInvalid, "the RunPod account has no SSH key with fingerprint %q (RunPod SSH key ids are SHA256 fingerprints, as neocloud_ssh_key returns them)", missing)
}
