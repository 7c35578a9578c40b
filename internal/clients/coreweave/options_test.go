package coreweave

import (
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// opts is the CoreWeave settings an instance reports or a spec carries (nil when none).
func opts(v any) *InstanceOptions {
	o, _ := v.(*InstanceOptions)
	return o
}

// clusterOpts is the CoreWeave settings a cluster spec carries (nil when none).
func clusterOpts(v any) *ClusterOptions {
	o, _ := v.(*ClusterOptions)
	return o
}

// info is what a cluster reports beyond the neutral fields (nil when nothing).
func info(v any) *ClusterInfo {
	o, _ := v.(*ClusterInfo)
	return o
}

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
