package coreweave

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/snapshot"
)

// The Kubernetes side: one client-go dynamic client per CKS API server, with the CoreWeave
// token as bearer token, for NodePools (compute.coreweave.com/v1alpha1, cluster-scoped) and
// the Nodes they bring. Errors are mapped onto the clients sentinels (kubeError).

// kubeSubsystem is the tflog subsystem of Kubernetes API requests
// (TF_LOG_PROVIDER_NEOCLOUD_COREWEAVE_KUBERNETES sets its level).
const kubeSubsystem = "coreweave_kubernetes"

// errAPIServerUnavailable marks a Kubernetes API server that did not answer (503, a refused
// or timed-out connection): for a cluster still being created or deleted that is its normal
// state, for a running one a blip worth waiting out.
var errAPIServerUnavailable = errors.New("the cluster's Kubernetes API server is not reachable")

// KubeConfig configures the Kubernetes clients.
type KubeConfig struct {
	// Token is the CoreWeave API access token, sent as bearer token (CKS accepts it).
	Token     string
	UserAgent string
	// AllowInsecure lets an API server endpoint be plain http to a host that is not loopback.
	// The endpoint comes from the platform API, not from the user, so the token is held to the
	// same rule as the platform endpoint the user opted in (or not) for.
	AllowInsecure bool
	// QPS and Burst pace requests per API server (client-go's token bucket).
	QPS   float32
	Burst int
	// Timeout bounds one request (default 30 s).
	Timeout time.Duration
	// RetryWait is the first pause before a read is sent again after a transient failure; it
	// doubles up to maxReadRetryWait (default 1 s).
	RetryWait time.Duration
	// ReadBudget bounds the retries of one read (default 5 minutes; the caller's deadline, when
	// sooner, wins).
	ReadBudget time.Duration
}

// Reads of the Kubernetes API are retried, like every idempotent read (see httpx), until they
// succeed, fail for good, or the operation's time runs out; a read without a deadline (a
// refresh) gets KubeConfig.ReadBudget.
const maxReadRetryWait = 5 * time.Second

// kubeClients hands out one KubeClient per API server endpoint and keeps them, so that the
// pacing of one cluster's API server is shared by every resource that talks to it.
type kubeClients struct {
	cfg KubeConfig

	mu      sync.Mutex
	clients map[string]*KubeClient
}

// silenceKlog routes client-go's own logging (klog) nowhere, once per process. client-go logs
// through klog, whose default output is the plugin's stderr, which Terraform copies into its
// logs; at high verbosity klog would print request details there. The adapter logs requests
// itself through tflog (kubeLogTransport), without headers.
var silenceKlog sync.Once

