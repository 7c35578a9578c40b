package lambda

import (
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// firewallRule is the FirewallRule model.
type firewallRule struct {
	Protocol      string `json:"protocol"`
	PortRange     []int  `json:"port_range,omitempty"`
	SourceNetwork string `json:"source_network"`
	Description   string `json:"description"`
}

// firewallRuleset is a regional set of inbound rules that instances are launched with.
type firewallRuleset struct {
	id, name string
	region   region
	rules    []firewallRule
	created  time.Time
}

// firewallRulesetJSON is the FirewallRuleset model.
type firewallRulesetJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Region      region         `json:"region"`
	Rules       []firewallRule `json:"rules"`
	Created     time.Time      `json:"created"`
	InstanceIDs []string       `json:"instance_ids"`
}

// globalRulesetJSON is the GlobalFirewallRuleset model.
type globalRulesetJSON struct {
	ID    string         `json:"id"`
	Name  string         `json:"name"`
	Rules []firewallRule `json:"rules"`
}

// defaultGlobalRules is what a new Lambda account allows in: SSH and ping from anywhere.
func defaultGlobalRules() []firewallRule {
	return []firewallRule{
		{Protocol: "tcp", PortRange: []int{22, 22}, SourceNetwork: "0.0.0.0/0", Description: "Allow SSH from anywhere"},
		{Protocol: "icmp", SourceNetwork: "0.0.0.0/0", Description: "Allow ICMP from anywhere"},
	}
}

// The global rules are served both by the older /firewall-rules endpoints and as the "global"
// ruleset: they are one list, so a change through either shows through the other.
func (e *Emulator) registerFirewall(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/firewall-rules", e.listGlobalRules)
	mux.HandleFunc("PUT /api/v1/firewall-rules", e.putGlobalRules)
	mux.HandleFunc("GET /api/v1/firewall-rulesets", e.listRulesets)
	mux.HandleFunc("POST /api/v1/firewall-rulesets", e.createRuleset)
	mux.HandleFunc("GET /api/v1/firewall-rulesets/global", e.getGlobalRuleset)
	mux.HandleFunc("PATCH /api/v1/firewall-rulesets/global", e.patchGlobalRuleset)
	mux.HandleFunc("GET /api/v1/firewall-rulesets/{id}", e.getRuleset)
	mux.HandleFunc("PATCH /api/v1/firewall-rulesets/{id}", e.patchRuleset)
	mux.HandleFunc("DELETE /api/v1/firewall-rulesets/{id}", e.deleteRuleset)
}

// validateRules checks rules as the FirewallRule model describes them and returns them with
// a copy of each port range, so a caller's slices never alias the stored state.
func validateRules(rules []firewallRule) ([]firewallRule, *apiError) {
	out := make([]firewallRule, 0, len(rules))
	for i, r := range rules {
		switch r.Protocol {
		case "tcp", "udp":
			// "Not allowed for the icmp protocol but required for the others."
			if len(r.PortRange) != 2 {
				return nil, errInvalidParameters("rule %d: port_range [min, max] is required for protocol %s.", i, r.Protocol)
			}
		case "icmp":
			if len(r.PortRange) != 0 {
				return nil, errInvalidParameters("rule %d: port_range is not allowed for protocol icmp.", i)
			}
		case "all":
			if len(r.PortRange) != 0 && len(r.PortRange) != 2 {
				return nil, errInvalidParameters("rule %d: port_range must be [min, max].", i)
			}
		default:
			return nil, errInvalidParameters("rule %d: protocol %q must be one of tcp, udp, icmp, all.", i, r.Protocol)
		}
		if len(r.PortRange) == 2 {
			lo, hi := r.PortRange[0], r.PortRange[1]
			if lo < 1 || hi > 65535 || lo > hi {
				return nil, errInvalidParameters("rule %d: port_range %v must be [min, max] with 1 <= min <= max <= 65535.", i, r.PortRange)
			}
		}
		if !validSourceNetwork(r.SourceNetwork) {
			return nil, errInvalidParameters("rule %d: source_network %q must be an IPv4 address or CIDR block, such as 1.2.3.4/32 or 0.0.0.0/0.", i, r.SourceNetwork)
		}
		r.PortRange = append([]int(nil), r.PortRange...)
		out = append(out, r)
	}
	return out, nil
}

// validSourceNetwork accepts "a.b.c.d" (taken as /32) or "a.b.c.d/n" with an IPv4 address.
func validSourceNetwork(s string) bool {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		return err == nil && a.Is4()
	}
	p, err := netip.ParsePrefix(s)
	return err == nil && p.Addr().Is4()
}

func copyRules(rules []firewallRule) []firewallRule {
	out := make([]firewallRule, len(rules))
	for i, r := range rules {
		r.PortRange = append([]int(nil), r.PortRange...)
		out[i] = r
	}
	return out
}

func (e *Emulator) listGlobalRules(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	respond(w, copyRules(e.state.globalRules), nil)
}

