// Package coreweave is an in-memory emulator of the two APIs a CoreWeave user drives: the
// platform API (CKS clusters and VPCs, https://api.coreweave.com) and the Kubernetes API of each
// CKS cluster (the compute.coreweave.com/v1alpha1 NodePool custom resource and the Nodes it
// brings). It is written from the vendor's published contract (CoreWeave's CKS and networking API reference,
// the Kubernetes API conventions and the Connect protocol), not from our client. The provider's
// tests and the quickstart demo run against it instead of the real APIs.
//
// # Platform API
//
// ClusterService and VPCService of CoreWeave's SDK, as connect-go handlers (rpc.go): Connect
// (proto and JSON), gRPC (h2c) and gRPC-Web on /coreweave.cks.v1beta1.ClusterService/* and
// /coreweave.networking.v1beta1.VPCService/*, and, transcoded by vanguard from the same
// handlers, JSON over HTTP under /v1beta1 as documented (REST errors are google.rpc.Status):
//
//	GET    /v1beta1/cks/clusters            {"items": [Cluster]}
//	POST   /v1beta1/cks/clusters            CreateCluster body -> {"cluster": Cluster}
//	GET    /v1beta1/cks/clusters/{id}       {"cluster": Cluster}
//	PATCH  /v1beta1/cks/clusters/{id}       version, public, auditPolicy, network.internalLbCidrNames,
//	                                        oidc, authnWebhook, authzWebhook (optional "updateMask")
//	DELETE /v1beta1/cks/clusters/{id}       {"cluster": Cluster} in STATUS_DELETING
//	GET    /v1beta1/networking/vpcs         {"items": [VPC]}
//	POST   /v1beta1/networking/vpcs         CreateVPC body -> {"vpc": VPC}
//	GET    /v1beta1/networking/vpcs/{id}    {"vpc": VPC}
//	PATCH  /v1beta1/networking/vpcs/{id}    vpcPrefixes, ingress, egress, dhcp
//	DELETE /v1beta1/networking/vpcs/{id}    {"vpc": VPC} in STATUS_DELETING
//
// Bodies follow protobuf's JSON mapping, as Connect's JSON codec does: camelCase field names
// (snake_case accepted on input), unknown fields ignored, and fields at their zero value left
// out of answers (a private cluster has no "public" key; an empty list answers {}). Times are
// RFC 3339 in UTC.
//
// Failures are Connect errors, {"code", "message", "details"}, with the protocol's HTTP statuses.
// Details carry the google.rpc message (type, unpadded base64 protobuf "value", and the same as
// JSON under "debug"):
//
//	400 invalid_argument     bad field values (BadRequest.fieldViolations): name over 30
//	                         characters, unknown zone or version, malformed or overlapping CIDRs,
//	                         changing an immutable field
//	400 failed_precondition  the state forbids it (PreconditionFailure.violations): VPC missing,
//	                         in another zone or not READY; CIDR names not in the VPC; deleting a
//	                         VPC a cluster uses; updating a cluster that is not RUNNING
//	401 unauthenticated      missing or wrong bearer token
//	404 not_found            unknown or deleted cluster or VPC (ResourceInfo)
//	409 already_exists       cluster or VPC name taken in the organization (ResourceInfo)
//	429 resource_exhausted   cluster quota (QuotaFailure); also emucore's injected 429s
//	500 internal, 503 unavailable, 504 deadline_exceeded     injected faults only
//
// Connect maps failed_precondition to HTTP 400, not 409: clients should branch on "code".
// Unknown paths answer 404 and a wrong method 405, both with code "unimplemented".
//
// Auth: "Authorization: Bearer CW-SECRET-..." (Options.Token, default DefaultToken), on both APIs.
//
// # Lifecycles
//
// Nothing runs in the background: every state is computed from timestamps when a request, an
// admin call or a watch looks. All durations are real-world ones scaled by Options.TimeScale.
//
//	VPC      STATUS_CREATING (VPCCreateTime) -> STATUS_READY; PATCH: STATUS_UPDATING (30 s) -> READY;
//	         DELETE: STATUS_DELETING (30 s) -> gone (404)
//	Cluster  STATUS_CREATING (ClusterCreateTime, 45 min) -> STATUS_RUNNING; PATCH of version:
//	         STATUS_UPGRADING, of anything else: STATUS_UPDATING (ClusterUpdateTime) -> RUNNING;
//	         DELETE: STATUS_DELETING (ClusterDeleteTime) -> gone (404). STATUS_FAILED only
//	         through the admin API. A cluster's node pools and nodes go, and their capacity
//	         comes back, the moment its deletion is accepted.
//
// apiServerEndpoint is "http://HOST/k8s/<id>" with HOST taken from the request (https when the
// request came over TLS or X-Forwarded-Proto says so), so it works on any port.
//
// # Kubernetes API
//
// Each cluster's API server lives under /k8s/<cluster id>/ and accepts the same bearer token.
// It answers only while the cluster is RUNNING, UPDATING or UPGRADING; otherwise (creating,
// failed, deleting, unknown id) every request gets 503 ServiceUnavailable, as close to "cannot
// reach the API server" as HTTP gets. /version, /healthz, /livez and /readyz need no token.
//
//	GET /version, /api, /api/v1, /apis, /apis/compute.coreweave.com,
//	    /apis/compute.coreweave.com/v1alpha1                               discovery (legacy JSON)
//	GET, POST                 /apis/compute.coreweave.com/v1alpha1/nodepools         (list, watch)
//	GET, PUT, PATCH, DELETE   /apis/compute.coreweave.com/v1alpha1/nodepools/{name}
//	GET                       /apis/compute.coreweave.com/v1alpha1/nodepools/{name}/status
//	GET                       /api/v1/nodes (list, watch), /api/v1/nodes/{name}
//
// Nothing else is served: other paths answer 404 NotFound, other verbs on these paths (writes to
// nodes or to the status subresource, deletecollection) 405 MethodNotAllowed, and discovery
// lists only these resources and verbs.
//
// Wire details follow the apiserver: kind/apiVersion on objects and lists, list
// metadata.resourceVersion, one resourceVersion sequence per cluster (etcd's revision), uid,
// creationTimestamp and generation (bumped on spec changes and on deletion) on NodePools;
// 201 on create; failures as metav1.Status objects (NotFound 404, AlreadyExists 409, Conflict
// 409 for a stale resourceVersion, Invalid 422 with causes, BadRequest 400, MethodNotAllowed
// 405, UnsupportedMediaType 415, NotAcceptable 406, Expired 410 in watches). NodePool PUT needs
// metadata.resourceVersion (custom resources allow no unconditional update). PATCH takes
// application/merge-patch+json, application/json-patch+json and application/apply-patch+yaml
// (server-side apply, approximated as a merge of a JSON body; needs ?fieldManager=);
// strategic merge patch answers 415, as for every custom resource. Lists honour labelSelector
// (=, ==, !=, in, notin, exists, !exists), fieldSelector (metadata.name), limit/continue and
// ?watch=true (resourceVersion, timeoutSeconds, sendInitialEvents with the initial-events-end
// bookmark). Writes honour dryRun=All and fieldValidation=Strict|Warn|Ignore (unknown fields are
// pruned; Warn sends a Warning header, Strict a 400).
//
// NodePool spec: instanceType (required, immutable, from the catalog), targetNodes, targetRacks
// (rack-scale types only: 18 nodes per rack), minNodes/maxNodes/autoscaling (autoscaling clamps
// the target into [minNodes, maxNodes]), computeClass ("default", "spot" or "Spot"; immutable),
// nodeLabels, nodeAnnotations, nodeTaints, lifecycle.scaleDownStrategy (IdleOnly|PreferIdle),
// nodeConfigurationUpdateStrategy.type (Manual|OnSpecUpdate|Always|RolloutOnCommand). The object
// keeps what was sent (no defaulting), as a custom resource does.
//
// The NodePool controller is emulated the same lazy way. It observes a change controllerLag
// (2 s) after it is written, adds its finalizer compute.coreweave.com/node-pool-controller,
// and provisions nodes one at a time while capacity for (instanceType, cluster zone) lasts: a
// node takes one unit of capacity when it starts, registers NotReady after 80% of NodeJoinTime
// and turns Ready at NodeJoinTime. Scaling down removes the highest-numbered nodes at once.
// DELETE sets deletionTimestamp; the nodes are cordoned and removed after NodeDrainTime, then the
// finalizer goes and so does the pool. status.currentNodes counts Ready nodes; status.conditions
// are metav1.Conditions whose types are ours, as CoreWeave does not publish its own:
//
//	Validated          True/Valid once the controller has seen the spec
//	CapacityAvailable  True/CapacityAvailable, or False/InsufficientCapacity while the pool waits
//	                   for free nodes (it resumes when capacity is freed or set)
//	AtTarget           True/AtTarget when currentNodes == target; False/ScalingUp or /Deleting
//
// Nodes are named g<6 hex of the cluster id>-<pool>-<n> (n from 0) and carry the labels
// compute.coreweave.com/node-pool, node.kubernetes.io/instance-type,
// topology.kubernetes.io/zone and /region, kubernetes.io/hostname and /arch plus the pool's
// nodeLabels; annotations and taints from the pool; status.addresses InternalIP (from the VPC's
// PRIMARY host prefix), ExternalIP (only when the cluster is public; fake 166.19.x.y addresses)
// and Hostname;
// status.capacity with nvidia.com/gpu for GPU types; a Ready condition.
//
// # Catalog, prices and default capacity
//
// Instance types and their static per-node prices (USD per node-hour; the emulator's price list,
// plausible rather than quoted) are in catalog.go and InstanceTypes(): for example
// gd-8xh100ib-i128 $49.24, gd-8xh200ib-i128 $50.44, gd-8xa100-i128 $21.60, gd-8xb200ib-i128 and
// b200-8x $68.80, gb200-4x $42.00, gb300-4x $50.00, gd-1xgh200 $6.50, gd-8xl40-i128 $10.00,
// gd-8xl40s-i128 $18.00, rtxp6000-8x $20.00, CPU types $2.40-$12.48. Zones: US-EAST-04A,
// US-EAST-06A, US-WEST-04A, RNO2A, LGA1 and the rest of CoreWeave's availability matrix
// (US-EAST-01A, -02A, -08A, -13A, -14A, US-CENTRAL-06A, -07A, US-WEST-01A, -09B, -10A,
// EU-SOUTH-03B, -04A; no capacity by default). Kubernetes versions: v1.32 to v1.37 (a CreateCluster without a version is refused
// with invalid_argument naming them: the API has no call that lists them).
//
// Free nodes per instance type and zone after New or a reset (a test keeps this comment and the
// table in catalog.go equal). Zones not listed have none. Change it with SetCapacity or
// PUT /_emulator/coreweave/capacity.
//
//	gd-8xh100ib-i128    US-EAST-04A=16 US-EAST-06A=8 US-WEST-04A=8 RNO2A=4 LGA1=4
//	gd-8xh200ib-i128    US-EAST-04A=8 US-WEST-04A=4 RNO2A=4
//	gd-8xa100-i128      US-EAST-04A=8 RNO2A=6 LGA1=8
//	gd-8xb200ib-i128    US-EAST-06A=8 US-WEST-04A=4
//	b200-8x             US-EAST-06A=4
//	gb200-4x            US-EAST-06A=36 US-WEST-04A=18
//	gb300-4x            US-WEST-04A=18
//	gd-1xgh200          US-EAST-04A=8 RNO2A=4
//	gd-8xl40-i128       RNO2A=8 LGA1=8
//	gd-8xl40s-i128      US-EAST-04A=8 RNO2A=8 LGA1=8
//	rtxp6000-8x         US-EAST-06A=4 US-WEST-04A=4
//	cd-gp-a192-genoa    US-EAST-04A=32 US-EAST-06A=32 US-WEST-04A=32 RNO2A=32 LGA1=32
//	cd-gp-i64-erapids   US-EAST-04A=32 US-WEST-04A=32 LGA1=32
//	cd-hc-a384ib-genoa  US-EAST-04A=8 US-EAST-06A=8
//	turin-gp            US-EAST-06A=16 US-WEST-04A=16
//
// The organization may hold Options.ClusterQuota clusters (default 5) that are not being deleted.
//
// # Admin API
//
// AdminHandler serves, relative to its own root (the combined server mounts it under
// /_emulator/coreweave): emucore's /stats and /faults (route keys are the ServeMux patterns,
// e.g. "GET /k8s/{cluster}/apis/compute.coreweave.com/v1alpha1/nodepools/{name}"), and
//
//	GET    /clusters                 every cluster since the last reset, deleted ones flagged "gone"
//	POST   /clusters/{id}/fail       the cluster becomes STATUS_FAILED (its API server unreachable)
//	POST   /clusters/{id}/status     {"status": "STATUS_ERROR"}: any cks.v1beta1.Cluster.Status on
//	                                 demand (SetClusterStatus), ERROR and UPGRADE_FAILED included
//	DELETE /clusters/{id}            out-of-band deletion: gone at once, pools and capacity freed
//	GET    /clusters/{id}/nodes      the cluster's nodes
//	GET    /vpcs                     every VPC since the last reset
//	GET    /nodepools                node pools of every cluster
//	GET    /capacity                 the capacity table
//	PUT    /capacity                 {"instance_type","zone","available"}
//	GET    /instance-types           the catalog with prices
//	GET    /quota, PUT /quota        {"clusters": N}
//	POST   /reset                    back to the state New gave, counters and faults cleared
//
// The same operations are Go methods for in-process tests (Clusters, VPCs, NodePools, Nodes,
// FailCluster, SetClusterStatus, DeleteClusterOutOfBand, SetCapacity, SetClusterQuota, Reset).
package coreweave

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// Options configures an Emulator. Zero values take the defaults below.
type Options struct {
	// Token is the only API access token accepted, on the platform and Kubernetes APIs alike
	// (default DefaultToken).
	Token string
	// TimeScale scales every real-world duration (default 1, real time; tests use 0.001 or less).
	TimeScale float64
	// ClusterCreateTime is how long (real time) a new cluster stays STATUS_CREATING.
	ClusterCreateTime time.Duration
	// NodeJoinTime is how long (real time) one node takes from provisioning to Ready.
	NodeJoinTime time.Duration
	// ClusterUpdateTime is how long (real time) a PATCHed cluster stays UPDATING/UPGRADING.
	ClusterUpdateTime time.Duration
	// ClusterDeleteTime is how long (real time) a deleted cluster stays STATUS_DELETING.
	ClusterDeleteTime time.Duration
	// VPCCreateTime is how long (real time) a new VPC stays STATUS_CREATING.
	VPCCreateTime time.Duration
	// NodeDrainTime is how long (real time) a deleted node pool drains its nodes before they go.
	NodeDrainTime time.Duration
	// ClusterQuota is how many clusters the organization may have that are not being deleted.
	ClusterQuota int
}

