package coreweave

import (
	"bytes"
	"encoding/json"
	"time"
)

// The adapter's view of CoreWeave's platform API objects (CKS clusters and VPCs). On the wire
// they are CoreWeave's own messages (cksv1beta1, networkingv1beta1; convert.go maps them); the
// JSON tags give the protobuf JSON spelling, used where these structs are printed. The
// Kubernetes side (NodePool, Node) is in kubewire.go.

// Timestamp is a protobuf JSON timestamp (RFC 3339, UTC). Decoding never fails on an odd
// layout (the value is left zero instead), so that one bad timestamp cannot make a whole list
// unreadable.
type Timestamp struct{ time.Time }

// UnmarshalJSON reads an RFC 3339 string, or null.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil
	}
	if s, ok := unquote(b); ok {
		if v, err := time.Parse(time.RFC3339Nano, s); err == nil {
			t.Time = v
		}
	}
	return nil
}

// unquote reads a JSON string; ok is false for anything else.
func unquote(b []byte) (string, bool) {
	var s string
	err := json.Unmarshal(b, &s)
	return s, err == nil
}

// MarshalJSON writes RFC 3339, or null for the zero time.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

// Cluster statuses (cks.v1beta1.Cluster.Status; the STATUS_ prefix is how protobuf JSON spells
// the enum, as the notes infer from the VPC example).
const (
	ClusterStatusCreating  = "STATUS_CREATING"
	ClusterStatusRunning   = "STATUS_RUNNING"
	ClusterStatusUpdating  = "STATUS_UPDATING"
	ClusterStatusUpgrading = "STATUS_UPGRADING"
	ClusterStatusDeleting  = "STATUS_DELETING"
	ClusterStatusDeleted   = "STATUS_DELETED"
	ClusterStatusFailed    = "STATUS_FAILED"
	// ClusterStatusError and ClusterStatusUpgradeFailed are terminal for a wait: the cluster
	// needs the user (or CoreWeave), not more time.
	ClusterStatusError         = "STATUS_ERROR"
	ClusterStatusUpgradeFailed = "STATUS_UPGRADE_FAILED"
)

// VPC statuses.
const (
	VPCStatusCreating = "STATUS_CREATING"
	VPCStatusReady    = "STATUS_READY"
	VPCStatusUpdating = "STATUS_UPDATING"
	VPCStatusDeleting = "STATUS_DELETING"
)

// Host prefix types (HostPrefix.Type).
const (
	HostPrefixPrimary  = "PRIMARY"
	HostPrefixRouted   = "ROUTED"
	HostPrefixAttached = "ATTACHED"
)

// ClusterNetwork is a cluster's network config: the names of VPC prefixes (VPC.VPCPrefixes)
// used for pod and service addresses and internal load balancers.
type ClusterNetwork struct {
	PodCIDRName         string   `json:"podCidrName,omitempty"`
	ServiceCIDRName     string   `json:"serviceCidrName,omitempty"`
	InternalLBCIDRNames []string `json:"internalLbCidrNames,omitempty"`
}

// WebhookConfig is a cluster's authentication or authorization webhook.
type WebhookConfig struct {
	Server string `json:"server,omitempty"`
	CA     string `json:"ca,omitempty"`
}

// Cluster is a CKS cluster as the API returns it.
type Cluster struct {
	ID                string          `json:"id,omitempty"`
	Name              string          `json:"name,omitempty"`
	Zone              string          `json:"zone,omitempty"`
	VPCID             string          `json:"vpcId,omitempty"`
	Version           string          `json:"version,omitempty"`
	Public            bool            `json:"public,omitempty"`
	Network           *ClusterNetwork `json:"network,omitempty"`
	AuditPolicy       string          `json:"auditPolicy,omitempty"`
	OIDC              json.RawMessage `json:"oidc,omitempty"`
	AuthnWebhook      *WebhookConfig  `json:"authnWebhook,omitempty"`
	AuthzWebhook      *WebhookConfig  `json:"authzWebhook,omitempty"`
	Kubelet           json.RawMessage `json:"kubelet,omitempty"`
	Status            string          `json:"status,omitempty"`
	APIServerEndpoint string          `json:"apiServerEndpoint,omitempty"`
	CreatedAt         Timestamp       `json:"createdAt"`
	UpdatedAt         Timestamp       `json:"updatedAt"`
}

// CreateClusterRequest is the body of POST /v1beta1/cks/clusters.
type CreateClusterRequest struct {
	// Name is at most 30 characters, unique in the organization.
	Name    string `json:"name"`
	Zone    string `json:"zone"`
	VPCID   string `json:"vpcId"`
	Version string `json:"version"`
	// Public gives the cluster a public API server endpoint. Sent also when false, so the
	// request says what it means.
	Public       bool            `json:"public"`
	Network      ClusterNetwork  `json:"network"`
	AuditPolicy  string          `json:"auditPolicy,omitempty"`
	OIDC         json.RawMessage `json:"oidc,omitempty"`
	AuthnWebhook *WebhookConfig  `json:"authnWebhook,omitempty"`
	AuthzWebhook *WebhookConfig  `json:"authzWebhook,omitempty"`
	Kubelet      json.RawMessage `json:"kubelet,omitempty"`
}

