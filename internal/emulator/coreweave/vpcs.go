package coreweave

import (
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// VPC status values.
const (
	VPCStatusCreating = "STATUS_CREATING"
	VPCStatusReady    = "STATUS_READY"
	VPCStatusUpdating = "STATUS_UPDATING"
	VPCStatusDeleting = "STATUS_DELETING"
)

// Host prefix types.
var hostPrefixTypes = []string{"PRIMARY", "ROUTED", "ATTACHED"}

// maxNameLen is the platform API's limit on cluster and VPC names.
const maxNameLen = 30

// nameRE is what the emulator accepts as a cluster or VPC name: a DNS-label-like string.
var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// vpc is one VPC. Its status is derived from the timestamps.
type vpc struct {
	id, name     string
	zone         *zone
	vpcPrefixes  []vpcPrefixJSON
	hostPrefixes []hostPrefixJSON
	ingress      *ingressJSON
	egress       *egressJSON
	dhcp         *dhcpJSON

	created, updated time.Time
	readyAt          time.Time // end of creation
	updateUntil      time.Time // end of the current update
	deleteRequested  time.Time // zero while not deleted
	goneAt           time.Time
	seq              int64

	// hostSeq numbers the node addresses handed out from the primary host prefix.
	hostSeq int
}

func (v *vpc) status(now time.Time) string {
	switch {
	case !v.deleteRequested.IsZero():
		return VPCStatusDeleting
	case now.Before(v.readyAt):
		return VPCStatusCreating
	case now.Before(v.updateUntil):
		return VPCStatusUpdating
	default:
		return VPCStatusReady
	}
}

// visible reports whether the API still shows the VPC.
func (v *vpc) visible(now time.Time) bool { return v.goneAt.IsZero() || now.Before(v.goneAt) }

func (v *vpc) hasPrefix(name string) bool { return hasPrefixNamed(v.vpcPrefixes, name) }

// primaryHostPrefix is the first IPv4 prefix of the first PRIMARY host prefix.
func (v *vpc) primaryHostPrefix() netip.Prefix {
	for _, hp := range v.hostPrefixes {
		if hp.Type != "PRIMARY" {
			continue
		}
		for _, s := range hp.Prefixes {
			if p, err := netip.ParsePrefix(s); err == nil && p.Addr().Is4() {
				return p
			}
		}
	}
	return v.zone.HostPrefix
}

// nextHostIP hands out the next node address from the primary host prefix, skipping the first
// ten (network, gateway, reserved), wrapping around in a small prefix.
func (v *vpc) nextHostIP() string {
	p := v.primaryHostPrefix()
	size := 1 << (32 - p.Bits())
	usable := max(size-12, 1)
	off := 10 + v.hostSeq%usable
	v.hostSeq++
	a := p.Addr().As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n += uint32(off)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}).String()
}

// vpcPrefixJSON is networking.v1beta1.Prefix.
type vpcPrefixJSON struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value,omitempty"`
}

// hostPrefixJSON is networking.v1beta1.HostPrefix.
type hostPrefixJSON struct {
	Name     string    `json:"name,omitempty"`
	Type     string    `json:"type,omitempty"`
	Prefixes []string  `json:"prefixes,omitempty"`
	IPAM     *ipamJSON `json:"ipam,omitempty"`
}

// ipamJSON is networking.v1beta1.IPAddressManagementPolicy.
type ipamJSON struct {
	PrefixLength         int    `json:"prefixLength,omitempty"`
	GatewayAddressPolicy string `json:"gatewayAddressPolicy,omitempty"`
}

type ingressJSON struct {
	DisablePublicServices bool `json:"disablePublicServices,omitempty"`
}

type egressJSON struct {
	DisablePublicAccess bool `json:"disablePublicAccess,omitempty"`
}

type dhcpJSON struct {
	DNS *dhcpDNSJSON `json:"dns,omitempty"`
}

type dhcpDNSJSON struct {
	Servers []string `json:"servers,omitempty"`
}

