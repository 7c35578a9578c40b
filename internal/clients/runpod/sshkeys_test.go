package runpod

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// keyLineWithName is a key as the adapter stores it: the name in front of the key's comment.
func keyLineWithName(t *testing.T, key, name string) string {
	t.Helper()
	f := strings.SplitN(key, " ", 3)
	line := f[0] + " " + f[1] + " neocloud-name=" + name
	if len(f) == 3 {
		line += " " + f[2]
	}
	return line
}

func TestFingerprintMatchesSSHKeygen(t *testing.T) {
	for key, want := range map[string]string{docKey: docKeyFP, key1: key1FP, key2: key2FP} {
		_, _, _, fp, err := parsePublicKey(key)
		if err != nil || fp != want {
			t.Errorf("%s: %s %v, want %s", key, fp, err, want)
		}
	}
	// Whitespace around and inside does not change the key.
	_, _, comment, fp, err := parsePublicKey("  ssh-ed25519\tAAAAC3NzaC1lZDI1NTE5AAAAIMaimKAixcxMDWTLmg7Yp/4b0CfxsQkjotrayTrtdCNP   user1@host\n")
	if err != nil || fp != key1FP || comment != "user1@host" {
		t.Errorf("%s %q %v", fp, comment, err)
	}
	for _, bad := range []string{"", "ssh-ed25519", "rsa AAAA", "ssh-ed25519 not*base64", "ssh-ed25519 AAAA\nssh-rsa BBBB"} {
		if _, _, _, _, err := parsePublicKey(bad); !errors.Is(err, clients.ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestCreateSSHKeyKeepsOtherKeys: adding a key is a read-modify-write that keeps every key
// already registered, byte for byte.
func TestCreateSSHKeyKeepsOtherKeys(t *testing.T) {
	f, c := newFakeCloud(t)
	s := &keyStore{}
	s.install(f, docKey, key1)
	k, err := c.CreateSSHKey(t.Context(), clients.SSHKeySpec{Name: "my laptop", PublicKey: key2 + "\n"})
	if err != nil {
		t.Fatal(err)
	}
	if k.ID != key2FP || k.Name != "my laptop" || k.PublicKey != key2 || k.PrivateKey != "" {
		t.Errorf("key %+v", k)
	}
	assertJSON(t, f.Requests("PUT", "/account/ssh-keys")[0].Body, mustJSON(map[string]any{
		"keys": []string{docKey, key1, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMSLd4vv5DPOpFh3He1ZFim+1h0b+WKJfy3FMyxXy27x neocloud-name=my+laptop user2@host"},
	}))

	// Read back: the name and the public key as given.
	got, err := c.GetSSHKey(t.Context(), key2FP)
	if err != nil || got.Name != "my laptop" || got.PublicKey != key2 || got.ID != key2FP {
		t.Errorf("read back %+v %v", got, err)
	}
	// A key added elsewhere reads with its comment as the name.
	got, err = c.GetSSHKey(t.Context(), docKeyFP)
	if err != nil || got.Name != "me@example.com" || got.PublicKey != docKey {
		t.Errorf("foreign key %+v %v", got, err)
	}
	all, err := c.ListSSHKeys(t.Context())
	if err != nil || len(all) != 3 {
		t.Errorf("list %+v %v", all, err)
	}
}

// TestCreateSSHKeyConcurrent: creates running in parallel (as Terraform runs them) all keep
// their key: the read-modify-writes do not interleave.
func TestCreateSSHKeyConcurrent(t *testing.T) {
	f, c := newFakeCloud(t)
	s := &keyStore{}
	s.install(f, docKey)
	var wg sync.WaitGroup
	want := []string{docKeyFP}
	var mu sync.Mutex
	for i := range 5 {
		key := newSSHKey(t, fmt.Sprintf("k%d@host", i))
		wg.Go(func() {
			k, err := c.CreateSSHKey(t.Context(), clients.SSHKeySpec{Name: fmt.Sprintf("k%d", i), PublicKey: key})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			want = append(want, k.ID)
			mu.Unlock()
		})
	}
	wg.Wait()
	keys, puts := s.snapshot()
	if puts != 5 || len(keys) != 6 {
		t.Fatalf("%d puts, keys %v", puts, keys)
	}
	var have []string
	for _, l := range keys {
		_, _, _, fp, err := parsePublicKey(l)
		if err != nil {
			t.Fatal(err)
		}
		have = append(have, fp)
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Errorf("have %v\nwant %v", have, want)
	}
}

func TestCreateSSHKeyRefusals(t *testing.T) {
	f, c := newFakeCloud(t)
	s := &keyStore{}
	s.install(f, docKey, keyLineWithName(t, key1, "work"))

	if _, err := c.CreateSSHKey(t.Context(), clients.SSHKeySpec{Name: "gen"}); !errors.Is(err, clients.ErrUnsupported) ||
		!strings.Contains(err.Error(), "does not generate") {
		t.Errorf("generated key: %v", err)
	}
	if _, err := c.CreateSSHKey(t.Context(), clients.SSHKeySpec{Name: "bad", PublicKey: "not a key"}); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("bad key: %v", err)
	}
	// The same key under the same name: a retried create, answered from what is there.
	k, err := c.CreateSSHKey(t.Context(), clients.SSHKeySpec{Name: "work", PublicKey: key1})
	if err != nil || k.ID != key1FP {
		t.Errorf("same key and name: %+v %v", k, err)
	}
	// The same key under another name, or added outside the provider: a conflict.
	if _, err := c.CreateSSHKey(t.Context(), clients.SSHKeySpec{Name: "other", PublicKey: key1}); !errors.Is(err, clients.ErrConflict) {
		t.Errorf("same key, other name: %v", err)
	}
	if _, err := c.CreateSSHKey(t.Context(), clients.SSHKeySpec{Name: "mine", PublicKey: docKey}); !errors.Is(err, clients.ErrConflict) ||
		!strings.Contains(err.Error(), docKeyFP) {
		t.Errorf("foreign key: %v", err)
	}
	if _, puts := s.snapshot(); puts != 0 {
		t.Errorf("%d writes", puts)
	}
}

func TestGetSSHKeyNotFound(t *testing.T) {
	f, c := newFakeCloud(t)
	(&keyStore{}).install(f, key1)
	if _, err := c.GetSSHKey(t.Context(), key2FP); !clients.IsNotFound(err) {
		t.Errorf("error %v", err)
	}
}

// TestDeleteSSHKeyKeepsOtherKeys removes exactly one key; a key already gone costs no write.
func TestDeleteSSHKeyKeepsOtherKeys(t *testing.T) {
	f, c := newFakeCloud(t)
	s := &keyStore{}
	s.install(f, docKey, keyLineWithName(t, key1, "work"), key2)
	if err := c.DeleteSSHKey(t.Context(), key1FP); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, f.Requests("PUT", "/account/ssh-keys")[0].Body, mustJSON(map[string]any{"keys": []string{docKey, key2}}))
	if err := c.DeleteSSHKey(t.Context(), key1FP); err != nil {
		t.Fatal(err)
	}
	if _, puts := s.snapshot(); puts != 1 {
		t.Errorf("%d writes", puts)
	}
	if _, err := c.GetSSHKey(t.Context(), key1FP); !clients.IsNotFound(err) {
		t.Errorf("deleted key still read: %v", err)
	}
	// Deleting the last key sends an empty list, not null.
	for _, fp := range []string{docKeyFP, key2FP} {
		if err := c.DeleteSSHKey(t.Context(), fp); err != nil {
			t.Fatal(err)
		}
	}
	if keys, _ := s.snapshot(); len(keys) != 0 {
		t.Errorf("keys %v", keys)
	}
}