// UpdateClusterRequest is the body of PATCH /v1beta1/cks/clusters/{id}; nil fields are left
// alone.
type UpdateClusterRequest struct {
	Version     *string         `json:"version,omitempty"`
	Public      *bool           `json:"public,omitempty"`
	AuditPolicy *string         `json:"auditPolicy,omitempty"`
	Network     *ClusterNetwork `json:"network,omitempty"`
}

// ClusterResponse wraps one cluster: {"cluster": Cluster}.
type ClusterResponse struct {
	Cluster Cluster `json:"cluster"`
}

// ListClustersResponse is the answer of GET /v1beta1/cks/clusters.
type ListClustersResponse struct {
	Items []Cluster `json:"items"`
}

// VPCPrefix is a named address range of a VPC (vpcPrefixes), referenced by name from a
// cluster's network config.
type VPCPrefix struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HostPrefix is a range node addresses come from.
type HostPrefix struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Prefixes []string `json:"prefixes"`
}

// VPC is a CoreWeave VPC as the API returns it.
type VPC struct {
	ID           string          `json:"id,omitempty"`
	Name         string          `json:"name,omitempty"`
	Zone         string          `json:"zone,omitempty"`
	HostPrefixes []HostPrefix    `json:"hostPrefixes,omitempty"`
	VPCPrefixes  []VPCPrefix     `json:"vpcPrefixes,omitempty"`
	Ingress      json.RawMessage `json:"ingress,omitempty"`
	Egress       json.RawMessage `json:"egress,omitempty"`
	DHCP         json.RawMessage `json:"dhcp,omitempty"`
	Status       string          `json:"status,omitempty"`
	CreatedAt    Timestamp       `json:"createdAt"`
	UpdatedAt    Timestamp       `json:"updatedAt"`
}

// CreateVPCRequest is the body of POST /v1beta1/networking/vpcs.
type CreateVPCRequest struct {
	Name         string          `json:"name"`
	Zone         string          `json:"zone"`
	VPCPrefixes  []VPCPrefix     `json:"vpcPrefixes,omitempty"`
	HostPrefixes []HostPrefix    `json:"hostPrefixes,omitempty"`
	Ingress      json.RawMessage `json:"ingress,omitempty"`
	Egress       json.RawMessage `json:"egress,omitempty"`
	DHCP         json.RawMessage `json:"dhcp,omitempty"`
}

// UpdateVPCRequest is the body of PATCH /v1beta1/networking/vpcs/{id}; nil fields are left
// alone.
type UpdateVPCRequest struct {
	VPCPrefixes *[]VPCPrefix    `json:"vpcPrefixes,omitempty"`
	Ingress     json.RawMessage `json:"ingress,omitempty"`
	Egress      json.RawMessage `json:"egress,omitempty"`
	DHCP        json.RawMessage `json:"dhcp,omitempty"`
}

// VPCResponse wraps one VPC: {"vpc": VPC}.
type VPCResponse struct {
	VPC VPC `json:"vpc"`
}

// ListVPCsResponse is the answer of GET /v1beta1/networking/vpcs.
type ListVPCsResponse struct {
	Items []VPC `json:"items"`
}

// ErrorBody is a Connect error in its JSON form: {"code", "message", "details"}.
type ErrorBody struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Details []ErrorDetail `json:"details"`
}

// ErrorDetail is one error detail: a google.rpc message's type name, its binary protobuf
// encoding in base64, and (where the server adds it) the same message as JSON under "debug".
type ErrorDetail struct {
	Type  string          `json:"type"`
	Value string          `json:"value"`
	Debug json.RawMessage `json:"debug,omitempty"`
}

// Connect error codes.
const (
	CodeCanceled           = "canceled"
	CodeUnknown            = "unknown"
	CodeInvalidArgument    = "invalid_argument"
	CodeDeadlineExceeded   = "deadline_exceeded"
	CodeNotFound           = "not_found"
	CodeAlreadyExists      = "already_exists"
	CodePermissionDenied   = "permission_denied"
	CodeResourceExhausted  = "resource_exhausted"
	CodeFailedPrecondition = "failed_precondition"
	CodeAborted            = "aborted"
	CodeOutOfRange         = "out_of_range"
	CodeUnimplemented      = "unimplemented"
	CodeInternal           = "internal"
	CodeUnavailable        = "unavailable"
	CodeDataLoss           = "data_loss"
	CodeUnauthenticated    = "unauthenticated"
)
