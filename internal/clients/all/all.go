// Package all links every cloud adapter into the binary: each registers itself with
// clients.Register from its init function. A new cloud adds one import here.
package all

import (
	_ "github.com/neocloud/terraform-provider-neocloud/internal/clients/coreweave" // CoreWeave
	_ "github.com/neocloud/terraform-provider-neocloud/internal/clients/lambda"    // Lambda Cloud
	_ "github.com/neocloud/terraform-provider-neocloud/internal/clients/runpod"    // RunPod
)
