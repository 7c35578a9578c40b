package coreweave

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestVPCLifecycle(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	var created struct{ VPC vpcJSON }
	c.ok(200, "POST", "/v1beta1/networking/vpcs", standardVPC("main", zone4A), &created)
	v := created.VPC
	if v.ID == "" || v.Name != "main" || v.Zone != zone4A || v.Status != VPCStatusCreating || len(v.VpcPrefixes) != 3 {
		t.Fatalf("created VPC: %+v", v)
	}
	// No host prefix asked for: the zone's default PRIMARY one.
	if len(v.HostPrefixes) != 1 || v.HostPrefixes[0].Type != "PRIMARY" || v.HostPrefix != "10.16.192.0/18" {
		t.Fatalf("default host prefixes: %+v %s", v.HostPrefixes, v.HostPrefix)
	}
	clk.Advance(DefaultVPCCreateTime / 2)
	var got struct{ VPC vpcJSON }
	c.ok(200, "GET", "/v1beta1/networking/vpcs/"+v.ID, nil, &got)
	if got.VPC.Status != VPCStatusCreating {
		t.Fatalf("half way: %s", got.VPC.Status)
	}
	clk.Advance(DefaultVPCCreateTime / 2)
	c.ok(200, "GET", "/v1beta1/networking/vpcs/"+v.ID, nil, &got)
	if got.VPC.Status != VPCStatusReady {
		t.Fatalf("after the create time: %s", got.VPC.Status)
	}
	var list struct{ Items []vpcJSON }
	c.ok(200, "GET", "/v1beta1/networking/vpcs", nil, &list)
	if len(list.Items) != 1 || list.Items[0].ID != v.ID {
		t.Fatalf("list: %+v", list)
	}

	// PATCH adds a prefix: UPDATING, then READY.
	prefixes := append(v.VpcPrefixes, vpcPrefixJSON{Name: "extra", Value: "10.40.0.0/16"})
	c.ok(200, "PATCH", "/v1beta1/networking/vpcs/"+v.ID, map[string]any{"vpcPrefixes": prefixes}, &got)
	if got.VPC.Status != VPCStatusUpdating || len(got.VPC.VpcPrefixes) != 4 {
		t.Fatalf("after PATCH: %+v", got.VPC)
	}
	clk.Advance(vpcUpdateTime)
	c.ok(200, "GET", "/v1beta1/networking/vpcs/"+v.ID, nil, &got)
	if got.VPC.Status != VPCStatusReady {
		t.Fatalf("after the update time: %s", got.VPC.Status)
	}

	// DELETE: DELETING for a while, then 404; deleting again is idempotent meanwhile.
	c.ok(200, "DELETE", "/v1beta1/networking/vpcs/"+v.ID, nil, &got)
	if got.VPC.Status != VPCStatusDeleting {
		t.Fatalf("after DELETE: %s", got.VPC.Status)
	}
	c.ok(200, "DELETE", "/v1beta1/networking/vpcs/"+v.ID, nil, nil)
	clk.Advance(vpcDeleteTime)
	ce := c.connectErr("GET", "/v1beta1/networking/vpcs/"+v.ID, nil, 404, "not_found")
	if len(ce.Details) != 1 || ce.Details[0].Type != "google.rpc.ResourceInfo" {
		t.Fatalf("not_found details: %+v", ce.Details)
	}
	c.connectErr("DELETE", "/v1beta1/networking/vpcs/"+v.ID, nil, 404, "not_found")
	res := c.ok(200, "GET", "/v1beta1/networking/vpcs", nil, nil)
	if strings.TrimSpace(string(res.body)) != "{}" {
		t.Fatalf("empty list should be {} as protobuf JSON prints it, got %s", res.body)
	}
}

