package all

import (
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Every cloud registers how the provider block and the environment name its key and
// endpoint, and a factory that builds it from a key alone. Each package's own tests check what
// is particular to it (its regions, its errors without a key).
func TestRegistered(t *testing.T) {
	want := []clients.CloudInfo{
		{Name: "coreweave", DisplayName: "CoreWeave", DefaultEndpoint: "https://api.coreweave.com",
			KeyEnv: "COREWEAVE_API_TOKEN", EndpointEnv: "COREWEAVE_API_ENDPOINT", KeyAttribute: "api_token"},
		{Name: "lambda", DisplayName: "Lambda Cloud", DefaultEndpoint: "https://cloud.lambda.ai/api/v1",
			KeyEnv: "LAMBDA_API_KEY", EndpointEnv: "NEOCLOUD_LAMBDA_ENDPOINT", KeyAttribute: "api_key"},
		{Name: "runpod", DisplayName: "RunPod", DefaultEndpoint: "https://api.runpod.io/v2",
			KeyEnv: "RUNPOD_API_KEY", EndpointEnv: "NEOCLOUD_RUNPOD_ENDPOINT", KeyAttribute: "api_key"},
	}
	for _, w := range want {
		info, ok := clients.Lookup(w.Name)
		if !ok {
			t.Errorf("%s is not registered", w.Name)
			continue
		}
		if info.DisplayName != w.DisplayName || info.DefaultEndpoint != w.DefaultEndpoint || info.KeyEnv != w.KeyEnv ||
			info.EndpointEnv != w.EndpointEnv || info.KeyAttribute != w.KeyAttribute || info.New == nil {
			t.Errorf("%s: info %+v", w.Name, info)
			continue
		}
		if cloud, err := info.New(clients.Settings{APIKey: "k"}); err != nil || cloud.Name() != w.Name {
			t.Errorf("%s: New: %v, %v", w.Name, cloud, err)
		}
	}
}
