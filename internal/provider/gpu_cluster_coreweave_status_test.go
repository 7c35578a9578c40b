package provider

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// setCoreWeaveClusterStatus puts a cluster in a status through the emulator's admin API.
func setCoreWeaveClusterStatus(env *testEnv, id, status string) error {
	resp, err := http.Post(env.url+"/_emulator/coreweave/clusters/"+id+"/status", "application/json",
		strings.NewReader(fmt.Sprintf(`{"status":%q}`, status)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("admin API answered %s", resp.Status)
	}
	return nil
}

// A cluster CoreWeave puts in STATUS_ERROR while it is created fails the create's wait at once,
// with CoreWeave's status in the error, and the next plan replaces it; so does a running cluster
// that CoreWeave reports as STATUS_UPGRADE_FAILED.
func TestAccGPUCluster_coreweaveErrorStatuses(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.cw"
	var erroredAt atomic.Int64 // unix nanos when the cluster was put in STATUS_ERROR
	accTest(t, checkCoreWeave(env, 0, 0, 0), []resource.TestStep{
		{
			PreConfig: func() {
				// As soon as the cluster exists (still creating), CoreWeave reports an error.
				go func() {
					for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
						for _, c := range env.emu.CoreWeave.Clusters() {
							if !c.Gone && c.Status == "STATUS_CREATING" {
								if err := setCoreWeaveClusterStatus(env, c.ID, "STATUS_ERROR"); err != nil {
									t.Errorf("set STATUS_ERROR: %v", err)
								}
								erroredAt.Store(time.Now().UnixNano())
								return
							}
						}
					}
					t.Error("no cluster appeared to put in STATUS_ERROR")
				}()
			},
			// A cluster in STATUS_ERROR never runs: without the status ending the wait, this
			// step would last the create timeout (10 minutes).
			Config:      coreweaveClusterConfig(env, 1, ""),
			ExpectError: regexp.MustCompile(`(?s)failed \(STATUS_ERROR\).*CoreWeave reports CKS\s+cluster\s+acc-cks.*in\s+STATUS_ERROR`),
		},
		{
			PreConfig: func() {
				if at := erroredAt.Load(); at == 0 || time.Since(time.Unix(0, at)) > time.Minute {
					t.Errorf("the failed wait did not end at once (STATUS_ERROR set %v ago)", time.Since(time.Unix(0, at)))
				}
			},
			Config:           coreweaveClusterConfig(env, 1, ""),
			ConfigPlanChecks: expectAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "status", knownvalue.StringExact("running")),
			},
			Check: checkCoreWeave(env, 1, 1, 1),
		},
		{
			PreConfig: func() {
				for _, c := range env.emu.CoreWeave.Clusters() {
					if !c.Gone {
						if err := setCoreWeaveClusterStatus(env, c.ID, "STATUS_UPGRADE_FAILED"); err != nil {
							t.Errorf("set STATUS_UPGRADE_FAILED: %v", err)
						}
					}
				}
			},
			Config:           coreweaveClusterConfig(env, 1, ""),
			ConfigPlanChecks: expectAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "status", knownvalue.StringExact("running")),
			},
			Check: checkCoreWeave(env, 1, 1, 1),
		},
	})
}

// Without kubernetes_version a cluster gets the newest version CoreWeave offers (the emulator's
// newest is v1.37), not a version fixed in the provider.
func TestAccGPUCluster_coreweaveNewestVersionByDefault(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.cw"
	config := strings.Replace(coreweaveClusterConfig(env, 1, ""), `kubernetes_version = "v1.35"`, "", 1)
	if strings.Contains(config, "kubernetes_version") {
		t.Fatalf("config still names a version:\n%s", config)
	}
	accTest(t, checkCoreWeave(env, 0, 0, 0), []resource.TestStep{
		{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("coreweave").AtMapKey("kubernetes_version"), knownvalue.StringExact("v1.37")),
			},
			Check: checkCoreWeave(env, 1, 1, 1),
		},
		{Config: config, PlanOnly: true},
	})
}
