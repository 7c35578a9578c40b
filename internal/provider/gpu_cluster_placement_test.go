package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/lambda"
)

// A Lambda cluster's price is in the plan (2 x $0.75), a node_count change plans the new price
// (3 nodes: $2.25, not "known after apply"), and max_price_per_hour refuses at plan time, on the
// attribute, a count whose price is above it; a cap raised in place changes nothing.
func TestAccGPUCluster_priceInPlanFollowsNodeCount(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.c"
	price := func(v float64) plancheck.PlanCheck {
		return planValue(addr, "price_per_hour", knownvalue.Float64Exact(v))
	}
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		{
			Config: lambdaClusterConfig(env, 2, "max_price_per_hour = 2"),
			ConfigPlanChecks: emptyPlanAfterApply(
				price(1.5),
				planValue(addr, "max_possible_price_per_hour", knownvalue.Float64Exact(1.5)),
			),
			ConfigStateChecks: []statecheck.StateCheck{stateValue(addr, "price_per_hour", knownvalue.Float64Exact(1.5))},
		},
		planError(lambdaClusterConfig(env, 3, "max_price_per_hour = 2"), `(?s)Cluster costs more than max_price_per_hour.*max_price_per_hour = 2.*3 node\(s\) of gpu_1x_a10 on Lambda Cloud cost \$2\.25`),
		{
			Config: lambdaClusterConfig(env, 3, "max_price_per_hour = 3"),
			ConfigPlanChecks: emptyPlanAfterApply(
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				price(2.25),
			),
			ConfigStateChecks: []statecheck.StateCheck{stateValue(addr, "price_per_hour", knownvalue.Float64Exact(2.25))},
			Check:             checkLambdaClusterNodes(env, 3),
		},
	})
}

// A cap below the price of a new cluster fails the plan on max_price_per_hour, before anything
// is launched.
func TestAccGPUCluster_priceCapAtPlanTime(t *testing.T) {
	env := accEnv(t)
	accTest(t, nil, []resource.TestStep{planError(env.providerConfig()+coreweaveClusterResource(2, "max_price_per_hour = 90"), `(?s)Cluster costs more than max_price_per_hour.*max_price_per_hour = 90.*\$98\.48`)})
}

// RunPod (per GPU type and count on its secure cloud: 2 x 8 x $2.69) and CoreWeave (list price
// per node: 2 x $49.24) clusters show their price in the plan, equal to what the apply records.
func TestAccGPUCluster_priceInPlanRunPodAndCoreWeave(t *testing.T) {
	env := accEnv(t)
	rp, cw := "neocloud_gpu_cluster.c", "neocloud_gpu_cluster.cw"
	config := runpodClusterConfig(env, "acc-cluster", 2) + coreweaveClusterResource(2, "")
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config: config,
		ConfigPlanChecks: emptyPlanAfterApply(
			planValue(rp, "price_per_hour", knownvalue.Float64Exact(43.04)),
			planValue(cw, "price_per_hour", knownvalue.Float64Exact(98.48)),
		),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(rp, "price_per_hour", knownvalue.Float64Exact(43.04)),
			stateValue(cw, "price_per_hour", knownvalue.Float64Exact(98.48)),
		},
	}})
}

// lambdaH100Capacity leaves Lambda n 8x H100 machines, all in one region.
func lambdaH100Capacity(env *testEnv, n int) {
	for i, r := range env.emu.Lambda.Regions() {
		env.emu.Lambda.SetCapacity("gpu_8x_h100_sxm5", r, map[bool]int{true: n}[i == 0])
	}
}

// Ordered placement of a 2-node cluster: Lambda first, but it has room for one node only. The
// node it launched is deleted (the emulator has no live Lambda machine), and the cluster lands
// on RunPod, every node there; the plan showed the most the placement could cost (Lambda's
// 2 x $23.92), and the next plan is empty.
func TestAccGPUCluster_placementFailsOverAndCleansUp(t *testing.T) {
	env := accEnv(t)
	lambdaH100Capacity(env, 1)
	addr := "neocloud_gpu_cluster.c"
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config: placedClusterConfig(env, `clouds = ["lambda", "runpod"]`, ""),
		ConfigPlanChecks: emptyPlanAfterApply(
			planUnknown(addr, "cloud"),
			planUnknown(addr, "price_per_hour"),
			planValue(addr, "max_possible_price_per_hour", knownvalue.Float64Exact(47.84)),
		),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(addr, "cloud", knownvalue.StringExact("runpod")),
			stateValue(addr, "status", knownvalue.StringExact("running")),
			stateValue(addr, "nodes", knownvalue.ListSizeExact(2)),
			stateValue(addr, "price_per_hour", knownvalue.Float64Exact(43.04)),
			stateValue(addr, "max_possible_price_per_hour", knownvalue.Float64Exact(47.84)),
		},
		Check: resource.ComposeTestCheckFunc(
			checkRunPodPods(env, 2),
			checkLambdaInstances(env, 0),
			func(*terraform.State) error {
				if n := len(env.emu.Lambda.Instances()); n != 1 {
					return fmt.Errorf("Lambda should have launched (and deleted) exactly the one node it had room for; it saw %d", n)
				}
				return nil
			},
		),
	}})
}

