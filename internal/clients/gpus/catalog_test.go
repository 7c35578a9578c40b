package gpus

import "testing"

func TestCatalogNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range All() {
		if seen[g.Name] {
			t.Errorf("duplicate catalog name %s", g.Name)
		}
		seen[g.Name] = true
		if g.MemoryGB <= 0 {
			t.Errorf("%s has no memory size", g.Name)
		}
	}
	if g, ok := Lookup("h100_80gb_sxm"); !ok || g.Name != "H100_80GB_SXM" {
		t.Errorf("Lookup is case-insensitive and finds H100 SXM, got %v %v", g.Name, ok)
	}
}
