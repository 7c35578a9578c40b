package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// baseResource is what every resource of this provider shares: the provider's data, set by
// Configure (nil until the provider is configured, as the framework asks).
type baseResource struct {
	data *providerData
}

func (b *baseResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	b.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// ImportState takes "<cloud>/<id>", such as lambda/0920582c7ff041399e34823a0be62549.
func (b *baseResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importCloudAndID(ctx, req, resp)
}

// baseDataSource is what every data source of this provider shares: its type name and the
// provider's data, set by Configure.
type baseDataSource struct {
	typeName string // after the provider's name: "gpu_offers"
	data     *providerData
}

func (b *baseDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + b.typeName
}

func (b *baseDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	b.data = configureData(req.ProviderData, &resp.Diagnostics)
}

// cloudFor returns a configured cloud and its API for one kind of account object (API is the
// optional interface of clients.Cloud that holds the kind, such as clients.VolumeCloud). Any
// failure is a diagnostic: on `at` when given (plan, create), on the resource otherwise.
func cloudFor[API any](d *providerData, name string, kind clients.Kind, at path.Path, diags *diag.Diagnostics) (clients.Cloud, API, bool) {
	var api API
	cloud, err := d.cloud(name)
	if err == nil {
		var ok bool
		if api, ok = cloud.(API); !ok {
			err = fmt.Errorf("%s cannot hold neocloud_%s", displayName(name), kind)
		}
	}
	if err != nil {
		if at.Equal(path.Empty()) {
			diags.AddError("Cloud not configured", err.Error())
		} else {
			diags.AddAttributeError(at, "Cloud not configured", err.Error())
		}
		return nil, api, false
	}
	return cloud, api, true
}

// accountObject is one kind of object a cloud account holds (an SSH key, a volume, a registry
// credential), as the shared Read and Delete see it. M is the resource's model, API the
// cloud's interface for the kind and O the cloud's view of one object.
type accountObject[M any, API any, O any] struct {
	kind clients.Kind
	what string // in messages: "SSH key"
	// ref gives the cloud and the id of the object a model describes.
	ref func(m *M) (cloud, id types.String)
	get func(ctx context.Context, api API, id string) (O, error)
	// refresh copies what the cloud reports into the state.
	refresh func(o O, m *M)
	// del deletes the object; pacing is the provider's pause schedule (on an emulator's clock)
	// for a delete that must wait and try again.
	del func(ctx context.Context, pacing clients.Pacing, api API, id string) error
}

// open reads the object's state and finds its cloud; ok is false after a diagnostic.
func (k accountObject[M, API, O]) open(ctx context.Context, d *providerData, st tfsdk.State, diags *diag.Diagnostics) (state M, cloud clients.Cloud, api API, id types.String, ok bool) {
	diags.Append(st.Get(ctx, &state)...)
	if diags.HasError() {
		return state, nil, api, id, false
	}
	cloudName, id := k.ref(&state)
	cloud, api, ok = cloudFor[API](d, cloudName.ValueString(), k.kind, path.Empty(), diags)
	return state, cloud, api, id, ok
}

// read refreshes the state. Only the cloud's own answer that the object is gone (a not-found
// on its id) removes it; every other failure is an error.
func (k accountObject[M, API, O]) read(ctx context.Context, d *providerData, req resource.ReadRequest, resp *resource.ReadResponse) {
	state, cloud, api, id, ok := k.open(ctx, d, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	o, err := k.get(ctx, api, id.ValueString())
	if clients.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		d.readError(&resp.Diagnostics, cloud.Name(), fmt.Sprintf("Unable to read %s %s %s", displayName(cloud.Name()), k.what, id.ValueString()), err)
		return
	}
	k.refresh(o, &state)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// delete removes the object; one already gone counts as deleted.
func (k accountObject[M, API, O]) delete(ctx context.Context, d *providerData, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	_, cloud, api, id, ok := k.open(ctx, d, req.State, &resp.Diagnostics)
	if !ok {
		return
	}
	if err := k.del(ctx, d.pacing(), api, id.ValueString()); err != nil && !clients.IsNotFound(err) {
		d.cloudError(&resp.Diagnostics, cloud.Name(), fmt.Sprintf("Unable to delete %s %s %s", displayName(cloud.Name()), k.what, id.ValueString()), err)
	}
}