// Cheapest placement tries RunPod (2 x 8 x $2.69 = $43.04) before Lambda ($47.84); a cap
// between the two leaves RunPod alone, so the plan knows the price.
func TestAccGPUCluster_placementCheapestAndCap(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.c"
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{
		planError(placedClusterConfig(env, `clouds = ["lambda", "runpod"]`, "max_price_per_hour = 40"), `(?s)No cloud in placement can create this cluster.*max_price_per_hour = 40.*lambda.*above max_price_per_hour.*runpod.*above max_price_per_hour`),
		{
			Config: placedClusterConfig(env, `clouds = ["lambda", "runpod"]
    strategy = "cheapest"`, "max_price_per_hour = 45"),
			ConfigPlanChecks: emptyPlanAfterApply(
				planValue(addr, "price_per_hour", knownvalue.Float64Exact(43.04)),
				planValue(addr, "max_possible_price_per_hour", knownvalue.Float64Exact(43.04)),
			),
			ConfigStateChecks: []statecheck.StateCheck{stateValue(addr, "cloud", knownvalue.StringExact("runpod"))},
			Check:             resource.ComposeTestCheckFunc(checkRunPodPods(env, 2), checkLambdaInstances(env, 0)),
		},
	})
}

// Every candidate refuses: the error lists each with its cloud's answer, and the node Lambda
// launched before running out is deleted (nothing billed, nothing in state).
func TestAccGPUCluster_placementExhausted(t *testing.T) {
	env := accEnv(t)
	lambdaH100Capacity(env, 1)
	for _, dc := range []string{"US-TX-3", "US-KS-2", "EU-RO-1", "EUR-IS-1", "CA-MTL-1"} {
		env.emu.RunPod.SetCapacity("NVIDIA H100 80GB HBM3", dc, "SECURE", 0)
	}
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		{
			Config:      placedClusterConfig(env, `clouds = ["lambda", "runpod"]`, ""),
			ExpectError: regexp.MustCompile(`(?s)Unable to place GPU cluster.*tried:.*lambda gpu_8x_h100_sxm5:.*capacity ran out at node 1 of 2.*were deleted.*runpod NVIDIA H100 80GB HBM3:`),
		},
		{
			RefreshState:       true,
			ExpectNonEmptyPlan: true, // nothing exists: the next apply tries again
			Check: resource.ComposeTestCheckFunc(checkLambdaInstances(env, 0), checkRunPodPods(env, 0),
				func(s *terraform.State) error {
					if _, ok := s.RootModule().Resources["neocloud_gpu_cluster.c"]; ok {
						return fmt.Errorf("a cluster whose every candidate refused must not be in state")
					}
					return nil
				}),
		},
	})
}

// A cluster an earlier apply left on RunPod (here: created, then forgotten by state with a
// removed block, as a crash would leave it) is found by its launch token when placement lists
// Lambda first: it is adopted on RunPod, and nothing is launched on Lambda.
func TestAccGPUCluster_placementAdoptsWhatAnInterruptedRunLeft(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.c"
	fixed := env.providerConfig() + h100ClusterHCL("acc-placed", `cloud = "runpod"
  runpod {
    image = "`+runpodImage+`"
  }`)
	forgotten := env.providerConfig() + forgetHCL("neocloud_gpu_cluster.c")
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{
		{Config: fixed, Check: checkRunPodPods(env, 2)},
		{Config: forgotten, Check: checkRunPodPods(env, 2)},
		{
			Config: placedClusterConfig(env, `clouds = ["lambda", "runpod"]`, ""),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "cloud", knownvalue.StringExact("runpod")),
				stateValue(addr, "status", knownvalue.StringExact("running")),
			},
			Check: resource.ComposeTestCheckFunc(checkRunPodPods(env, 2), func(*terraform.State) error {
				if n := len(env.emu.Lambda.Instances()); n != 0 {
					return fmt.Errorf("nothing may be launched on Lambda while the cluster exists on RunPod; %d were", n)
				}
				if n := len(env.emu.RunPod.Clusters()); n != 1 {
					return fmt.Errorf("want the one RunPod cluster, adopted; the emulator has %d", n)
				}
				return nil
			}),
		},
	})
}

