package httpx

import (
	"errors"
	"strings"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// New is the last guard before a key goes on the wire: plain http to another host needs
// AllowInsecure. Building a client sends nothing, so the .invalid hosts are never contacted.
func TestNew_refusesPlainHTTPToAnotherHostUnlessAllowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base          string
		allowInsecure bool
		wantInsecure  bool
	}{
		{base: "http://emulator.invalid/api/v1", wantInsecure: true},
		{base: "http://192.0.2.10:8800/v2", wantInsecure: true},
		{base: "http://emulator.invalid/api/v1", allowInsecure: true},
		{base: "https://emulator.invalid/api/v1"},
		{base: "http://127.0.0.1:8800/api/v1"},
		{base: "http://localhost:8800/v2"},
		{base: "http://[::1]:8800"},
	}
	for _, tt := range tests {
		_, err := New(Config{Cloud: testCloud, BaseURL: tt.base, AllowInsecure: tt.allowInsecure})
		if got := errors.Is(err, clients.ErrInsecureEndpoint); got != tt.wantInsecure {
			t.Errorf("New(BaseURL=%q, AllowInsecure=%v) = %v, want refused as insecure: %v", tt.base, tt.allowInsecure, err, tt.wantInsecure)
		}
		if !tt.wantInsecure && err != nil {
			t.Errorf("New(BaseURL=%q) = %v, want no error", tt.base, err)
		}
	}
	if _, err := New(Config{Cloud: testCloud, BaseURL: "ftp://emulator.invalid/x", AllowInsecure: true}); err == nil {
		t.Error("New accepted an ftp:// BaseURL")
	}
}

func TestRedactBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		gone     []string // must not survive
		kept     []string // must survive
	}{
		{
			name: "RunPod env map keeps names, masks values",
			in:   `{"name":"p","env":{"HF_TOKEN":"v1","WANDB_MODE":"v2"},"gpu":{"count":8}}`,
			gone: []string{`"v1"`, `"v2"`},
			kept: []string{`"HF_TOKEN":"***"`, `"WANDB_MODE":"***"`, `"count":8`, `"name":"p"`},
		},
		{
			name: "user data in any spelling",
			in:   `{"user_data":"s1","userData":"s2","UserData":"s3"}`,
			gone: []string{"s1", "s2", "s3"},
		},
		{
			name: "env nested in a list of pods",
			in:   `[{"id":"a","env":{"K":"s1"}},{"id":"b","env":null}]`,
			gone: []string{"s1"},
			kept: []string{`"id":"a"`, `"env":null`},
		},
		{
			name: "env that is not a map is masked whole",
			in:   `{"env":[{"key":"K","value":"s1"}]}`,
			gone: []string{"s1"},
		},
		{
			name: "secret members of any type",
			in:   `{"private_key":{"pem":"s1"},"api_key":"s2","kubeconfig":"s3","public_key":"ssh-ed25519 AAAA"}`,
			gone: []string{"s1", "s2", "s3"},
			kept: []string{`"public_key":"ssh-ed25519 AAAA"`},
		},
		{
			name: "numbers and markup stay as sent",
			in:   `{"price":2.690,"big":12345678901234567890,"note":"<a&b>"}`,
			kept: []string{`2.690`, `12345678901234567890`, `<a&b>`},
		},
		{
			name: "cut-off JSON mentioning env is withheld",
			in:   `{"id":"p","env":{"HF_TOKEN":"s1`,
			gone: []string{"s1"},
		},
		{
			name: "plain-text error answer is kept",
			in:   `There are no longer any instances available`,
			kept: []string{"no longer any instances"},
		},
	}
	for _, tt := range tests {
		got := redactBody([]byte(tt.in))
		for _, g := range tt.gone {
			if strings.Contains(got, g) {
				t.Errorf("%s: %s -> %s still has %s", tt.name, tt.in, got, g)
			}
		}
		for _, k := range tt.kept {
			if !strings.Contains(got, k) {
				t.Errorf("%s: %s -> %s lost %s", tt.name, tt.in, got, k)
			}
		}
	}
}
