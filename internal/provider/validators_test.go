package provider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func randomBase64(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestSSHPublicKeyValidator(t *testing.T) {
	t.Parallel()
	pkcs8, _ := testPrivateKeyPEM(t)
	opensshBody := base64.StdEncoding.EncodeToString([]byte("openssh-key-v1\x00" + randomBase64(t, 48)))
	openssh := "-----BEGIN OPENSSH PRIVATE KEY-----\n" + opensshBody + "\n-----END OPENSSH PRIVATE KEY-----\n"
	tests := []struct {
		name    string
		value   types.String
		summary string // "" means accepted
	}{
		{name: "public key", value: types.StringValue(testPublicKey)},
		{name: "public key from file() with its newline", value: types.StringValue(testPublicKey + "\n")},
		{name: "null", value: types.StringNull()},
		{name: "unknown", value: types.StringUnknown()},
		{name: "PKCS#8 PEM", value: types.StringValue(pkcs8), summary: "Private key given instead of a public key"},
		{name: "OpenSSH private key", value: types.StringValue(openssh), summary: "Private key given instead of a public key"},
		{name: "OpenSSH body without its armour", value: types.StringValue(opensshBody), summary: "Private key given instead of a public key"},
		{
			name:    "PKCS#1 RSA",
			value:   types.StringValue("-----BEGIN RSA PRIVATE KEY-----\nMIIE" + randomBase64(t, 96) + "\n-----END RSA PRIVATE KEY-----\n"),
			summary: "Private key given instead of a public key",
		},
		{
			name: "PuTTY key file",
			value: types.StringValue("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: me\nPublic-Lines: 1\n" +
				randomBase64(t, 36) + "\nPrivate-Lines: 1\n" + randomBase64(t, 36) + "\n"),
			summary: "Private key given instead of a public key",
		},
		{name: "private and public key together", value: types.StringValue(openssh + testPublicKey + "\n"), summary: "Private key given instead of a public key"},
		{name: "not a key", value: types.StringValue("AAAAC3NzaC1lZDI1NTE5AAAAIJ0uZ01d"), summary: "Invalid SSH public key"},
		{name: "key type alone", value: types.StringValue("ssh-ed25519"), summary: "Invalid SSH public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := validator.StringRequest{Path: path.Root("public_key"), ConfigValue: tt.value}
			var resp validator.StringResponse
			sshPublicKeyValidator{}.ValidateString(context.Background(), req, &resp)
			d := onlyError(t, resp.Diagnostics, tt.summary != "")
			if d == nil {
				return
			}
			if d.Summary() != tt.summary {
				t.Errorf("summary = %q, want %q", d.Summary(), tt.summary)
			}
			if wp, ok := d.(interface{ Path() path.Path }); !ok || !wp.Path().Equal(path.Root("public_key")) {
				t.Errorf("the error is not on public_key: %#v", d)
			}
			if tt.summary != "Private key given instead of a public key" {
				return
			}
			if !strings.Contains(d.Detail(), "must not be shared") {
				t.Errorf("detail does not say the key must not be shared: %s", d.Detail())
			}
			// No piece of the private key, however short, is repeated.
			text := d.Summary() + "\n" + d.Detail()
			v := tt.value.ValueString()
			for i := 0; i+8 <= len(v); i++ {
				if piece := v[i : i+8]; strings.TrimSpace(piece) == piece && strings.Contains(text, piece) {
					t.Fatalf("the error repeats %q of the value:\n%s", piece, text)
				}
			}
		})
	}
}

func TestLooksLikePrivateKey_notOnPublicKeys(t *testing.T) {
	t.Parallel()
	for _, pub := range []string{
		testPublicKey,
		"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 me@laptop",
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBE me",
		"sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAI me",
	} {
		if looksLikePrivateKey(pub) {
			t.Errorf("%q taken for a private key", pub)
		}
	}
}

// onlyError fails the test unless diags holds no error (want false) or exactly one (want true),
// which it returns.
func onlyError(t *testing.T, diags diag.Diagnostics, want bool) diag.Diagnostic {
	t.Helper()
	if !want {
		if diags.HasError() {
			t.Fatalf("refused: %v", diags)
		}
		return nil
	}
	if diags.ErrorsCount() != 1 {
		t.Fatalf("diagnostics = %v, want one error", diags)
	}
	return diags.Errors()[0]
}
