package runpod

import (
	"testing"
)

func findByID(list []obj, id string) obj {
	for _, m := range list {
		if m["id"] == id {
			return m
		}
	}
	return nil
}

func TestGPUCatalog(t *testing.T) {
	h := newHarness(t, fastOptions)
	gpus := h.want(h.do("GET", "/v2/catalog/gpus", nil), 200).body.objs("gpus")
	h100 := findByID(gpus, "NVIDIA H100 80GB HBM3")
	if h100 == nil || h100["memory"] != float64(80) || h100.obj("price")["secure"] != 2.69 || h100.obj("maxCount")["secure"] != float64(8) {
		t.Fatalf("H100 %v", h100)
	}
	if _, ok := h100["availability"]; ok {
		t.Fatalf("availability without include")
	}
	for _, id := range []string{"NVIDIA H100 PCIe", "NVIDIA H100 NVL", "NVIDIA H200", "NVIDIA B200", "NVIDIA A100-SXM4-80GB", "NVIDIA A100 80GB PCIe", "NVIDIA L40S", "NVIDIA L40", "NVIDIA RTX A6000", "NVIDIA A40", "NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 5090", "NVIDIA RTX 6000 Ada Generation", "AMD Instinct MI300X OAM"} {
		if findByID(gpus, id) == nil {
			t.Errorf("catalog lacks %q", id)
		}
	}
	if mi := findByID(gpus, "AMD Instinct MI300X OAM"); mi["manufacturer"] != "AMD" || mi["pool"] != nil || mi["community"] != false {
		t.Errorf("MI300X %v", mi)
	}

	h.wantProblem(h.do("GET", "/v2/catalog/gpus?include=AVAILABILITY", nil), 400)
	h.wantProblem(h.do("GET", "/v2/catalog/gpus?product=POD", nil), 400)
	h.wantProblem(h.do("GET", "/v2/catalog/gpus?include=STOCK&product=POD", nil), 422)
	h.wantProblem(h.do("GET", "/v2/catalog/gpus?include=AVAILABILITY&product=POD&cudaVersions=12.8&minCudaVersion=12", nil), 400)

	h.emu.SetCapacity("NVIDIA B200", "US-TX-3", "SECURE", 0)
	h.emu.SetCapacity("NVIDIA B200", "EU-RO-1", "SECURE", 0)
	gpus = h.want(h.do("GET", "/v2/catalog/gpus?include=AVAILABILITY&product=POD", nil), 200).body.objs("gpus")
	b200 := findByID(gpus, "NVIDIA B200")
	if b200["availability"] != "NONE" || b200["dataCenters"] != nil {
		t.Fatalf("sold-out B200 %v", b200)
	}
	l40s := findByID(gpus, "NVIDIA L40S")
	if l40s["availability"] != "HIGH" || len(l40s.list("dataCenters")) != 5 || len(l40s.list("cudaVersions")) != 3 {
		t.Fatalf("L40S %v", l40s)
	}
	// count narrows availability to pods that big.
	g := h.want(h.do("GET", "/v2/catalog/gpus/NVIDIA%20L40?include=AVAILABILITY&product=POD&count=8&cloud=COMMUNITY", nil), 200).body
	if g["availability"] != "NONE" {
		t.Fatalf("8x L40 community %v", g["availability"])
	}
	// countryCodes drops types not deployable there from the list.
	gpus = h.want(h.do("GET", "/v2/catalog/gpus?include=AVAILABILITY&product=POD&countryCodes=IS", nil), 200).body.objs("gpus")
	if len(gpus) != 3 {
		t.Fatalf("Iceland offers %d GPU types, want 3", len(gpus))
	}
	h.wantProblem(h.do("GET", "/v2/catalog/gpus/NVIDIA%20H999", nil), 404)
}

func TestDataCenterCatalog(t *testing.T) {
	h := newHarness(t, fastOptions)
	dcs := h.want(h.do("GET", "/v2/catalog/datacenters", nil), 200).body.objs("dataCenters")
	for _, id := range []string{"US-TX-3", "US-KS-2", "US-GA-1", "EU-RO-1", "EU-SE-1", "CA-MTL-1", "EUR-IS-1"} {
		if findByID(dcs, id) == nil {
			t.Errorf("no data center %s", id)
		}
	}
	if _, ok := findByID(dcs, "US-TX-3")["gpuAvailability"]; ok {
		t.Fatalf("gpuAvailability without include")
	}
	dcs = h.want(h.do("GET", "/v2/catalog/datacenters?regions=EUROPE&include=GPU_AVAILABILITY", nil), 200).body.objs("dataCenters")
	for _, d := range dcs {
		if d["region"] != "EUROPE" {
			t.Fatalf("regions filter let %v through", d)
		}
	}
	ro := findByID(dcs, "EU-RO-1")
	if g := findByID(ro.objs("gpuAvailability"), "NVIDIA GeForce RTX 4090"); g == nil || g["availability"] != "HIGH" {
		t.Fatalf("EU-RO-1 4090 %v", g)
	}
	dc := h.want(h.do("GET", "/v2/catalog/datacenters/EU-RO-1?include=GPU_AVAILABILITY,CPU_AVAILABILITY", nil), 200).body
	if dc["cpuAvailability"] == nil || dc["gpuAvailability"] == nil || dc["globalNetwork"] != true {
		t.Fatalf("EU-RO-1 %v", dc)
	}
	h.wantProblem(h.do("GET", "/v2/catalog/datacenters?networkVolumeTypes=FAST", nil), 422)
	h.wantProblem(h.do("GET", "/v2/catalog/datacenters/XX-1", nil), 404)
	hp := h.want(h.do("GET", "/v2/catalog/datacenters?networkVolumeTypes=STANDARD,HIGH_PERFORMANCE&globalNetwork=true", nil), 200).body.list("dataCenters")
	if len(hp) != 4 {
		t.Fatalf("%d data centers with both volume tiers and global networking", len(hp))
	}
}
