package runpod

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Cloud tiers (schema Cloud).
const (
	cloudSecure    = "SECURE"
	cloudCommunity = "COMMUNITY"
)

// gpuType is one row of the GPU catalog (schema GpuType without the availability fields).
type gpuType struct {
	ID           string
	Name         string
	Pool         string // serverless pool id; "" = not in a pool (JSON null)
	Manufacturer string
	Memory       int
	// Prices are list USD per GPU-hour; 0 where the cloud does not offer the type.
	SecurePrice, CommunityPrice, ServerlessPrice float64
	// MaxSecure / MaxCommunity are GpuType.maxCount: the largest machine of the type per cloud.
	// 0 means the cloud does not offer the type at all.
	MaxSecure, MaxCommunity int
	// CudaVersions are the versions the hosts of this type report; empty for AMD.
	CudaVersions []string
	// Cluster marks the types Instant Clusters are built from (8-GPU SXM/OAM nodes with a fabric).
	Cluster bool
}

func (g *gpuType) price(cloud string) float64 {
	if cloud == cloudCommunity {
		return g.CommunityPrice
	}
	return g.SecurePrice
}

func (g *gpuType) maxCount(cloud string) int {
	if cloud == cloudCommunity {
		return g.MaxCommunity
	}
	return g.MaxSecure
}

var (
	cudaHopper    = []string{"12.4", "12.6", "12.8"}
	cudaBlackwell = []string{"12.8", "12.9"}
)

// gpuCatalog lists RunPod's GPU type ids (the strings pods are created with), with list prices
// close to RunPod's published secure/community rates and the serverless pool of each type.
var gpuCatalog = []*gpuType{
	{ID: "NVIDIA B200", Name: "B200", Pool: "BLACKWELL_180", Manufacturer: "NVIDIA", Memory: 180, SecurePrice: 5.99, ServerlessPrice: 8.64, MaxSecure: 8, CudaVersions: cudaBlackwell, Cluster: true},
	{ID: "NVIDIA H200", Name: "H200 SXM", Pool: "HOPPER_141", Manufacturer: "NVIDIA", Memory: 141, SecurePrice: 3.59, ServerlessPrice: 5.58, MaxSecure: 8, CudaVersions: cudaHopper, Cluster: true},
	{ID: "NVIDIA H100 80GB HBM3", Name: "H100 SXM", Pool: "ADA_80_PRO", Manufacturer: "NVIDIA", Memory: 80, SecurePrice: 2.69, CommunityPrice: 2.39, ServerlessPrice: 4.18, MaxSecure: 8, MaxCommunity: 8, CudaVersions: cudaHopper, Cluster: true},
	{ID: "NVIDIA H100 NVL", Name: "H100 NVL", Pool: "ADA_80_PRO", Manufacturer: "NVIDIA", Memory: 94, SecurePrice: 2.59, ServerlessPrice: 4.18, MaxSecure: 8, CudaVersions: cudaHopper},
	{ID: "NVIDIA H100 PCIe", Name: "H100 PCIe", Pool: "ADA_80_PRO", Manufacturer: "NVIDIA", Memory: 80, SecurePrice: 1.99, CommunityPrice: 1.79, ServerlessPrice: 4.18, MaxSecure: 8, MaxCommunity: 4, CudaVersions: cudaHopper},
	{ID: "NVIDIA A100-SXM4-80GB", Name: "A100 SXM", Pool: "AMPERE_80", Manufacturer: "NVIDIA", Memory: 80, SecurePrice: 1.49, CommunityPrice: 1.19, ServerlessPrice: 2.72, MaxSecure: 8, MaxCommunity: 8, CudaVersions: cudaHopper, Cluster: true},
	{ID: "NVIDIA A100 80GB PCIe", Name: "A100 PCIe", Pool: "AMPERE_80", Manufacturer: "NVIDIA", Memory: 80, SecurePrice: 1.19, CommunityPrice: 0.99, ServerlessPrice: 2.72, MaxSecure: 8, MaxCommunity: 4, CudaVersions: cudaHopper},
	{ID: "NVIDIA L40S", Name: "L40S", Pool: "ADA_48_PRO", Manufacturer: "NVIDIA", Memory: 48, SecurePrice: 0.86, CommunityPrice: 0.79, ServerlessPrice: 1.91, MaxSecure: 8, MaxCommunity: 4, CudaVersions: cudaHopper},
	{ID: "NVIDIA L40", Name: "L40", Pool: "ADA_48_PRO", Manufacturer: "NVIDIA", Memory: 48, SecurePrice: 0.99, CommunityPrice: 0.69, ServerlessPrice: 1.91, MaxSecure: 8, MaxCommunity: 4, CudaVersions: cudaHopper},
	{ID: "NVIDIA RTX 6000 Ada Generation", Name: "RTX 6000 Ada", Pool: "ADA_48_PRO", Manufacturer: "NVIDIA", Memory: 48, SecurePrice: 0.77, CommunityPrice: 0.74, ServerlessPrice: 1.91, MaxSecure: 8, MaxCommunity: 4, CudaVersions: cudaHopper},
	{ID: "NVIDIA RTX A6000", Name: "RTX A6000", Pool: "AMPERE_48", Manufacturer: "NVIDIA", Memory: 48, SecurePrice: 0.49, CommunityPrice: 0.33, ServerlessPrice: 1.22, MaxSecure: 8, MaxCommunity: 8, CudaVersions: cudaHopper},
	{ID: "NVIDIA A40", Name: "A40", Pool: "AMPERE_48", Manufacturer: "NVIDIA", Memory: 48, SecurePrice: 0.40, CommunityPrice: 0.35, ServerlessPrice: 1.22, MaxSecure: 8, MaxCommunity: 4, CudaVersions: cudaHopper},
	{ID: "NVIDIA GeForce RTX 5090", Name: "RTX 5090", Pool: "ADA_32_PRO", Manufacturer: "NVIDIA", Memory: 32, SecurePrice: 0.94, CommunityPrice: 0.69, ServerlessPrice: 1.58, MaxSecure: 8, MaxCommunity: 4, CudaVersions: cudaBlackwell},
	{ID: "NVIDIA GeForce RTX 4090", Name: "RTX 4090", Pool: "ADA_24", Manufacturer: "NVIDIA", Memory: 24, SecurePrice: 0.69, CommunityPrice: 0.34, ServerlessPrice: 1.1, MaxSecure: 8, MaxCommunity: 4, CudaVersions: cudaHopper},
	{ID: "AMD Instinct MI300X OAM", Name: "MI300X", Manufacturer: "AMD", Memory: 192, SecurePrice: 2.49, MaxSecure: 8},
}

