package coreweave

import "strings"

// CoreWeave's spelling of the neutral GPU catalog: the node types (of priceList) a neutral GPU
// name resolves to, preferred first. CoreWeave sells whole nodes, so each type fixes the GPUs per
// node. The catalog (internal/clients/gpus) keeps the neutral names; this table is CoreWeave's
// alone. Types outside it (b200-8x, the rack-scale gb200-4x) are used by their own id.
var coreweaveGPUs = []struct {
	gpu   string   // neutral catalog name
	types []string // node types, preferred first
}{
	{"H100_80GB_SXM", []string{"gd-8xh100ib-i128"}},
	{"H200_141GB_SXM", []string{"gd-8xh200ib-i128"}},
	{"B200_180GB_SXM", []string{"gd-8xb200ib-i128"}},
	{"GH200_96GB", []string{"gd-1xgh200"}},
	{"A100_80GB_SXM", []string{"gd-8xa100-i128"}},
	{"L40S_48GB", []string{"gd-8xl40s-i128"}},
	{"L40_48GB", []string{"gd-8xl40-i128"}},
}

// nodeTypesOf lists the node types a neutral GPU name resolves to, preferred first (none: not
// sold by CoreWeave).
func nodeTypesOf(name string) []nodeType {
	var out []nodeType
	for _, g := range coreweaveGPUs {
		if !strings.EqualFold(g.gpu, name) {
			continue
		}
		for _, t := range g.types {
			if nt, ok := lookupNodeType(t); ok {
				out = append(out, nt)
			}
		}
	}
	return out
}
