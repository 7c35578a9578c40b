// Package lambda is the Lambda Cloud adapter: a typed client for Lambda Cloud API 1.8.0
// (client.go, wire.go) and Cloud, which implements clients.Cloud on top of it (adapter.go,
// launch.go). It registers itself as the cloud "lambda".
package lambda

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/httpx"
)

// DefaultEndpoint is Lambda Cloud's API base URL.
const DefaultEndpoint = "https://cloud.lambda.ai/api/v1"

// cloudName is the cloud's key in configuration, in errors and in the tflog subsystem.
const cloudName = "lambda"

// launchPath is the one route with its own published limit.
const launchPath = "/instance-operations/launch"

// DefaultLimiter paces every request at Lambda's published general limit (about one request
// a second; a burst of two lets a read follow a write without waiting).
func DefaultLimiter() *rate.Limiter { return rate.NewLimiter(rate.Every(time.Second), 2) }

// DefaultLaunchLimiter paces launches at Lambda's published limit (about one every 12 s).
func DefaultLaunchLimiter() *rate.Limiter { return rate.NewLimiter(rate.Every(12*time.Second), 1) }

// ClientConfig configures a Client.
type ClientConfig struct {
	// Endpoint is the API base URL including /api/v1; DefaultEndpoint when empty.
	Endpoint string
	// AllowInsecure lets Endpoint be plain http to a host that is not loopback (httpx.Config).
	AllowInsecure bool
	APIKey        string
	UserAgent     string
	// Limiter and LaunchLimiter default to DefaultLimiter and DefaultLaunchLimiter.
	Limiter       *rate.Limiter
	LaunchLimiter *rate.Limiter
	// Tuning is passed to httpx as given (its defaults where zero).
	httpx.Tuning
}

// Client is a typed Lambda Cloud API client. Every method returns errors wrapping the clients
// sentinels, usually as *clients.APIError with Lambda's code, message and suggestion kept.
type Client struct {
	http *httpx.Client

	// Launches queue here and leave one launch interval after the previous launch's answer
	// (see LaunchInstance).
	launchMu    sync.Mutex
	launchAt    time.Time // the earliest the next launch may leave
	launchEvery time.Duration
}

// NewClient builds a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.Limiter == nil {
		cfg.Limiter = DefaultLimiter()
	}
	if cfg.LaunchLimiter == nil {
		cfg.LaunchLimiter = DefaultLaunchLimiter()
	}
	h, err := httpx.New(httpx.Config{
		Cloud:         cloudName,
		BaseURL:       cfg.Endpoint,
		AllowInsecure: cfg.AllowInsecure,
		UserAgent:     cfg.UserAgent,
		BearerToken:   cfg.APIKey,
		Limiter:       cfg.Limiter,
		RouteLimits: []httpx.RouteLimit{
			{Method: http.MethodPost, Path: launchPath, Limiter: cfg.LaunchLimiter},
		},
		DecodeError: decodeError,
		Tuning:      cfg.Tuning,
	})
	if err != nil {
		return nil, err
	}
	return &Client{http: h, launchEvery: interval(cfg.LaunchLimiter)}, nil
}

// interval is the pause between two tokens of a limiter (0 when it is unlimited).
func interval(l *rate.Limiter) time.Duration {
	lim := float64(l.Limit())
	if l.Limit() == rate.Inf || lim <= 0 || math.IsInf(lim, 1) {
		return 0
	}
	return time.Duration(float64(time.Second) / lim)
}

// validID accepts the ids Lambda hands out (hex, uuids, "global"). Ids go into the URL path
// unescaped (httpx joins paths as given), so anything else is refused before it can reach
// another route.
var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func checkID(kind, id string) error {
	if !validID.MatchString(id) {
		return clients.Errorf(clients.ErrInvalid, "%q is not a valid Lambda Cloud %s id", id, kind)
	}
	return nil
}

func (c *Client) get(ctx context.Context, op, path string, out any) error {
	return c.http.Do(ctx, httpx.Request{Operation: op, Method: http.MethodGet, Path: path}, out)
}