// putGlobalRules is firewallRulesSet: FirewallRulesPutRequest replaces the whole list.
func (e *Emulator) putGlobalRules(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Data []firewallRule `json:"data"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	rules, err := validateRules(req.Data)
	if err != nil {
		writeError(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state.globalRules = rules
	respond(w, copyRules(rules), nil)
}

func (e *Emulator) getGlobalRuleset(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	respond(w, globalRulesetJSON{ID: "global", Name: "Global Firewall Rules", Rules: copyRules(e.state.globalRules)}, nil)
}

// patchGlobalRuleset takes GlobalFirewallRulesetPatchRequest: rules, when given, replace the list.
func (e *Emulator) patchGlobalRuleset(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Rules *[]firewallRule `json:"rules"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	var rules []firewallRule
	if req.Rules != nil {
		var err *apiError
		if rules, err = validateRules(*req.Rules); err != nil {
			writeError(w, err)
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if req.Rules != nil {
		e.state.globalRules = rules
	}
	respond(w, globalRulesetJSON{ID: "global", Name: "Global Firewall Rules", Rules: copyRules(e.state.globalRules)}, nil)
}

// rulesetInstanceIDs lists the instances that use a ruleset and have not finished terminating.
func (e *Emulator) rulesetInstanceIDs(id string, now time.Time) []string {
	out := []string{}
	for _, in := range e.sortedInstances() {
		if in.inUse(now) && contains(in.rulesetIDs, id) {
			out = append(out, in.id)
		}
	}
	return out
}

func (e *Emulator) rulesetJSON(rs *firewallRuleset, now time.Time) firewallRulesetJSON {
	return firewallRulesetJSON{ID: rs.id, Name: rs.name, Region: rs.region, Rules: copyRules(rs.rules), Created: rs.created,
		InstanceIDs: e.rulesetInstanceIDs(rs.id, now)}
}

func (e *Emulator) rulesetByName(name string) *firewallRuleset {
	for _, rs := range e.state.rulesets {
		if rs.name == name {
			return rs
		}
	}
	return nil
}

func (e *Emulator) listRulesets(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	all := make([]*firewallRuleset, 0, len(e.state.rulesets))
	for _, rs := range e.state.rulesets {
		all = append(all, rs)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].created.Equal(all[j].created) {
			return all[i].created.Before(all[j].created)
		}
		return all[i].id < all[j].id
	})
	out := []firewallRulesetJSON{}
	for _, rs := range all {
		out = append(out, e.rulesetJSON(rs, now))
	}
	respond(w, out, nil)
}

// createRuleset takes FirewallRulesetCreateRequest. Names are unique in the account.
func (e *Emulator) createRuleset(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name   string         `json:"name"`
		Region string         `json:"region"`
		Rules  []firewallRule `json:"rules"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if strings.TrimSpace(req.Name) == "" || len(req.Name) > 64 {
		writeError(w, errInvalidParameters("name is required and must be 64 characters or fewer."))
		return
	}
	reg, ok := findRegion(req.Region)
	if !ok {
		writeError(w, errInvalidParameters("region %q is not a Lambda region. Regions: %s.", req.Region, regionNames()))
		return
	}
	rules, err := validateRules(req.Rules)
	if err != nil {
		writeError(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rulesetByName(req.Name) != nil {
		writeError(w, errDuplicate("A firewall ruleset named %q already exists.", req.Name))
		return
	}
	now := e.now()
	rs := &firewallRuleset{id: emucore.NewID(16), name: req.Name, region: reg, rules: rules, created: now.UTC()}
	e.state.rulesets[rs.id] = rs
	respond(w, e.rulesetJSON(rs, now), nil)
}

func errRulesetNotFound() *apiError {
	return &apiError{Status: http.StatusNotFound, Code: codeNotFound,
		Message:    "Firewall ruleset does not exist or you do not have permission to access it.",
		Suggestion: "Check your firewall ruleset ID and try again."}
}

func (e *Emulator) getRuleset(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rs := e.state.rulesets[r.PathValue("id")]
	if rs == nil {
		writeError(w, errRulesetNotFound())
		return
	}
	respond(w, e.rulesetJSON(rs, e.now()), nil)
}

// patchRuleset takes FirewallRulesetPatchRequest: name and rules each change only when given.
func (e *Emulator) patchRuleset(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name  *string         `json:"name"`
		Rules *[]firewallRule `json:"rules"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Name != nil && (strings.TrimSpace(*req.Name) == "" || len(*req.Name) > 64) {
		writeError(w, errInvalidParameters("name must be non-empty and 64 characters or fewer."))
		return
	}
	var rules []firewallRule
	if req.Rules != nil {
		var err *apiError
		if rules, err = validateRules(*req.Rules); err != nil {
			writeError(w, err)
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rs := e.state.rulesets[r.PathValue("id")]
	if rs == nil {
		writeError(w, errRulesetNotFound())
		return
	}
	if req.Name != nil && *req.Name != rs.name {
		if e.rulesetByName(*req.Name) != nil {
			writeError(w, errDuplicate("A firewall ruleset named %q already exists.", *req.Name))
			return
		}
		rs.name = *req.Name
	}
	if req.Rules != nil {
		rs.rules = rules
	}
	respond(w, e.rulesetJSON(rs, e.now()), nil)
}

func (e *Emulator) deleteRuleset(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := r.PathValue("id")
	if e.state.rulesets[id] == nil {
		writeError(w, errRulesetNotFound())
		return
	}
	if len(e.rulesetInstanceIDs(id, e.now())) > 0 {
		writeError(w, &apiError{Status: http.StatusBadRequest, Code: codeRulesetInUse,
			Message:    "Firewall ruleset is in use by one or more instances.",
			Suggestion: "Terminate all instances that are using the ruleset before deleting it."})
		return
	}
	delete(e.state.rulesets, id)
	respond(w, map[string]any{}, nil)
}
