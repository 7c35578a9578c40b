package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/gpus"
)

var _ datasource.DataSourceWithConfigure = (*gpuOffersDataSource)(nil)

// NewGPUOffersDataSource is neocloud_gpu_offers.
func NewGPUOffersDataSource() datasource.DataSource {
	return &gpuOffersDataSource{baseDataSource{typeName: "gpu_offers"}}
}

type gpuOffersDataSource struct {
	baseDataSource
}

type gpuOffersModel struct {
	GPUType         types.String  `tfsdk:"gpu_type"`
	GPUCount        types.Int64   `tfsdk:"gpu_count"`
	MaxPricePerHour types.Float64 `tfsdk:"max_price_per_hour"`
	Region          types.String  `tfsdk:"region"`
	Clouds          types.List    `tfsdk:"clouds"`
	IncludeSoldOut  types.Bool    `tfsdk:"include_sold_out"`
	Offers          []offerModel  `tfsdk:"offers"`
}

type offerModel struct {
	Cloud        types.String  `tfsdk:"cloud"`
	InstanceType types.String  `tfsdk:"instance_type"`
	GPUType      types.String  `tfsdk:"gpu_type"`
	GPUCount     types.Int64   `tfsdk:"gpu_count"`
	GPUMemoryGB  types.Int64   `tfsdk:"gpu_memory_gb"`
	VCPUs        types.Int64   `tfsdk:"vcpus"`
	MemoryGB     types.Int64   `tfsdk:"memory_gb"`
	StorageGB    types.Int64   `tfsdk:"storage_gb"`
	PricePerHour types.Float64 `tfsdk:"price_per_hour"`
	Regions      types.List    `tfsdk:"regions"`
	Interconnect types.String  `tfsdk:"interconnect"`
	CapacityType types.String  `tfsdk:"capacity_type"`
}

func (d *gpuOffersDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Live GPU offers from every configured cloud: price, shape and the regions with capacity right now, cheapest first.",
		Attributes: map[string]schema.Attribute{
			"gpu_type": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only offers of this neutral GPU model (" + strings.Join(gpus.Names(), ", ") + ").",
				Validators:          []validator.String{stringvalidator.OneOfCaseInsensitive(gpus.Names()...)},
			},
			"gpu_count": schema.Int64Attribute{
				Optional: true, MarkdownDescription: "Only offers with exactly this many GPUs per machine.",
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"max_price_per_hour": schema.Float64Attribute{
				Optional: true, MarkdownDescription: "Only offers at or below this price, USD per hour per machine.",
				Validators: []validator.Float64{float64validator.AtLeast(0)},
			},
			"region": schema.StringAttribute{
				Optional: true, MarkdownDescription: "Only offers with capacity in this region.",
			},
			"clouds": schema.ListAttribute{
				Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Clouds to ask; all configured clouds when left out.",
				Validators:          []validator.List{listvalidator.ValueStringsAre(stringvalidator.OneOf(clients.Names()...))},
			},
			"include_sold_out": schema.BoolAttribute{
				Optional: true, MarkdownDescription: "Also list offers with no capacity anywhere right now (default false).",
			},
			"offers": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Matching offers, cheapest first.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"cloud":          schema.StringAttribute{Computed: true, MarkdownDescription: "Cloud selling it."},
					"instance_type":  schema.StringAttribute{Computed: true, MarkdownDescription: "The cloud's instance type or GPU id."},
					"gpu_type":       schema.StringAttribute{Computed: true, MarkdownDescription: "Neutral GPU model."},
					"gpu_count":      schema.Int64Attribute{Computed: true, MarkdownDescription: "GPUs per machine."},
					"gpu_memory_gb":  schema.Int64Attribute{Computed: true, MarkdownDescription: "Memory per GPU, GB."},
					"vcpus":          schema.Int64Attribute{Computed: true, MarkdownDescription: "vCPUs per machine, where the cloud reports it."},
					"memory_gb":      schema.Int64Attribute{Computed: true, MarkdownDescription: "RAM per machine, GB, where the cloud reports it."},
					"storage_gb":     schema.Int64Attribute{Computed: true, MarkdownDescription: "Local disk per machine, GB, where the cloud reports it."},
					"price_per_hour": schema.Float64Attribute{Computed: true, MarkdownDescription: "USD per hour for the whole machine."},
					"regions":        schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Regions with capacity now."},
					"interconnect": schema.StringAttribute{Computed: true, MarkdownDescription: "The network between machines of this type, as the cloud documents it: " +
						"`infiniband` or `ethernet` (a RunPod Instant Cluster of this GPU has its own fabric: see `neocloud_gpu_cluster.interconnect`). " + interconnectDescription},
					"capacity_type": schema.StringAttribute{Computed: true, MarkdownDescription: "`on_demand`: every offer is on-demand capacity at its list price. " +
						"Lambda and RunPod sell no spot capacity through their APIs; CoreWeave's spot capacity (`capacity_type = \"spot\"` on a resource) has no published price list, so it is not offered here."},
				}},
			},
		},
	}
}