func newKubeClients(cfg KubeConfig) *kubeClients {
	if cfg.QPS <= 0 {
		cfg.QPS = 10
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.RetryWait <= 0 {
		cfg.RetryWait = time.Second
	}
	if cfg.ReadBudget <= 0 {
		cfg.ReadBudget = 5 * time.Minute
	}
	silenceKlog.Do(func() { klog.SetLogger(logr.Discard()) })
	return &kubeClients{cfg: cfg, clients: map[string]*KubeClient{}}
}

// For returns the client of the API server at endpoint (a cluster's apiServerEndpoint).
func (k *kubeClients) For(endpoint string) (*KubeClient, error) {
	endpoint = strings.TrimRight(strings.TrimSpace(endpoint), "/")
	u, err := url.Parse(endpoint)
	if endpoint == "" || err != nil || u.Scheme == "" || u.Host == "" {
		// The platform API gives no endpoint while a cluster is being created.
		return nil, &clients.KindError{Kind: errAPIServerUnavailable, Msg: fmt.Sprintf("the cluster has no usable Kubernetes API server endpoint yet (%q)", endpoint)}
	}
	// Every request carries the account token, so the API server is held to the platform
	// endpoint's rule.
	if err := clients.CheckEndpoint(endpoint, k.cfg.AllowInsecure); err != nil {
		return nil, clients.Errorf(clients.ErrInsecureEndpoint,
			"the cluster's Kubernetes API server is refused (%v); set insecure = true in the provider's coreweave block only if that network is trusted", err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.clients[endpoint]; ok {
		return c, nil
	}
	token := k.cfg.Token
	rc := &rest.Config{
		Host:        endpoint,
		BearerToken: token,
		UserAgent:   k.cfg.UserAgent,
		QPS:         k.cfg.QPS,
		Burst:       k.cfg.Burst,
		Timeout:     k.cfg.Timeout,
		// Warnings (deprecated fields and the like) go to tflog instead of klog.
		WarningHandlerWithContext: tflogWarnings{},
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			return &kubeLogTransport{next: rt, secret: token}
		},
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("building the Kubernetes client for %s: %w", endpoint, err)
	}
	c := &KubeClient{endpoint: endpoint, dyn: dyn, retryWait: k.cfg.RetryWait, readBudget: k.cfg.ReadBudget}
	// Dated from when their request leaves client-go's rate limiter: a list asked for while a
	// hundred node pool creates or deletes wait there serves every reader until it leaves.
	c.pools = snapshot.New(c.ListNodePools).StampAtSend()
	c.nodes = snapshot.New(c.ListNodePoolNodes).StampAtSend()
	k.clients[endpoint] = c
	return c, nil
}

// KubeClient talks to one CKS cluster's Kubernetes API.
type KubeClient struct {
	endpoint   string
	dyn        dynamic.Interface
	retryWait  time.Duration
	readBudget time.Duration

	// Shared, short-lived snapshots of the cluster's NodePools and their Nodes, so that
	// refreshing many instances of one cluster costs two list calls (see Cloud.poolAndNodes).
	pools *snapshot.Cache[[]NodePool]
	nodes *snapshot.Cache[[]Node]
}

// invalidate forgets the snapshots after a change this process made.
func (k *KubeClient) invalidate() {
	k.pools.Invalidate()
	k.nodes.Invalidate()
}

// Endpoint is the API server URL the client talks to.
func (k *KubeClient) Endpoint() string { return k.endpoint }

// GetNodePool reads a NodePool; ErrNotFound when the cluster has none of that name.
func (k *KubeClient) GetNodePool(ctx context.Context, name string) (*NodePool, error) {
	var u *unstructured.Unstructured
	err := k.read(ctx, false, func(ctx context.Context) (err error) {
		u, err = k.dyn.Resource(nodePoolGVR).Get(ctx, name, metav1.GetOptions{})
		return kubeError("get node pool", name, err)
	})
	if err != nil {
		return nil, err
	}
	var p NodePool
	if err := fromUnstructured(u, &p); err != nil {
		return nil, fmt.Errorf("get node pool %s: decoding: %w", name, err)
	}
	return &p, nil
}

// CreateNodePool creates a NodePool. A pool of that name that exists already is refused with
// ErrConflict; as names are chosen by the caller, a create whose answer was lost can simply be
// sent again and the conflict then means "it was created" (see Cloud.ensurePool).
func (k *KubeClient) CreateNodePool(ctx context.Context, p NodePool) (*NodePool, error) {
	p.APIVersion = NodePoolGroup + "/" + NodePoolVersion
	p.Kind = NodePoolKind
	u, err := toUnstructured(p)
	if err != nil {
		return nil, fmt.Errorf("create node pool %s: encoding: %w", p.Metadata.Name, err)
	}
	created, err := k.dyn.Resource(nodePoolGVR).Create(ctx, u, metav1.CreateOptions{})
	k.invalidate()
	if err != nil {
		return nil, kubeError("create node pool", p.Metadata.Name, err)
	}
	var out NodePool
	if err := fromUnstructured(created, &out); err != nil {
		return nil, fmt.Errorf("create node pool %s: decoding: %w", p.Metadata.Name, err)
	}
	return &out, nil
}

// ScaleNodePool sets spec.targetNodes with a JSON merge patch
// (application/merge-patch+json: custom resources take no strategic merge patch). Setting a
// value may be repeated.
func (k *KubeClient) ScaleNodePool(ctx context.Context, name string, targetNodes int) (*NodePool, error) {
	patch := fmt.Appendf(nil, `{"spec":{"targetNodes":%d}}`, targetNodes)
	u, err := k.dyn.Resource(nodePoolGVR).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	k.invalidate()
	if err != nil {
		return nil, kubeError("scale node pool", name, err)
	}
	var out NodePool
	if err := fromUnstructured(u, &out); err != nil {
		return nil, fmt.Errorf("scale node pool %s: decoding: %w", name, err)
	}
	return &out, nil
}

// DeleteNodePool deletes a NodePool (its nodes are drained, then the pool goes); ErrNotFound
// when there is none of that name.
func (k *KubeClient) DeleteNodePool(ctx context.Context, name string) error {
	propagation := metav1.DeletePropagationBackground
	err := k.dyn.Resource(nodePoolGVR).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &propagation})
	k.invalidate()
	if err != nil {
		return kubeError("delete node pool", name, err)
	}
	return nil
}

