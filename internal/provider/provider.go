// Package provider is the Terraform-facing layer: provider configuration, resources, data
// sources, plan modifiers and validators, and the mapping between Terraform models and the
// neutral types of internal/clients. It never builds a URL or knows a vendor's JSON.
package provider

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	_ "github.com/neocloud/terraform-provider-neocloud/internal/clients/all" // registers every cloud
)

var (
	_ provider.Provider                   = (*neocloudProvider)(nil)
	_ provider.ProviderWithValidateConfig = (*neocloudProvider)(nil)
)

type neocloudProvider struct {
	version string
}

// New returns a constructor of the provider, for providerserver.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &neocloudProvider{version: version} }
}

func (p *neocloudProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "neocloud"
	resp.Version = p.version
}

func (p *neocloudProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	blocks := map[string]schema.Block{}
	for _, name := range clients.Names() {
		info, _ := clients.Lookup(name)
		blocks[name] = schema.SingleNestedBlock{
			MarkdownDescription: fmt.Sprintf("Credentials and endpoint for %s. Leave the block out to configure %s from the environment only; a resource that uses %s when no key is set anywhere fails with an error naming what to set.", info.DisplayName, info.DisplayName, info.DisplayName),
			Attributes: map[string]schema.Attribute{
				info.KeyAttribute: schema.StringAttribute{
					Optional:            true,
					Sensitive:           true,
					MarkdownDescription: fmt.Sprintf("%s API key. Falls back to the `%s` environment variable.", info.DisplayName, info.KeyEnv),
				},
				"endpoint": schema.StringAttribute{
					Optional:            true,
					MarkdownDescription: fmt.Sprintf("Base URL of the %s API, for a proxy or a local emulator. Defaults to `%s`; falls back to the `%s` environment variable.", info.DisplayName, info.DefaultEndpoint, info.EndpointEnv),
					Validators:          []validator.String{urlValidator{}},
				},
				"insecure": schema.BoolAttribute{
					Optional: true,
					MarkdownDescription: fmt.Sprintf("Allow `endpoint` to be plain `http://` to a host other than this machine. Default `false`: such an endpoint is refused at plan time. "+
						"Every request carries the `%s`, so over plain http it travels in clear text and anyone on the network path can read it and use the account. "+
						"Set it only for a network you trust, such as an emulator on another host. `https://` endpoints, and `http://` to `localhost`, `127.0.0.0/8` or `::1`, need no opt-in.", info.KeyAttribute),
				},
			},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Declare GPU machines and multi-node GPU clusters on the neo-clouds (Lambda Cloud, RunPod, CoreWeave) with one vendor-neutral schema.",
		Blocks:              blocks,
	}
}

// ValidateConfig refuses, before any plan, an endpoint in the configuration that would send a
// key over plain http to another host. An endpoint from the environment is checked in Configure.
func (p *neocloudProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	for _, name := range clients.Names() {
		info, _ := clients.Lookup(name)
		var endpoint types.String
		var insecure types.Bool
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name).AtName("endpoint"), &endpoint)...)
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name).AtName("insecure"), &insecure)...)
		if resp.Diagnostics.HasError() {
			return
		}
		if endpoint.IsNull() || endpoint.IsUnknown() || insecure.IsUnknown() {
			continue
		}
		// A URL that is not absolute http(s) is urlValidator's to report.
		if err := clients.CheckEndpoint(endpoint.ValueString(), insecure.ValueBool()); errors.Is(err, clients.ErrInsecureEndpoint) {
			addEndpointError(&resp.Diagnostics, name, info, endpoint.ValueString(), "", err)
		}
	}
}

// addEndpointError reports an endpoint that CheckEndpoint refused, on the block's endpoint.
// from names the environment variable the endpoint came from, if it did.
func addEndpointError(diags *diag.Diagnostics, name string, info clients.CloudInfo, endpoint, from string, err error) {
	where := ""
	if from != "" {
		where = fmt.Sprintf(" (from the %s environment variable)", from)
	}
	attr := path.Root(name).AtName("endpoint")
	if !errors.Is(err, clients.ErrInsecureEndpoint) {
		diags.AddAttributeError(attr, "Invalid "+info.DisplayName+" endpoint",
			fmt.Sprintf("The %s endpoint%s cannot be used: %v.\n\nSet an https:// URL such as %s.", info.DisplayName, where, err, info.DefaultEndpoint))
		return
	}
	host := endpoint
	if u, perr := url.Parse(strings.TrimSpace(endpoint)); perr == nil {
		host = u.Hostname() // never the whole URL: it may hold a user and password
	}
	diags.AddAttributeError(attr, "Insecure "+info.DisplayName+" endpoint",
		fmt.Sprintf("The %s endpoint%s uses plain http to %q, which is not this machine. Every request carries the %s `%s`, "+
			"so it would travel in clear text and anyone on the network path could read it and use the account.\n\n"+
			"Use an https:// endpoint. Only if the network to that host is trusted (an emulator or a proxy on a private network), "+
			"set `insecure = true` in the provider's `%s` block to accept the risk.", info.DisplayName, where, host, info.DisplayName, info.KeyAttribute, name))
}

