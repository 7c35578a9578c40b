package httpx

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// Logs never carry secrets.

func TestDo_logsMaskSecrets(t *testing.T) {
	ctx, buf := apifake.TraceLog(t, testCloud) // not parallel
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
	apifake.NoSecrets(t, out, apiKey, privateKey, respPrivate, kubeToken)
	if !strings.Contains(out, srv.URL+"/api/v1/ssh-keys") {
		t.Errorf("log output lacks the request URL:\n%s", out)
	}
	entries, err := tflogtest.MultilineJSONDecode(buf)
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

// A launch carrying an environment (RunPod env with HF_TOKEN) and user data (Lambda), and an
// answer that echoes the environment back, as RunPod's pod answers do: no value may reach the
// logs, while the names stay for debugging.
func TestDo_logsMaskEnvValuesAndUserData(t *testing.T) {
	ctx, buf := apifake.TraceLog(t, testCloud) // not parallel
	const (
		hfToken  = "hf_q8Zr2mKxVb7LpN4c"
		plainEnv = "plain-env-value-5e1d"
		userData = "#cloud-config\nruncmd:\n  - echo userdata-secret-77f3 > /root/creds\n"
		echoed   = "echoed-env-value-a9c4"
	)
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request, hit int) {
		_, _ = io.ReadAll(r.Body)
		writeJSON(w, http.StatusCreated, map[string]any{
			"id":  "pod-1",
			"env": map[string]string{"HF_TOKEN": hfToken, "ECHOED": echoed},
		})
	})
	c := newClient(t, srv, nil)
	err := c.Do(ctx, Request{
		Operation: "create pod", Method: http.MethodPost, Path: "/pods", NotIdempotent: true,
		Body: map[string]any{
			"name":      "finetune-1",
			"env":       map[string]string{"HF_TOKEN": hfToken, "MY_SETTING": plainEnv},
			"user_data": userData,
		},
	}, nil)
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	out := buf.String()
	apifake.NoSecrets(t, out, hfToken, plainEnv, "userdata-secret-77f3", echoed)
	for _, kept := range []string{"sending API request", "received API response", "MY_SETTING", "ECHOED", "finetune-1"} {
		if !strings.Contains(out, kept) {
			t.Errorf("log output lacks %q (the bodies must still be logged, redacted):\n%s", kept, out)
		}
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
