package runpod

import (
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
)

func TestGPUTableFollowsTheCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range runpodGPUs {
		if _, ok := gpus.Lookup(g.gpu); !ok || seen[g.id] || g.maxCount <= 0 {
			t.Errorf("%s (%s): not in the neutral catalog, its id twice, or no count", g.gpu, g.id)
		}
		seen[g.id] = true
		if name, id, _, ok := gpuOfID(g.id); !ok || name != g.gpu || id != g.id {
			t.Errorf("gpuOfID(%q) = %q, %q, %v", g.id, name, id, ok)
		}
	}
	if name, id, n, ok := gpuOfID("nvidia h100 80gb hbm3"); !ok || name != "H100_80GB_SXM" || id != "NVIDIA H100 80GB HBM3" || n != 8 {
		t.Errorf("gpuOfID is case-insensitive and finds H100 SXM, got %q %q %d %v", name, id, n, ok)
	}
	if _, _, ok := gpuIDOf("A10_24GB"); ok {
		t.Error("RunPod sells no A10")
	}
}
