package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// unknownOpenRegion is the plan-time warning for a region a cloud with an incomplete region
// list (clients.OpenRegions: CoreWeave's zones) does not know: it may be new, so the plan goes
// on and the cloud decides at apply.
func unknownOpenRegion(cloud clients.Cloud, region string, known []string) diag.Diagnostic {
	name := displayName(cloud.Name())
	return diag.NewAttributeWarningDiagnostic(path.Root("region"), "Unknown region",
		fmt.Sprintf("%s zone %q is not one this provider knows (%s). %s publishes no list of its zones, so the plan goes on: "+
			"if the zone does not exist, %s refuses it when the resource is created. Check the spelling against %s's availability matrix.",
			name, region, strings.Join(known, ", "), name, name, name))
}
