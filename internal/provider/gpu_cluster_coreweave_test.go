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
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// checkCoreWeave asserts what the emulator holds: live clusters, VPCs, and Ready nodes of our
// pool (the guard against leaks).
func checkCoreWeave(env *testEnv, clusters, vpcs, nodes int) func(*terraform.State) error {
	return func(*terraform.State) error {
		cw := env.emu.CoreWeave
		liveClusters, liveVPCs, ready := 0, 0, 0
		for _, c := range cw.Clusters() {
			if !c.Gone {
				liveClusters++
			}
		}
		for _, v := range cw.VPCs() {
			if !v.Gone {
				liveVPCs++
			}
		}
		for _, p := range cw.NodePools() {
			ready += p.CurrentNodes
		}
		if liveClusters != clusters || liveVPCs != vpcs || ready != nodes {
			return fmt.Errorf("emulator has %d clusters, %d VPCs, %d ready nodes; want %d, %d, %d",
				liveClusters, liveVPCs, ready, clusters, vpcs, nodes)
		}
		return nil
	}
}

// A CKS cluster with the VPC the provider made for it: created, no-op plan, scaled 2 -> 4 -> 3
// in place (targetNodes patched), imported, and destroyed with its VPC.
func TestAccGPUCluster_coreweaveScaleInPlace(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.cw"
	update := expectAction(addr, plancheck.ResourceActionUpdate)
	accTest(t, checkCoreWeave(env, 0, 0, 0), []resource.TestStep{
		{
			Config: coreweaveClusterConfig(env, 2, ""),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "status", knownvalue.StringExact("running")),
				stateValue(addr, "instance_type", knownvalue.StringExact("gd-8xh100ib-i128")),
				stateValue(addr, "nodes", knownvalue.ListSizeExact(2)),
				stateValue(addr, "api_server_endpoint", knownvalue.StringRegexp(regexp.MustCompile(`/k8s/`))),
				stateValue(addr, "kubeconfig", knownvalue.StringRegexp(regexp.MustCompile(`(?s)apiVersion: v1.*CW-SECRET-test`))),
				stateSensitive(addr, "kubeconfig"),
				stateValue(addr, "coreweave.vpc_id", knownvalue.NotNull()),
				stateValue(addr, "price_per_hour", knownvalue.Float64Exact(98.48)),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
			Check:            checkCoreWeave(env, 1, 1, 2),
		},
		{Config: coreweaveClusterConfig(env, 4, ""), ConfigPlanChecks: update, Check: checkCoreWeave(env, 1, 1, 4)},
		{Config: coreweaveClusterConfig(env, 3, ""), ConfigPlanChecks: update, Check: checkCoreWeave(env, 1, 1, 3)},
		importByState(addr, "coreweave", "timeouts"),
		{
			// The node pool deleted behind Terraform's back: the plan shows the lost nodes
			// and the apply brings the pool back, in place.
			PreConfig:        func() { deleteCoreWeavePool(t, env, "acc-cks-gpu") },
			Config:           coreweaveClusterConfig(env, 3, ""),
			ConfigPlanChecks: update,
			Check:            checkCoreWeave(env, 1, 1, 3),
		},
	})
}

// deleteCoreWeavePool deletes a NodePool through the cluster's Kubernetes API, as kubectl would.
func deleteCoreWeavePool(t *testing.T, env *testEnv, pool string) {
	t.Helper()
	for _, c := range env.emu.CoreWeave.Clusters() {
		if c.Gone {
			continue
		}
		resp, err := callAPI(env, http.MethodDelete, c.APIServerPath+"/apis/compute.coreweave.com/v1alpha1/nodepools/"+pool, "CW-SECRET-test", nil)
		if err != nil || resp.StatusCode >= 300 {
			t.Fatalf("deleting node pool %s: %v %v", pool, err, resp)
		}
		resp.Body.Close()
	}
	// The pool's nodes drain before it is gone.
	deadline := time.Now().Add(10 * time.Second)
	for len(env.emu.CoreWeave.NodePools()) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// A gpu_instance on CoreWeave is a one-node pool in a cluster; it goes away with its pool.
func TestAccGPUInstance_coreweaveOneNodePool(t *testing.T) {
	env := accEnv(t)
	pool := `
resource "neocloud_gpu_instance" "node" {
  name      = "acc-single"
  cloud     = "coreweave"
  gpu_type  = "H100_80GB_SXM"
  gpu_count = 8
  coreweave {
    cluster_id = neocloud_gpu_cluster.cw.id
  }
}`
	accTest(t, checkCoreWeave(env, 0, 0, 0), []resource.TestStep{
		{
			Config: coreweaveClusterConfig(env, 1, pool),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue("neocloud_gpu_instance.node", "status", knownvalue.StringExact("running")),
				stateValue("neocloud_gpu_instance.node", "private_ip", knownvalue.NotNull()),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
			Check: resource.ComposeTestCheckFunc(
				checkCoreWeave(env, 1, 1, 2),
				func(*terraform.State) error {
					for _, p := range env.emu.CoreWeave.NodePools() {
						if p.TargetNodes == 1 && p.InstanceType == "gd-8xh100ib-i128" {
							return nil
						}
					}
					return fmt.Errorf("no one-node pool: %+v", env.emu.CoreWeave.NodePools())
				},
			),
		},
		importByState("neocloud_gpu_instance.node", "coreweave", "timeouts"),
		{
			// The pool is named after the instance: a new name is a new machine, and the
			// plan says so (it is not an in-place rename that the apply would refuse).
			Config:           coreweaveClusterConfig(env, 1, strings.Replace(pool, `"acc-single"`, `"acc-single-2"`, 1)),
			ConfigPlanChecks: expectAction("neocloud_gpu_instance.node", plancheck.ResourceActionDestroyBeforeCreate),
			Check:            checkCoreWeave(env, 1, 1, 2),
		},
	})
}

// Input CoreWeave would refuse fails at plan time; a cluster that fails is reported and
// replaced by the next apply.
func TestAccGPUCluster_coreweavePlanErrorsAndFailedCluster(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.cw"
	accTest(t, checkCoreWeave(env, 0, 0, 0), []resource.TestStep{
		{
			// CoreWeave lists no zones: one the provider does not know is a warning
			// (TestCheckRegion_coreweaveUnknownZoneWarns), and the plan goes on.
			Config:             regexp.MustCompile(`US-EAST-04A`).ReplaceAllString(coreweaveClusterConfig(env, 2, ""), "MOON-1A"),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		},
		planError(regexp.MustCompile(`gpus_per_node = 8`).ReplaceAllString(coreweaveClusterConfig(env, 2, ""), "gpus_per_node = 4"), `(?s)gpus_per_node.*8`),
		{Config: coreweaveClusterConfig(env, 1, ""), Check: checkCoreWeave(env, 1, 1, 1)},
		{
			PreConfig: func() {
				for _, c := range env.emu.CoreWeave.Clusters() {
					if !c.Gone {
						_ = env.emu.CoreWeave.FailCluster(c.ID)
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
				stateValue(addr, "coreweave.kubernetes_version", knownvalue.StringExact("v1.37")),
			},
			Check: checkCoreWeave(env, 1, 1, 1),
		},
		{Config: config, PlanOnly: true},
	})
}
