package runpod

import (
	"errors"
	"testing"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// Another cloud's settings are a clear error on every path, never a panic; a value works like a
// pointer.
func TestOptionsOfAnotherCloud(t *testing.T) {
	type lambdaLike struct{ FileSystemNames []string }
	c := &Cloud{}
	spec := clients.InstanceSpec{Image: "img", Options: &lambdaLike{}}
	errs := c.ValidateInstanceSpec(spec)
	if len(errs) != 1 || errs[0].Field != "runpod" {
		t.Errorf("ValidateInstanceSpec = %+v", errs)
	}
	if _, err := c.UpdateInstance(t.Context(), "pod1", clients.InstanceUpdate{Options: lambdaLike{}}); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("UpdateInstance: %v", err)
	}
	if errs := c.ValidateClusterSpec(clients.ClusterSpec{Name: "c", NodeCount: 2, GPUType: "H100_80GB_SXM", Options: &InstanceOptions{}}); len(errs) == 0 || errs[len(errs)-1].Field != "runpod" {
		t.Errorf("ValidateClusterSpec = %+v", errs)
	}
	if errs := c.ValidateInstanceSpec(clients.InstanceSpec{Options: InstanceOptions{Image: "img"}}); len(errs) != 0 {
		t.Errorf("a value of InstanceOptions is taken: %+v", errs)
	}
}
