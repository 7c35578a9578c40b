package lambda

import (
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// opts is the Lambda settings an instance reports or a spec carries (nil when none).
func opts(v any) *InstanceOptions {
	o, _ := v.(*InstanceOptions)
	return o
}

// clusterOpts is the Lambda settings a cluster spec carries (nil when none).
func clusterOpts(v any) *ClusterOptions {
	o, _ := v.(*ClusterOptions)
	return o
}

// Another cloud's settings are a clear error, never a panic.
func TestOptionsOfAnotherCloud(t *testing.T) {
	c := &Cloud{}
	errs := c.ValidateInstanceSpec(clients.InstanceSpec{SSHKeyIDs: []string{"k"}, Options: &ClusterOptions{}})
	if len(errs) != 1 || errs[0].Field != "lambda" {
		t.Errorf("ValidateInstanceSpec = %+v", errs)
	}
	found := false
	for _, e := range c.ValidateClusterSpec(clients.ClusterSpec{Name: "c", Options: &InstanceOptions{}}) {
		found = found || e.Field == "lambda"
	}
	if !found {
		t.Error("ValidateClusterSpec takes another type's settings")
	}
}
