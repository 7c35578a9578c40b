package lambda

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
)

// Lambda's spelling of the neutral GPU catalog: an instance type is gpu_{N}x_{slug}, and each
// GPU model is sold in a few counts per machine. The catalog (internal/clients/gpus) keeps the
// neutral names; this table is Lambda's alone.
var lambdaGPUs = []struct {
	gpu    string // neutral catalog name
	slug   string
	counts []int
}{
	{"H100_80GB_SXM", "h100_sxm5", []int{1, 2, 4, 8}},
	{"H100_80GB_PCIE", "h100_pcie", []int{1}},
	{"B200_180GB_SXM", "b200_sxm6", []int{1, 8}},
	{"GH200_96GB", "gh200", []int{1}},
	{"A100_80GB_SXM", "a100_80gb_sxm4", []int{8}},
	{"A100_40GB", "a100", []int{1, 2, 4, 8}},
	{"A6000_48GB", "a6000", []int{1, 2, 4}},
	{"A10_24GB", "a10", []int{1}},
	{"V100_16GB", "v100", []int{8}},
}

// countsSold lists the GPU counts Lambda sells a neutral GPU model in (none: not sold).
func countsSold(name string) []int {
	for _, g := range lambdaGPUs {
		if strings.EqualFold(g.gpu, name) {
			return g.counts
		}
	}
	return nil
}

// instanceTypeFor returns Lambda's instance type for count GPUs of a neutral model.
func instanceTypeFor(name string, count int) (string, error) {
	g, ok := gpus.Lookup(name)
	if !ok {
		return "", fmt.Errorf("unknown GPU type %q; known types: %s", name, strings.Join(gpus.Names(), ", "))
	}
	for _, l := range lambdaGPUs {
		if l.gpu != g.Name {
			continue
		}
		if !slices.Contains(l.counts, count) {
			return "", fmt.Errorf("%s comes in counts of %s per Lambda Cloud instance, not %d", g.Name, joinInts(l.counts), count)
		}
		return fmt.Sprintf("gpu_%dx_%s", count, l.slug), nil
	}
	return "", fmt.Errorf("%s is not sold by Lambda Cloud", g.Name)
}

// splitInstanceType splits "gpu_8x_h100_sxm5" into its count and slug; ok is false for a name
// not spelled like a Lambda instance type.
func splitInstanceType(t string) (count int, slug string, ok bool) {
	rest, found := strings.CutPrefix(t, "gpu_")
	if !found {
		return 0, "", false
	}
	n, slug, found := strings.Cut(rest, "x_")
	if !found || slug == "" {
		return 0, "", false
	}
	count, err := strconv.Atoi(n)
	if err != nil || count <= 0 {
		return 0, "", false
	}
	return count, slug, true
}

// gpuOfInstanceType names the GPU model and count of a Lambda instance type: the neutral name
// when the table knows the slug, else the slug itself (the best native id there is).
func gpuOfInstanceType(t string) (name string, count int) {
	count, slug, ok := splitInstanceType(t)
	if !ok {
		return t, 0
	}
	for _, g := range lambdaGPUs {
		if g.slug == slug {
			return g.gpu, count
		}
	}
	return slug, count
}

func joinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ", ")
}
