package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// keyCloud is a cloud holding one SSH key, or answering every key call with err.
type keyCloud struct {
	clients.Cloud // only the key methods and Name are called
	key           *clients.SSHKey
	err           error
	deleted       []string
}

func (k *keyCloud) Name() string { return "lambda" }
func (k *keyCloud) CreateSSHKey(context.Context, clients.SSHKeySpec) (*clients.SSHKey, error) {
	return k.key, k.err
}
func (k *keyCloud) GetSSHKey(context.Context, string) (*clients.SSHKey, error) { return k.key, k.err }
func (k *keyCloud) DeleteSSHKey(_ context.Context, id string) error {
	k.deleted = append(k.deleted, id)
	return k.err
}

// keyState is a saved neocloud_ssh_key.
func keyState(t *testing.T, publicKey string) tfsdk.State {
	t.Helper()
	var sch resource.SchemaResponse
	(&sshKeyResource{}).Schema(context.Background(), resource.SchemaRequest{}, &sch)
	st := tfsdk.State{Schema: sch.Schema, Raw: tftypes.NewValue(sch.Schema.Type().TerraformType(context.Background()), nil)}
	diags := st.Set(context.Background(), &sshKeyModel{
		ID: types.StringValue("key-1"), Cloud: types.StringValue("lambda"), Name: types.StringValue("me"),
		PublicKey: types.StringValue(publicKey), PrivateKey: types.StringNull(),
	})
	if diags.HasError() {
		t.Fatal(diags)
	}
	return st
}

func readKey(t *testing.T, cloud *keyCloud, publicKey string) (*resource.ReadResponse, sshKeyModel) {
	t.Helper()
	d := &providerData{clouds: map[string]clients.Cloud{"lambda": cloud}}
	st := keyState(t, publicKey)
	resp := &resource.ReadResponse{State: st}
	sshKeys.read(context.Background(), d, resource.ReadRequest{State: st}, resp)
	var m sshKeyModel
	if !resp.State.Raw.IsNull() {
		resp.State.Get(context.Background(), &m)
	}
	return resp, m
}

// Only the cloud's not-found for the key's own id removes it from state; any other failure
// keeps it and is an error.
func TestAccountObjectReadRemovesOnlyOnNotFound(t *testing.T) {
	resp, _ := readKey(t, &keyCloud{err: clients.Errorf(clients.ErrNotFound, "no key key-1")}, "ssh-ed25519 AAAA me")
	if !resp.State.Raw.IsNull() || resp.Diagnostics.HasError() {
		t.Errorf("not found: state %v, diagnostics %v", resp.State.Raw, resp.Diagnostics)
	}
	for _, err := range []error{
		clients.Errorf(clients.ErrUnavailable, "503 from the list"),
		clients.Errorf(clients.ErrRateLimited, "429"),
		clients.Errorf(clients.ErrOutcomeUnknown, "connection reset"),
	} {
		resp, m := readKey(t, &keyCloud{err: err}, "ssh-ed25519 AAAA me")
		if resp.State.Raw.IsNull() || !resp.Diagnostics.HasError() || m.ID.ValueString() != "key-1" {
			t.Errorf("%v: state %v, diagnostics %v", err, resp.State.Raw, resp.Diagnostics)
		}
	}
}

// A key read back without the trailing newline file() kept is not drift; a different key is.
func TestSSHKeyRefreshKeepsConfiguredSpelling(t *testing.T) {
	_, m := readKey(t, &keyCloud{key: &clients.SSHKey{ID: "key-1", Name: "me", PublicKey: "ssh-ed25519 AAAA me"}}, "ssh-ed25519 AAAA me\n")
	if m.PublicKey.ValueString() != "ssh-ed25519 AAAA me\n" {
		t.Errorf("a trailing newline became drift: %q", m.PublicKey.ValueString())
	}
	_, m = readKey(t, &keyCloud{key: &clients.SSHKey{ID: "key-1", Name: "renamed", PublicKey: "ssh-ed25519 BBBB other"}}, "ssh-ed25519 AAAA me\n")
	if m.PublicKey.ValueString() != "ssh-ed25519 BBBB other" || m.Name.ValueString() != "renamed" {
		t.Errorf("a changed key was not refreshed: %+v", m)
	}
}

// Deleting a key the cloud no longer has succeeds; any other refusal is an error.
func TestAccountObjectDelete(t *testing.T) {
	for _, c := range []struct {
		err     error
		wantErr bool
	}{
		{nil, false},
		{clients.Errorf(clients.ErrNotFound, "gone"), false},
		{clients.Errorf(clients.ErrConflict, "in use"), true},
	} {
		cloud := &keyCloud{err: c.err}
		d := &providerData{clouds: map[string]clients.Cloud{"lambda": cloud}}
		st := keyState(t, "ssh-ed25519 AAAA me")
		resp := &resource.DeleteResponse{State: st}
		sshKeys.delete(context.Background(), d, resource.DeleteRequest{State: st}, resp)
		if resp.Diagnostics.HasError() != c.wantErr || len(cloud.deleted) != 1 || cloud.deleted[0] != "key-1" {
			t.Errorf("%v: diagnostics %v, deleted %v", c.err, resp.Diagnostics, cloud.deleted)
		}
	}
}

// A cloud that lacks a kind is refused on the attribute with its reason and the clouds that
// can; an unknown cloud names the known ones.
func TestCloudHoldsValidator(t *testing.T) {
	check := func(kind clients.Kind, cloud string) string {
		resp := &validator.StringResponse{}
		cloudHolds{kind}.ValidateString(context.Background(), validator.StringRequest{ConfigValue: types.StringValue(cloud)}, resp)
		if !resp.Diagnostics.HasError() {
			return ""
		}
		return resp.Diagnostics[0].Summary() + ": " + resp.Diagnostics[0].Detail()
	}
	if msg := check(clients.KindSSHKey, "lambda"); msg != "" {
		t.Errorf("lambda refused for SSH keys: %s", msg)
	}
	msg := check(clients.KindSSHKey, "coreweave")
	if !strings.Contains(msg, "CoreWeave cannot hold neocloud_ssh_key") || !strings.Contains(msg, "kubeconfig") ||
		!strings.Contains(msg, "`lambda`, `runpod`") {
		t.Errorf("coreweave SSH key: %q", msg)
	}
	if msg := check(clients.KindVolume, "nimbus"); !strings.Contains(msg, "unknown cloud") {
		t.Errorf("unknown cloud: %q", msg)
	}
}

// A price the plan showed is the price applied (Terraform requires it); a changed list price is
// a warning, and an unknown or equal planned price changes nothing.
func TestKeepPlannedPrice(t *testing.T) {
	var diags diag.Diagnostics
	got := types.Float64Value(2.75)
	keepPlannedPrice(types.Float64Value(2.49), &got, "Lambda Cloud instance i-1", &diags)
	if got.ValueFloat64() != 2.49 || len(diags) != 1 || diags[0].Severity() != diag.SeverityWarning ||
		!strings.Contains(diags[0].Detail(), "$2.7500 per hour now; the plan showed $2.4900") {
		t.Errorf("changed price: kept %v, diagnostics %v", got, diags)
	}
	for _, planned := range []types.Float64{types.Float64Unknown(), types.Float64Null(), types.Float64Value(2.75)} {
		diags = nil
		got = types.Float64Value(2.75)
		keepPlannedPrice(planned, &got, "x", &diags)
		if got.ValueFloat64() != 2.75 || len(diags) != 0 {
			t.Errorf("planned %v: got %v, diagnostics %v", planned, got, diags)
		}
	}
}
