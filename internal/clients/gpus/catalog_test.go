package gpus

import (
	"strings"
	"testing"
)

func TestLambdaInstanceType(t *testing.T) {
	cases := []struct {
		name    string
		count   int
		want    string
		wantErr string
	}{
		{"H100_80GB_SXM", 8, "gpu_8x_h100_sxm5", ""},
		{"h100_80gb_sxm", 1, "gpu_1x_h100_sxm5", ""},
		{"A100_40GB", 1, "gpu_1x_a100", ""},
		{"H100_80GB_SXM", 3, "", "counts of 1, 2, 4, 8 per Lambda Cloud instance, not 3"},
		{"L40S_48GB", 1, "", "L40S_48GB is not sold by Lambda Cloud"},
		{"H900", 1, "", "unknown GPU type"},
	}
	for _, c := range cases {
		got, err := LambdaInstanceType(c.name, c.count)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("LambdaInstanceType(%q, %d) error = %v, want it to contain %q", c.name, c.count, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("LambdaInstanceType(%q, %d) = %q, %v; want %q", c.name, c.count, got, err, c.want)
		}
	}
}

func TestParseLambdaInstanceTypeRoundTrips(t *testing.T) {
	for _, g := range All() {
		for _, n := range g.LambdaCounts {
			it, err := LambdaInstanceType(g.Name, n)
			if err != nil {
				t.Fatal(err)
			}
			name, count, ok := ParseLambdaInstanceType(it)
			if !ok || name != g.Name || count != n {
				t.Errorf("ParseLambdaInstanceType(%q) = %q, %d, %v; want %q, %d", it, name, count, ok, g.Name, n)
			}
		}
	}
	if _, _, ok := ParseLambdaInstanceType("gpu_1x_unknownslug"); ok {
		t.Error("an unknown slug must not resolve")
	}
	if !IsLambdaInstanceType("gpu_1x_unknownslug") || IsLambdaInstanceType("H100_80GB_SXM") {
		t.Error("IsLambdaInstanceType misclassifies")
	}
}

func TestCatalogNamesAndIDsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range All() {
		for _, key := range []string{"name:" + g.Name, "runpod:" + g.RunPodID, "lambda:" + g.LambdaSlug} {
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
		if g.LambdaSlug == "" && g.RunPodID == "" && len(g.CoreWeave) == 0 {
			t.Errorf("%s is sold by no cloud", g.Name)
		}
	}
	if g, ok := ByRunPodID("nvidia h100 80gb hbm3"); !ok || g.Name != "H100_80GB_SXM" {
		t.Errorf("ByRunPodID is case-insensitive and finds H100 SXM, got %v %v", g.Name, ok)
	}
	if g, cw, ok := ByCoreWeaveInstanceType("gd-8xh100ib-i128"); !ok || g.Name != "H100_80GB_SXM" || cw.GPUs != 8 {
		t.Errorf("ByCoreWeaveInstanceType = %v %v %v", g.Name, cw, ok)
	}
}
