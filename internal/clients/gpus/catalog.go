// Package gpus is the neutral GPU catalog: one name per GPU model (H100_80GB_SXM), its memory,
// and how RunPod and CoreWeave spell it (Lambda's spelling is in its own package). Users write the neutral name (or a cloud's native id) and each
// cloud adapter resolves it through this table, so "which GPU is this" is decided in one place.
package gpus

import (
	"slices"
	"sort"
	"strings"
)

// GPU is one GPU model, with RunPod's and CoreWeave's spelling of it.
type GPU struct {
	// Name is the neutral catalog name, e.g. "H100_80GB_SXM".
	Name        string
	Description string
	MemoryGB    int
	Vendor      string // "nvidia" or "amd"

	// RunPodID is RunPod's GPU type id; RunPodMaxCount the most GPUs of it one pod can have.
	RunPodID       string
	RunPodMaxCount int

	// CoreWeave sells whole nodes: each instance type carries a fixed number of GPUs.
	CoreWeave []CoreWeaveType
}

// CoreWeaveType is one CoreWeave node instance type.
type CoreWeaveType struct {
	InstanceType string
	GPUs         int
	InfiniBand   bool
}

var catalog = []GPU{
	{Name: "H100_80GB_SXM", Description: "NVIDIA H100 80GB SXM5", MemoryGB: 80, Vendor: "nvidia",
		RunPodID: "NVIDIA H100 80GB HBM3", RunPodMaxCount: 8,
		CoreWeave: []CoreWeaveType{{InstanceType: "gd-8xh100ib-i128", GPUs: 8, InfiniBand: true}}},
	{Name: "H100_80GB_PCIE", Description: "NVIDIA H100 80GB PCIe", MemoryGB: 80, Vendor: "nvidia",
		RunPodID: "NVIDIA H100 PCIe", RunPodMaxCount: 8},
	{Name: "H100_94GB_NVL", Description: "NVIDIA H100 NVL 94GB", MemoryGB: 94, Vendor: "nvidia",
		RunPodID: "NVIDIA H100 NVL", RunPodMaxCount: 8},
	{Name: "H200_141GB_SXM", Description: "NVIDIA H200 141GB SXM", MemoryGB: 141, Vendor: "nvidia",
		RunPodID: "NVIDIA H200", RunPodMaxCount: 8,
		CoreWeave: []CoreWeaveType{{InstanceType: "gd-8xh200ib-i128", GPUs: 8, InfiniBand: true}}},
	{Name: "B200_180GB_SXM", Description: "NVIDIA B200 180GB SXM6", MemoryGB: 180, Vendor: "nvidia",
		RunPodID: "NVIDIA B200", RunPodMaxCount: 8,
		CoreWeave: []CoreWeaveType{{InstanceType: "gd-8xb200ib-i128", GPUs: 8, InfiniBand: true}}},
	{Name: "GH200_96GB", Description: "NVIDIA GH200 Grace Hopper 96GB", MemoryGB: 96, Vendor: "nvidia",
		CoreWeave: []CoreWeaveType{{InstanceType: "gd-1xgh200", GPUs: 1}}},
	{Name: "A100_80GB_SXM", Description: "NVIDIA A100 80GB SXM4", MemoryGB: 80, Vendor: "nvidia",
		RunPodID: "NVIDIA A100-SXM4-80GB", RunPodMaxCount: 8,
		CoreWeave: []CoreWeaveType{{InstanceType: "gd-8xa100-i128", GPUs: 8}}},
	{Name: "A100_80GB_PCIE", Description: "NVIDIA A100 80GB PCIe", MemoryGB: 80, Vendor: "nvidia",
		RunPodID: "NVIDIA A100 80GB PCIe", RunPodMaxCount: 8},
	{Name: "A100_40GB", Description: "NVIDIA A100 40GB (PCIe for 1 GPU, SXM4 for 2-8)", MemoryGB: 40, Vendor: "nvidia"},
	{Name: "L40S_48GB", Description: "NVIDIA L40S 48GB", MemoryGB: 48, Vendor: "nvidia",
		RunPodID: "NVIDIA L40S", RunPodMaxCount: 8,
		CoreWeave: []CoreWeaveType{{InstanceType: "gd-8xl40s-i128", GPUs: 8}}},
	{Name: "L40_48GB", Description: "NVIDIA L40 48GB", MemoryGB: 48, Vendor: "nvidia",
		RunPodID: "NVIDIA L40", RunPodMaxCount: 8,
		CoreWeave: []CoreWeaveType{{InstanceType: "gd-8xl40-i128", GPUs: 8}}},
	{Name: "A6000_48GB", Description: "NVIDIA RTX A6000 48GB", MemoryGB: 48, Vendor: "nvidia",
		RunPodID: "NVIDIA RTX A6000", RunPodMaxCount: 8},
	{Name: "A40_48GB", Description: "NVIDIA A40 48GB", MemoryGB: 48, Vendor: "nvidia",
		RunPodID: "NVIDIA A40", RunPodMaxCount: 8},
	{Name: "RTX_6000_ADA_48GB", Description: "NVIDIA RTX 6000 Ada Generation 48GB", MemoryGB: 48, Vendor: "nvidia",
		RunPodID: "NVIDIA RTX 6000 Ada Generation", RunPodMaxCount: 8},
	{Name: "A10_24GB", Description: "NVIDIA A10 24GB", MemoryGB: 24, Vendor: "nvidia"},
	{Name: "V100_16GB", Description: "NVIDIA Tesla V100 16GB", MemoryGB: 16, Vendor: "nvidia"},
	{Name: "RTX_4090_24GB", Description: "NVIDIA GeForce RTX 4090 24GB", MemoryGB: 24, Vendor: "nvidia",
		RunPodID: "NVIDIA GeForce RTX 4090", RunPodMaxCount: 8},
	{Name: "RTX_5090_32GB", Description: "NVIDIA GeForce RTX 5090 32GB", MemoryGB: 32, Vendor: "nvidia",
		RunPodID: "NVIDIA GeForce RTX 5090", RunPodMaxCount: 8},
	{Name: "MI300X_192GB", Description: "AMD Instinct MI300X 192GB", MemoryGB: 192, Vendor: "amd",
		RunPodID: "AMD Instinct MI300X OAM", RunPodMaxCount: 8},
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

// ByRunPodID finds the GPU RunPod calls id.
func ByRunPodID(id string) (GPU, bool) {
	for _, g := range catalog {
		if g.RunPodID != "" && strings.EqualFold(g.RunPodID, id) {
			return g, true
		}
	}
	return GPU{}, false
}

// ByCoreWeaveInstanceType finds the GPU and per-node count of a CoreWeave instance type.
func ByCoreWeaveInstanceType(t string) (GPU, CoreWeaveType, bool) {
	for _, g := range catalog {
		for _, cw := range g.CoreWeave {
			if strings.EqualFold(cw.InstanceType, t) {
				return g, cw, true
			}
		}
	}
	return GPU{}, CoreWeaveType{}, false
}