func findGPU(id string) *gpuType {
	for _, g := range gpuCatalog {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// dataCenter is one row of the data-center catalog (schema DataCenter).
type dataCenter struct {
	ID, Name, Region, Country string
	GlobalNetwork             bool
	VolumeTypes               []string // first entry is the default (primary) tier
	Compliance                []string
	IPPrefix                  string // public /24 the emulated hosts take addresses from
}

// defaultDataCenters are the data centers a fresh emulator (and a reset) starts with; the admin
// API adds more (AddDataCenter), as RunPod opens new ones.
var defaultDataCenters = []dataCenter{
	{ID: "US-TX-3", Name: "US Texas 3", Region: "NORTH_AMERICA", Country: "US", GlobalNetwork: true, VolumeTypes: []string{"STANDARD", "HIGH_PERFORMANCE"}, Compliance: []string{"ISO_IEC_27001", "SOC_2_TYPE_2"}, IPPrefix: "38.80.152"},
	{ID: "US-KS-2", Name: "US Kansas 2", Region: "NORTH_AMERICA", Country: "US", GlobalNetwork: true, VolumeTypes: []string{"STANDARD", "HIGH_PERFORMANCE"}, Compliance: []string{"SOC_2_TYPE_2", "ISO_IEC_27001"}, IPPrefix: "69.30.85"},
	{ID: "US-GA-1", Name: "US Georgia 1", Region: "NORTH_AMERICA", Country: "US", GlobalNetwork: false, VolumeTypes: []string{"STANDARD"}, Compliance: []string{"SOC_2_TYPE_2"}, IPPrefix: "74.2.96"},
	{ID: "US-CA-2", Name: "US California 2", Region: "NORTH_AMERICA", Country: "US", GlobalNetwork: true, VolumeTypes: []string{"STANDARD"}, Compliance: []string{"ISO_IEC_27001", "SOC_2_TYPE_2"}, IPPrefix: "64.247.196"},
	{ID: "US-IL-1", Name: "US Illinois 1", Region: "NORTH_AMERICA", Country: "US", GlobalNetwork: false, VolumeTypes: []string{"STANDARD"}, Compliance: []string{}, IPPrefix: "104.255.9"},
	{ID: "CA-MTL-1", Name: "CA Montreal 1", Region: "NORTH_AMERICA", Country: "CA", GlobalNetwork: true, VolumeTypes: []string{"STANDARD"}, Compliance: []string{"ISO_IEC_27001", "SOC_2_TYPE_2", "RENEWABLE"}, IPPrefix: "216.249.100"},
	{ID: "EU-RO-1", Name: "EU Romania 1", Region: "EUROPE", Country: "RO", GlobalNetwork: true, VolumeTypes: []string{"STANDARD", "HIGH_PERFORMANCE"}, Compliance: []string{"GDPR", "ISO_IEC_27001", "SOC_2_TYPE_2"}, IPPrefix: "213.173.108"},
	{ID: "EU-SE-1", Name: "EU Sweden 1", Region: "EUROPE", Country: "SE", GlobalNetwork: true, VolumeTypes: []string{"STANDARD"}, Compliance: []string{"GDPR", "ISO_IEC_27001", "RENEWABLE"}, IPPrefix: "195.26.233"},
	{ID: "EU-CZ-1", Name: "EU Czech Republic 1", Region: "EUROPE", Country: "CZ", GlobalNetwork: false, VolumeTypes: []string{"STANDARD"}, Compliance: []string{"GDPR"}, IPPrefix: "185.150.27"},
	{ID: "EU-NL-1", Name: "EU Netherlands 1", Region: "EUROPE", Country: "NL", GlobalNetwork: true, VolumeTypes: []string{"STANDARD"}, Compliance: []string{"GDPR", "ISO_IEC_27001"}, IPPrefix: "194.68.245"},
	{ID: "EUR-IS-1", Name: "EUR Iceland 1", Region: "EUROPE", Country: "IS", GlobalNetwork: true, VolumeTypes: []string{"HIGH_PERFORMANCE", "STANDARD"}, Compliance: []string{"GDPR", "ISO_IEC_27001", "RENEWABLE"}, IPPrefix: "157.157.221"},
	{ID: "EUR-NO-1", Name: "EUR Norway 1", Region: "EUROPE", Country: "NO", GlobalNetwork: false, VolumeTypes: []string{"STANDARD"}, Compliance: []string{"GDPR", "RENEWABLE"}, IPPrefix: "91.199.227"},
	{ID: "AP-JP-1", Name: "AP Japan 1", Region: "ASIA", Country: "JP", GlobalNetwork: false, VolumeTypes: []string{"STANDARD"}, Compliance: []string{"ISO_IEC_27001"}, IPPrefix: "103.196.86"},
	{ID: "OC-AU-1", Name: "OC Australia 1", Region: "OCEANIA", Country: "AU", GlobalNetwork: false, VolumeTypes: []string{}, Compliance: []string{}, IPPrefix: "203.57.40"},
}

// newDataCenters is a fresh copy of the default data centers.
func newDataCenters() []*dataCenter {
	out := make([]*dataCenter, len(defaultDataCenters))
	for i := range defaultDataCenters {
		dc := defaultDataCenters[i]
		dc.VolumeTypes, dc.Compliance = slices.Clone(dc.VolumeTypes), slices.Clone(dc.Compliance)
		out[i] = &dc
	}
	return out
}

// findDC returns a data center by id, nil when there is none. Called with e.mu held.
func (e *Emulator) findDC(id string) *dataCenter {
	for _, d := range e.dcs {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// cpuFlavor is a CPU pod flavor. CPU pods are secure-cloud only and not capacity-limited here.
type cpuFlavor struct {
	ID, Name   string
	MemPerVCPU int     // GB of RAM per vCPU: memory is derived from it, clients never send it
	Price      float64 // USD per vCPU-hour
	MaxVCPU    int
	DCs        []string
}

var cpuFlavors = []*cpuFlavor{
	{ID: "cpu3c", Name: "Compute-Optimized", MemPerVCPU: 2, Price: 0.03, MaxVCPU: 32, DCs: []string{"US-TX-3", "US-KS-2", "EU-RO-1", "EU-SE-1", "CA-MTL-1"}},
	{ID: "cpu3g", Name: "General Purpose", MemPerVCPU: 4, Price: 0.04, MaxVCPU: 32, DCs: []string{"US-TX-3", "US-KS-2", "EU-RO-1", "EU-SE-1", "CA-MTL-1"}},
	{ID: "cpu3m", Name: "Memory-Optimized", MemPerVCPU: 8, Price: 0.05, MaxVCPU: 16, DCs: []string{"US-KS-2", "EU-RO-1"}},
	{ID: "cpu5c", Name: "Compute-Optimized (5th gen)", MemPerVCPU: 2, Price: 0.035, MaxVCPU: 64, DCs: []string{"US-TX-3", "EUR-IS-1", "EU-RO-1"}},
	{ID: "cpu5g", Name: "General Purpose (5th gen)", MemPerVCPU: 4, Price: 0.045, MaxVCPU: 64, DCs: []string{"US-TX-3", "EUR-IS-1", "EU-RO-1"}},
	{ID: "cpu5m", Name: "Memory-Optimized (5th gen)", MemPerVCPU: 8, Price: 0.055, MaxVCPU: 32, DCs: []string{"US-TX-3", "EUR-IS-1"}},
}

func findCPU(id string) *cpuFlavor {
	for _, c := range cpuFlavors {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// capKey addresses one capacity pool: free GPUs of a type in a data center on a cloud tier.
type capKey struct{ GPU, DC, Cloud string }

// defaultCapacity is the free-GPU table a fresh emulator starts with (see the package comment).
// A (type, data center, cloud) without a row is not offered there at all.
func defaultCapacity() map[capKey]int {
	c := map[capKey]int{}
	add := func(cloud, gpu string, perDC map[string]int) {
		for dc, n := range perDC {
			c[capKey{gpu, dc, cloud}] = n
		}
	}
	add(cloudSecure, "NVIDIA B200", map[string]int{"US-TX-3": 16, "EU-RO-1": 8})
	add(cloudSecure, "NVIDIA H200", map[string]int{"US-TX-3": 16, "US-GA-1": 8, "EUR-IS-1": 16})
	add(cloudSecure, "NVIDIA H100 80GB HBM3", map[string]int{"US-TX-3": 32, "US-KS-2": 16, "EU-RO-1": 16, "EUR-IS-1": 16, "CA-MTL-1": 8})
	add(cloudSecure, "NVIDIA H100 NVL", map[string]int{"US-TX-3": 8, "EU-SE-1": 8})
	add(cloudSecure, "NVIDIA H100 PCIe", map[string]int{"US-KS-2": 8, "EU-RO-1": 8, "CA-MTL-1": 4})
	add(cloudSecure, "NVIDIA A100-SXM4-80GB", map[string]int{"US-KS-2": 16, "EU-RO-1": 16, "CA-MTL-1": 8})
	add(cloudSecure, "NVIDIA A100 80GB PCIe", map[string]int{"US-GA-1": 8, "EU-SE-1": 8, "EU-CZ-1": 8})
	add(cloudSecure, "NVIDIA L40S", map[string]int{"US-TX-3": 16, "US-GA-1": 8, "US-CA-2": 8, "EU-RO-1": 16, "EU-NL-1": 8})
	add(cloudSecure, "NVIDIA L40", map[string]int{"US-KS-2": 8, "EU-SE-1": 8})
	add(cloudSecure, "NVIDIA RTX 6000 Ada Generation", map[string]int{"US-GA-1": 8, "EU-RO-1": 8, "EU-SE-1": 8})
	add(cloudSecure, "NVIDIA RTX A6000", map[string]int{"US-KS-2": 16, "EU-SE-1": 8, "CA-MTL-1": 8})
	add(cloudSecure, "NVIDIA A40", map[string]int{"US-KS-2": 8, "EU-SE-1": 16})
	add(cloudSecure, "NVIDIA GeForce RTX 5090", map[string]int{"US-TX-3": 8, "EU-RO-1": 16, "EU-NL-1": 8})
	add(cloudSecure, "NVIDIA GeForce RTX 4090", map[string]int{"US-TX-3": 16, "EU-RO-1": 24, "EUR-IS-1": 16, "US-IL-1": 8})
	add(cloudSecure, "AMD Instinct MI300X OAM", map[string]int{"US-TX-3": 8, "EU-RO-1": 8})

	add(cloudCommunity, "NVIDIA H100 80GB HBM3", map[string]int{"EU-NL-1": 8})
	add(cloudCommunity, "NVIDIA H100 PCIe", map[string]int{"US-IL-1": 4})
	add(cloudCommunity, "NVIDIA A100-SXM4-80GB", map[string]int{"EU-CZ-1": 8})
	add(cloudCommunity, "NVIDIA A100 80GB PCIe", map[string]int{"EU-NL-1": 4, "AP-JP-1": 4})
	add(cloudCommunity, "NVIDIA L40S", map[string]int{"US-IL-1": 4})
	add(cloudCommunity, "NVIDIA L40", map[string]int{"EU-NL-1": 4})
	add(cloudCommunity, "NVIDIA RTX 6000 Ada Generation", map[string]int{"EU-CZ-1": 4})
	add(cloudCommunity, "NVIDIA RTX A6000", map[string]int{"US-IL-1": 8, "EU-CZ-1": 4})
	add(cloudCommunity, "NVIDIA A40", map[string]int{"EUR-NO-1": 4})
	add(cloudCommunity, "NVIDIA GeForce RTX 5090", map[string]int{"EU-CZ-1": 4, "US-IL-1": 4})
	add(cloudCommunity, "NVIDIA GeForce RTX 4090", map[string]int{"EU-CZ-1": 8, "US-IL-1": 8, "EUR-NO-1": 8, "AP-JP-1": 4, "OC-AU-1": 4})
	return c
}

// clusterNodeGPUs is the node size of a self-serve Instant Cluster.
const clusterNodeGPUs = 8

// level maps a number of placeable units (pods of the requested size, or cluster nodes) to the
// catalog's coarse AvailabilityLevel: RunPod publishes buckets, never stock counts.
func level(units int) string {
	switch {
	case units <= 0:
		return "NONE"
	case units <= 2:
		return "LOW"
	case units <= 6:
		return "MEDIUM"
	}
	return "HIGH"
}

var levelRank = map[string]int{"NONE": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3}

func maxLevel(a, b string) string {
	if levelRank[b] > levelRank[a] {
		return b
	}
	return a
}

// availQuery is a parsed include=AVAILABILITY request on the GPU catalog.
type availQuery struct {
	products  []string
	count     int
	cloud     string
	countries []string
	cudaExact []string
	cudaMin   string
}

// offeredCUDA returns the CUDA versions of g that pass the query's CUDA filter.
func (q *availQuery) offeredCUDA(g *gpuType) []string {
	var out []string
	for _, v := range g.CudaVersions {
		switch {
		case len(q.cudaExact) > 0 && !slices.Contains(q.cudaExact, v):
		case q.cudaMin != "" && compareCUDA(v, q.cudaMin) < 0:
		default:
			out = append(out, v)
		}
	}
	return out
}

// dcLevel is the availability of g in one data center for the query, combined over the
// requested products (a type is available if any requested context can use it).
// Called with e.mu held.
func (e *Emulator) dcLevel(g *gpuType, dc string, q *availQuery) string {
	if len(g.CudaVersions) > 0 && (len(q.cudaExact) > 0 || q.cudaMin != "") && len(q.offeredCUDA(g)) == 0 {
		return "NONE"
	}
	best := "NONE"
	for _, p := range q.products {
		var units int
		switch p {
		case "POD":
			if q.count <= g.maxCount(q.cloud) {
				units = e.capacity[capKey{g.ID, dc, q.cloud}] / q.count
			}
		case "CLUSTER":
			// Clusters are secure-cloud, built from whole 8-GPU nodes, and need two of them.
			if g.Cluster && q.cloud == cloudSecure {
				if nodes := e.capacity[capKey{g.ID, dc, cloudSecure}] / clusterNodeGPUs; nodes >= 2 {
					units = nodes
				}
			}
		case "SERVERLESS":
			// Serverless workers draw on the type's pool across both clouds.
			if g.Pool != "" && q.count <= max(g.MaxSecure, g.MaxCommunity) {
				units = (e.capacity[capKey{g.ID, dc, cloudSecure}] + e.capacity[capKey{g.ID, dc, cloudCommunity}]) / q.count
			}
		}
		best = maxLevel(best, level(units))
	}
	return best
}

// offeringDCs lists the data centers that offer g for the query's cloud (or, for SERVERLESS
// and CLUSTER, where those contexts could use it), in catalog order, limited to countries.
// Called with e.mu held.
func (e *Emulator) offeringDCs(g *gpuType, q *availQuery) []*dataCenter {
	var out []*dataCenter
	for _, dc := range e.dcs {
		if len(q.countries) > 0 && !slices.Contains(q.countries, dc.Country) {
			continue
		}
		offered := false
		for _, p := range q.products {
			switch p {
			case "POD":
				_, ok := e.capacity[capKey{g.ID, dc.ID, q.cloud}]
				offered = offered || ok
			case "CLUSTER":
				_, ok := e.capacity[capKey{g.ID, dc.ID, cloudSecure}]
				offered = offered || (ok && g.Cluster && q.cloud == cloudSecure)
			case "SERVERLESS":
				_, ok1 := e.capacity[capKey{g.ID, dc.ID, cloudSecure}]
				_, ok2 := e.capacity[capKey{g.ID, dc.ID, cloudCommunity}]
				offered = offered || (g.Pool != "" && (ok1 || ok2))
			}
		}
		if offered {
			out = append(out, dc)
		}
	}
	return out
}

// JSON shapes of the catalog (schemas GpuType, DataCenter and friends).
type gpuPriceJSON struct {
	Secure     float64  `json:"secure"`
	Community  float64  `json:"community"`
	Serverless *float64 `json:"serverless,omitempty"`
}

type gpuMaxCountJSON struct {
	Secure    int `json:"secure"`
	Community int `json:"community"`
}

type dcAvailabilityJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Availability string `json:"availability"`
}

type cudaAvailabilityJSON struct {
	Version   string `json:"version"`
	Available bool   `json:"available"`
}

type gpuTypeJSON struct {
	ID           string                 `json:"id"`
	Name         string                 `json:"name"`
	Pool         *string                `json:"pool"`
	Manufacturer string                 `json:"manufacturer"`
	Memory       int                    `json:"memory"`
	Secure       bool                   `json:"secure"`
	Community    bool                   `json:"community"`
	Price        gpuPriceJSON           `json:"price"`
	MaxCount     gpuMaxCountJSON        `json:"maxCount"`
	Availability string                 `json:"availability,omitempty"`
	DataCenters  []dcAvailabilityJSON   `json:"dataCenters,omitempty"`
	CudaVersions []cudaAvailabilityJSON `json:"cudaVersions,omitempty"`
}

// gpuJSON renders g; q is nil unless availability was requested. Called with e.mu held.
func (e *Emulator) gpuJSON(g *gpuType, q *availQuery) gpuTypeJSON {
	out := gpuTypeJSON{
		ID: g.ID, Name: g.Name, Manufacturer: g.Manufacturer, Memory: g.Memory,
		Secure: g.MaxSecure > 0, Community: g.MaxCommunity > 0,
		Price:    gpuPriceJSON{Secure: g.SecurePrice, Community: g.CommunityPrice},
		MaxCount: gpuMaxCountJSON{Secure: g.MaxSecure, Community: g.MaxCommunity},
	}
	if g.Pool != "" {
		pool, price := g.Pool, g.ServerlessPrice
		out.Pool, out.Price.Serverless = &pool, &price
	}
	if q == nil {
		return out
	}
	overall := "NONE"
	var dcs []dcAvailabilityJSON
	for _, dc := range e.offeringDCs(g, q) {
		l := e.dcLevel(g, dc.ID, q)
		overall = maxLevel(overall, l)
		dcs = append(dcs, dcAvailabilityJSON{ID: dc.ID, Name: dc.Name, Availability: l})
	}
	out.Availability = overall
	// dataCenters is omitted entirely when the configuration is unavailable everywhere.
	if overall != "NONE" {
		out.DataCenters = dcs
	}
	for _, v := range q.offeredCUDA(g) {
		out.CudaVersions = append(out.CudaVersions, cudaAvailabilityJSON{Version: v, Available: overall != "NONE"})
	}
	return out
}

var (
	countryRe     = regexp.MustCompile(`^[A-Z]{2}$`)
	cudaExactRe   = regexp.MustCompile(`^\d+\.\d+$`)
	cudaMinQuery  = regexp.MustCompile(`^\d+(\.\d+)?$`)
	availOnlyKeys = []string{"product", "count", "cloud", "countryCodes", "cudaVersions", "minCudaVersion"}
)

// splitCSV splits a form-style, explode=false array parameter.
func splitCSV(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// parseAvailQuery reads the GPU catalog's query parameters. A malformed value is a 422 (with
// errors), a filter sent without include=AVAILABILITY, include without product, or both CUDA
// filters at once is a 400 — exactly as the parameter descriptions assign them.
func parseAvailQuery(v url.Values) (*availQuery, error) {
	var errs []string
	include := splitCSV(v.Get("include"))
	if len(include) > 1 {
		errs = append(errs, fmt.Sprintf("query.include: maximum 1 items allowed, but got %d", len(include)))
	}
	for i, inc := range include {
		if inc != "AVAILABILITY" {
			errs = append(errs, fmt.Sprintf("query.include[%d]: value must be one of 'AVAILABILITY'", i))
		}
	}
	q := &availQuery{count: 1, cloud: cloudSecure}
	for i, p := range splitCSV(v.Get("product")) {
		if !slices.Contains([]string{"POD", "CLUSTER", "SERVERLESS"}, p) {
			errs = append(errs, fmt.Sprintf("query.product[%d]: value must be one of 'POD', 'CLUSTER', 'SERVERLESS'", i))
		}
		if !slices.Contains(q.products, p) {
			q.products = append(q.products, p)
		}
	}
	if c := v.Get("count"); c != "" {
		n, err := strconv.Atoi(c)
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("query.count: got %q, want integer", c))
		case n < 1:
			errs = append(errs, fmt.Sprintf("query.count: must be >= 1 but found %d", n))
		default:
			q.count = n
		}
	}
	if c := v.Get("cloud"); c != "" {
		if c != cloudSecure && c != cloudCommunity {
			errs = append(errs, "query.cloud: value must be one of 'SECURE', 'COMMUNITY'")
		}
		q.cloud = c
	}
	for i, c := range splitCSV(v.Get("countryCodes")) {
		if !countryRe.MatchString(c) {
			errs = append(errs, fmt.Sprintf("query.countryCodes[%d]: '%s' does not match pattern '^[A-Z]{2}$'", i, c))
		}
		q.countries = append(q.countries, c)
	}
	for i, c := range splitCSV(v.Get("cudaVersions")) {
		if !cudaExactRe.MatchString(c) {
			errs = append(errs, fmt.Sprintf("query.cudaVersions[%d]: '%s' does not match pattern '^\\d+\\.\\d+$'", i, c))
		}
		q.cudaExact = append(q.cudaExact, c)
	}
	if c := v.Get("minCudaVersion"); c != "" {
		if !cudaMinQuery.MatchString(c) {
			errs = append(errs, fmt.Sprintf("query.minCudaVersion: '%s' does not match pattern '^\\d+(\\.\\d+)?$'", c))
		}
		q.cudaMin = c
	}
	if len(errs) > 0 {
		return nil, &httpError{status: http.StatusUnprocessableEntity, detail: validationDetail, errs: errs}
	}
	if len(include) == 0 {
		for _, k := range availOnlyKeys {
			if v.Has(k) {
				return nil, errorf(http.StatusBadRequest, "query parameter %s is valid only with include=AVAILABILITY", k)
			}
		}
		return nil, nil
	}
	if len(q.products) == 0 {
		return nil, errorf(http.StatusBadRequest, "include=AVAILABILITY requires the product query parameter (POD, CLUSTER or SERVERLESS)")
	}
	if len(q.cudaExact) > 0 && q.cudaMin != "" {
		return nil, errorf(http.StatusBadRequest, "cudaVersions and minCudaVersion are mutually exclusive")
	}
	return q, nil
}

// compareCUDA compares "major[.minor]" versions numerically (12.11 > 12.2). A bare major in
// b compares as major.0, which makes "12" as a floor accept every 12.x release.
func compareCUDA(a, b string) int {
	amaj, amin := splitVersion(a)
	bmaj, bmin := splitVersion(b)
	if amaj != bmaj {
		return amaj - bmaj
	}
	return amin - bmin
}

func splitVersion(v string) (int, int) {
	maj, minor, _ := strings.Cut(v, ".")
	a, _ := strconv.Atoi(maj)
	b, _ := strconv.Atoi(minor)
	return a, b
}

func (e *Emulator) listGPUTypes(w http.ResponseWriter, r *http.Request) {
	q, err := parseAvailQuery(r.URL.Query())
	if err != nil {
		writeErr(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []gpuTypeJSON{}
	for _, g := range gpuCatalog {
		j := e.gpuJSON(g, q)
		// With countryCodes the list drops types not deployable in those countries at all.
		if q != nil && len(q.countries) > 0 && len(e.offeringDCs(g, q)) == 0 {
			continue
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"gpus": out})
}

func (e *Emulator) getGPUType(w http.ResponseWriter, r *http.Request) {
	q, err := parseAvailQuery(r.URL.Query())
	if err != nil {
		writeErr(w, err)
		return
	}
	g := findGPU(r.PathValue("id"))
	if g == nil {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("GPU type %q not found", r.PathValue("id")))
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	writeJSON(w, http.StatusOK, e.gpuJSON(g, q))
}

type resourceAvailabilityJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Availability string `json:"availability"`
}

type dataCenterJSON struct {
	ID                 string                     `json:"id"`
	Name               string                     `json:"name"`
	Region             string                     `json:"region"`
	GlobalNetwork      bool                       `json:"globalNetwork"`
	NetworkVolumeTypes []string                   `json:"networkVolumeTypes"`
	Compliance         []string                   `json:"compliance"`
	GPUAvailability    []resourceAvailabilityJSON `json:"gpuAvailability,omitempty"`
	CPUAvailability    []resourceAvailabilityJSON `json:"cpuAvailability,omitempty"`
}

// dcJSON renders a data center. GPU availability is the pod stock of each type the data center
// offers, counted in single GPUs over both clouds (this endpoint has no cloud or count filter).
// Called with e.mu held.
func (e *Emulator) dcJSON(dc *dataCenter, gpus, cpus bool) dataCenterJSON {
	out := dataCenterJSON{
		ID: dc.ID, Name: dc.Name, Region: dc.Region, GlobalNetwork: dc.GlobalNetwork,
		NetworkVolumeTypes: slices.Clone(dc.VolumeTypes), Compliance: slices.Clone(dc.Compliance),
	}
	if gpus {
		for _, g := range gpuCatalog {
			sec, okS := e.capacity[capKey{g.ID, dc.ID, cloudSecure}]
			com, okC := e.capacity[capKey{g.ID, dc.ID, cloudCommunity}]
			if okS || okC {
				out.GPUAvailability = append(out.GPUAvailability, resourceAvailabilityJSON{ID: g.ID, Name: g.Name, Availability: level(sec + com)})
			}
		}
	}
	if cpus {
		for _, c := range cpuFlavors {
			if slices.Contains(c.DCs, dc.ID) {
				out.CPUAvailability = append(out.CPUAvailability, resourceAvailabilityJSON{ID: c.ID, Name: c.Name, Availability: "HIGH"})
			}
		}
	}
	return out
}

var (
	regionEnum     = []string{"NORTH_AMERICA", "SOUTH_AMERICA", "EUROPE", "ASIA", "MIDDLE_EAST", "AFRICA", "OCEANIA", "ANTARCTICA", "UNKNOWN"}
	volumeTypeEnum = []string{"STANDARD", "HIGH_PERFORMANCE"}
	complianceEnum = []string{"GDPR", "ISO_IEC_27001", "ISO_14001", "PCI_DSS", "HITRUST", "SOC_1_TYPE_2", "SOC_2_TYPE_2", "SOC_3_TYPE_2", "ITAR", "FISMA_HIGH", "HIPAA", "RENEWABLE"}
)

// enumList parses a comma-separated enum parameter, reporting each bad member.
func enumList(v url.Values, name string, allowed []string, errs *[]string) []string {
	vals := splitCSV(v.Get(name))
	for i, x := range vals {
		if !slices.Contains(allowed, x) {
			*errs = append(*errs, fmt.Sprintf("query.%s[%d]: value must be one of %s", name, i, quoteList(allowed)))
		}
	}
	return vals
}

func dcIncludes(v url.Values, errs *[]string) (gpus, cpus bool) {
	for _, inc := range enumList(v, "include", []string{"GPU_AVAILABILITY", "CPU_AVAILABILITY"}, errs) {
		gpus = gpus || inc == "GPU_AVAILABILITY"
		cpus = cpus || inc == "CPU_AVAILABILITY"
	}
	return gpus, cpus
}

func (e *Emulator) listDataCenters(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	var errs []string
	gpus, cpus := dcIncludes(v, &errs)
	regions := enumList(v, "regions", regionEnum, &errs)
	volTypes := enumList(v, "networkVolumeTypes", volumeTypeEnum, &errs)
	compliance := enumList(v, "compliance", complianceEnum, &errs)
	var globalNet *bool
	if s := v.Get("globalNetwork"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil || (s != "true" && s != "false") {
			errs = append(errs, fmt.Sprintf("query.globalNetwork: got %q, want boolean", s))
		}
		globalNet = &b
	}
	if len(errs) > 0 {
		writeProblem(w, http.StatusUnprocessableEntity, validationDetail, errs...)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []dataCenterJSON{}
	for _, dc := range e.dcs {
		// regions: OR within the family; volume types and compliance: AND; families: AND.
		if len(regions) > 0 && !slices.Contains(regions, dc.Region) {
			continue
		}
		if !containsAll(dc.VolumeTypes, volTypes) || !containsAll(dc.Compliance, compliance) {
			continue
		}
		if globalNet != nil && dc.GlobalNetwork != *globalNet {
			continue
		}
		out = append(out, e.dcJSON(dc, gpus, cpus))
	}
	writeJSON(w, http.StatusOK, map[string]any{"dataCenters": out})
}

func (e *Emulator) getDataCenter(w http.ResponseWriter, r *http.Request) {
	var errs []string
	gpus, cpus := dcIncludes(r.URL.Query(), &errs)
	if len(errs) > 0 {
		writeProblem(w, http.StatusUnprocessableEntity, validationDetail, errs...)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	dc := e.findDC(r.PathValue("id"))
	if dc == nil {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("data center %q not found", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, e.dcJSON(dc, gpus, cpus))
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
