package all

import (
	"errors"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Settings.Insecure reaches every cloud's HTTP client: plain http to another host is refused
// without it. Building an adapter sends nothing, so the .invalid host is never contacted.
func TestNewRefusesPlainHTTPToAnotherHostWithoutOptIn(t *testing.T) {
	t.Parallel()
	const endpoint = "http://api.emulator.invalid/v1"
	for _, name := range clients.Names() {
		info, _ := clients.Lookup(name)
		if _, err := info.New(clients.Settings{APIKey: "k", Endpoint: endpoint}); !errors.Is(err, clients.ErrInsecureEndpoint) {
			t.Errorf("%s: New(%s) = %v, want ErrInsecureEndpoint", name, endpoint, err)
		}
		if _, err := info.New(clients.Settings{APIKey: "k", Endpoint: endpoint, Insecure: true}); err != nil {
			t.Errorf("%s: New(%s) with Insecure: %v", name, endpoint, err)
		}
	}
}
