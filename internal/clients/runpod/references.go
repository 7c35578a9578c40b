package runpod

import (
	"context"
	"errors"
	"fmt"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// templateCheck is what a plan-time look at a template found: whether the account can read it,
// and whether it is a serverless one (which cannot base a pod).
type templateCheck struct {
	found, serverless bool
}

// CheckInstanceReferences checks, with read-only calls, that a pod's template and registry
// credential exist (GET /templates/{id}, which reads the account's templates and the public
// catalog alike, and GET /registries/{id}), and that the template is a pod template. A template
// seen once is not looked up again in this process: templates are rarely deleted, and the
// create's own 404 still catches one that was. Credentials are looked up every time: one made by
// this apply may have been deleted since. An error means a check could not be made.
func (c *Cloud) CheckInstanceReferences(ctx context.Context, spec clients.InstanceSpec) ([]clients.FieldError, error) {
	o, err := specOptions(spec)
	if err != nil {
		return []clients.FieldError{clients.OptionsField(cloudName, err)}, nil
	}
	var errs []clients.FieldError
	if id := o.TemplateID; id != "" {
		t, err := c.checkTemplate(ctx, id)
		switch {
		case errors.Is(err, clients.ErrInvalid):
			errs = append(errs, clients.FieldError{Field: "runpod.template_id", Summary: "Invalid RunPod template id", Detail: err.Error()})
		case err != nil:
			return errs, err
		case !t.found:
			errs = append(errs, clients.FieldError{Field: "runpod.template_id", Summary: "Unknown RunPod template", Detail: fmt.Sprintf(
				"RunPod has no template %q that this account can use: neither one of the account's templates nor a public catalog one. "+
					"List the account's with GET /v2/templates and the public ones with GET /v2/catalog/templates, or leave template_id out and set runpod.image.", id)})
		case t.serverless:
			errs = append(errs, clients.FieldError{Field: "runpod.template_id", Summary: "Serverless RunPod template", Detail: fmt.Sprintf(
				"RunPod template %q is for serverless workers; a pod needs a pod template.", id)})
		}
	}
	if id := o.RegistryCredentialID; id != "" {
		_, err := c.api.GetRegistry(ctx, id)
		switch {
		case errors.Is(err, clients.ErrInvalid):
			errs = append(errs, clients.FieldError{Field: "runpod.registry_credential_id", Summary: "Invalid RunPod registry credential id", Detail: err.Error()})
		case clients.IsNotFound(err):
			errs = append(errs, clients.FieldError{Field: "runpod.registry_credential_id", Summary: "Unknown RunPod registry credential", Detail: fmt.Sprintf(
				"The RunPod account has no container registry credential %q. Create one with a neocloud_container_registry_credential resource (cloud = \"runpod\") and use its id.", id)})
		case err != nil:
			return errs, err
		}
	}
	return errs, nil
}

// checkTemplate looks a template up once per process.
func (c *Cloud) checkTemplate(ctx context.Context, id string) (templateCheck, error) {
	c.templatesMu.Lock()
	seen, ok := c.templates[id]
	c.templatesMu.Unlock()
	if ok {
		return seen, nil
	}
	t, err := c.api.GetTemplate(ctx, id)
	var check templateCheck
	switch {
	case clients.IsNotFound(err):
	case err != nil:
		return templateCheck{}, err
	default:
		check = templateCheck{found: true, serverless: t.Serverless}
	}
	c.templatesMu.Lock()
	c.templates[id] = check
	c.templatesMu.Unlock()
	return check, nil
}