// vpcJSON is networking.v1beta1.VPC as protobuf JSON prints it (zero values left out).
type vpcJSON struct {
	ID           string           `json:"id,omitempty"`
	Name         string           `json:"name,omitempty"`
	Zone         string           `json:"zone,omitempty"`
	HostPrefix   string           `json:"hostPrefix,omitempty"`
	HostPrefixes []hostPrefixJSON `json:"hostPrefixes,omitempty"`
	VpcPrefixes  []vpcPrefixJSON  `json:"vpcPrefixes,omitempty"`
	Ingress      *ingressJSON     `json:"ingress,omitempty"`
	Egress       *egressJSON      `json:"egress,omitempty"`
	Dhcp         *dhcpJSON        `json:"dhcp,omitempty"`
	Status       string           `json:"status,omitempty"`
	CreatedAt    string           `json:"createdAt,omitempty"`
	UpdatedAt    string           `json:"updatedAt,omitempty"`
}

func (v *vpc) json(now time.Time) vpcJSON {
	return vpcJSON{
		ID: v.id, Name: v.name, Zone: v.zone.Name, HostPrefix: v.primaryHostPrefix().String(),
		HostPrefixes: v.hostPrefixes, VpcPrefixes: v.vpcPrefixes, Ingress: v.ingress, Egress: v.egress, Dhcp: v.dhcp,
		Status: v.status(now), CreatedAt: protoTime(v.created), UpdatedAt: protoTime(v.updated),
	}
}

// createVPCRequest is networking.v1beta1.CreateVPCRequest.
type createVPCRequest struct {
	Name         string           `json:"name"`
	Zone         string           `json:"zone"`
	HostPrefix   string           `json:"hostPrefix"`
	HostPrefixes []hostPrefixJSON `json:"hostPrefixes"`
	VpcPrefixes  []vpcPrefixJSON  `json:"vpcPrefixes"`
	Ingress      *ingressJSON     `json:"ingress"`
	Egress       *egressJSON      `json:"egress"`
	Dhcp         *dhcpJSON        `json:"dhcp"`
}

// updateVPCRequest is networking.v1beta1.UpdateVPCRequest; pointers tell absent from empty.
type updateVPCRequest struct {
	ID           *string           `json:"id"`
	Name         *string           `json:"name"`
	Zone         *string           `json:"zone"`
	HostPrefix   *string           `json:"hostPrefix"`
	HostPrefixes *[]hostPrefixJSON `json:"hostPrefixes"`
	VpcPrefixes  *[]vpcPrefixJSON  `json:"vpcPrefixes"`
	Ingress      *ingressJSON      `json:"ingress"`
	Egress       *egressJSON       `json:"egress"`
	Dhcp         *dhcpJSON         `json:"dhcp"`
	UpdateMask   *string           `json:"updateMask"`
}

// visibleVPC returns the VPC the API shows under id, or nil.
func (e *Emulator) visibleVPC(id string, now time.Time) *vpc {
	v := e.state.vpcs[id]
	if v == nil || !v.visible(now) {
		return nil
	}
	return v
}

