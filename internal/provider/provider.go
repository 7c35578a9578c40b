// Package provider is the Terraform-facing layer: provider configuration, resources, data
// sources, plan modifiers and validators, and the mapping between Terraform models and the
// neutral types of internal/clients. It never builds a URL or knows a vendor's JSON.
package provider

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
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

var _ provider.Provider = (*neocloudProvider)(nil)

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
			},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Declare GPU machines and multi-node GPU clusters on the neo-clouds (Lambda Cloud, RunPod, CoreWeave) with one vendor-neutral schema.",
		Blocks:              blocks,
	}
}

func (p *neocloudProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	data := &providerData{clouds: map[string]clients.Cloud{}, missing: map[string]string{}}
	userAgent := fmt.Sprintf("terraform-provider-neocloud/%s terraform/%s", p.version, req.TerraformVersion)
	// Only for emulators running faster than real time (cmd/neocloud-emulator -time-scale).
	rateScale, _ := strconv.ParseFloat(os.Getenv("NEOCLOUD_RATE_SCALE"), 64)

	for _, name := range clients.Names() {
		info, _ := clients.Lookup(name)
		var key, endpoint types.String
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name).AtName(info.KeyAttribute), &key)...)
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name).AtName("endpoint"), &endpoint)...)
		if resp.Diagnostics.HasError() {
			return
		}
		if key.IsUnknown() || endpoint.IsUnknown() {
			// Known only after apply of something else; resources will say so if they need it.
			data.missing[name] = fmt.Sprintf("The %s credentials in the provider configuration are not known yet (they depend on a resource that has not been created).", info.DisplayName)
			continue
		}
		settings := clients.Settings{
			APIKey:    firstNonEmpty(key.ValueString(), os.Getenv(info.KeyEnv)),
			Endpoint:  firstNonEmpty(endpoint.ValueString(), os.Getenv(info.EndpointEnv), info.DefaultEndpoint),
			UserAgent: userAgent,
			RateScale: rateScale,
		}
		if settings.APIKey == "" {
			data.missing[name] = fmt.Sprintf("%s is not configured: set `%s` in the provider's `%s` block or the %s environment variable.", info.DisplayName, info.KeyAttribute, name, info.KeyEnv)
			continue
		}
		cloud, err := info.New(settings)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root(name).AtName("endpoint"), "Invalid "+info.DisplayName+" configuration", err.Error())
			continue
		}
		data.clouds[name] = cloud
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
}

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