// Node 0 of a Lambda cluster launched by an interrupted apply (it carries this resource's launch
// token): placement lists RunPod first, but the cluster is continued on Lambda, where it began,
// and nothing is created on RunPod.
func TestAccGPUCluster_placementContinuesAnInterruptedLambdaCluster(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.c"
	keyOnly := env.providerConfig() + sshKeyHCL("lambda", "lambda", "acc-key")
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		{Config: keyOnly},
		{
			PreConfig: func() {
				token := clients.IdentityToken("gpu_cluster", "acc-placed")
				launchTaggedLambdaNode(t, env, "acc-placed", 0, "gpu_8x_h100_sxm5", map[string]string{
					lambda.LaunchTokenTag: clients.TokenValue(token + "-r0"),
					lambda.LaunchedAtTag:  clients.LaunchedAtValue(time.Now()),
				})
			},
			Config: placedClusterConfig(env, `clouds = ["runpod", "lambda"]`, ""),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "cloud", knownvalue.StringExact("lambda")),
				stateValue(addr, "nodes", knownvalue.ListSizeExact(2)),
			},
			Check: resource.ComposeTestCheckFunc(checkLambdaInstances(env, 2), checkRunPodPods(env, 0)),
		},
	})
}

// launchTaggedLambdaNode launches, behind Terraform's back, node rank of a Lambda cluster with
// extra tags: what an interrupted earlier apply leaves.
func launchTaggedLambdaNode(t *testing.T, env *testEnv, cluster string, rank int, instanceType string, extra map[string]string) {
	t.Helper()
	env.emu.Lambda.Core.SetRateLimitEnabled(false)
	defer env.emu.Lambda.Core.SetRateLimitEnabled(true)
	tags := []map[string]string{{"key": "neocloud-cluster", "value": cluster}, {"key": "neocloud-rank", "value": strconv.Itoa(rank)}}
	for k, v := range extra {
		tags = append(tags, map[string]string{"key": k, "value": v})
	}
	body, _ := json.Marshal(map[string]any{
		"region_name": "us-east-1", "instance_type_name": instanceType, "ssh_key_names": []string{"acc-key"},
		"name": fmt.Sprintf("%s-%d", cluster, rank), "tags": tags,
	})
	resp, err := callAPI(env, http.MethodPost, "/api/v1/instance-operations/launch", "lambda-test-key", body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("launching a tagged node: %v %v", err, resp)
	}
	resp.Body.Close()
}

// coreweaveH100 is the InfiniBand H100 type CoreWeave clusters of H100_80GB_SXM x 8 use.
const coreweaveH100 = "gd-8xh100ib-i128"

// A fixed-cloud CoreWeave cluster in a zone without H100 capacity: CKS accepts the cluster, its
// node pool waits with InsufficientCapacity, and the apply fails soon after (a short grace),
// not at the end of its create timeout, saying what had no capacity. The cluster is saved
// tainted; destroy removes it and its VPC.
func TestAccGPUCluster_coreweaveNoCapacityFailsQuickly(t *testing.T) {
	env := accEnv(t)
	env.emu.CoreWeave.SetCapacity(coreweaveH100, "US-EAST-04A", 0)
	var started time.Time
	accTest(t, checkCoreWeave(env, 0, 0, 0), []resource.TestStep{
		{
			PreConfig:   func() { started = time.Now() },
			Config:      coreweaveClusterConfig(env, 2, ""),
			ExpectError: regexp.MustCompile(`(?s)did not become ready.*no capacity for 2 x gd-8xh100ib-i128 in US-EAST-04A.*tainted`),
		},
		{
			// The failed create is in state, tainted: the next plan replaces it.
			Config:             coreweaveClusterConfig(env, 2, ""),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			PreConfig: func() {
				// The create timeout is 60 minutes (36 s on this clock); the failure must come long before.
				if d := time.Since(started); d > 30*time.Second {
					t.Errorf("the capacity failure took %s", d)
				}
			},
			Check: func(s *terraform.State) error {
				r, ok := s.RootModule().Resources["neocloud_gpu_cluster.cw"]
				if !ok || !r.Primary.Tainted {
					return fmt.Errorf("the cluster CKS accepted must be in state, tainted")
				}
				return nil
			},
		},
	})
}

