package lambda

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// region is Lambda's Region model: a PublicRegionCode and the place it stands for.
type region struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// regions are the PublicRegionCode values of API 1.8.0, with the descriptions Lambda's API
// answers. Sorted by code.
var regions = []region{
	{"asia-northeast-1", "Osaka, Japan"},
	{"asia-northeast-2", "Tokyo, Japan"},
	{"asia-south-1", "India"},
	{"australia-east-1", "Sydney, Australia"},
	{"europe-central-1", "Germany"},
	{"me-west-1", "Israel"},
	{"us-east-1", "Virginia, USA"},
	{"us-east-2", "Washington DC, USA"},
	{"us-east-3", "Washington DC, USA"},
	{"us-midwest-1", "Illinois, USA"},
	{"us-midwest-2", "Ohio, USA"},
	{"us-south-1", "Texas, USA"},
	{"us-south-2", "North Texas, USA"},
	{"us-south-3", "Central Texas, USA"},
	{"us-west-1", "California, USA"},
	{"us-west-2", "Arizona, USA"},
	{"us-west-3", "Utah, USA"},
}

func findRegion(name string) (region, bool) {
	for _, r := range regions {
		if r.Name == name {
			return r, true
		}
	}
	return region{}, false
}

func regionNames() string {
	names := make([]string, len(regions))
	for i, r := range regions {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

// instanceType is one entry of the catalog. Arch is not on the wire (1.8.0's InstanceType has no
// architecture field) but decides which images an instance can boot.
type instanceType struct {
	Name           string
	Description    string
	GPUDescription string
	PriceCents     int
	VCPUs          int
	MemoryGiB      int
	StorageGiB     int
	GPUs           int
	Arch           string
}

// instanceTypes is the catalog: Lambda's names, descriptions and on-demand prices (US cents per
// hour); specs are Lambda's published ones, rounded to whole GiB.
var instanceTypes = []instanceType{
	{"gpu_1x_a10", "1x A10 (24 GB PCIe)", "A10 (24 GB PCIe)", 75, 30, 200, 1400, 1, archX86},
	{"gpu_1x_a6000", "1x A6000 (48 GB)", "RTX A6000 (48 GB)", 80, 14, 100, 512, 1, archX86},
	{"gpu_2x_a6000", "2x A6000 (48 GB)", "RTX A6000 (48 GB)", 160, 28, 200, 1024, 2, archX86},
	{"gpu_4x_a6000", "4x A6000 (48 GB)", "RTX A6000 (48 GB)", 320, 56, 400, 1024, 4, archX86},
	{"gpu_1x_a100", "1x A100 (40 GB PCIe)", "A100 (40 GB PCIe)", 129, 30, 200, 512, 1, archX86},
	{"gpu_1x_a100_sxm4", "1x A100 (40 GB SXM4)", "A100 (40 GB SXM4)", 129, 30, 200, 512, 1, archX86},
	{"gpu_2x_a100", "2x A100 (40 GB PCIe)", "A100 (40 GB PCIe)", 258, 60, 400, 1024, 2, archX86},
	{"gpu_4x_a100", "4x A100 (40 GB PCIe)", "A100 (40 GB PCIe)", 516, 120, 800, 1024, 4, archX86},
	{"gpu_8x_a100", "8x A100 (40 GB SXM4)", "A100 (40 GB SXM4)", 1032, 124, 1800, 5939, 8, archX86},
	{"gpu_8x_a100_80gb_sxm4", "8x A100 (80 GB SXM4)", "A100 (80 GB SXM4)", 1432, 240, 1800, 19968, 8, archX86},
	{"gpu_1x_h100_pcie", "1x H100 (80 GB PCIe)", "H100 (80 GB PCIe)", 249, 26, 200, 1024, 1, archX86},
	{"gpu_1x_h100_sxm5", "1x H100 (80 GB SXM5)", "H100 (80 GB SXM5)", 329, 26, 225, 2816, 1, archX86},
	{"gpu_2x_h100_sxm5", "2x H100 (80 GB SXM5)", "H100 (80 GB SXM5)", 638, 52, 450, 5632, 2, archX86},
	{"gpu_4x_h100_sxm5", "4x H100 (80 GB SXM5)", "H100 (80 GB SXM5)", 1236, 104, 900, 11264, 4, archX86},
	{"gpu_8x_h100_sxm5", "8x H100 (80 GB SXM5)", "H100 (80 GB SXM5)", 2392, 208, 1800, 22528, 8, archX86},
	{"gpu_1x_gh200", "1x GH200 (96 GB)", "GH200 (96 GB)", 149, 64, 432, 4096, 1, archARM},
	{"gpu_1x_b200_sxm6", "1x B200 (180 GB SXM6)", "B200 (180 GB SXM6)", 499, 31, 360, 2816, 1, archX86},
	{"gpu_8x_b200_sxm6", "8x B200 (180 GB SXM6)", "B200 (180 GB SXM6)", 3992, 208, 2900, 22528, 8, archX86},
	{"gpu_8x_v100", "8x Tesla V100 (16 GB)", "Tesla V100 (16 GB)", 440, 92, 448, 5939, 8, archX86},
}

// Image architectures (ImageArchitecture).
const (
	archX86 = "x86_64"
	archARM = "arm64"
)

func findInstanceType(name string) (*instanceType, bool) {
	for i := range instanceTypes {
		if instanceTypes[i].Name == name {
			return &instanceTypes[i], true
		}
	}
	return nil, false
}

// instanceTypeJSON is the InstanceType model.
type instanceTypeJSON struct {
	Name              string    `json:"name"`
	Description       string    `json:"description"`
	GPUDescription    string    `json:"gpu_description"`
	PriceCentsPerHour int       `json:"price_cents_per_hour"`
	Specs             specsJSON `json:"specs"`
}

// specsJSON is the InstanceTypeSpecs model.
type specsJSON struct {
	VCPUs      int `json:"vcpus"`
	MemoryGiB  int `json:"memory_gib"`
	StorageGiB int `json:"storage_gib"`
	GPUs       int `json:"gpus"`
}

func (t *instanceType) json() instanceTypeJSON {
	return instanceTypeJSON{
		Name: t.Name, Description: t.Description, GPUDescription: t.GPUDescription, PriceCentsPerHour: t.PriceCents,
		Specs: specsJSON{VCPUs: t.VCPUs, MemoryGiB: t.MemoryGiB, StorageGiB: t.StorageGiB, GPUs: t.GPUs},
	}
}

// capacityKey addresses one cell of the capacity table.
type capacityKey struct{ instanceType, region string }

// defaultCapacityTable is the number of free machines per type and region after New or a reset.
// It is written as text so that it reads like the copy in the package comment, which a test
// keeps equal to it. Regions not listed have none.
const defaultCapacityTable = `
gpu_1x_a10              us-east-1=8 us-west-1=6 us-south-1=4
gpu_1x_a6000            us-south-1=6 us-west-1=2
gpu_2x_a6000            us-south-1=3
gpu_4x_a6000            us-south-1=2
gpu_1x_a100             us-south-1=4 us-west-2=2
gpu_1x_a100_sxm4        us-east-1=4 us-west-2=4 asia-south-1=2
gpu_2x_a100             us-south-1=2
gpu_4x_a100             us-south-1=1
gpu_8x_a100             us-east-1=2 us-west-1=1 europe-central-1=1 asia-northeast-1=1 me-west-1=1
gpu_8x_a100_80gb_sxm4   us-midwest-1=2 us-east-1=1
gpu_1x_h100_pcie        us-west-3=4 us-east-1=2 europe-central-1=2
gpu_1x_h100_sxm5        us-east-1=6 us-west-1=4 us-south-2=4
gpu_2x_h100_sxm5        us-east-1=2 us-south-2=2
gpu_4x_h100_sxm5        us-east-1=2 us-south-2=1
gpu_8x_h100_sxm5        us-east-1=4 us-west-1=2 us-south-1=2
gpu_1x_gh200            us-east-3=4 us-east-1=2
gpu_1x_b200_sxm6        us-south-3=2
gpu_8x_b200_sxm6        us-south-3=2 us-east-1=1
gpu_8x_v100             us-south-1=1
`

// defaultCapacity parses defaultCapacityTable. A typo in it is a programming error, so it panics
// (and the package's tests, which build emulators, catch it at once).
func defaultCapacity() map[capacityKey]int {
	capacity := map[capacityKey]int{}
	for _, line := range strings.Split(strings.TrimSpace(defaultCapacityTable), "\n") {
		fields := strings.Fields(line)
		if _, ok := findInstanceType(fields[0]); !ok {
			panic("lambda: capacity table names unknown instance type " + fields[0])
		}
		for _, cell := range fields[1:] {
			name, count, _ := strings.Cut(cell, "=")
			n, err := strconv.Atoi(count)
			if _, ok := findRegion(name); !ok || err != nil || n < 0 {
				panic("lambda: bad capacity table cell " + cell)
			}
			capacity[capacityKey{fields[0], name}] = n
		}
	}
	return capacity
}

// SetCapacity sets how many machines of an instance type are free in a region. A launch takes
// one; a terminate gives it back. Unknown type or region names are a programming error in the
// caller, so they panic rather than silently setting a cell no launch would read.
func (e *Emulator) SetCapacity(instanceType, region string, n int) {
	if err := e.setCapacity(instanceType, region, n); err != nil {
		panic("lambda.SetCapacity: " + err.Error())
	}
}

func (e *Emulator) setCapacity(instanceType, regionName string, n int) error {
	if _, ok := findInstanceType(instanceType); !ok {
		return fmt.Errorf("unknown instance type %q", instanceType)
	}
	if _, ok := findRegion(regionName); !ok {
		return fmt.Errorf("unknown region %q", regionName)
	}
	if n < 0 {
		return fmt.Errorf("available must be >= 0, got %d", n)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state.capacity[capacityKey{instanceType, regionName}] = n
	return nil
}

// Capacity returns how many machines of an instance type are free in a region.
func (e *Emulator) Capacity(instanceType, region string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state.capacity[capacityKey{instanceType, region}]
}

// image is Lambda's Image model. Images exist per region and architecture, as on Lambda.
type image struct {
	ID           string    `json:"id"`
	CreatedTime  time.Time `json:"created_time"`
	UpdatedTime  time.Time `json:"updated_time"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	Family       string    `json:"family"`
	Version      string    `json:"version"`
	Architecture string    `json:"architecture"`
	Region       region    `json:"region"`
}

// images is built once: one image per family, architecture and region. IDs are derived from
// those three so they are stable across runs and resets.
var images = func() []image {
	families := []struct {
		family, name, description, version, arch string
		created                                  time.Time
	}{
		{"lambda-stack-24-04", "Lambda Stack 24.04", "Ubuntu 24.04 LTS with Lambda Stack (NVIDIA drivers, CUDA, PyTorch)", "24.04.3", archX86,
			time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"lambda-stack-24-04", "Lambda Stack 24.04 (arm64)", "Ubuntu 24.04 LTS with Lambda Stack for Arm (GH200)", "24.04.3", archARM,
			time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)},
		{"lambda-stack-22-04", "Lambda Stack 22.04", "Ubuntu 22.04 LTS with Lambda Stack (NVIDIA drivers, CUDA, PyTorch)", "22.04.5", archX86,
			time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"ubuntu-22-04", "Ubuntu 22.04", "Ubuntu 22.04 LTS with NVIDIA drivers only", "22.04.5", archX86,
			time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)},
	}
	var out []image
	for _, f := range families {
		for _, r := range regions {
			sum := sha256.Sum256([]byte(f.family + "/" + f.arch + "/" + r.Name))
			out = append(out, image{
				ID: hex.EncodeToString(sum[:16]), CreatedTime: f.created, UpdatedTime: f.created.AddDate(0, 3, 0),
				Name: f.name, Description: f.description, Family: f.family, Version: f.version, Architecture: f.arch, Region: r,
			})
		}
	}
	return out
}()

// instanceTypesItem is InstanceTypesItem: a type and where it can be launched right now.
type instanceTypesItem struct {
	InstanceType                 instanceTypeJSON `json:"instance_type"`
	RegionsWithCapacityAvailable []region         `json:"regions_with_capacity_available"`
}

func (e *Emulator) registerCatalog(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/instance-types", e.listInstanceTypes)
	mux.HandleFunc("GET /api/v1/images", func(w http.ResponseWriter, _ *http.Request) {
		respond(w, images, nil)
	})
}

// listInstanceTypes answers a map keyed by type name; regions_with_capacity_available is read
// from the live capacity table, so it changes as launches consume machines.
func (e *Emulator) listInstanceTypes(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]instanceTypesItem, len(instanceTypes))
	for i := range instanceTypes {
		t := &instanceTypes[i]
		available := []region{}
		for _, r := range regions {
			if e.state.capacity[capacityKey{t.Name, r.Name}] > 0 {
				available = append(available, r)
			}
		}
		out[t.Name] = instanceTypesItem{InstanceType: t.json(), RegionsWithCapacityAvailable: available}
	}
	respond(w, out, nil)
}

// Regions returns the region codes the emulator serves.
func (e *Emulator) Regions() []string {
	out := make([]string, len(regions))
	for i, r := range regions {
		out[i] = r.Name
	}
	return out
}
