package coreweave

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// zone is one CoreWeave Availability Zone. HostPrefix is the default PRIMARY host prefix a VPC
// in the zone gets when it names none (the real API picks a zone-specific default too).
type zone struct {
	Name       string
	Region     string
	HostPrefix netip.Prefix
}

// zones are the zones seen in CoreWeave's public material and its availability matrix.
var zones = []zone{
	{"US-EAST-04A", "US-EAST-04", netip.MustParsePrefix("10.16.192.0/18")},
	{"US-EAST-06A", "US-EAST-06", netip.MustParsePrefix("10.20.192.0/18")},
	{"US-WEST-04A", "US-WEST-04", netip.MustParsePrefix("10.24.192.0/18")},
	{"RNO2A", "RNO2", netip.MustParsePrefix("10.28.192.0/18")},
	{"LGA1", "LGA1", netip.MustParsePrefix("10.32.192.0/18")},
	// The rest of CoreWeave's public availability matrix (2026); no capacity by default.
	{"US-EAST-01A", "US-EAST-01", netip.MustParsePrefix("10.36.192.0/18")},
	{"US-EAST-02A", "US-EAST-02", netip.MustParsePrefix("10.40.192.0/18")},
	{"US-EAST-08A", "US-EAST-08", netip.MustParsePrefix("10.44.192.0/18")},
	{"US-EAST-13A", "US-EAST-13", netip.MustParsePrefix("10.48.192.0/18")},
	{"US-EAST-14A", "US-EAST-14", netip.MustParsePrefix("10.52.192.0/18")},
	{"US-CENTRAL-06A", "US-CENTRAL-06", netip.MustParsePrefix("10.56.192.0/18")},
	{"US-CENTRAL-07A", "US-CENTRAL-07", netip.MustParsePrefix("10.60.192.0/18")},
	{"US-WEST-01A", "US-WEST-01", netip.MustParsePrefix("10.64.192.0/18")},
	{"US-WEST-09B", "US-WEST-09", netip.MustParsePrefix("10.68.192.0/18")},
	{"US-WEST-10A", "US-WEST-10", netip.MustParsePrefix("10.72.192.0/18")},
	{"EU-SOUTH-03B", "EU-SOUTH-03", netip.MustParsePrefix("10.76.192.0/18")},
	{"EU-SOUTH-04A", "EU-SOUTH-04", netip.MustParsePrefix("10.80.192.0/18")},
}

func findZone(name string) (*zone, bool) {
	for i := range zones {
		if zones[i].Name == name {
			return &zones[i], true
		}
	}
	return nil, false
}

func zoneNames() []string {
	out := make([]string, len(zones))
	for i, z := range zones {
		out[i] = z.Name
	}
	return out
}

// instanceType is one CoreWeave node type. Prices are per node-hour, in US cents: the emulator's
// static price list (CoreWeave publishes list prices per node; these are plausible figures, not
// a quote). RackNodes is the number of nodes in one rack for rack-scale NVL72 types, whose pools
// may be sized with spec.targetRacks.
type instanceType struct {
	Name        string
	Description string
	GPUs        int
	GPUModel    string
	VCPUs       int
	MemoryGiB   int
	Arch        string
	PriceCents  int
	RackNodes   int
	InfiniBand  bool
}

// Node architectures as Kubernetes labels them.
const (
	archAMD64 = "amd64"
	archARM64 = "arm64"
)

