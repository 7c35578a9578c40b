package runpod

import (
	"context"
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// CreateRegistryCredential stores a container registry credential (POST /registries). RunPod
// has no idempotency key and names need not be unique, so the account's credentials are listed
// first: when the create's answer is lost, the one new credential of that name is the one this
// create made, and is adopted instead of storing another (see createAdopting).
func (c *Cloud) CreateRegistryCredential(ctx context.Context, spec clients.RegistryCredentialSpec) (*clients.RegistryCredential, error) {
	switch {
	case strings.TrimSpace(spec.Name) == "":
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod container registry credential needs a name")
	case spec.Username == "" || spec.Password == "":
		return nil, clients.Errorf(clients.ErrInvalid, "a RunPod container registry credential needs a username and a password")
	}
	r, err := createAdopting(ctx, c, "container registry credential "+spec.Name, c.api.ListRegistries,
		func(ctx context.Context) (*Registry, error) {
			return c.api.CreateRegistry(ctx, CreateRegistryRequest{Name: spec.Name, Username: spec.Username, Password: spec.Password})
		},
		func(r Registry) (string, bool) { return r.ID, r.Name == spec.Name })
	if err != nil {
		return nil, err
	}
	return &clients.RegistryCredential{ID: r.ID, Name: r.Name}, nil
}

// GetRegistryCredential reads a credential (GET /registries/{id}).
func (c *Cloud) GetRegistryCredential(ctx context.Context, id string) (*clients.RegistryCredential, error) {
	r, err := c.api.GetRegistry(ctx, id)
	if err != nil {
		return nil, err
	}
	return &clients.RegistryCredential{ID: r.ID, Name: r.Name}, nil
}

// DeleteRegistryCredential deletes a credential (DELETE /registries/{id}); one RunPod no longer
// knows counts as deleted. While a pod pulls with it RunPod refuses (clients.ErrConflict).
func (c *Cloud) DeleteRegistryCredential(ctx context.Context, id string) error {
	err := c.api.DeleteRegistry(ctx, id)
	if err == nil || clients.IsNotFound(err) {
		return nil
	}
	return err
}