func (p *neocloudProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	data := &providerData{clouds: map[string]clients.Cloud{}, missing: map[string]string{}, keyFrom: map[string]keySource{}, cadences: map[string]*clients.Cadence{}}
	userAgent := fmt.Sprintf("terraform-provider-neocloud/%s terraform/%s", p.version, req.TerraformVersion)
	// Only for emulators running faster than real time (cmd/neocloud-emulator -time-scale).
	rateScale, _ := strconv.ParseFloat(os.Getenv("NEOCLOUD_RATE_SCALE"), 64)
	data.timing = clients.Settings{RateScale: rateScale}

	for _, name := range clients.Names() {
		info, _ := clients.Lookup(name)
		var key, endpoint types.String
		var insecure types.Bool
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name).AtName(info.KeyAttribute), &key)...)
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name).AtName("endpoint"), &endpoint)...)
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name).AtName("insecure"), &insecure)...)
		if resp.Diagnostics.HasError() {
			return
		}
		if key.IsUnknown() || endpoint.IsUnknown() || insecure.IsUnknown() {
			// Known only after apply of something else; resources will say so if they need it.
			data.missing[name] = fmt.Sprintf("The %s credentials in the provider configuration are not known yet (they depend on a resource that has not been created).", info.DisplayName)
			continue
		}
		settings := clients.Settings{
			APIKey:    firstNonEmpty(key.ValueString(), os.Getenv(info.KeyEnv)),
			Endpoint:  firstNonEmpty(endpoint.ValueString(), os.Getenv(info.EndpointEnv), info.DefaultEndpoint),
			UserAgent: userAgent,
			Insecure:  insecure.ValueBool(),
			RateScale: rateScale,
		}
		if settings.APIKey == "" {
			data.missing[name] = fmt.Sprintf("%s is not configured: set `%s` in the provider's `%s` block or the %s environment variable.", info.DisplayName, info.KeyAttribute, name, info.KeyEnv)
			continue
		}
		// Checked here too for an endpoint from the environment, which ValidateConfig cannot see.
		if err := clients.CheckEndpoint(settings.Endpoint, settings.Insecure); err != nil {
			from := ""
			if endpoint.ValueString() == "" && os.Getenv(info.EndpointEnv) != "" {
				from = info.EndpointEnv
			}
			addEndpointError(&resp.Diagnostics, name, info, settings.Endpoint, from, err)
			continue
		}
		cloud, err := info.New(settings)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root(name).AtName("endpoint"), "Invalid "+info.DisplayName+" configuration", err.Error())
			continue
		}
		data.clouds[name] = cloud
		data.keyFrom[name] = keySource{block: name, attribute: info.KeyAttribute, env: info.KeyEnv, fromEnv: key.ValueString() == ""}
		tflog.Debug(ctx, "configured cloud", map[string]any{"cloud": name, "endpoint": settings.Endpoint})
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func (p *neocloudProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewGPUInstanceResource,
		NewSSHKeyResource,
		NewVolumeResource,
		NewGPUClusterResource,
		NewContainerRegistryCredentialResource,
	}
}

func (p *neocloudProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewGPUOffersDataSource,
		NewGPUInstanceDataSource,
	}
}

// providerData is what Configure hands to resources: the configured clouds, and for each
// cloud that is not configured, the sentence telling the user how to configure it.
type providerData struct {
	clouds  map[string]clients.Cloud
	missing map[string]string
	// keyFrom says where each configured cloud's key came from, for authentication errors.
	keyFrom map[string]keySource

	mu sync.Mutex
	// authReported: the cloud's rejection of the key was reported in this run; every other
	// plan-time or refresh failure for the same reason stays silent (the run fails anyway).
	authReported map[string]bool

	// timing holds the rate scale (NEOCLOUD_RATE_SCALE) that puts waits on an emulator's clock.
	timing clients.Settings
	// cadences are the shared look schedules of the waiters of each cloud (see cadence).
	cadMu    sync.Mutex
	cadences map[string]*clients.Cadence
}

// keySource is where a cloud's key came from: the provider block or the environment.
type keySource struct {
	block, attribute, env string
	fromEnv               bool
}

// cadence is the one look schedule every waiter of a cloud follows, so that waiting for many
// machines of one cloud costs one shared list per look (docs/guides/performance.md).
func (d *providerData) cadence(cloud string) *clients.Cadence {
	d.cadMu.Lock()
	defer d.cadMu.Unlock()
	c, ok := d.cadences[cloud]
	if !ok {
		if d.cadences == nil {
			d.cadences = map[string]*clients.Cadence{}
		}
		c = clients.NewCadence(d.timing.Pacing())
		d.cadences[cloud] = c
	}
	return c
}

// pacing is the pause schedule of a wait that is not shared (a volume still in use).
func (d *providerData) pacing() clients.Pacing { return d.timing.Pacing() }

// cloud returns a configured cloud or an error a user can act on.
func (d *providerData) cloud(name string) (clients.Cloud, error) {
	if c, ok := d.clouds[name]; ok {
		return c, nil
	}
	if why, ok := d.missing[name]; ok {
		return nil, fmt.Errorf("%s", why)
	}
	return nil, clients.UnknownCloudError(name)
}

// configured lists the clouds that have credentials, sorted.
func (d *providerData) configured() []string {
	out := make([]string, 0, len(d.clouds))
	for n := range d.clouds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
