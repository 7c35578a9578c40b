package provider

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/server"
)

// testTimeScale runs the emulated clouds 100 times faster than the real ones: a Lambda
// instance boots in about a second.
const testTimeScale = 0.01

var testAccProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"neocloud": providerserver.NewProtocol6WithError(New("test")()),
}

func TestMain(m *testing.M) {
	os.Setenv("CHECKPOINT_DISABLE", "1")
	// Pace requests like the vendors do, on the emulators' clock; the provider's waits follow
	// the same clock (clients.Settings.Pacing).
	os.Setenv("NEOCLOUD_RATE_SCALE", strconv.FormatFloat(testTimeScale, 'f', -1, 64))
	// The provider runs in this process: its clients take http.DefaultTransport, which from
	// here on refuses every host but this machine (see loopbackOnlyTransport).
	http.DefaultTransport = &loopbackOnlyTransport{next: http.DefaultTransport}
	code := m.Run()
	if hosts := refusedHosts(); len(hosts) > 0 {
		fmt.Fprintf(os.Stderr, "tests tried to send requests to hosts other than this machine: %v\n", hosts)
		code = 1
	}
	os.Exit(code)
}

// testEnv is one set of emulated clouds per test, so tests can run in parallel and each can
// inspect exactly the machines it made.
type testEnv struct {
	emu *server.Server
	url string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	emu := server.New(server.Options{
		TimeScale: testTimeScale,
		// A CKS cluster takes 45 minutes for real: 2.7 s here.
		CloudTimeScale: map[string]float64{"coreweave": testTimeScale / 10},
		LambdaKey:      "lambda-test-key", RunPodKey: "runpod-test-key", CoreWeaveToken: "CW-SECRET-test",
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &testEnv{emu: emu, url: srv.URL}
}

// providerConfig is the provider block pointing every cloud at this test's emulators.
func (e *testEnv) providerConfig() string {
	return fmt.Sprintf(`
provider "neocloud" {
  lambda {
    api_key  = "lambda-test-key"
    endpoint = "%[1]s/api/v1"
  }
  runpod {
    api_key  = "runpod-test-key"
    endpoint = "%[1]s/v2"
  }
  coreweave {
    api_token = "CW-SECRET-test"
    endpoint  = "%[1]s"
  }
}
`, e.url)
}

// testAccPreCheck skips acceptance tests unless TF_ACC is set (terraform-plugin-testing also
// checks, this keeps the message in one place).
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests need TF_ACC=1 and a Terraform CLI (make testacc)")
	}
}
