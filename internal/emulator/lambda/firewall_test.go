package lambda

import (
	"testing"
	"time"
)

type wireRule struct {
	Protocol      string `json:"protocol"`
	PortRange     []int  `json:"port_range"`
	SourceNetwork string `json:"source_network"`
	Description   string `json:"description"`
}

type wireRuleset struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Region struct {
		Name string `json:"name"`
	} `json:"region"`
	Rules       []wireRule `json:"rules"`
	Created     time.Time  `json:"created"`
	InstanceIDs []string   `json:"instance_ids"`
}

func TestGlobalFirewallRules(t *testing.T) {
	_, c := newTestEmulator(t, Options{})
	var rules []wireRule
	c.ok("GET", "/api/v1/firewall-rules", nil, &rules)
	if len(rules) == 0 || rules[0].Protocol != "tcp" || rules[0].PortRange[0] != 22 {
		t.Fatalf("default rules %+v", rules)
	}
	https := []wireRule{{Protocol: "tcp", PortRange: []int{443, 443}, SourceNetwork: "0.0.0.0/0", Description: "https"}}
	c.ok("PUT", "/api/v1/firewall-rules", map[string]any{"data": https}, &rules)
	if len(rules) != 1 || rules[0].PortRange[1] != 443 {
		t.Fatalf("put answered %+v", rules)
	}
	// The global ruleset is the same list.
	var global struct {
		ID    string     `json:"id"`
		Name  string     `json:"name"`
		Rules []wireRule `json:"rules"`
	}
	c.ok("GET", "/api/v1/firewall-rulesets/global", nil, &global)
	if global.ID != "global" || global.Name != "Global Firewall Rules" || len(global.Rules) != 1 {
		t.Fatalf("global ruleset %+v", global)
	}
	c.ok("PATCH", "/api/v1/firewall-rulesets/global", map[string]any{"rules": []wireRule{
		{Protocol: "icmp", SourceNetwork: "10.0.0.1", Description: "ping"},
		{Protocol: "udp", PortRange: []int{60000, 61000}, SourceNetwork: "1.2.3.0/24", Description: "mosh"},
	}}, &global)
	c.ok("GET", "/api/v1/firewall-rules", nil, &rules)
	if len(rules) != 2 || rules[1].Protocol != "udp" {
		t.Fatalf("after patch %+v", rules)
	}
	for _, bad := range []wireRule{
		{Protocol: "tcp", SourceNetwork: "0.0.0.0/0"},                                    // tcp needs a port range
		{Protocol: "icmp", PortRange: []int{1, 1}, SourceNetwork: "0.0.0.0/0"},           // icmp takes none
		{Protocol: "tcp", PortRange: []int{10, 1}, SourceNetwork: "0.0.0.0/0"},           // min > max
		{Protocol: "tcp", PortRange: []int{22, 22}, SourceNetwork: "::/0"},               // IPv4 only
		{Protocol: "sctp", PortRange: []int{22, 22}, SourceNetwork: "0.0.0.0/0"},         // unknown protocol
		{Protocol: "udp", PortRange: []int{0, 70000}, SourceNetwork: "0.0.0.0/0"},        // out of range
		{Protocol: "tcp", PortRange: []int{22, 22}, SourceNetwork: "300.1.1.1/32"},       // not an address
		{Protocol: "tcp", PortRange: []int{22, 22, 22}, SourceNetwork: "0.0.0.0/0"},      // not [min, max]
		{Protocol: "all", PortRange: []int{22}, SourceNetwork: "0.0.0.0/0"},              // not [min, max]
		{Protocol: "tcp", PortRange: []int{22, 22}, SourceNetwork: "::ffff:1.2.3.4/128"}, // mapped IPv6
	} {
		c.fail("PUT", "/api/v1/firewall-rules", map[string]any{"data": []wireRule{bad}}, 400, "global/invalid-parameters")
	}
	c.ok("PUT", "/api/v1/firewall-rules", map[string]any{"data": []wireRule{}}, &rules)
	if len(rules) != 0 {
		t.Fatalf("rules should be cleared: %+v", rules)
	}
}

