package runpod

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// A pod's env carries tokens (HF_TOKEN) and arbitrary secrets under any name: creating the pod
// and reading it back, with request logging at TRACE, must log neither the values sent nor the
// values RunPod echoes in its answers.
func TestCreateInstanceLogsNoEnvValues(t *testing.T) {
	t.Setenv("TF_LOG_PROVIDER_NEOCLOUD_RUNPOD", "TRACE")
	const (
		hfToken = "hf_Wq3xZ9vK2mLp8RtY"
		other   = "db-password-7c2e41"
	)
	f, c := newFakeCloud(t)
	h100Catalog(f, map[string]string{"US-TX-3": "HIGH"})
	s := &podStore{}
	s.install(f, func(w http.ResponseWriter, _ string, created func() map[string]any) {
		writeRaw(w, 201, mustJSON(created()))
	})
	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	spec := h100Spec()
	spec.Options = &InstanceOptions{
		Image: "runpod/pytorch:2.4.0", Env: map[string]string{"HF_TOKEN": hfToken, "DB_URL": other},
	}
	inst, err := c.CreateInstance(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetInstance(ctx, inst.ID); err != nil {
		t.Fatal(err)
	}
	if got := string(f.Requests("POST", "/pods")[0].Body); !strings.Contains(got, hfToken) {
		t.Fatalf("the env did not reach RunPod, so the test proves nothing: %s", got)
	}
	out := buf.String()
	for _, secret := range []string{hfToken, other} {
		if strings.Contains(out, secret) {
			t.Errorf("log output contains env value %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "DB_URL") || strings.Count(out, "received API response") < 2 {
		t.Errorf("want the create and the read logged with env names kept:\n%s", out)
	}
}
