package httpx

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// Logs never carry secrets.

func TestDo_logsMaskSecrets(t *testing.T) {
	// Not parallel: t.Setenv.
	t.Setenv("TF_LOG_PROVIDER_NEOCLOUD_"+strings.ToUpper(testCloud), "TRACE")
	const (
		apiKey      = "secret_apikey_8c1f0e9d"
		privateKey  = "AAAAB3NzaC1yc2EprivatePART"
		respPrivate = "b3BlbnNzaC1rZXktdjEresponsePART"
		kubeToken   = "kube_tok_5d2a"
	)
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		_, _ = io.ReadAll(r.Body)
		if hit == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // one retry, so the retry log is checked too
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
			"id":          "k-1",
			"private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\n" + respPrivate + "\n-----END OPENSSH PRIVATE KEY-----\n",
			"kubeconfig":  "apiVersion: v1\nusers:\n- user:\n    token: " + kubeToken,
		}})
	})
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	c := newClient(t, srv, func(cfg *Config) {
		cfg.Authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+apiKey) }
		cfg.Secrets = []string{apiKey, ""}
	})
	err := c.Do(ctx, Request{
		Operation: "add SSH key", Method: http.MethodPost, Path: "/ssh-keys",
		Body: map[string]string{"name": "me", "private_key": privateKey, "note": "made with " + apiKey},
	}, nil)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	out := buf.String()
	for _, secret := range []string{apiKey, privateKey, respPrivate, kubeToken} {
		if strings.Contains(out, secret) {
			t.Errorf("log output contains secret %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, srv.URL+"/api/v1/ssh-keys") {
		t.Errorf("log output lacks the request URL:\n%s", out)
	}
	entries, err := tflogtest.MultilineJSONDecode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	messages := map[string]int{}
	for _, e := range entries {
		msg, _ := e["@message"].(string)
		messages[msg]++
		if module, _ := e["@module"].(string); !strings.HasSuffix(module, "."+testCloud) {
			t.Errorf("entry %q logged in module %q, want the %s subsystem", msg, module, testCloud)
		}
		if msg == "sending API request" {
			if e["authorization"] != "***" {
				t.Errorf("authorization field = %v, want ***", e["authorization"])
			}
			if body, _ := e["http_body"].(string); !strings.Contains(body, `"name":"me"`) || !strings.Contains(body, "***") {
				t.Errorf("request body logged as %q, want it with secrets masked", body)
			}
		}
	}
	if messages["sending API request"] != 2 || messages["received API response"] != 2 || messages["retrying API request"] != 1 {
		t.Errorf("log messages = %v, want 2 sent, 2 received, 1 retry", messages)
	}
}

func TestSecretFieldsMask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		masked   bool
		survivor string // must still be there
	}{
		{in: `{"private_key":"abc"}`, masked: true},
		{in: `{"privateKey" : "abc"}`, masked: true},
		{in: `{"ssh_private_key":"abc"}`, masked: true},
		{in: `{"access_token":"abc"}`, masked: true},
		{in: `{"client_secret":"abc"}`, masked: true},
		{in: `{"Kubeconfig":"abc"}`, masked: true},
		{in: `{"API_KEY":"abc"}`, masked: true},
		{in: `{"password":"a\"bc"}`, masked: true},
		{in: `{"public_key":"abc","name":"abc"}`, masked: false},
		{in: `{"name":"me","private_key":"abc","region":"us-east-1"}`, masked: true, survivor: `"region":"us-east-1"`},
	}
	for _, tt := range tests {
		got := secretFields.ReplaceAllString(tt.in, "***")
		if tt.masked == strings.Contains(got, "abc") {
			t.Errorf("%s -> %s, masked want %v", tt.in, got, tt.masked)
		}
		if tt.survivor != "" && !strings.Contains(got, tt.survivor) {
			t.Errorf("%s -> %s, lost %s", tt.in, got, tt.survivor)
		}
	}
	pem := "key: -----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----\n"
	if got := privateKeyBlocks.ReplaceAllString(pem, "***"); strings.Contains(got, "MIIEabc") {
		t.Errorf("PEM block not masked: %q", got)
	}
}

func statusName(status int) string {
	return fmt.Sprintf("%d_%s", status, strings.ReplaceAll(http.StatusText(status), " ", "_"))
}

// A route's pace holds between real sends even when the client-wide limiter delays one of
// them: all limiters give their token at the moment of sending.