// placedCoreWeaveFirstConfig is a 2-node H100 cluster placed on CoreWeave's US-EAST-04A first,
// then Lambda.
func placedCoreWeaveFirstConfig(env *testEnv) string {
	return placedOnCoreWeaveConfig(env, `["coreweave", "lambda"]`)
}

// placedOnCoreWeaveConfig is that cluster with the clouds in the given order.
func placedOnCoreWeaveConfig(env *testEnv, clouds string) string {
	return env.providerConfig() + sshKeyHCL("lambda", "lambda", "acc-key") + h100ClusterHCL("acc-placed", `ssh_key_ids = [neocloud_ssh_key.lambda.id]
  placement {
    clouds  = `+clouds+`
    regions = ["US-EAST-04A", "us-east-1"]
  }`)
}

// Ordered placement, CoreWeave first, but CoreWeave has no H100 capacity in the zone: CKS
// accepts the cluster, its node pool waits with InsufficientCapacity, and after the grace the
// provider deletes the CKS cluster (with its pool and the VPC it made), waits until CoreWeave
// shows it gone, and places the cluster on Lambda. A warning says why CoreWeave was passed
// over; the next plan is empty; destroy leaves nothing on either cloud.
func TestAccGPUCluster_placementFailsOverWhenCoreWeaveHasNoCapacity(t *testing.T) {
	env := accEnv(t)
	env.emu.CoreWeave.SetCapacity(coreweaveH100, "US-EAST-04A", 0)
	addr := "neocloud_gpu_cluster.c"
	accTest(t, resource.ComposeTestCheckFunc(checkNoLiveLambdaInstances(env), checkCoreWeave(env, 0, 0, 0)), []resource.TestStep{{
		Config:           placedCoreWeaveFirstConfig(env),
		ConfigPlanChecks: emptyPlanAfterApply(),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(addr, "cloud", knownvalue.StringExact("lambda")),
			stateValue(addr, "status", knownvalue.StringExact("running")),
			stateValue(addr, "nodes", knownvalue.ListSizeExact(2)),
		},
		Check: resource.ComposeTestCheckFunc(
			checkLambdaInstances(env, 2),
			checkCoreWeave(env, 0, 0, 0),
			func(*terraform.State) error {
				cw := env.emu.CoreWeave
				if n := len(cw.Clusters()); n != 1 {
					return fmt.Errorf("CoreWeave should have been asked for exactly one cluster (then deleted); it saw %d", n)
				}
				if n := len(cw.NodePools()); n != 0 {
					return fmt.Errorf("no node pool may be left on CoreWeave; %d are", n)
				}
				return nil
			},
		),
	}})
}

// A CKS cluster an earlier apply left (here: created, then forgotten by state with a removed
// block, as a crash would leave it) is found by its name and launch token when placement lists
// Lambda first: it is adopted on CoreWeave, nothing is launched on Lambda, and no second CKS
// cluster is made. The next plan is empty, and destroy removes it with its VPC.
func TestAccGPUCluster_placementAdoptsWhatAnInterruptedRunLeftOnCoreWeave(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.c"
	fixed := env.providerConfig() + h100ClusterHCL("acc-placed", `cloud  = "coreweave"
  region = "US-EAST-04A"`)
	forgotten := env.providerConfig() + forgetHCL("neocloud_gpu_cluster.c")
	accTest(t, resource.ComposeTestCheckFunc(checkNoLiveLambdaInstances(env), checkCoreWeave(env, 0, 0, 0)), []resource.TestStep{
		{Config: fixed, Check: checkCoreWeave(env, 1, 1, 2)},
		{Config: forgotten, Check: checkCoreWeave(env, 1, 1, 2)},
		{
			Config:           placedOnCoreWeaveConfig(env, `["lambda", "coreweave"]`),
			ConfigPlanChecks: emptyPlanAfterApply(),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "cloud", knownvalue.StringExact("coreweave")),
				stateValue(addr, "region", knownvalue.StringExact("US-EAST-04A")),
				stateValue(addr, "status", knownvalue.StringExact("running")),
				stateValue(addr, "nodes", knownvalue.ListSizeExact(2)),
			},
			Check: resource.ComposeTestCheckFunc(checkCoreWeave(env, 1, 1, 2), func(*terraform.State) error {
				if n := len(env.emu.Lambda.Instances()); n != 0 {
					return fmt.Errorf("nothing may be launched on Lambda while the cluster exists on CoreWeave; %d were", n)
				}
				if n := len(env.emu.CoreWeave.Clusters()); n != 1 {
					return fmt.Errorf("want the one CKS cluster, adopted; the emulator has %d", n)
				}
				return nil
			}),
		},
	})
}
