package gpus

import (
	"strings"
	"testing"
)

func TestCatalogNamesAndIDsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range All() {
		for _, key := range []string{"name:" + g.Name, "runpod:" + g.RunPodID} {
			if strings.HasSuffix(key, ":") {
				continue
			}
			if seen[key] {
				t.Errorf("duplicate catalog key %s", key)
			}
			seen[key] = true
		}
		if g.MemoryGB <= 0 {
			t.Errorf("%s has no memory size", g.Name)
		}
	}
	if g, ok := ByRunPodID("nvidia h100 80gb hbm3"); !ok || g.Name != "H100_80GB_SXM" {
		t.Errorf("ByRunPodID is case-insensitive and finds H100 SXM, got %v %v", g.Name, ok)
	}
	if g, cw, ok := ByCoreWeaveInstanceType("gd-8xh100ib-i128"); !ok || g.Name != "H100_80GB_SXM" || cw.GPUs != 8 {
		t.Errorf("ByCoreWeaveInstanceType = %v %v %v", g.Name, cw, ok)
	}
}
