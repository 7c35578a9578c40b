package coreweave

import (
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Facts about CoreWeave the provider asks for through the registration (adapter.go's init)
// instead of knowing them itself. (Its termination time is in instances.go: TerminationTime.)

// interconnect is the network between nodes of an instance type: InfiniBand for the types
// CoreWeave sells InfiniBand-connected (the price list's flag) and for unlisted types spelled
// like them (the "ib" in gd-8xh100ib-i128), else ethernet.
func interconnect(instanceType string) string {
	t := strings.ToLower(instanceType)
	if nt, ok := lookupNodeType(t); ok && nt.InfiniBand {
		return clients.InterconnectInfiniBand
	}
	if strings.Contains(t, "ib-") || strings.HasSuffix(t, "ib") {
		return clients.InterconnectInfiniBand
	}
	return clients.InterconnectEthernet
}