func (d *gpuOffersDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m gpuOffersModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	names := stringsFromList(ctx, m.Clouds, &resp.Diagnostics)
	if names == nil {
		names = d.data.configured()
	}
	var cloudList []clients.Cloud
	for _, n := range names {
		c, err := d.data.cloud(n)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("clouds"), "Cloud not configured", err.Error())
			return
		}
		cloudList = append(cloudList, c)
	}
	if len(cloudList) == 0 {
		resp.Diagnostics.AddError("No cloud configured", "Configure at least one cloud in the provider block (or its API key environment variable) to list offers.")
		return
	}
	gpuType := m.GPUType.ValueString()
	if g, ok := gpus.Lookup(gpuType); ok {
		gpuType = g.Name
	}
	filter := clients.OfferFilter{
		GPUType:         gpuType,
		GPUCount:        int(m.GPUCount.ValueInt64()),
		Region:          m.Region.ValueString(),
		MaxPricePerHour: m.MaxPricePerHour.ValueFloat64(),
		OnlyAvailable:   !m.IncludeSoldOut.ValueBool(),
	}

	// Ask every cloud at once: the slowest cloud, not the sum, sets the wait.
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		offers []clients.Offer
		errs   []string
		auth   = map[string]error{}
	)
	for _, c := range cloudList {
		wg.Add(1)
		go func(c clients.Cloud) {
			defer wg.Done()
			got, err := c.Offers(ctx, filter)
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, clients.ErrAuth) {
				auth[c.Name()] = err
				return
			}
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", c.Name(), err))
				return
			}
			offers = append(offers, got...)
		}(c)
	}
	wg.Wait()
	for _, name := range slices.Sorted(maps.Keys(auth)) {
		d.data.authFailed(&resp.Diagnostics, name, auth[name], false)
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		resp.Diagnostics.AddError("Unable to list GPU offers", strings.Join(errs, "\n"))
	}
	if resp.Diagnostics.HasError() {
		return
	}
	sort.SliceStable(offers, func(i, j int) bool {
		if offers[i].PricePerHour != offers[j].PricePerHour {
			return offers[i].PricePerHour < offers[j].PricePerHour
		}
		return offers[i].Cloud+offers[i].InstanceType < offers[j].Cloud+offers[j].InstanceType
	})
	m.Offers = make([]offerModel, 0, len(offers))
	for _, o := range offers {
		regions, diags := types.ListValueFrom(ctx, types.StringType, append([]string{}, o.Regions...))
		resp.Diagnostics.Append(diags...)
		m.Offers = append(m.Offers, offerModel{
			Cloud:        types.StringValue(o.Cloud),
			InstanceType: types.StringValue(o.InstanceType),
			GPUType:      types.StringValue(o.GPUType),
			GPUCount:     types.Int64Value(int64(o.GPUCount)),
			GPUMemoryGB:  types.Int64Value(int64(o.GPUMemoryGB)),
			VCPUs:        int64OrNull(o.VCPUs), // null where the cloud does not say
			MemoryGB:     int64OrNull(o.MemoryGB),
			StorageGB:    int64OrNull(o.StorageGB),
			PricePerHour: types.Float64Value(o.PricePerHour),
			Regions:      regions,
			Interconnect: types.StringValue(machineInterconnect(o.Cloud, o.InstanceType)),
			CapacityType: types.StringValue(capacityOnDemand),
		})
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
