package clients

import (
	"slices"
	"testing"
)

// The launcher inputs of a cluster: the hostfile in rank order with the GPUs per node as slots,
// private addresses first (a node without one yet is named), and the private addresses alone.
func TestClusterLauncherInputs(t *testing.T) {
	c := &Cluster{GPUsPerNode: 8, Nodes: []ClusterNode{
		{ID: "i-0", Name: "pretrain-0", Rank: 0, PrivateIP: "10.0.0.5", PublicIP: "1.2.3.4"},
		{ID: "i-1", Name: "pretrain-1", Rank: 1, PrivateIP: "10.0.0.7"},
		{ID: "i-2", Name: "pretrain-2", Rank: 2},
	}}
	want := "10.0.0.5 slots=8\n10.0.0.7 slots=8\npretrain-2 slots=8\n"
	if got := c.Hostfile(); got != want {
		t.Errorf("hostfile:\n%q\nwant\n%q", got, want)
	}
	if got := c.PrivateIPs(); !slices.Equal(got, []string{"10.0.0.5", "10.0.0.7", ""}) {
		t.Errorf("private IPs %q", got)
	}
	if got := (&Cluster{GPUsPerNode: 8}).Hostfile(); got != "" {
		t.Errorf("a cluster without nodes has an empty hostfile, got %q", got)
	}
}