// Defaults for Options.
const (
	DefaultToken             = "CW-SECRET-emulator"
	DefaultClusterCreateTime = 45 * time.Minute
	DefaultNodeJoinTime      = 5 * time.Minute
	DefaultClusterUpdateTime = 10 * time.Minute
	DefaultClusterDeleteTime = 10 * time.Minute
	DefaultVPCCreateTime     = time.Minute
	DefaultNodeDrainTime     = 2 * time.Minute
	DefaultClusterQuota      = 5
)

// Fixed real-world durations (scaled like the others).
const (
	vpcUpdateTime = 30 * time.Second
	vpcDeleteTime = 30 * time.Second
	// controllerLag is how long the NodePool controller takes to observe a write.
	controllerLag = 2 * time.Second
)

// maxBodyBytes bounds request bodies (the apiserver's limit is about 3 MB).
const maxBodyBytes = 3 << 20

// Emulator is one emulated CoreWeave organization. It is an http.Handler serving /v1beta1/...
// and /k8s/{cluster}/...
type Emulator struct {
	// Core holds the shared middleware: call counters (Core.Stats), fault injection
	// (Core.AddFault) and rate limiting (none by default: CoreWeave publishes no limits).
	Core *emucore.Core

	opts    Options
	mux     *http.ServeMux
	handler http.Handler
	// now is the emulator's clock; a field so a test can pin it.
	now func() time.Time

	// mu guards state; every handler holds it while it reads or changes state.
	mu    sync.Mutex
	state *state
}

