package provider

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
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

// privateKeyMarkers are signs of a private key: PEM armour (OpenSSH, PKCS#1, PKCS#8, EC, SSH2),
// a PuTTY key file, or the base64 of an OpenSSH private key ("openssh-key-v1") without armour.
var privateKeyMarkers = regexp.MustCompile(`PRIVATE KEY-----|PuTTY-User-Key-File-|b3BlbnNzaC1rZXktdjE`)

// looksLikePrivateKey reports whether s holds a private key, whatever else it holds.
func looksLikePrivateKey(s string) bool { return privateKeyMarkers.MatchString(s) }

// addPrivateKeyError refuses a private key given where a public key belongs. The value is
// neither quoted nor described beyond what it is: any part of a private key is a leak.
func addPrivateKeyError(diags *diag.Diagnostics, p path.Path) {
	diags.AddAttributeError(p, "Private key given instead of a public key",
		"The value is a private SSH key, not a public one (it is not shown here). A private key must not be shared: "+
			"not with a cloud, and not in Terraform configuration, plans or state.\n\n"+
			"Give the public half instead: the .pub file next to the private key, for example public_key = file(\"~/.ssh/id_ed25519.pub\"), "+
			"or the output of `ssh-keygen -y -f <private key file>`. If this private key has been committed or shared anywhere, "+
			"treat it as exposed and make a new key pair.")
}

// sshPublicKeyValidator accepts an OpenSSH public key and refuses, without repeating the value,
// anything else: a private key with its own message, since it must not travel further.
// (stringvalidator.RegexMatches would quote the value in its error.)
type sshPublicKeyValidator struct{}

func (sshPublicKeyValidator) Description(context.Context) string {
	return "must be an OpenSSH public key such as `ssh-ed25519 AAAA... comment`, never a private key"
}

func (v sshPublicKeyValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (sshPublicKeyValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	value := req.ConfigValue.ValueString()
	switch {
	case looksLikePrivateKey(value):
		addPrivateKeyError(&resp.Diagnostics, req.Path)
	case !publicKeyPattern.MatchString(value):
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid SSH public key",
			"The value must be an OpenSSH public key on one line, such as `ssh-ed25519 AAAA... comment`: "+
				"for example public_key = file(\"~/.ssh/id_ed25519.pub\"). Create a key pair with `ssh-keygen -t ed25519` if you have none.")
	}
}

// clusterNamePattern is the DNS-label form every cloud accepts for a cluster name (CoreWeave
// derives Kubernetes and VPC names from it).
var clusterNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// cloudHolds accepts the clouds that can hold a kind of resource and tells a user naming any
// other cloud why it cannot, with the clouds that can (at validate time, so on the attribute).
type cloudHolds struct{ kind clients.Kind }

func (v cloudHolds) Description(context.Context) string {
	return "must be one of: " + strings.Join(clients.NamesWith(v.kind), ", ")
}

func (v cloudHolds) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v cloudHolds) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	name := req.ConfigValue.ValueString()
	can := clients.NamesWith(v.kind)
	if slices.Contains(can, name) {
		return
	}
	info, known := clients.Lookup(name)
	if !known {
		resp.Diagnostics.AddAttributeError(req.Path, "Unknown cloud", clients.UnknownCloudError(name).Error())
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, fmt.Sprintf("%s cannot hold neocloud_%s", info.DisplayName, v.kind),
		fmt.Sprintf("%s Clouds that can: %s.", info.Lacks[v.kind], quotedList(can)))
}
