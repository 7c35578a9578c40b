package coreweave

import (
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
)

func TestGPUTableFollowsTheCatalogAndPriceList(t *testing.T) {
	for _, g := range coreweaveGPUs {
		if _, ok := gpus.Lookup(g.gpu); !ok {
			t.Errorf("%s is not in the neutral catalog", g.gpu)
		}
		for _, name := range g.types {
			nt, ok := lookupNodeType(name)
			if !ok || nt.GPU != g.gpu {
				t.Errorf("%s: %s is not a price list type of that GPU", g.gpu, name)
			}
		}
		if len(nodeTypesOf(g.gpu)) != len(g.types) {
			t.Errorf("nodeTypesOf(%s) misses types", g.gpu)
		}
	}
	if ts := nodeTypesOf("h100_80gb_sxm"); len(ts) != 1 || ts[0].Name != "gd-8xh100ib-i128" || ts[0].GPUs != 8 {
		t.Errorf("nodeTypesOf is case-insensitive and finds the H100 type, got %v", ts)
	}
}

func TestInterconnect(t *testing.T) {
	for typ, want := range map[string]string{
		"gd-8xh100ib-i128": clients.InterconnectInfiniBand,
		"GD-8XH200IB-I128": clients.InterconnectInfiniBand,
		"b200-8x":          clients.InterconnectInfiniBand,
		"gb300-4x":         clients.InterconnectInfiniBand,
		"gd-9xnewib-i128":  clients.InterconnectInfiniBand, // unlisted, spelled like one
		"gd-8xa100-i128":   clients.InterconnectEthernet,
		"gd-1xgh200":       clients.InterconnectEthernet,
		"rtxp6000-8x":      clients.InterconnectEthernet,
	} {
		if got := interconnect(typ); got != want {
			t.Errorf("interconnect(%q) = %q, want %q", typ, got, want)
		}
	}
}
