package apifake

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// TraceLog turns the provider's TRACE logs of cloud ("lambda") on for the test, which therefore
// cannot run in parallel (t.Setenv), and returns a context that logs into the buffer.
func TraceLog(t testing.TB, cloud string) (context.Context, *bytes.Buffer) {
	t.Setenv("TF_LOG_PROVIDER_NEOCLOUD_"+strings.ToUpper(cloud), "TRACE")
	var buf bytes.Buffer
	return tflogtest.RootLogger(context.Background(), &buf), &buf
}

// NoSecrets fails the test for each secret that the log output contains.
func NoSecrets(t testing.TB, out string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		if strings.Contains(out, secret) {
			t.Errorf("log output contains secret %q:\n%s", secret, out)
		}
	}
}