func TestVPCValidation(t *testing.T) {
	_, c, _ := newClockedEmulator(t, Options{})
	fieldsOf := func(ce connectError) string {
		var debug struct {
			FieldViolations []fieldViolation `json:"fieldViolations"`
		}
		if len(ce.Details) > 0 {
			_ = json.Unmarshal(ce.Details[0].Debug, &debug)
		}
		var fs []string
		for _, v := range debug.FieldViolations {
			fs = append(fs, v.Field)
		}
		return strings.Join(fs, ",")
	}
	cases := []struct {
		name   string
		mutate func(map[string]any)
		fields string
	}{
		{"name too long", func(b map[string]any) { b["name"] = strings.Repeat("v", 31) }, "name"},
		{"name missing", func(b map[string]any) { delete(b, "name") }, "name"},
		{"bad name", func(b map[string]any) { b["name"] = "Main_VPC" }, "name"},
		{"unknown zone", func(b map[string]any) { b["zone"] = "US-NORTH-99Z" }, "zone"},
		{"overlapping prefixes", func(b map[string]any) {
			b["vpcPrefixes"] = []map[string]string{{"name": "a", "value": "10.0.0.0/13"}, {"name": "b", "value": "10.4.0.0/16"}}
		}, "vpc_prefixes[1].value"},
		{"prefix overlaps the host prefix", func(b map[string]any) {
			b["vpcPrefixes"] = []map[string]string{{"name": "a", "value": "10.16.200.0/24"}}
		}, "vpc_prefixes[0].value"},
		{"host bits set", func(b map[string]any) {
			b["vpcPrefixes"] = []map[string]string{{"name": "a", "value": "10.0.0.1/13"}}
		}, "vpc_prefixes[0].value"},
		{"duplicate prefix names", func(b map[string]any) {
			b["vpcPrefixes"] = []map[string]string{{"name": "a", "value": "10.0.0.0/16"}, {"name": "a", "value": "10.1.0.0/16"}}
		}, "vpc_prefixes[1].name"},
		{"bad host prefix type", func(b map[string]any) {
			b["hostPrefixes"] = []map[string]any{{"name": "h", "type": "PUBLIC", "prefixes": []string{"10.50.0.0/18"}}}
		}, "host_prefixes[0].type"},
		{"both host prefix forms", func(b map[string]any) {
			b["hostPrefix"] = "10.50.0.0/18"
			b["hostPrefixes"] = []map[string]any{{"name": "h", "type": "PRIMARY", "prefixes": []string{"10.60.0.0/18"}}}
		}, "host_prefix"},
	}
	for _, tc := range cases {
		body := standardVPC("v1", zone4A)
		tc.mutate(body)
		ce := c.connectErr("POST", "/v1beta1/networking/vpcs", body, 400, "invalid_argument")
		if got := fieldsOf(ce); got != tc.fields {
			t.Errorf("%s: field violations %q, want %q (%s)", tc.name, got, tc.fields, ce.Message)
		}
	}

	// snake_case field names are accepted, as protobuf JSON parsers do.
	var out struct{ VPC vpcJSON }
	c.ok(200, "POST", "/v1beta1/networking/vpcs", map[string]any{"name": "snake", "zone": "RNO2A",
		"vpc_prefixes": []map[string]string{{"name": "p", "value": "10.0.0.0/16"}},
		"host_prefixes": []map[string]any{{"name": "h", "type": "PRIMARY", "prefixes": []string{"10.99.0.0/18"},
			"ipam": map[string]any{"prefix_length": 24}}}}, &out)
	if len(out.VPC.VpcPrefixes) != 1 || out.VPC.HostPrefixes[0].IPAM == nil || out.VPC.HostPrefixes[0].IPAM.PrefixLength != 24 {
		t.Fatalf("snake_case VPC: %+v", out.VPC)
	}
	// Names are unique in the organization.
	ce := c.connectErr("POST", "/v1beta1/networking/vpcs", standardVPC("snake", zone4A), 409, "already_exists")
	if ce.Details[0].Type != "google.rpc.ResourceInfo" {
		t.Fatalf("already_exists details: %+v", ce.Details)
	}
	c.connectErr("POST", "/v1beta1/networking/vpcs", "not json", 400, "invalid_argument")
	c.connectErr("POST", "/v1beta1/networking/vpcs", "", 400, "invalid_argument")
}

func TestVPCInUseCannotBeDeleted(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "inuse", false)
	ce := c.connectErr("DELETE", "/v1beta1/networking/vpcs/"+cl.VpcID, nil, 400, "failed_precondition")
	if len(ce.Details) != 1 || ce.Details[0].Type != "google.rpc.PreconditionFailure" || !strings.Contains(ce.Message, cl.ID) {
		t.Fatalf("in-use error: %+v", ce)
	}
	// A prefix the cluster uses cannot be removed either.
	c.connectErr("PATCH", "/v1beta1/networking/vpcs/"+cl.VpcID,
		map[string]any{"vpcPrefixes": []map[string]string{{"name": "pod cidr", "value": "10.0.0.0/13"}}}, 400, "failed_precondition")
	// Once the cluster is gone, the VPC can go.
	c.ok(200, "DELETE", "/v1beta1/cks/clusters/"+cl.ID, nil, nil)
	clk.Advance(DefaultClusterDeleteTime)
	c.ok(200, "DELETE", "/v1beta1/networking/vpcs/"+cl.VpcID, nil, nil)
}