// ListPoolNodes lists the Nodes of a pool (label compute.coreweave.com/node-pool=<pool>).
func (k *KubeClient) ListPoolNodes(ctx context.Context, pool string) ([]Node, error) {
	return k.listNodes(ctx, "list nodes of node pool", LabelNodePool+"="+pool)
}

// ListNodePoolNodes lists the Nodes of every NodePool (those with the node-pool label).
func (k *KubeClient) ListNodePoolNodes(ctx context.Context) ([]Node, error) {
	return k.listNodes(ctx, "list node pool nodes", LabelNodePool)
}

func (k *KubeClient) listNodes(ctx context.Context, op, selector string) ([]Node, error) {
	return listAs[Node](ctx, k, nodeGVR, op, metav1.ListOptions{LabelSelector: selector})
}

// listAs lists the objects of one resource, in one request (a read: retried), decoded as T.
func listAs[T any](ctx context.Context, k *KubeClient, gvr schema.GroupVersionResource, op string, opts metav1.ListOptions) ([]T, error) {
	var list *unstructured.UnstructuredList
	err := k.read(ctx, true, func(ctx context.Context) (err error) {
		list, err = k.dyn.Resource(gvr).List(ctx, opts)
		return kubeError(op, "", err)
	})
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(list.Items))
	for i := range list.Items {
		var v T
		if err := fromUnstructured(&list.Items[i], &v); err != nil {
			return nil, fmt.Errorf("%s: decoding: %w", op, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// ListNodePools lists every NodePool of the cluster, in one request and without
// resourceVersion (nor limit): a consistent read of the cluster's current state, which
// LookInstance takes as proof that a pool it lacks is gone.
func (k *KubeClient) ListNodePools(ctx context.Context) ([]NodePool, error) {
	return listAs[NodePool](ctx, k, nodePoolGVR, "list node pools", metav1.ListOptions{})
}

// read runs an idempotent read (its error already mapped by kubeError) again after transient
// failures — the API server unavailable or slow, a 429, a 5xx, a 404 on a list — until it
// succeeds, fails for good, or ctx or the read budget runs out; then the last error is returned.
func (k *KubeClient) read(ctx context.Context, list bool, call func(context.Context) error) error {
	// The budget bounds a read whose caller has more time too: a shared list fetch runs on its
	// own deadline (snapshot.FetchTimeout), longer than a refresh should wait on one read.
	ctx, cancel := context.WithTimeout(ctx, k.readBudget)
	defer cancel()
	wait := max(k.retryWait, time.Millisecond)
	var answer error // the last failure that was an answer, not the budget running out
	for {
		err := call(ctx)
		if err != nil && ctx.Err() != nil && answer != nil && errors.Is(err, context.DeadlineExceeded) {
			return answer // cut short by the budget: the server's last word says more
		}
		if err == nil || !retryableRead(err, list) || ctx.Err() != nil {
			return err
		}
		answer = err
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(wait*2, maxReadRetryWait)
	}
}

// retryableRead reports a read failure that may pass: an unreachable or overloaded API server,
// a 429, any 5xx, a request that timed out on its own, or a 404 on a list route (which never
// says that the listed objects are gone).
func retryableRead(err error, list bool) bool {
	var apiErr *clients.APIError
	switch {
	case IsAPIServerUnavailable(err), errors.Is(err, clients.ErrRateLimited), errors.Is(err, context.DeadlineExceeded):
		return true
	case !errors.As(err, &apiErr):
		return false
	case apiErr.StatusCode >= 500, apiErr.StatusCode == 0 && apiErr.Kind == nil:
		return true
	}
	return list && apiErr.StatusCode == http.StatusNotFound
}

// unavailableError is an APIError that is also errAPIServerUnavailable.
type unavailableError struct{ *clients.APIError }

func (e *unavailableError) Unwrap() []error { return []error{e.APIError, errAPIServerUnavailable} }

// kubeError maps a client-go error onto the clients sentinels. name is the object the request
// was about ("" for lists), so that a NotFound that is really "this API server does not serve
// NodePools" (no name in its details) is not taken for a missing object: that would make the
// provider forget a machine.
func kubeError(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := contextError(err); ctxErr != nil {
		return fmt.Errorf("%s: Kubernetes API: %w", op, ctxErr)
	}
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		// Not an answer: the connection failed. Only a failure to connect is certainly
		// harmless, but callers treat every one as "unreachable" and retry only what may be
		// repeated (reads, deletes, and creates of named objects).
		e := &clients.APIError{Cloud: cloudName, Operation: op, Message: "Kubernetes API server unreachable: " + err.Error()}
		if isConnectionError(err) {
			return &unavailableError{e}
		}
		return e
	}
	s := st.Status()
	e := &clients.APIError{Cloud: cloudName, Operation: op, StatusCode: int(s.Code), Code: string(s.Reason), Message: s.Message}
	unexpected := false
	if s.Details != nil {
		for _, c := range s.Details.Causes {
			if c.Type == metav1.CauseTypeUnexpectedServerResponse {
				unexpected = true
			}
		}
		if s.Details.RetryAfterSeconds > 0 {
			e.RetryAfter = time.Duration(s.Details.RetryAfterSeconds) * time.Second
		}
	}
	switch {
	case apierrors.IsNotFound(err):
		if name != "" && !unexpected && s.Details != nil && s.Details.Name == name {
			e.Kind = clients.ErrNotFound
		} else {
			e.Kind = clients.ErrInvalid
			e.Suggestion = "the API server does not serve " + NodePoolResource + "." + NodePoolGroup + "/" + NodePoolVersion + " here: is this a CoreWeave CKS cluster?"
		}
	case apierrors.IsAlreadyExists(err), apierrors.IsConflict(err):
		e.Kind = clients.ErrConflict
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsUnsupportedMediaType(err),
		apierrors.IsMethodNotSupported(err), apierrors.IsNotAcceptable(err), apierrors.IsRequestEntityTooLargeError(err):
		e.Kind = clients.ErrInvalid
	case apierrors.IsUnauthorized(err):
		e.Kind = clients.ErrAuth
		e.Suggestion = "the cluster's API server refused the CoreWeave token; check api_token (" + keyEnv + ")"
	case apierrors.IsForbidden(err):
		e.Kind = clients.ErrAuth
		e.Suggestion = "the CoreWeave token may not manage NodePools in this cluster; check its permissions"
	case apierrors.IsTooManyRequests(err):
		e.Kind = clients.ErrRateLimited
	case s.Code == http.StatusServiceUnavailable || s.Code == http.StatusBadGateway || apierrors.IsServiceUnavailable(err):
		return &unavailableError{e}
	}
	return e
}

// contextError is the context error a request ended with, if that is what ended it.
func contextError(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return nil
}

// isConnectionError reports a transport failure: refused, reset, unreachable, DNS, timeout.
func isConnectionError(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var urlErr *url.Error
	switch {
	case errors.As(err, &opErr), errors.As(err, &dnsErr):
		return true
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return true
	case errors.As(err, &urlErr):
		return urlErr.Timeout() || strings.Contains(urlErr.Err.Error(), "EOF")
	}
	return false
}

// IsAPIServerUnavailable reports whether err means the cluster's Kubernetes API server did not
// answer (a 503, or no connection).
func IsAPIServerUnavailable(err error) bool { return errors.Is(err, errAPIServerUnavailable) }

// kubeLogTransport logs every Kubernetes API request through tflog: method, URL, status and
// duration, never headers or bodies. The token is masked all the same, in case an error text
// ever carries it.
type kubeLogTransport struct {
	next   http.RoundTripper
	secret string
}

func (t *kubeLogTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := tflog.NewSubsystem(req.Context(), kubeSubsystem, tflog.WithLevelFromEnv("TF_LOG_PROVIDER_NEOCLOUD_COREWEAVE_KUBERNETES"))
	if t.secret != "" {
		ctx = tflog.SubsystemMaskAllFieldValuesStrings(ctx, kubeSubsystem, t.secret)
		ctx = tflog.SubsystemMaskMessageStrings(ctx, kubeSubsystem, t.secret)
	}
	// client-go's rate limiter has let the request go: a shared list is dated from now
	// (snapshot.Cache.StampAtSend).
	snapshot.Sent(req.Context())
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	fields := map[string]any{
		"http_method": req.Method,
		"http_url":    req.URL.String(),
		"duration_ms": time.Since(start).Milliseconds(),
	}
	if err != nil {
		fields["error"] = err.Error()
		tflog.SubsystemWarn(ctx, kubeSubsystem, "Kubernetes API request failed", fields)
		return nil, err
	}
	fields["http_status"] = resp.StatusCode
	tflog.SubsystemDebug(ctx, kubeSubsystem, "Kubernetes API request", fields)
	return resp, nil
}

// tflogWarnings sends the API server's Warning headers to tflog.
type tflogWarnings struct{}

func (tflogWarnings) HandleWarningHeaderWithContext(ctx context.Context, code int, _ string, text string) {
	if code != 299 || text == "" {
		return
	}
	tflog.Warn(ctx, "Kubernetes API warning", map[string]any{"warning": text})
}
