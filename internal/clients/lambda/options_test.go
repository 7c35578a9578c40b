package lambda

import (
	"slices"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// opts is the Lambda settings an instance reports or a spec carries, clusterOpts those of a
// cluster spec (each nil when none).
var opts, clusterOpts = apifake.As[InstanceOptions], apifake.As[ClusterOptions]

// Another cloud's settings are a clear error, never a panic.
func TestOptionsOfAnotherCloud(t *testing.T) {
	c := &Cloud{}
	errs := c.ValidateInstanceSpec(clients.InstanceSpec{SSHKeyIDs: []string{"k"}, Options: &ClusterOptions{}})
	if len(errs) != 1 || errs[0].Field != "lambda" {
		t.Errorf("ValidateInstanceSpec = %+v", errs)
	}
	errs = c.ValidateClusterSpec(clients.ClusterSpec{Name: "c", Options: &InstanceOptions{}})
	if !slices.ContainsFunc(errs, func(e clients.FieldError) bool { return e.Field == "lambda" }) {
		t.Errorf("ValidateClusterSpec takes another type's settings: %+v", errs)
	}
}
