package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/coreweave"
)

func TestCheckRegion_coreweaveUnknownZoneWarns(t *testing.T) {
	cw, err := coreweave.New(clients.Settings{APIKey: "CW-SECRET-test", Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	// Every zone of CoreWeave's availability matrix is known.
	for _, z := range []string{"US-EAST-04A", "US-EAST-01A", "US-CENTRAL-07A", "US-WEST-09B", "EU-SOUTH-03B", "RNO2A"} {
		if d := checkRegion(t.Context(), cw, types.StringValue(z), ""); len(d) != 0 {
			t.Errorf("%s: %v", z, d)
		}
	}
	d := checkRegion(t.Context(), cw, types.StringValue("MOON-1A"), "")
	if d.HasError() || d.WarningsCount() != 1 {
		t.Fatalf("unknown zone: %v", d)
	}
	w := d.Warnings()[0]
	if w.Severity() != diag.SeverityWarning || w.Summary() != "Unknown region" || !strings.Contains(w.Detail(), `"MOON-1A"`) {
		t.Errorf("warning %s: %s", w.Summary(), w.Detail())
	}
	if a, ok := w.(diag.DiagnosticWithPath); !ok || a.Path().String() != "region" {
		t.Errorf("warning not on the region attribute: %#v", w)
	}
}
