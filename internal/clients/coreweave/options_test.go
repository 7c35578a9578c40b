package coreweave

import (
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// opts is the CoreWeave settings an instance reports or a spec carries, clusterOpts those of a
// cluster spec, and info what a cluster reports beyond the neutral fields (each nil when none).
var opts, clusterOpts, info = apifake.As[InstanceOptions], apifake.As[ClusterOptions], apifake.As[ClusterInfo]

// Another cloud's settings are a clear error, never a panic.
func TestOptionsOfAnotherCloud(t *testing.T) {
	c := &Cloud{}
	errs := c.ValidateInstanceSpec(clients.InstanceSpec{Options: &ClusterOptions{}})
	if len(errs) != 1 || errs[0].Field != "coreweave" {
		t.Errorf("ValidateInstanceSpec = %+v", errs)
	}
	found := false
	for _, e := range c.ValidateClusterSpec(clients.ClusterSpec{Name: "c", Options: &InstanceOptions{}}) {
		found = found || e.Field == "coreweave"
	}
	if !found {
		t.Error("ValidateClusterSpec takes another type's settings")
	}
	if _, err := clusterOptions(clients.ClusterSpec{Options: "spot"}); err == nil {
		t.Error("clusterOptions takes a string")
	}
}
