package clients

import "context"

// RegistryCredentialCloud is implemented by clouds that keep credentials for private container
// registries in the account, for machines that run a private image (RunPod: a pod names the
// credential in runpod.InstanceOptions.RegistryCredentialID). The provider asks for it with a
// type assertion and says at plan time when a cloud has none.
type RegistryCredentialCloud interface {
	// CreateRegistryCredential stores a credential. The username and password are write-only:
	// nothing reads them back. A create whose answer was lost is resolved by finding the new
	// credential by name, never by storing a second one blindly.
	CreateRegistryCredential(ctx context.Context, spec RegistryCredentialSpec) (*RegistryCredential, error)
	// GetRegistryCredential reads a credential; ErrNotFound when it does not exist.
	GetRegistryCredential(ctx context.Context, id string) (*RegistryCredential, error)
	// DeleteRegistryCredential deletes a credential; one already gone counts as deleted. The
	// cloud may refuse (ErrConflict) while a machine pulls with it.
	DeleteRegistryCredential(ctx context.Context, id string) error
}

// RegistryCredentialSpec is a credential to store. Password is a secret: never logged.
type RegistryCredentialSpec struct {
	Name     string
	Username string
	Password string
}

// RegistryCredential is a stored credential as the cloud reports it: without the username and
// password, which it never returns.
type RegistryCredential struct {
	ID   string
	Name string
}