func TestFirewallRulesets(t *testing.T) {
	e, c, clk := newClockedEmulator(t)
	c.addKey("k")
	ssh := []wireRule{{Protocol: "tcp", PortRange: []int{22, 22}, SourceNetwork: "0.0.0.0/0", Description: "ssh"}}
	var rs wireRuleset
	c.ok("POST", "/api/v1/firewall-rulesets", map[string]any{"name": "web", "region": "us-east-1", "rules": ssh}, &rs)
	if rs.ID == "" || rs.Name != "web" || rs.Region.Name != "us-east-1" || len(rs.Rules) != 1 || rs.InstanceIDs == nil || rs.Created.IsZero() {
		t.Fatalf("created %+v", rs)
	}
	c.fail("POST", "/api/v1/firewall-rulesets", map[string]any{"name": "web", "region": "us-east-1"}, 409, "global/duplicate")
	c.fail("POST", "/api/v1/firewall-rulesets", map[string]any{"name": "x", "region": "nowhere"}, 400, "global/invalid-parameters")
	c.fail("GET", "/api/v1/firewall-rulesets/nope", nil, 404, "global/object-does-not-exist")
	c.fail("PATCH", "/api/v1/firewall-rulesets/nope", map[string]any{"name": "y"}, 404, "global/object-does-not-exist")

	var patched wireRuleset
	c.ok("PATCH", "/api/v1/firewall-rulesets/"+rs.ID, map[string]any{"name": "web-2"}, &patched)
	if patched.Name != "web-2" || len(patched.Rules) != 1 {
		t.Fatalf("a name-only patch must keep the rules: %+v", patched)
	}
	c.ok("PATCH", "/api/v1/firewall-rulesets/"+rs.ID, map[string]any{"rules": []wireRule{}}, &patched)
	if patched.Name != "web-2" || len(patched.Rules) != 0 {
		t.Fatalf("rules patch: %+v", patched)
	}

	c.fail("POST", "/api/v1/instance-operations/launch",
		launchReq("gpu_1x_a10", "us-west-1", "firewall_rulesets", []map[string]string{{"id": rs.ID}}), 400, "global/invalid-parameters")
	id := c.launch(launchReq("gpu_1x_a10", "us-east-1", "firewall_rulesets", []map[string]string{{"id": rs.ID}}))
	if in := c.instance(id); len(in.FirewallRulesets) != 1 || in.FirewallRulesets[0].ID != rs.ID {
		t.Fatalf("instance rulesets %+v", in.FirewallRulesets)
	}
	var got wireRuleset
	c.ok("GET", "/api/v1/firewall-rulesets/"+rs.ID, nil, &got)
	if len(got.InstanceIDs) != 1 || got.InstanceIDs[0] != id {
		t.Fatalf("instance_ids %v", got.InstanceIDs)
	}
	ie := c.fail("DELETE", "/api/v1/firewall-rulesets/"+rs.ID, nil, 400, "firewall-rulesets/firewall-ruleset-in-use")
	if ie.Message != "Firewall ruleset is in use by one or more instances." {
		t.Errorf("in-use message %q", ie.Message)
	}
	c.ok("POST", "/api/v1/instance-operations/terminate", map[string][]string{"instance_ids": {id}}, nil)
	clk.Advance(time.Minute)
	var list []wireRuleset
	c.ok("GET", "/api/v1/firewall-rulesets", nil, &list)
	if len(list) != 1 || len(list[0].InstanceIDs) != 0 {
		t.Fatalf("list %+v", list)
	}
	c.ok("DELETE", "/api/v1/firewall-rulesets/"+rs.ID, nil, nil)
	c.fail("DELETE", "/api/v1/firewall-rulesets/"+rs.ID, nil, 404, "global/object-does-not-exist")
	if n := len(e.LiveInstances()); n != 0 {
		t.Fatalf("%d live instances", n)
	}
}
