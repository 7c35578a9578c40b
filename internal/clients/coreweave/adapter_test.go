package coreweave

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// The registration's fields are checked with the other clouds' (internal/clients/all); what
// the registered factory builds is a cluster cloud with an open zone list.
func TestRegisteredCloud(t *testing.T) {
	info, _ := clients.Lookup("coreweave")
	cloud, err := info.New(clients.Settings{APIKey: "CW-SECRET-x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cloud.(clients.ClusterCloud); !ok {
		t.Error("not a ClusterCloud")
	}
	if _, ok := cloud.(clients.InstanceValidator); !ok {
		t.Error("not an InstanceValidator")
	}
	// The zones of CoreWeave's availability matrix and of its other public material; the list
	// is open (an unknown zone is a warning).
	if r := cloud.Regions(); !slices.Contains(r, "US-EAST-04A") || !slices.Contains(r, "LGA1") || !slices.Contains(r, "EU-SOUTH-03B") ||
		!slices.Contains(r, "US-CENTRAL-07A") || len(r) != 17 {
		t.Errorf("regions %v", r)
	}
	if !clients.RegionsIncomplete(cloud) {
		t.Error("CoreWeave's zone list should be open")
	}
}

func TestResolveInstanceType(t *testing.T) {
	c := newTestCloud(t, newFake(t))
	cases := []struct {
		gpu   string
		count int
		want  clients.InstanceType
	}{
		{"H100_80GB_SXM", 8, clients.InstanceType{Name: "gd-8xh100ib-i128", GPUType: "H100_80GB_SXM", GPUCount: 8}},
		{"h100_80gb_sxm", 0, clients.InstanceType{Name: "gd-8xh100ib-i128", GPUType: "H100_80GB_SXM", GPUCount: 8}},
		{"GH200_96GB", 1, clients.InstanceType{Name: "gd-1xgh200", GPUType: "GH200_96GB", GPUCount: 1}},
		{"gd-8xh200ib-i128", 0, clients.InstanceType{Name: "gd-8xh200ib-i128", GPUType: "H200_141GB_SXM", GPUCount: 8}},
		{"gb200-4x", 4, clients.InstanceType{Name: "gb200-4x", GPUType: "GB200_186GB", GPUCount: 4}},
		{"gd-4xnew-i64", 0, clients.InstanceType{Name: "gd-4xnew-i64", GPUType: "gd-4xnew-i64", GPUCount: 4}},
	}
	for _, tc := range cases {
		got, err := c.ResolveInstanceType(tc.gpu, tc.count)
		if err != nil || got != tc.want {
			t.Errorf("%s x%d: %+v, %v", tc.gpu, tc.count, got, err)
		}
	}
	_, err := c.ResolveInstanceType("H100_80GB_SXM", 4)
	if !errors.Is(err, clients.ErrInvalid) || !strings.Contains(err.Error(), "8 (gd-8xh100ib-i128)") {
		t.Errorf("wrong count: %v", err)
	}
	for _, bad := range []string{"A6000_48GB", "no such gpu", "gd-8xh100ib-i128:x"} {
		if _, err := c.ResolveInstanceType(bad, 0); !errors.Is(err, clients.ErrInvalid) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := c.ResolveInstanceType("gd-8xh100ib-i128", 2); !errors.Is(err, clients.ErrInvalid) {
		t.Errorf("native with wrong count: %v", err)
	}
}

func TestOffers(t *testing.T) {
	c := newTestCloud(t, newFake(t))
	all, err := c.Offers(t.Context(), clients.OfferFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(priceList) || all[0].InstanceType != "gd-1xgh200" {
		t.Errorf("offers %+v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i].PricePerHour < all[i-1].PricePerHour {
			t.Errorf("not cheapest first: %v", all)
		}
	}
	got, _ := c.Offers(t.Context(), clients.OfferFilter{GPUType: "H100_80GB_SXM", GPUCount: 8, Region: "RNO2A", MaxPricePerHour: 50})
	if len(got) != 1 || got[0].InstanceType != "gd-8xh100ib-i128" || got[0].PricePerHour != 49.24 || got[0].GPUMemoryGB != 80 ||
		!slices.Equal(got[0].Regions, []string{"RNO2A"}) || got[0].Cloud != "coreweave" {
		t.Errorf("h100 offers %+v", got)
	}
	if got, _ := c.Offers(t.Context(), clients.OfferFilter{GPUType: "H100_80GB_SXM", MaxPricePerHour: 40}); len(got) != 0 {
		t.Errorf("price cap: %+v", got)
	}
	if got, _ := c.Offers(t.Context(), clients.OfferFilter{GPUType: "H200_141GB_SXM", Region: "LGA1"}); len(got) != 0 {
		t.Errorf("zone without the type: %+v", got)
	}
}

func TestKubeconfig(t *testing.T) {
	out := Kubeconfig("pretrain", "https://abc.k8s.us-east-04a.coreweave.com", "CW-SECRET-x: y")
	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(out), &cfg); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, out)
	}
	if cfg["current-context"] != "coreweave-pretrain" || cfg["kind"] != "Config" {
		t.Errorf("config %v", cfg)
	}
	first := func(key string) map[string]any {
		list, _ := cfg[key].([]any)
		if len(list) != 1 {
			t.Fatalf("%s: %v", key, cfg[key])
		}
		m, _ := list[0].(map[string]any)
		return m
	}
	if tok := jsonObj(first("users"), "user")["token"]; tok != "CW-SECRET-x: y" {
		t.Errorf("token %v", tok)
	}
	if srv := jsonObj(first("clusters"), "cluster")["server"]; srv != "https://abc.k8s.us-east-04a.coreweave.com" {
		t.Errorf("server %v", srv)
	}
}