// state is everything a reset throws away.
type state struct {
	vpcs         map[string]*vpc
	clusters     map[string]*cluster
	capacity     map[capacityKey]int
	clusterQuota int
	// seq numbers created objects so equal timestamps still order deterministically.
	seq int64
	// extIPSeq numbers the public node addresses handed out.
	extIPSeq int
	// epoch changes on every reset so long-running watches notice and end.
	epoch int
}

// New returns an emulator with the default catalog and capacity and no VPCs or clusters.
func New(opts Options) *Emulator {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.TimeScale <= 0 {
		opts.TimeScale = 1
	}
	defaultDuration(&opts.ClusterCreateTime, DefaultClusterCreateTime)
	defaultDuration(&opts.NodeJoinTime, DefaultNodeJoinTime)
	defaultDuration(&opts.ClusterUpdateTime, DefaultClusterUpdateTime)
	defaultDuration(&opts.ClusterDeleteTime, DefaultClusterDeleteTime)
	defaultDuration(&opts.VPCCreateTime, DefaultVPCCreateTime)
	defaultDuration(&opts.NodeDrainTime, DefaultNodeDrainTime)
	if opts.ClusterQuota <= 0 {
		opts.ClusterQuota = DefaultClusterQuota
	}
	e := &Emulator{opts: opts, now: func() time.Time { return time.Now().UTC() }}
	e.Core = emucore.NewCore(emucore.Vendor{
		Name:         "coreweave",
		Authenticate: e.authenticate,
		WriteError:   writeVendorError,
	}, emucore.Clock{Scale: opts.TimeScale})
	e.state = e.initialState(0)

	e.mux = http.NewServeMux()
	e.registerPlatform(e.mux)
	e.registerKube(e.mux)
	e.mux.HandleFunc("/v1beta1/", e.platformFallback)
	e.handler = e.Core.Wrap(e.mux)
	return e
}

func defaultDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Token returns the API access token the emulator accepts.
func (e *Emulator) Token() string { return e.opts.Token }

// ServeHTTP serves the platform API (/v1beta1/...) and the clusters' Kubernetes APIs (/k8s/...).
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.handler.ServeHTTP(w, r)
}

func (e *Emulator) initialState(epoch int) *state {
	return &state{
		vpcs:         map[string]*vpc{},
		clusters:     map[string]*cluster{},
		capacity:     defaultCapacity(),
		clusterQuota: e.opts.ClusterQuota,
		epoch:        epoch,
	}
}

// scaled turns a real-world duration into emulator time.
func (e *Emulator) scaled(d time.Duration) time.Duration { return e.Core.Clock.D(d) }

func (e *Emulator) nextSeq() int64 {
	e.state.seq++
	return e.state.seq
}

// authenticate checks the bearer token. A few Kubernetes paths are public, as the apiserver's
// system:public-info-viewer role makes them.
func (e *Emulator) authenticate(r *http.Request) bool {
	if isPublicKubePath(r.URL.Path) {
		return true
	}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(cred)), []byte(e.opts.Token)) == 1
}

// platformFallback answers paths and methods the platform API does not serve.
func (e *Emulator) platformFallback(w http.ResponseWriter, r *http.Request) {
	if methods := e.allowedMethods(r); len(methods) > 0 {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeAPIError(w, &apiError{status: http.StatusMethodNotAllowed, Code: codeUnimplemented,
			Message: fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path)})
		return
	}
	writeAPIError(w, &apiError{status: http.StatusNotFound, Code: codeUnimplemented,
		Message: fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path)})
}

