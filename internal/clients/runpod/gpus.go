package runpod

import "strings"

// RunPod's spelling of the neutral GPU catalog: RunPod names a GPU type by its manufacturer's
// marketing name, and a pod has up to maxCount GPUs of it. The catalog (internal/clients/gpus)
// keeps the neutral names; this table is RunPod's alone.
var runpodGPUs = []struct {
	gpu      string // neutral catalog name
	id       string // RunPod's GPU type id
	maxCount int    // the most GPUs of the type one pod can have
}{
	{"H100_80GB_SXM", "NVIDIA H100 80GB HBM3", 8},
	{"H100_80GB_PCIE", "NVIDIA H100 PCIe", 8},
	{"H100_94GB_NVL", "NVIDIA H100 NVL", 8},
	{"H200_141GB_SXM", "NVIDIA H200", 8},
	{"B200_180GB_SXM", "NVIDIA B200", 8},
	{"A100_80GB_SXM", "NVIDIA A100-SXM4-80GB", 8},
	{"A100_80GB_PCIE", "NVIDIA A100 80GB PCIe", 8},
	{"L40S_48GB", "NVIDIA L40S", 8},
	{"L40_48GB", "NVIDIA L40", 8},
	{"A6000_48GB", "NVIDIA RTX A6000", 8},
	{"A40_48GB", "NVIDIA A40", 8},
	{"RTX_6000_ADA_48GB", "NVIDIA RTX 6000 Ada Generation", 8},
	{"RTX_4090_24GB", "NVIDIA GeForce RTX 4090", 8},
	{"RTX_5090_32GB", "NVIDIA GeForce RTX 5090", 8},
	{"MI300X_192GB", "AMD Instinct MI300X OAM", 8},
}

// gpuIDOf returns RunPod's GPU type id for a neutral catalog name and the most GPUs of it per
// pod; ok is false when RunPod does not sell the GPU.
func gpuIDOf(name string) (id string, maxCount int, ok bool) {
	for _, g := range runpodGPUs {
		if strings.EqualFold(g.gpu, name) {
			return g.id, g.maxCount, true
		}
	}
	return "", 0, false
}

// gpuOfID finds the GPU RunPod calls id (case-insensitive): its neutral name, RunPod's own
// spelling of the id and the most GPUs of it per pod.
func gpuOfID(id string) (name, canonical string, maxCount int, ok bool) {
	for _, g := range runpodGPUs {
		if strings.EqualFold(g.id, id) {
			return g.gpu, g.id, g.maxCount, true
		}
	}
	return "", "", 0, false
}
