//go:build unix

package provider

import (
	"fmt"
	"os"
	"regexp"
	"testing"
)

// `TF_LOG_PROVIDER=INFO terraform apply` of a cluster shows where it stands: the real CLI, the
// provider as a plugin binary (the harness of the crash tests, which logs at INFO), a Lambda
// cluster of two nodes. The log has each node's status changes with the time since the create
// began, the cluster's progress in nodes up, and no line per look that saw nothing new.
func TestAccProgress_lambdaClusterLogsEveryStatusChange(t *testing.T) {
	h := newCrashHarness(t, crashLambdaScale, nil, crashLambdaScale)
	key := seedLambdaKey(t, h)
	d := h.workdir("main", fmt.Sprintf(`
resource "neocloud_gpu_cluster" "c" {
  name          = "progress"
  cloud         = "lambda"
  region        = "us-east-1"
  gpu_type      = "A10_24GB"
  gpus_per_node = 1
  node_count    = 2
  ssh_key_ids   = [%q]
}
`, key))
	r := h.apply(d, "apply")
	if r.exit != 0 {
		t.Fatalf("terraform apply failed (exit %d):\n%s", r.exit, crashTail(r.stderr.String(), 30))
	}
	raw, err := os.ReadFile(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(raw)
	for _, want := range []string{
		`\[INFO\]\s+provider\.terraform-provider-neocloud: Lambda Cloud cluster progress node 0 \(progress-0, [^)]+\) is pending, no private address yet, [0-9.]+m?s after the start`,
		`Lambda Cloud cluster progress node 1 \(progress-1, [^)]+\) is running at [0-9.]+, [0-9.]+m?s after the start`,
		`Lambda Cloud cluster progress is pending \([^)]*\), 0 of 2 node\(s\) up`,
		`Lambda Cloud cluster progress is running \(active=2\), 2 of 2 node\(s\) up, [0-9.]+m?s after the start \(waiting until it is running with 2 node\(s\) up\)`,
	} {
		if !regexp.MustCompile(want).MatchString(log) {
			t.Errorf("the provider's INFO log lacks %s:\n%s", want, crashTail(providerLogLines(log), 60))
		}
	}
	// One line per change: node 1 becomes running once.
	if n := len(regexp.MustCompile(`node 1 \(progress-1, [^)]+\) is running at`).FindAllString(log, -1)); n != 1 {
		t.Errorf("node 1 turning running is logged %d times, want once", n)
	}
	h.destroy(d, noLiveLambda(h))
}