// list reads a collection: a 404 to it is a failing route, never proof that anything is gone.
func (c *Client) list(ctx context.Context, op, path string, out any) error {
	return c.http.Do(ctx, httpx.Request{Operation: op, Method: http.MethodGet, Path: path, List: true}, out)
}

// ListInstanceTypes reads GET /instance-types: every type with its price and the regions that
// have capacity now, keyed by type name.
func (c *Client) ListInstanceTypes(ctx context.Context) (map[string]InstanceTypesItem, error) {
	var out envelope[map[string]InstanceTypesItem]
	if err := c.list(ctx, "list instance types", "/instance-types", &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// ListInstances reads GET /instances.
func (c *Client) ListInstances(ctx context.Context) ([]Instance, error) {
	var out envelope[[]Instance]
	if err := c.list(ctx, "list instances", "/instances", &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// GetInstance reads GET /instances/{id}.
func (c *Client) GetInstance(ctx context.Context, id string) (*Instance, error) {
	if err := checkID("instance", id); err != nil {
		return nil, err
	}
	var out envelope[Instance]
	if err := c.get(ctx, "get instance", "/instances/"+id, &out); err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// UpdateInstance sends POST /instances/{id} (today: rename). Setting the same name twice is
// harmless, so the request may be retried.
func (c *Client) UpdateInstance(ctx context.Context, id string, req InstanceModificationRequest) (*Instance, error) {
	if err := checkID("instance", id); err != nil {
		return nil, err
	}
	var out envelope[Instance]
	err := c.http.Do(ctx, httpx.Request{
		Operation: "update instance", Method: http.MethodPost, Path: "/instances/" + id, Body: req,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// LaunchInstance sends POST /instance-operations/launch. Lambda has no idempotency key, so
// the request is never repeated once it may have reached the server: a lost answer comes back
// as clients.ErrOutcomeUnknown and the caller must look before launching again.
//
// Launches queue and go out one at a time, each one launch interval after the previous one's
// answer: Lambda counts its one-per-12-seconds limit when a launch arrives, which is somewhere
// between its sending and its answer, so spacing sends alone would let network jitter bring two
// arrivals closer than the limit and collect a 429 (whose Retry-After then costs far more than
// the round trip this spacing adds). A caller that took its turn with LaunchTurn (to stamp the
// launch with the time it really leaves) sends under that turn; any other call takes its own.
func (c *Client) LaunchInstance(ctx context.Context, req LaunchRequest) (*LaunchResponse, error) {
	if held, _ := ctx.Value(launchTurnKey{}).(*Client); held != c {
		tctx, release, err := c.LaunchTurn(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
		ctx = tctx
	}
	var out envelope[LaunchResponse]
	err := c.http.Do(ctx, httpx.Request{
		Operation: "launch instance", Method: http.MethodPost, Path: launchPath, Body: req,
		NotIdempotent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// launchTurnKey marks a context whose launch holds its client's turn (LaunchTurn).
type launchTurnKey struct{}

// LaunchTurn waits for this client's turn to launch: until every launch queued before has been
// answered and one launch interval has passed since the last answer. It returns a context that
// LaunchInstance sends under without queueing again, and release, to be called once the launch
// was answered (or given up); until then every other launch waits. A wait that would outlast
// ctx's deadline is refused at once, and nothing is sent.
func (c *Client) LaunchTurn(ctx context.Context) (context.Context, func(), error) {
	c.launchMu.Lock()
	if wait := time.Until(c.launchAt); wait > 0 {
		if d, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(d) {
			c.launchMu.Unlock()
			return nil, nil, fmt.Errorf("launch instance: request not sent: waiting %s for the launch rate limit would outlast the deadline: %w",
				wait.Round(time.Millisecond), context.DeadlineExceeded)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			c.launchMu.Unlock()
			return nil, nil, fmt.Errorf("launch instance: request not sent: %w", ctx.Err())
		case <-t.C:
		}
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			c.launchAt = time.Now().Add(c.launchEvery)
			c.launchMu.Unlock()
		})
	}
	return context.WithValue(ctx, launchTurnKey{}, c), release, nil
}

// TerminateInstances sends POST /instance-operations/terminate. Terminating twice ends in the
// same state, so the request is retried like a read.
func (c *Client) TerminateInstances(ctx context.Context, ids ...string) ([]Instance, error) {
	var out envelope[InstanceTerminateResponse]
	err := c.http.Do(ctx, httpx.Request{
		Operation: "terminate instance", Method: http.MethodPost, Path: "/instance-operations/terminate",
		Body: instanceIDsRequest{InstanceIDs: ids},
	}, &out)
	if err != nil {
		return nil, err
	}
	return out.Data.TerminatedInstances, nil
}

// RestartInstances sends POST /instance-operations/restart. A repeated restart reboots the
// machine again, so a lost answer is reported rather than retried.
func (c *Client) RestartInstances(ctx context.Context, ids ...string) ([]Instance, error) {
	var out envelope[InstanceRestartResponse]
	err := c.http.Do(ctx, httpx.Request{
		Operation: "restart instance", Method: http.MethodPost, Path: "/instance-operations/restart",
		Body: instanceIDsRequest{InstanceIDs: ids}, NotIdempotent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return out.Data.RestartedInstances, nil
}

// ListSSHKeys reads GET /ssh-keys.
func (c *Client) ListSSHKeys(ctx context.Context) ([]SSHKey, error) {
	var out envelope[[]SSHKey]
	if err := c.list(ctx, "list SSH keys", "/ssh-keys", &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// AddSSHKey sends POST /ssh-keys. Without a public key the answer carries the generated
// private key, which Lambda does not keep.
func (c *Client) AddSSHKey(ctx context.Context, req AddSSHKeyRequest) (*SSHKey, error) {
	var out envelope[SSHKey]
	err := c.http.Do(ctx, httpx.Request{
		Operation: "add SSH key", Method: http.MethodPost, Path: "/ssh-keys", Body: req, NotIdempotent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// DeleteSSHKey sends DELETE /ssh-keys/{id}.
func (c *Client) DeleteSSHKey(ctx context.Context, id string) error {
	if err := checkID("SSH key", id); err != nil {
		return err
	}
	return c.http.Do(ctx, httpx.Request{Operation: "delete SSH key", Method: http.MethodDelete, Path: "/ssh-keys/" + id}, nil)
}

// ListFilesystems reads GET /file-systems (the list route is spelled with a hyphen).
func (c *Client) ListFilesystems(ctx context.Context) ([]Filesystem, error) {
	var out envelope[[]Filesystem]
	if err := c.list(ctx, "list filesystems", "/file-systems", &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// CreateFilesystem sends POST /filesystems (no hyphen, unlike the list route).
func (c *Client) CreateFilesystem(ctx context.Context, req FilesystemCreateRequest) (*Filesystem, error) {
	var out envelope[Filesystem]
	err := c.http.Do(ctx, httpx.Request{
		Operation: "create filesystem", Method: http.MethodPost, Path: "/filesystems", Body: req, NotIdempotent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// DeleteFilesystem sends DELETE /filesystems/{id} and returns the deleted ids.
func (c *Client) DeleteFilesystem(ctx context.Context, id string) ([]string, error) {
	if err := checkID("filesystem", id); err != nil {
		return nil, err
	}
	var out envelope[FilesystemDeleteResponse]
	err := c.http.Do(ctx, httpx.Request{Operation: "delete filesystem", Method: http.MethodDelete, Path: "/filesystems/" + id}, &out)
	if err != nil {
		return nil, err
	}
	return out.Data.DeletedIDs, nil
}

// ListImages reads GET /images.
func (c *Client) ListImages(ctx context.Context) ([]Image, error) {
	var out envelope[[]Image]
	if err := c.list(ctx, "list images", "/images", &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// ListFirewallRulesets reads GET /firewall-rulesets.
func (c *Client) ListFirewallRulesets(ctx context.Context) ([]FirewallRuleset, error) {
	var out envelope[[]FirewallRuleset]
	if err := c.list(ctx, "list firewall rulesets", "/firewall-rulesets", &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// GetFirewallRuleset reads GET /firewall-rulesets/{id}.
func (c *Client) GetFirewallRuleset(ctx context.Context, id string) (*FirewallRuleset, error) {
	if err := checkID("firewall ruleset", id); err != nil {
		return nil, err
	}
	var out envelope[FirewallRuleset]
	if err := c.get(ctx, "get firewall ruleset", "/firewall-rulesets/"+id, &out); err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// CreateFirewallRuleset sends POST /firewall-rulesets.
func (c *Client) CreateFirewallRuleset(ctx context.Context, req FirewallRulesetCreateRequest) (*FirewallRuleset, error) {
	if req.Rules == nil {
		req.Rules = []FirewallRule{} // the API wants a list, even an empty one
	}
	var out envelope[FirewallRuleset]
	err := c.http.Do(ctx, httpx.Request{
		Operation: "create firewall ruleset", Method: http.MethodPost, Path: "/firewall-rulesets", Body: req,
		NotIdempotent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// UpdateFirewallRuleset sends PATCH /firewall-rulesets/{id}. A patch sets values rather than
// adding to them, so it may be retried.
func (c *Client) UpdateFirewallRuleset(ctx context.Context, id string, req FirewallRulesetPatchRequest) (*FirewallRuleset, error) {
	if err := checkID("firewall ruleset", id); err != nil {
		return nil, err
	}
	var out envelope[FirewallRuleset]
	err := c.http.Do(ctx, httpx.Request{
		Operation: "update firewall ruleset", Method: http.MethodPatch, Path: "/firewall-rulesets/" + id, Body: req,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// DeleteFirewallRuleset sends DELETE /firewall-rulesets/{id}.
func (c *Client) DeleteFirewallRuleset(ctx context.Context, id string) error {
	if err := checkID("firewall ruleset", id); err != nil {
		return err
	}
	return c.http.Do(ctx, httpx.Request{
		Operation: "delete firewall ruleset", Method: http.MethodDelete, Path: "/firewall-rulesets/" + id,
	}, nil)
}

// GetGlobalFirewallRuleset reads GET /firewall-rulesets/global.
func (c *Client) GetGlobalFirewallRuleset(ctx context.Context) (*GlobalFirewallRuleset, error) {
	var out envelope[GlobalFirewallRuleset]
	if err := c.get(ctx, "get global firewall ruleset", "/firewall-rulesets/global", &out); err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// UpdateGlobalFirewallRuleset sends PATCH /firewall-rulesets/global.
func (c *Client) UpdateGlobalFirewallRuleset(ctx context.Context, req GlobalFirewallRulesetPatchRequest) (*GlobalFirewallRuleset, error) {
	var out envelope[GlobalFirewallRuleset]
	err := c.http.Do(ctx, httpx.Request{
		Operation: "update global firewall ruleset", Method: http.MethodPatch, Path: "/firewall-rulesets/global", Body: req,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// ListFirewallRules reads GET /firewall-rules (the account's inbound rules).
func (c *Client) ListFirewallRules(ctx context.Context) ([]FirewallRule, error) {
	var out envelope[[]FirewallRule]
	if err := c.list(ctx, "list firewall rules", "/firewall-rules", &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// SetFirewallRules sends PUT /firewall-rules, replacing every inbound rule.
func (c *Client) SetFirewallRules(ctx context.Context, rules []FirewallRule) ([]FirewallRule, error) {
	if rules == nil {
		rules = []FirewallRule{}
	}
	var out envelope[[]FirewallRule]
	err := c.http.Do(ctx, httpx.Request{
		Operation: "replace firewall rules", Method: http.MethodPut, Path: "/firewall-rules",
		Body: firewallRulesPutRequest{Data: rules},
	}, &out)
	if err != nil {
		return nil, err
	}
	return out.Data, nil
}