// instanceTypes is the catalog, GPU types first.
var instanceTypes = []instanceType{
	{"gd-8xh100ib-i128", "8x NVIDIA H100 80GB SXM5, InfiniBand, 128 vCPU", 8, "H100_80GB_SXM", 128, 2048, archAMD64, 4924, 0, true},
	{"gd-8xh200ib-i128", "8x NVIDIA H200 141GB SXM5, InfiniBand, 128 vCPU", 8, "H200_141GB_SXM", 128, 2048, archAMD64, 5044, 0, true},
	{"gd-8xa100-i128", "8x NVIDIA A100 80GB SXM4, 128 vCPU", 8, "A100_80GB_SXM", 128, 2048, archAMD64, 2160, 0, false},
	{"gd-8xb200ib-i128", "8x NVIDIA B200 180GB, InfiniBand, 128 vCPU", 8, "B200_180GB", 128, 2048, archAMD64, 6880, 0, true},
	{"b200-8x", "8x NVIDIA B200 180GB, InfiniBand", 8, "B200_180GB", 128, 2048, archAMD64, 6880, 0, true},
	{"gb200-4x", "4x NVIDIA GB200 (NVL72 rack-scale, 18 nodes per rack)", 4, "GB200_186GB", 144, 960, archARM64, 4200, 18, true},
	{"gb300-4x", "4x NVIDIA GB300 (NVL72 rack-scale, 18 nodes per rack)", 4, "GB300_288GB", 144, 960, archARM64, 5000, 18, true},
	{"gd-1xgh200", "1x NVIDIA GH200 96GB, 72 vCPU Grace (arm64)", 1, "GH200_96GB", 72, 480, archARM64, 650, 0, false},
	{"gd-8xl40-i128", "8x NVIDIA L40 48GB, 128 vCPU", 8, "L40_48GB", 128, 1024, archAMD64, 1000, 0, false},
	{"gd-8xl40s-i128", "8x NVIDIA L40S 48GB, 128 vCPU", 8, "L40S_48GB", 128, 1024, archAMD64, 1800, 0, false},
	{"rtxp6000-8x", "8x NVIDIA RTX PRO 6000 Blackwell 96GB", 8, "RTX_PRO_6000_96GB", 128, 1024, archAMD64, 2000, 0, false},
	{"cd-gp-a192-genoa", "CPU: 192 vCPU AMD Genoa, general purpose", 0, "", 192, 1536, archAMD64, 616, 0, false},
	{"cd-gp-i64-erapids", "CPU: 64 vCPU Intel Emerald Rapids, general purpose", 0, "", 64, 512, archAMD64, 240, 0, false},
	{"cd-hc-a384ib-genoa", "CPU: 384 vCPU AMD Genoa, high compute, InfiniBand", 0, "", 384, 1536, archAMD64, 1248, 0, true},
	{"turin-gp", "CPU: AMD Turin, general purpose", 0, "", 192, 1536, archAMD64, 720, 0, false},
}

func findInstanceType(name string) (*instanceType, bool) {
	for i := range instanceTypes {
		if instanceTypes[i].Name == name {
			return &instanceTypes[i], true
		}
	}
	return nil, false
}

func instanceTypeNames() []string {
	out := make([]string, len(instanceTypes))
	for i, t := range instanceTypes {
		out[i] = t.Name
	}
	return out
}

func rackTypeNames() []string {
	var out []string
	for _, t := range instanceTypes {
		if t.RackNodes > 0 {
			out = append(out, t.Name)
		}
	}
	return out
}

// InstanceType describes one entry of the emulator's catalog for Go callers (tests, docs).
type InstanceType struct {
	Name         string  `json:"name"`
	Description  string  `json:"description"`
	GPUs         int     `json:"gpus"`
	GPUModel     string  `json:"gpu_model,omitempty"`
	VCPUs        int     `json:"vcpus"`
	MemoryGiB    int     `json:"memory_gib"`
	Arch         string  `json:"arch"`
	PricePerHour float64 `json:"price_per_hour"`
	RackNodes    int     `json:"rack_nodes,omitempty"`
}

// InstanceTypes returns the catalog with the static per-node hourly prices in US dollars.
func InstanceTypes() []InstanceType {
	out := make([]InstanceType, len(instanceTypes))
	for i, t := range instanceTypes {
		out[i] = InstanceType{Name: t.Name, Description: t.Description, GPUs: t.GPUs, GPUModel: t.GPUModel, VCPUs: t.VCPUs,
			MemoryGiB: t.MemoryGiB, Arch: t.Arch, PricePerHour: float64(t.PriceCents) / 100, RackNodes: t.RackNodes}
	}
	return out
}

// Zones returns the zone names the emulator knows.
func Zones() []string { return zoneNames() }

// kubeVersions are the CKS minor versions a cluster may run, with the patch release the
// emulated control plane and kubelets report.
var kubeVersions = []struct{ minor, patch string }{
	{"v1.32", "v1.32.9"},
	{"v1.33", "v1.33.5"},
	{"v1.34", "v1.34.2"},
	{"v1.35", "v1.35.1"},
	{"v1.36", "v1.36.2"},
	{"v1.37", "v1.37.0"},
}

func versionIndex(v string) int {
	for i, kv := range kubeVersions {
		if kv.minor == v {
			return i
		}
	}
	return -1
}

func supportedVersions() []string {
	out := make([]string, len(kubeVersions))
	for i, kv := range kubeVersions {
		out[i] = kv.minor
	}
	return out
}

