package runpod

import (
	"strings"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

var _ clients.SSHKeyValidator = (*Cloud)(nil)

// ValidateSSHKeySpec refuses at plan time what CreateSSHKey would refuse at apply: RunPod
// stores public keys only and never generates a pair.
func (c *Cloud) ValidateSSHKeySpec(spec clients.SSHKeySpec) []clients.FieldError {
	if strings.TrimSpace(spec.PublicKey) == "" {
		return []clients.FieldError{{
			Field:   "public_key",
			Summary: "RunPod needs a public key",
			Detail:  "RunPod stores the public keys you give it and cannot generate a key pair: set public_key, for example public_key = file(\"~/.ssh/id_ed25519.pub\").",
		}}
	}
	return nil
}
