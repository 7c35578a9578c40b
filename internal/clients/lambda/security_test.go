package lambda

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// user_data is a script that often carries credentials: a launch logged at TRACE must not log it.
func TestCreateInstanceLogsNoUserData(t *testing.T) {
	t.Setenv("TF_LOG_PROVIDER_NEOCLOUD_LAMBDA", "TRACE")
	const secret = "s3cr3t-bootstrap-token-91ab"
	f, c := newFakeCloud(t)
	launchReads(f, "us-west-1")
	f.data("POST", "/instance-operations/launch", `{"instance_ids":["i-1"]}`)

	var buf bytes.Buffer
	ctx := tflogtest.RootLogger(context.Background(), &buf)
	spec := h100Spec()
	spec.UserData = "#cloud-config\nwrite_files:\n  - path: /etc/creds\n    content: " + secret + "\n"
	if _, err := c.CreateInstance(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(f.Last().Body), secret) {
		t.Fatalf("the user data did not reach Lambda, so the test proves nothing: %s", f.Last().Body)
	}
	out := buf.String()
	if strings.Contains(out, secret) {
		t.Errorf("log output contains the user data:\n%s", out)
	}
	if !strings.Contains(out, "/instance-operations/launch") || !strings.Contains(out, `\"user_data\":\"***\"`) {
		t.Errorf("want the launch logged with user_data masked:\n%s", out)
	}
}
