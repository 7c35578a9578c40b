package lambda

import (
	"strings"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
)

func TestInstanceTypeFor(t *testing.T) {
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
		got, err := instanceTypeFor(c.name, c.count)
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

func TestInstanceTypeRoundTrips(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range lambdaGPUs {
		if _, ok := gpus.Lookup(g.gpu); !ok || seen[g.slug] {
			t.Errorf("%s (%s): not in the neutral catalog, or its slug twice", g.gpu, g.slug)
		}
		seen[g.slug] = true
		for _, n := range g.counts {
			it, err := instanceTypeFor(g.gpu, n)
			if err != nil {
				t.Fatal(err)
			}
			if name, count := gpuOfInstanceType(it); name != g.gpu || count != n {
				t.Errorf("gpuOfInstanceType(%q) = %q, %d; want %q, %d", it, name, count, g.gpu, n)
			}
		}
	}
	if name, n := gpuOfInstanceType("gpu_1x_unknownslug"); name != "unknownslug" || n != 1 {
		t.Errorf("an unknown slug is its own native id: %q, %d", name, n)
	}
	if _, _, ok := splitInstanceType("H100_80GB_SXM"); ok {
		t.Error("a neutral name is not a Lambda instance type")
	}
}
