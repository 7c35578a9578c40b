package coreweave

import (
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Facts about CoreWeave the provider asks for through the registration (adapter.go's init) and
// the optional interfaces, instead of knowing them itself.

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

// terminationTime is how long a CoreWeave machine typically takes to be gone once its delete was
// accepted: its node pool is seen deleted by the controller after about 2 s and drains its node
// for about 2 minutes.
const terminationTime = 2*time.Second + 2*time.Minute

// TerminationTime implements clients.TerminationTimer.
func (c *Cloud) TerminationTime() time.Duration { return terminationTime }