// capacityKey addresses one cell of the capacity table.
type capacityKey struct{ instanceType, zone string }

// defaultCapacityTable is the number of free nodes per instance type and zone after New or a
// reset. It is text so it reads like the copy in the package comment, which a test keeps equal
// to it. Zones not listed have none.
const defaultCapacityTable = `
gd-8xh100ib-i128    US-EAST-04A=16 US-EAST-06A=8 US-WEST-04A=8 RNO2A=4 LGA1=4
gd-8xh200ib-i128    US-EAST-04A=8 US-WEST-04A=4 RNO2A=4
gd-8xa100-i128      US-EAST-04A=8 RNO2A=6 LGA1=8
gd-8xb200ib-i128    US-EAST-06A=8 US-WEST-04A=4
b200-8x             US-EAST-06A=4
gb200-4x            US-EAST-06A=36 US-WEST-04A=18
gb300-4x            US-WEST-04A=18
gd-1xgh200          US-EAST-04A=8 RNO2A=4
gd-8xl40-i128       RNO2A=8 LGA1=8
gd-8xl40s-i128      US-EAST-04A=8 RNO2A=8 LGA1=8
rtxp6000-8x         US-EAST-06A=4 US-WEST-04A=4
cd-gp-a192-genoa    US-EAST-04A=32 US-EAST-06A=32 US-WEST-04A=32 RNO2A=32 LGA1=32
cd-gp-i64-erapids   US-EAST-04A=32 US-WEST-04A=32 LGA1=32
cd-hc-a384ib-genoa  US-EAST-04A=8 US-EAST-06A=8
turin-gp            US-EAST-06A=16 US-WEST-04A=16
`

// defaultCapacity parses defaultCapacityTable; a typo in it is a programming error and panics
// (the package's tests, which build emulators, catch it at once).
func defaultCapacity() map[capacityKey]int {
	capacity := map[capacityKey]int{}
	for _, line := range strings.Split(strings.TrimSpace(defaultCapacityTable), "\n") {
		fields := strings.Fields(line)
		if _, ok := findInstanceType(fields[0]); !ok {
			panic("coreweave: capacity table names unknown instance type " + fields[0])
		}
		for _, cell := range fields[1:] {
			name, count, _ := strings.Cut(cell, "=")
			n, err := strconv.Atoi(count)
			if _, ok := findZone(name); !ok || err != nil || n < 0 {
				panic("coreweave: bad capacity table cell " + cell)
			}
			capacity[capacityKey{fields[0], name}] = n
		}
	}
	return capacity
}

// SetCapacity sets how many nodes of an instance type are free in a zone. A node pool takes one
// per node it provisions and gives it back when the node goes. Pools waiting for capacity resume
// at once. Unknown names are a programming error in the caller and panic.
func (e *Emulator) SetCapacity(instanceType, zone string, n int) {
	if err := e.setCapacity(instanceType, zone, n); err != nil {
		panic("coreweave.SetCapacity: " + err.Error())
	}
}

func (e *Emulator) setCapacity(instanceType, zoneName string, n int) error {
	if _, ok := findInstanceType(instanceType); !ok {
		return fmt.Errorf("unknown instance type %q", instanceType)
	}
	if _, ok := findZone(zoneName); !ok {
		return fmt.Errorf("unknown zone %q", zoneName)
	}
	if n < 0 {
		return fmt.Errorf("available must be >= 0, got %d", n)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	e.state.capacity[capacityKey{instanceType, zoneName}] = n
	e.kick(now)
	return nil
}

// Capacity returns how many nodes of an instance type are free in a zone.
func (e *Emulator) Capacity(instanceType, zone string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.advance(e.now())
	return e.state.capacity[capacityKey{instanceType, zone}]
}

// capacityCell is one cell of the capacity table, as the admin API reads and writes it.
type capacityCell struct {
	InstanceType string `json:"instance_type"`
	Zone         string `json:"zone"`
	Available    int    `json:"available"`
}

// capacityCells lists every cell ever set (zeros included), in catalog order.
func (e *Emulator) capacityCells() []capacityCell {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.advance(e.now())
	out := []capacityCell{}
	for _, t := range instanceTypes {
		for _, z := range zones {
			if n, ok := e.state.capacity[capacityKey{t.Name, z.Name}]; ok {
				out = append(out, capacityCell{InstanceType: t.Name, Zone: z.Name, Available: n})
			}
		}
	}
	return out
}