func (e *Emulator) sortedVPCs() []*vpc {
	out := make([]*vpc, 0, len(e.state.vpcs))
	for _, v := range e.state.vpcs {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

func (e *Emulator) listVPCs(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	var items []vpcJSON
	for _, v := range e.sortedVPCs() {
		if v.visible(now) {
			items = append(items, v.json(now))
		}
	}
	emucore.WriteJSON(w, http.StatusOK, struct {
		Items []vpcJSON `json:"items,omitempty"`
	}{items})
}

func (e *Emulator) getVPC(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	v := e.visibleVPC(r.PathValue("id"), now)
	if v == nil {
		writeAPIError(w, errNotFound("vpc", r.PathValue("id")))
		return
	}
	writeVPC(w, v.json(now))
}

func writeVPC(w http.ResponseWriter, v vpcJSON) {
	emucore.WriteJSON(w, http.StatusOK, map[string]vpcJSON{"vpc": v})
}

func (e *Emulator) createVPC(w http.ResponseWriter, r *http.Request) {
	var req createVPCRequest
	if err := decodePlatformJSON(w, r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)

	var vs []fieldViolation
	vs = append(vs, validateName("name", req.Name)...)
	z, zoneOK := findZone(req.Zone)
	if !zoneOK {
		vs = append(vs, zoneViolation(req.Zone))
	}
	if req.HostPrefix != "" && len(req.HostPrefixes) > 0 {
		vs = append(vs, fieldViolation{Field: "host_prefix", Description: "host_prefix and host_prefixes are mutually exclusive"})
	}
	hostPrefixes := req.HostPrefixes
	if req.HostPrefix != "" {
		hostPrefixes = []hostPrefixJSON{{Name: "primary", Type: "PRIMARY", Prefixes: []string{req.HostPrefix}}}
	}
	vs = append(vs, validateHostPrefixes(hostPrefixes)...)
	vs = append(vs, validateVPCPrefixes(req.VpcPrefixes)...)
	if len(vs) == 0 {
		if len(hostPrefixes) == 0 {
			hostPrefixes = []hostPrefixJSON{{Name: "primary", Type: "PRIMARY", Prefixes: []string{z.HostPrefix.String()}}}
		}
		vs = append(vs, validateOverlaps(hostPrefixes, req.VpcPrefixes)...)
	}
	if len(vs) > 0 {
		writeAPIError(w, errInvalidArgument(vs...))
		return
	}
	for _, other := range e.state.vpcs {
		if other.visible(now) && other.name == req.Name {
			writeAPIError(w, errAlreadyExists("vpc", req.Name, "a VPC with this name exists in the organization (id "+other.id+")"))
			return
		}
	}
	v := &vpc{
		id: newUUID(), name: req.Name, zone: z, vpcPrefixes: req.VpcPrefixes, hostPrefixes: hostPrefixes,
		ingress: req.Ingress, egress: req.Egress, dhcp: req.Dhcp,
		created: now, updated: now, readyAt: now.Add(e.scaled(e.opts.VPCCreateTime)), seq: e.nextSeq(),
	}
	e.state.vpcs[v.id] = v
	writeVPC(w, v.json(now))
}

func (e *Emulator) updateVPC(w http.ResponseWriter, r *http.Request) {
	var req updateVPCRequest
	if err := decodePlatformJSON(w, r, &req); err != nil {
		writeAPIError(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	id := r.PathValue("id")
	v := e.visibleVPC(id, now)
	if v == nil {
		writeAPIError(w, errNotFound("vpc", id))
		return
	}
	apply := updateMask(req.UpdateMask)

	var vs []fieldViolation
	if req.ID != nil && *req.ID != id {
		vs = append(vs, fieldViolation{Field: "id", Description: "does not match the id in the path"})
	}
	if req.Name != nil && *req.Name != v.name {
		vs = append(vs, immutable("name"))
	}
	if req.Zone != nil && *req.Zone != v.zone.Name {
		vs = append(vs, immutable("zone"))
	}
	if req.HostPrefix != nil && *req.HostPrefix != "" && *req.HostPrefix != v.primaryHostPrefix().String() {
		vs = append(vs, immutable("host_prefix"))
	}
	if req.HostPrefixes != nil && len(*req.HostPrefixes) > 0 && !sameHostPrefixes(*req.HostPrefixes, v.hostPrefixes) {
		vs = append(vs, immutable("host_prefixes"))
	}
	newPrefixes := v.vpcPrefixes
	if apply("vpcPrefixes", req.VpcPrefixes != nil) {
		newPrefixes = nil
		if req.VpcPrefixes != nil {
			newPrefixes = *req.VpcPrefixes
		}
		vs = append(vs, validateVPCPrefixes(newPrefixes)...)
		if len(vs) == 0 {
			vs = append(vs, validateOverlaps(v.hostPrefixes, newPrefixes)...)
		}
	}
	if len(vs) > 0 {
		writeAPIError(w, errInvalidArgument(vs...))
		return
	}
	if st := v.status(now); st != VPCStatusReady {
		writeAPIError(w, errFailedPrecondition(preconditionViolation{Type: "VPC_STATE", Subject: "vpcs/" + id,
			Description: fmt.Sprintf("VPC %s is %s; it can be updated once it is %s", id, st, VPCStatusReady)}))
		return
	}
	// A prefix a cluster uses must stay.
	var pv []preconditionViolation
	for _, c := range e.clustersOfVPC(v, now) {
		for _, name := range c.network.prefixNames() {
			if !hasPrefixNamed(newPrefixes, name) {
				pv = append(pv, preconditionViolation{Type: "VPC_PREFIX_IN_USE", Subject: "clusters/" + c.id,
					Description: fmt.Sprintf("VPC prefix %q is used by cluster %s (%s)", name, c.name, c.id)})
			}
		}
	}
	if len(pv) > 0 {
		writeAPIError(w, errFailedPrecondition(pv...))
		return
	}

	changed := false
	if apply("vpcPrefixes", req.VpcPrefixes != nil) && !sameVPCPrefixes(newPrefixes, v.vpcPrefixes) {
		v.vpcPrefixes, changed = newPrefixes, true
	}
	if apply("ingress", req.Ingress != nil) && !sameJSON(req.Ingress, v.ingress) {
		v.ingress, changed = req.Ingress, true
	}
	if apply("egress", req.Egress != nil) && !sameJSON(req.Egress, v.egress) {
		v.egress, changed = req.Egress, true
	}
	if apply("dhcp", req.Dhcp != nil) && !sameJSON(req.Dhcp, v.dhcp) {
		v.dhcp, changed = req.Dhcp, true
	}
	if changed {
		v.updated = now
		v.updateUntil = now.Add(e.scaled(vpcUpdateTime))
	}
	writeVPC(w, v.json(now))
}

func (e *Emulator) deleteVPC(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.advance(now)
	id := r.PathValue("id")
	v := e.visibleVPC(id, now)
	if v == nil {
		writeAPIError(w, errNotFound("vpc", id))
		return
	}
	if v.deleteRequested.IsZero() {
		var pv []preconditionViolation
		for _, c := range e.clustersOfVPC(v, now) {
			pv = append(pv, preconditionViolation{Type: "VPC_IN_USE", Subject: "clusters/" + c.id,
				Description: fmt.Sprintf("VPC %s is in use by cluster %s (%s); delete the cluster first", id, c.name, c.id)})
		}
		if len(pv) > 0 {
			writeAPIError(w, errFailedPrecondition(pv...))
			return
		}
		v.deleteRequested = now
		v.updated = now
		v.goneAt = now.Add(e.scaled(vpcDeleteTime))
	}
	writeVPC(w, v.json(now))
}

// clustersOfVPC lists the clusters the API still shows that live in a VPC.
func (e *Emulator) clustersOfVPC(v *vpc, now time.Time) []*cluster {
	var out []*cluster
	for _, c := range e.sortedClusters() {
		if c.vpc == v && c.visible(now) {
			out = append(out, c)
		}
	}
	return out
}

func validateName(field, name string) []fieldViolation {
	switch {
	case name == "":
		return []fieldViolation{{Field: field, Description: "is required"}}
	case len(name) > maxNameLen:
		return []fieldViolation{{Field: field, Description: fmt.Sprintf("must be at most %d characters, got %d", maxNameLen, len(name))}}
	case !nameRE.MatchString(name):
		return []fieldViolation{{Field: field, Description: "must consist of lowercase letters, digits and '-', and start and end with a letter or digit"}}
	}
	return nil
}

func zoneViolation(z string) fieldViolation {
	if z == "" {
		return fieldViolation{Field: "zone", Description: "is required"}
	}
	return fieldViolation{Field: "zone", Description: fmt.Sprintf("unknown zone %q; zones: %s", z, strings.Join(zoneNames(), ", "))}
}

func immutable(field string) fieldViolation {
	return fieldViolation{Field: field, Description: "is immutable"}
}

// parseCIDR accepts a canonical CIDR (no host bits set).
func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR", s)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set; did you mean %s?", s, p.Masked())
	}
	return p, nil
}

func validateVPCPrefixes(ps []vpcPrefixJSON) []fieldViolation {
	var vs []fieldViolation
	seen := map[string]bool{}
	for i, p := range ps {
		f := fmt.Sprintf("vpc_prefixes[%d]", i)
		if p.Name == "" {
			vs = append(vs, fieldViolation{Field: f + ".name", Description: "is required"})
		} else if seen[p.Name] {
			vs = append(vs, fieldViolation{Field: f + ".name", Description: fmt.Sprintf("duplicate prefix name %q", p.Name)})
		}
		seen[p.Name] = true
		if _, err := parseCIDR(p.Value); err != nil {
			vs = append(vs, fieldViolation{Field: f + ".value", Description: err.Error()})
		}
	}
	return vs
}

func validateHostPrefixes(hps []hostPrefixJSON) []fieldViolation {
	var vs []fieldViolation
	seen := map[string]bool{}
	for i, hp := range hps {
		f := fmt.Sprintf("host_prefixes[%d]", i)
		if hp.Name == "" {
			vs = append(vs, fieldViolation{Field: f + ".name", Description: "is required"})
		} else if seen[hp.Name] {
			vs = append(vs, fieldViolation{Field: f + ".name", Description: fmt.Sprintf("duplicate host prefix name %q", hp.Name)})
		}
		seen[hp.Name] = true
		if !contains(hostPrefixTypes, hp.Type) {
			vs = append(vs, fieldViolation{Field: f + ".type", Description: fmt.Sprintf("must be one of %s, got %q", strings.Join(hostPrefixTypes, ", "), hp.Type)})
		}
		if len(hp.Prefixes) == 0 {
			vs = append(vs, fieldViolation{Field: f + ".prefixes", Description: "at least one prefix is required"})
		}
		for j, s := range hp.Prefixes {
			p, err := parseCIDR(s)
			if err != nil {
				vs = append(vs, fieldViolation{Field: fmt.Sprintf("%s.prefixes[%d]", f, j), Description: err.Error()})
				continue
			}
			if hp.IPAM != nil && hp.IPAM.PrefixLength != 0 && (hp.IPAM.PrefixLength < p.Bits() || hp.IPAM.PrefixLength > p.Addr().BitLen()) {
				vs = append(vs, fieldViolation{Field: f + ".ipam.prefix_length", Description: fmt.Sprintf("must be between %d and %d", p.Bits(), p.Addr().BitLen())})
			}
		}
	}
	return vs
}

// validateOverlaps rejects address ranges that overlap, among the VPC prefixes and between them
// and the host prefixes (inputs already validated).
func validateOverlaps(hps []hostPrefixJSON, ps []vpcPrefixJSON) []fieldViolation {
	type named struct {
		field, label string
		p            netip.Prefix
	}
	var all []named
	for i, hp := range hps {
		for j, s := range hp.Prefixes {
			p, _ := netip.ParsePrefix(s)
			all = append(all, named{fmt.Sprintf("host_prefixes[%d].prefixes[%d]", i, j), "host prefix " + hp.Name, p})
		}
	}
	for i, vp := range ps {
		p, _ := netip.ParsePrefix(vp.Value)
		all = append(all, named{fmt.Sprintf("vpc_prefixes[%d].value", i), fmt.Sprintf("VPC prefix %q", vp.Name), p})
	}
	var vs []fieldViolation
	for i := range all {
		for j := range i {
			a, b := all[j], all[i]
			if a.p.Addr().Is4() == b.p.Addr().Is4() && a.p.Overlaps(b.p) {
				vs = append(vs, fieldViolation{Field: b.field,
					Description: fmt.Sprintf("%s overlaps %s (%s)", b.p, a.label, a.p)})
			}
		}
	}
	return vs
}

func hasPrefixNamed(ps []vpcPrefixJSON, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

func sameVPCPrefixes(a, b []vpcPrefixJSON) bool { return sameJSON(a, b) }

func sameHostPrefixes(a, b []hostPrefixJSON) bool { return sameJSON(a, b) }

// updateMask reads a protobuf FieldMask in its JSON form ("a,b.c", camelCase; snake_case
// tolerated) and says whether an update applies to a field: with a mask, exactly the fields it
// names (a nested path names its top-level field too); without one, the fields present in the
// request.
func updateMask(m *string) func(field string, present bool) bool {
	if m == nil || strings.TrimSpace(*m) == "" {
		return func(_ string, present bool) bool { return present }
	}
	named := map[string]bool{}
	for _, path := range strings.Split(*m, ",") {
		path = strings.TrimSpace(path)
		if path == "" {
			continue
		}
		top, _, _ := strings.Cut(path, ".")
		named[snakeToCamel(top)] = true
		named[snakeToCamel(path)] = true
	}
	return func(field string, _ bool) bool { return named[field] }
}
