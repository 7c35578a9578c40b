package runpod

import (
	"cmp"
	"net/http"
	"slices"
)

// placement is what a create asks the scheduler for.
type placement struct {
	gpu     *gpuType
	count   int // GPUs per pod
	pods    int // pods that must fit in one data center together (clusters)
	cloud   string
	cpu     *cpuFlavor
	dcIDs   []string // preferred data centers, in order; empty = any
	needDC  string   // a network volume pins the pod to its data center
	global  bool     // global networking needs a data center that supports it
	cudaIn  []string
	cudaMin string
}

// place picks a data center and CUDA version and takes the GPUs, or fails the way RunPod does:
// 400 with the capacity text. Called with e.mu held.
func (e *Emulator) place(pl placement) (*dataCenter, string, error) {
	var cands []*dataCenter
	if len(pl.dcIDs) > 0 {
		for _, id := range pl.dcIDs {
			cands = append(cands, e.findDC(id))
		}
	} else {
		// The scheduler's choice: the data center with the most free GPUs of the kind asked
		// for, catalog order breaking ties, so placement is deterministic.
		cands = slices.Clone(e.dcs)
		if pl.gpu != nil {
			slices.SortStableFunc(cands, func(a, b *dataCenter) int {
				return cmp.Compare(e.capacity[capKey{pl.gpu.ID, b.ID, pl.cloud}], e.capacity[capKey{pl.gpu.ID, a.ID, pl.cloud}])
			})
		}
	}
	cands = slices.DeleteFunc(cands, func(dc *dataCenter) bool {
		return (pl.needDC != "" && dc.ID != pl.needDC) || (pl.global && !dc.GlobalNetwork)
	})
	if pl.cpu != nil {
		for _, dc := range cands {
			if slices.Contains(pl.cpu.DCs, dc.ID) {
				return dc, "", nil
			}
		}
		return nil, "", errorf(http.StatusBadRequest, capacityDetail)
	}
	cuda := ""
	if len(pl.gpu.CudaVersions) > 0 {
		for _, v := range pl.gpu.CudaVersions {
			if len(pl.cudaIn) > 0 && !slices.Contains(pl.cudaIn, v) {
				continue
			}
			if pl.cudaMin != "" && compareCUDA(v, pl.cudaMin) < 0 {
				continue
			}
			cuda = v // versions are listed ascending: the newest match wins
		}
		if cuda == "" {
			// The document: a CUDA version no machine reports is a capacity error, not a fallback.
			return nil, "", errorf(http.StatusBadRequest, capacityDetail)
		}
	} else if len(pl.cudaIn) > 0 || pl.cudaMin != "" {
		return nil, "", errorf(http.StatusBadRequest, capacityDetail)
	}
	need := pl.count * max(pl.pods, 1)
	for _, dc := range cands {
		key := capKey{pl.gpu.ID, dc.ID, pl.cloud}
		if free, offered := e.capacity[key]; offered && free >= need {
			e.capacity[key] = free - need
			return dc, cuda, nil
		}
	}
	return nil, "", errorf(http.StatusBadRequest, capacityDetail)
}

// checkDCIDs rejects data center ids the catalog does not know (a rule break, 400). Called
// with e.mu held.
func (e *Emulator) checkDCIDs(ids []string) error {
	for i, id := range ids {
		if e.findDC(id) == nil {
			return errorf(http.StatusBadRequest, "dataCenterIds[%d]: unknown data center %q; see GET /v2/catalog/datacenters", i, id)
		}
	}
	return nil
}

// checkGlobalDCs rejects globalNetworking when none of the preferred data centers supports it.
// Called with e.mu held, after checkDCIDs.
func (e *Emulator) checkGlobalDCs(ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		if e.findDC(id).GlobalNetwork {
			return nil
		}
	}
	return errorf(http.StatusBadRequest, "globalNetworking requires a data center with global networking support; none of dataCenterIds has it (see globalNetwork in GET /v2/catalog/datacenters)")
}

// volumeDC resolves a network mount: the volume must exist (404) and, when the caller names
// data centers, be in one of them (400). Called with e.mu held.
func (e *Emulator) volumeDC(mounts []networkMount, dcIDs []string) (string, error) {
	if len(mounts) == 0 {
		return "", nil
	}
	v := e.volumes[mounts[0].VolumeID]
	if v == nil {
		return "", errorf(http.StatusNotFound, "network volume %q not found", mounts[0].VolumeID)
	}
	if len(dcIDs) > 0 && !slices.Contains(dcIDs, v.dc) {
		return "", errorf(http.StatusBadRequest, "network volume %s is in data center %s, which is not among dataCenterIds", v.id, v.dc)
	}
	return v.dc, nil
}

// checkBalance is the 402 the document lists for creates: the account cannot pay for an hour.
// Called with e.mu held.
func (e *Emulator) checkBalance(hourly float64) error {
	if hourly > e.balance {
		return errorf(http.StatusPaymentRequired, "insufficient balance: this deployment costs $%.2f/hr and the account balance is $%.2f", hourly, e.balance)
	}
	return nil
}
