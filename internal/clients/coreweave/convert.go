package coreweave

import (
	"encoding/json"
	"fmt"

	cksv1beta1 "buf.build/gen/go/coreweave/cks/protocolbuffers/go/coreweave/cks/v1beta1"
	networkingv1beta1 "buf.build/gen/go/coreweave/networking/protocolbuffers/go/coreweave/networking/v1beta1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// The adapter works on the plain structs of wire.go; these functions are the only place that
// knows CoreWeave's messages (field names, enums, masks come from CoreWeave's definitions).
// Statuses keep the enum's value names ("STATUS_RUNNING"), which are also their JSON spelling.

func clusterFromProto(p *cksv1beta1.Cluster) Cluster {
	cl := Cluster{
		ID: p.GetId(), Name: p.GetName(), Zone: p.GetZone(), VPCID: p.GetVpcId(), Version: p.GetVersion(),
		Public: p.GetPublic(), AuditPolicy: p.GetAuditPolicy(), Status: p.GetStatus().String(),
		APIServerEndpoint: p.GetApiServerEndpoint(),
		OIDC:              rawJSON(p.GetOidc()), Kubelet: rawJSON(p.GetKubelet()),
		CreatedAt: timestamp(p.GetCreatedAt()), UpdatedAt: timestamp(p.GetUpdatedAt()),
	}
	if n := p.GetNetwork(); n != nil {
		cl.Network = &ClusterNetwork{PodCIDRName: n.GetPodCidrName(), ServiceCIDRName: n.GetServiceCidrName(), InternalLBCIDRNames: n.GetInternalLbCidrNames()}
	}
	if w := p.GetAuthnWebhook(); w != nil {
		cl.AuthnWebhook = &WebhookConfig{Server: w.GetServer(), CA: w.GetCa()}
	}
	if w := p.GetAuthzWebhook(); w != nil {
		cl.AuthzWebhook = &WebhookConfig{Server: w.GetServer(), CA: w.GetCa()}
	}
	return cl
}

func (r CreateClusterRequest) proto() (*cksv1beta1.CreateClusterRequest, error) {
	msg := &cksv1beta1.CreateClusterRequest{
		Name: r.Name, Zone: r.Zone, VpcId: r.VPCID, Version: r.Version, Public: r.Public, AuditPolicy: r.AuditPolicy,
		Network: &cksv1beta1.ClusterNetworkConfig{
			PodCidrName: r.Network.PodCIDRName, ServiceCidrName: r.Network.ServiceCIDRName, InternalLbCidrNames: r.Network.InternalLBCIDRNames,
		},
	}
	if r.AuthnWebhook != nil {
		msg.AuthnWebhook = &cksv1beta1.AuthWebhookConfig{Server: r.AuthnWebhook.Server, Ca: r.AuthnWebhook.CA}
	}
	if r.AuthzWebhook != nil {
		msg.AuthzWebhook = &cksv1beta1.AuthWebhookConfig{Server: r.AuthzWebhook.Server, Ca: r.AuthzWebhook.CA}
	}
	if len(r.OIDC) > 0 {
		msg.Oidc = &cksv1beta1.OIDCConfig{}
		if err := fromRawJSON("oidc", r.OIDC, msg.Oidc); err != nil {
			return nil, err
		}
	}
	if len(r.Kubelet) > 0 {
		msg.Kubelet = &structpb.Struct{}
		if err := fromRawJSON("kubelet", r.Kubelet, msg.Kubelet); err != nil {
			return nil, err
		}
	}
	return msg, nil
}

func vpcFromProto(p *networkingv1beta1.VPC) VPC {
	v := VPC{
		ID: p.GetId(), Name: p.GetName(), Zone: p.GetZone(), Status: p.GetStatus().String(),
		Ingress: rawJSON(p.GetIngress()), Egress: rawJSON(p.GetEgress()), DHCP: rawJSON(p.GetDhcp()),
		CreatedAt: timestamp(p.GetCreatedAt()), UpdatedAt: timestamp(p.GetUpdatedAt()),
	}
	for _, hp := range p.GetHostPrefixes() {
		v.HostPrefixes = append(v.HostPrefixes, HostPrefix{Name: hp.GetName(), Type: hp.GetType().String(), Prefixes: hp.GetPrefixes()})
	}
	if len(v.HostPrefixes) == 0 && p.GetHostPrefix() != "" {
		v.HostPrefixes = []HostPrefix{{Name: "primary", Type: HostPrefixPrimary, Prefixes: []string{p.GetHostPrefix()}}}
	}
	for _, pr := range p.GetVpcPrefixes() {
		v.VPCPrefixes = append(v.VPCPrefixes, VPCPrefix{Name: pr.GetName(), Value: pr.GetValue()})
	}
	return v
}

func (r CreateVPCRequest) proto() (*networkingv1beta1.CreateVPCRequest, error) {
	msg := &networkingv1beta1.CreateVPCRequest{Name: r.Name, Zone: r.Zone, VpcPrefixes: prefixesToProto(r.VPCPrefixes)}
	for _, hp := range r.HostPrefixes {
		t, ok := networkingv1beta1.HostPrefix_Type_value[hp.Type]
		if !ok {
			return nil, clients.Errorf(clients.ErrInvalid, "host prefix %q: unknown type %q", hp.Name, hp.Type)
		}
		msg.HostPrefixes = append(msg.HostPrefixes, &networkingv1beta1.HostPrefix{Name: hp.Name, Type: networkingv1beta1.HostPrefix_Type(t), Prefixes: hp.Prefixes})
	}
	var err error
	msg.Ingress, msg.Egress, msg.Dhcp, _, err = vpcPolicies(r.Ingress, r.Egress, r.DHCP)
	if err != nil {
		return nil, err
	}
	return msg, nil
}

func (r UpdateVPCRequest) proto(id string) (*networkingv1beta1.UpdateVPCRequest, error) {
	msg := &networkingv1beta1.UpdateVPCRequest{Id: id, UpdateMask: &fieldmaskpb.FieldMask{}}
	if r.VPCPrefixes != nil {
		msg.VpcPrefixes = prefixesToProto(*r.VPCPrefixes)
		msg.UpdateMask.Paths = append(msg.UpdateMask.Paths, "vpc_prefixes")
	}
	var set []string
	var err error
	msg.Ingress, msg.Egress, msg.Dhcp, set, err = vpcPolicies(r.Ingress, r.Egress, r.DHCP)
	if err != nil {
		return nil, err
	}
	msg.UpdateMask.Paths = append(msg.UpdateMask.Paths, set...)
	return msg, nil
}

// vpcPolicies decodes a VPC's ingress, egress and DHCP settings, each given as protobuf JSON
// (nil when not given); set names the ones given, as an update mask's paths.
func vpcPolicies(ingress, egress, dhcp json.RawMessage) (in *networkingv1beta1.Ingress, eg *networkingv1beta1.Egress,
	dh *networkingv1beta1.DHCP, set []string, err error) {
	decode := func(name string, raw json.RawMessage, dst proto.Message) bool {
		if len(raw) == 0 || err != nil {
			return false
		}
		if err = fromRawJSON(name, raw, dst); err != nil {
			return false
		}
		set = append(set, name)
		return true
	}
	if m := (&networkingv1beta1.Ingress{}); decode("ingress", ingress, m) {
		in = m
	}
	if m := (&networkingv1beta1.Egress{}); decode("egress", egress, m) {
		eg = m
	}
	if m := (&networkingv1beta1.DHCP{}); decode("dhcp", dhcp, m) {
		dh = m
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return in, eg, dh, set, nil
}

func prefixesToProto(ps []VPCPrefix) []*networkingv1beta1.Prefix {
	out := make([]*networkingv1beta1.Prefix, 0, len(ps))
	for _, p := range ps {
		out = append(out, &networkingv1beta1.Prefix{Name: p.Name, Value: p.Value})
	}
	return out
}

// rawJSON prints a sub-message as protobuf JSON, nil for an unset one.
func rawJSON(m proto.Message) json.RawMessage {
	if m == nil || !m.ProtoReflect().IsValid() {
		return nil
	}
	b, err := protojson.Marshal(m)
	if err != nil || string(b) == "{}" {
		return nil
	}
	return b
}

func fromRawJSON(field string, raw json.RawMessage, dst proto.Message) error {
	if err := protojson.Unmarshal(raw, dst); err != nil {
		return clients.Errorf(clients.ErrInvalid, "%s: %v", field, fmt.Sprint(err))
	}
	return nil
}

func timestamp(t *timestamppb.Timestamp) Timestamp {
	if t == nil {
		return Timestamp{}
	}
	return Timestamp{t.AsTime().UTC()}
}
