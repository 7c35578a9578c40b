// Package gpus is the neutral GPU catalog: one name per GPU model (H100_80GB_SXM) and its memory.
// Users write the neutral name (or a cloud's native id); each cloud adapter maps the neutral names
// onto its own spelling in its own package (lambda/gpus.go, runpod/gpus.go, coreweave/gpus.go), so
// "which GPU is this" is decided here and "what does this cloud call it" there.
package gpus

import (
	"slices"
	"sort"
	"strings"
)

// GPU is one GPU model.
type GPU struct {
	// Name is the neutral catalog name, e.g. "H100_80GB_SXM".
	Name        string
	Description string
	MemoryGB    int
	Vendor      string // "nvidia" or "amd"
}

var catalog = []GPU{
	{Name: "H100_80GB_SXM", Description: "NVIDIA H100 80GB SXM5", MemoryGB: 80, Vendor: "nvidia"},
	{Name: "H100_80GB_PCIE", Description: "NVIDIA H100 80GB PCIe", MemoryGB: 80, Vendor: "nvidia"},
	{Name: "H100_94GB_NVL", Description: "NVIDIA H100 NVL 94GB", MemoryGB: 94, Vendor: "nvidia"},
	{Name: "H200_141GB_SXM", Description: "NVIDIA H200 141GB SXM", MemoryGB: 141, Vendor: "nvidia"},
	{Name: "B200_180GB_SXM", Description: "NVIDIA B200 180GB SXM6", MemoryGB: 180, Vendor: "nvidia"},
	{Name: "GH200_96GB", Description: "NVIDIA GH200 Grace Hopper 96GB", MemoryGB: 96, Vendor: "nvidia"},
	{Name: "A100_80GB_SXM", Description: "NVIDIA A100 80GB SXM4", MemoryGB: 80, Vendor: "nvidia"},
	{Name: "A100_80GB_PCIE", Description: "NVIDIA A100 80GB PCIe", MemoryGB: 80, Vendor: "nvidia"},
	{Name: "A100_40GB", Description: "NVIDIA A100 40GB (PCIe for 1 GPU, SXM4 for 2-8)", MemoryGB: 40, Vendor: "nvidia"},
	{Name: "L40S_48GB", Description: "NVIDIA L40S 48GB", MemoryGB: 48, Vendor: "nvidia"},
	{Name: "L40_48GB", Description: "NVIDIA L40 48GB", MemoryGB: 48, Vendor: "nvidia"},
	{Name: "A6000_48GB", Description: "NVIDIA RTX A6000 48GB", MemoryGB: 48, Vendor: "nvidia"},
	{Name: "A40_48GB", Description: "NVIDIA A40 48GB", MemoryGB: 48, Vendor: "nvidia"},
	{Name: "RTX_6000_ADA_48GB", Description: "NVIDIA RTX 6000 Ada Generation 48GB", MemoryGB: 48, Vendor: "nvidia"},
	{Name: "A10_24GB", Description: "NVIDIA A10 24GB", MemoryGB: 24, Vendor: "nvidia"},
	{Name: "V100_16GB", Description: "NVIDIA Tesla V100 16GB", MemoryGB: 16, Vendor: "nvidia"},
	{Name: "RTX_4090_24GB", Description: "NVIDIA GeForce RTX 4090 24GB", MemoryGB: 24, Vendor: "nvidia"},
	{Name: "RTX_5090_32GB", Description: "NVIDIA GeForce RTX 5090 32GB", MemoryGB: 32, Vendor: "nvidia"},
	{Name: "MI300X_192GB", Description: "AMD Instinct MI300X 192GB", MemoryGB: 192, Vendor: "amd"},
}

// All returns the catalog in a stable order.
func All() []GPU { return slices.Clone(catalog) }

// Names returns every neutral name, sorted.
func Names() []string {
	out := make([]string, 0, len(catalog))
	for _, g := range catalog {
		out = append(out, g.Name)
	}
	sort.Strings(out)
	return out
}

// Lookup finds a GPU by neutral name (case-insensitive).
func Lookup(name string) (GPU, bool) {
	for _, g := range catalog {
		if strings.EqualFold(g.Name, name) {
			return g, true
		}
	}
	return GPU{}, false
}
