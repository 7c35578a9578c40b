package provider

import (
	"context"
	"fmt"
	"net/url"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// urlValidator accepts absolute http(s) URLs.
type urlValidator struct{}

func (urlValidator) Description(context.Context) string {
	return "must be an absolute http or https URL"
}

func (v urlValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (urlValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	u, err := url.Parse(req.ConfigValue.ValueString())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid endpoint URL",
			fmt.Sprintf("%q is not an absolute http or https URL, such as https://cloud.lambda.ai/api/v1.", req.ConfigValue.ValueString()))
	}
}

// publicKeyPattern matches the OpenSSH authorized_keys form of a public key.
var publicKeyPattern = regexp.MustCompile(`^\s*(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+=*( [^\r\n]*)?\s*$`)

// clusterNamePattern is the DNS-label form every cloud accepts for a cluster name (CoreWeave
// derives Kubernetes and VPC names from it).
var clusterNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
