package coreweave

import (
	"errors"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// The platform API names each cluster's Kubernetes API server, and every request to it carries
// the account token: plain http to another host needs the same opt-in as the platform endpoint.
// Building clients sends nothing, so the .invalid hosts are never contacted.
func TestKubernetesEndpointNeedsOptInForPlainHTTP(t *testing.T) {
	t.Parallel()
	const remote = "http://k8s.emulator.invalid/k8s/cl-1"
	strict, err := NewWithOptions(clients.Settings{APIKey: testToken, Endpoint: "https://api.emulator.invalid"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Kubernetes(remote); !errors.Is(err, clients.ErrInsecureEndpoint) {
		t.Errorf("Kubernetes(%s) = %v, want ErrInsecureEndpoint", remote, err)
	}
	for _, ok := range []string{"https://k8s.emulator.invalid/k8s/cl-1", "http://127.0.0.1:1/k8s/cl-1", "http://localhost:1/k8s/cl-1"} {
		if _, err := strict.Kubernetes(ok); err != nil {
			t.Errorf("Kubernetes(%s) = %v, want it accepted", ok, err)
		}
	}

	if _, err := NewWithOptions(clients.Settings{APIKey: testToken, Endpoint: "http://api.emulator.invalid"}); !errors.Is(err, clients.ErrInsecureEndpoint) {
		t.Errorf("platform endpoint over plain http without opt-in: %v, want ErrInsecureEndpoint", err)
	}
	optedIn, err := NewWithOptions(clients.Settings{APIKey: testToken, Endpoint: "http://api.emulator.invalid", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := optedIn.Kubernetes(remote); err != nil {
		t.Errorf("Kubernetes(%s) with insecure = true: %v", remote, err)
	}
}