// allowedMethods lists the methods some specific route serves at the request's path (empty
// when only a fallback matches).
func (e *Emulator) allowedMethods(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := e.mux.Handler(probe); pattern != "" && strings.HasPrefix(pattern, m+" ") {
			out = append(out, m)
		}
	}
	return out
}

// readBody reads a request body up to maxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, fmt.Errorf("request body larger than %d bytes", tooBig.Limit)
	}
	return b, err
}

// newUUID returns a random RFC 4122 version 4 UUID, the form CoreWeave ids and Kubernetes uids take.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// protoTime formats a time as protobuf's JSON mapping does: UTC, with 0, 3, 6 or 9 fractional digits.
func protoTime(t time.Time) string {
	t = t.UTC()
	ns := t.Nanosecond()
	switch {
	case ns == 0:
		return t.Format("2006-01-02T15:04:05Z")
	case ns%1e6 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case ns%1e3 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	default:
		return t.Format("2006-01-02T15:04:05.000000000Z")
	}
}

// kubeTime formats a time as metav1.Time does: RFC 3339, UTC, whole seconds.
func kubeTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// requestBase is the scheme and host a client used to reach us, for URLs we hand out.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// decodePlatformJSON reads a platform API body into v: it accepts protobuf JSON's snake_case
// aliases for field names (except inside free-form fields such as kubelet), ignores unknown
// fields, and turns a malformed body into invalid_argument.
func decodePlatformJSON(w http.ResponseWriter, r *http.Request, v any, freeForm ...string) *apiError {
	raw, err := readBody(w, r)
	if err != nil {
		return errMalformed("%v", err)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return errMalformed("request body is empty: a JSON object is required")
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return errMalformed("request body is not valid JSON: %v", err)
	}
	obj, ok := generic.(map[string]any)
	if !ok {
		return errMalformed("request body must be a JSON object")
	}
	normalized, _ := json.Marshal(camelKeys(obj, freeForm))
	if err := json.Unmarshal(normalized, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return errInvalidArgument(fieldViolation{Field: typeErr.Field,
				Description: fmt.Sprintf("wrong JSON type: %s, want %s", typeErr.Value, typeErr.Type)})
		}
		return errMalformed("request body does not match the message: %v", err)
	}
	return nil
}

// camelKeys rewrites snake_case object keys to lowerCamelCase, recursively, except below the
// keys listed in skip (free-form structs whose keys are data).
func camelKeys(v any, skip []string) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			ck := snakeToCamel(k)
			if contains(skip, ck) {
				out[ck] = val
				continue
			}
			out[ck] = camelKeys(val, skip)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = camelKeys(val, skip)
		}
		return out
	default:
		return v
	}
}

func snakeToCamel(s string) string {
	if !strings.Contains(s, "_") {
		return s
	}
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
