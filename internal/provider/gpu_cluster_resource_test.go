package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// lambdaRulesets lists the account's firewall rulesets through the API, as a user would.
func lambdaRulesets(env *testEnv) ([]map[string]any, error) {
	env.emu.Lambda.Core.SetRateLimitEnabled(false)
	defer env.emu.Lambda.Core.SetRateLimitEnabled(true)
	resp, err := callAPI(env, http.MethodGet, "/api/v1/firewall-rulesets", "lambda-test-key", nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Data []map[string]any `json:"data"`
	}
	return out.Data, json.NewDecoder(resp.Body).Decode(&out)
}

// launchStrayLambdaNode launches, behind Terraform's back, an instance tagged as a node of the
// cluster: what a crashed earlier run could have left. Destroy must find it by its tag.
func launchStrayLambdaNode(t *testing.T, env *testEnv, cluster string) {
	t.Helper()
	launchTaggedLambdaNode(t, env, cluster, 9, "gpu_1x_a10", nil)
}

// checkLambdaClusterNodes asserts the live instances are exactly the cluster's nodes in state:
// nothing launched outside state, nothing in state that is not running.
func checkLambdaClusterNodes(env *testEnv, want int) func(*terraform.State) error {
	const addr = "neocloud_gpu_cluster.c"
	return func(s *terraform.State) error {
		live := env.emu.Lambda.LiveInstances()
		if len(live) != want {
			return fmt.Errorf("expected %d live Lambda instances, the emulator has %d", want, len(live))
		}
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		inState := map[string]bool{}
		for i := range want {
			inState[rs.Primary.Attributes[fmt.Sprintf("nodes.%d.id", i)]] = true
		}
		for _, inst := range live {
			if !inState[inst.ID] {
				return fmt.Errorf("instance %s (%s) runs but is not a node in state", inst.ID, inst.Name)
			}
			if inst.Tags["neocloud-cluster"] != "acc-cluster" {
				return fmt.Errorf("node %s lacks its cluster tag: %v", inst.ID, inst.Tags)
			}
		}
		return nil
	}
}

// A Lambda node group: created with its ruleset and shared filesystem, nothing to do after
// apply, imported by name, scaled 2 -> 3 -> 1 in place (new ranks launched, highest ranks
// terminated), destroyed with its ruleset and filesystem, and with a node state never knew.
func TestAccGPUCluster_lambdaScaleInPlace(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.c"
	sharedFS := "lambda {\n    file_system_name = \"acc-cluster\"\n  }"
	update := expectAction(addr, plancheck.ResourceActionUpdate)
	checkDestroy := func(s *terraform.State) error {
		if err := checkNoLiveLambdaInstances(env)(s); err != nil {
			return err
		}
		if fs := env.emu.Lambda.FileSystems(); len(fs) != 0 {
			return fmt.Errorf("the cluster's filesystem was left behind: %+v", fs)
		}
		rs, err := lambdaRulesets(env)
		if err != nil || len(rs) != 0 {
			return fmt.Errorf("firewall rulesets left behind: %v %v", rs, err)
		}
		return nil
	}
	accTest(t, checkDestroy, []resource.TestStep{
		{
			Config: lambdaClusterConfig(env, 2, sharedFS),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "id", knownvalue.StringExact("acc-cluster")),
				stateValue(addr, "status", knownvalue.StringExact("running")),
				stateValue(addr, "nodes.0.rank", knownvalue.Int64Exact(0)),
				stateValue(addr, "nodes.1.env.NODE_RANK", knownvalue.StringExact("1")),
				stateValue(addr, "nodes.1.env.WORLD_SIZE", knownvalue.StringExact("2")),
				stateValue(addr, "head_node_ip", knownvalue.NotNull()),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
			Check: resource.ComposeTestCheckFunc(
				checkLambdaClusterNodes(env, 2),
				resource.TestCheckResourceAttrPair(addr, "head_node_ip", addr, "nodes.0.private_ip"),
				resource.TestCheckResourceAttrPair(addr, "nodes.1.env.MASTER_ADDR", addr, "head_node_ip"),
				func(*terraform.State) error {
					rs, err := lambdaRulesets(env)
					if err != nil || len(rs) != 1 {
						return fmt.Errorf("expected the cluster's firewall ruleset: %v %v", rs, err)
					}
					for _, inst := range env.emu.Lambda.LiveInstances() {
						if !slices.Contains(inst.FileSystemNames, "acc-cluster") {
							return fmt.Errorf("node %s does not mount the shared filesystem: %v", inst.Name, inst.FileSystemNames)
						}
					}
					return nil
				},
			),
		},
		importByID(addr, "lambda/acc-cluster", "timeouts", "lambda"),
		{
			// Imported with an import block and the configuration: the settings Lambda does
			// not report back are recorded in place, never a replacement.
			Config:             lambdaClusterConfig(env, 2, sharedFS),
			ResourceName:       addr,
			ImportState:        true,
			ImportStateKind:    resource.ImportBlockWithID,
			ImportStateId:      "lambda/acc-cluster",
			ExpectNonEmptyPlan: true,
			ImportPlanChecks:   resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)}},
		},
		{Config: lambdaClusterConfig(env, 3, sharedFS), ConfigPlanChecks: update, Check: checkLambdaClusterNodes(env, 3)},
		{
			Config: lambdaClusterConfig(env, 1, sharedFS), ConfigPlanChecks: update,
			Check: resource.ComposeTestCheckFunc(checkLambdaClusterNodes(env, 1),
				resource.TestCheckResourceAttr(addr, "nodes.0.name", "acc-cluster-0")),
		},
		{
			// A node tagged for this cluster that state never knew: refresh sees it (the
			// node count drifts), and destroy (CheckDestroy) must terminate it too.
			PreConfig:          func() { launchStrayLambdaNode(t, env, "acc-cluster") },
			Config:             lambdaClusterConfig(env, 1, sharedFS),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		},
	})
}

// Capacity runs out at node 3 of 4: the error says so, the nodes that exist are in state (none
// unmanaged), and destroy removes them.
func TestAccGPUCluster_lambdaCapacityRunsOutMidway(t *testing.T) {
	env := accEnv(t)
	env.emu.Lambda.SetCapacity("gpu_1x_a10", "us-west-1", 2)
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		{
			Config:      lambdaClusterConfig(env, 4, `region = "us-west-1"`),
			ExpectError: regexp.MustCompile(`(?s)Unable to create Lambda Cloud cluster.*us-west-1 gpu_1x_a10: capacity ran out at node 2 of 4.*2 node\(s\) that were created are saved in state`),
		},
		{
			// The partial cluster is in state (tainted): refresh sees its two nodes, and
			// nothing runs outside it.
			RefreshState:       true,
			ExpectNonEmptyPlan: true, // tainted: the next apply replaces it
			Check:              checkLambdaClusterNodes(env, 2),
		},
	})
}

// A RunPod Instant Cluster: created, no-op plan, imported, renamed in place; a node_count change
// is planned as a replacement (RunPod cannot resize), never an apply-time failure.
func TestAccGPUCluster_runpodInstantCluster(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.c"
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{
		{
			Config: runpodClusterConfig(env, "acc-cluster", 2),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "status", knownvalue.StringExact("running")),
				stateValue(addr, "nodes", knownvalue.ListSizeExact(2)),
				stateValue(addr, "nodes.0.rank", knownvalue.Int64Exact(0)),
				stateValue(addr, "head_node_ip", knownvalue.NotNull()),
			},
			ConfigPlanChecks: emptyPlanAfterApply(),
			Check: resource.ComposeTestCheckFunc(
				checkRunPodPods(env, 2),
				resource.TestCheckResourceAttrPair(addr, "nodes.1.env.MASTER_ADDR", addr, "head_node_ip"),
				resource.TestCheckResourceAttr(addr, "nodes.1.env.WORLD_SIZE", "16"),
			),
		},
		importByState(addr, "runpod", "timeouts", "runpod"),
		{
			// Imported with an import block and the configuration: the settings RunPod does
			// not report back are recorded in place, never a replacement.
			Config:             runpodClusterConfig(env, "acc-cluster", 2),
			ResourceName:       addr,
			ImportState:        true,
			ImportStateKind:    resource.ImportBlockWithID,
			ImportStateIdFunc:  importID(addr, "runpod"),
			ExpectNonEmptyPlan: true,
			ImportPlanChecks:   resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)}},
		},
		{
			Config:           runpodClusterConfig(env, "acc-renamed", 2),
			ConfigPlanChecks: expectAction(addr, plancheck.ResourceActionUpdate),
			Check:            resource.TestCheckResourceAttr(addr, "name", "acc-renamed"),
		},
		{
			Config:           runpodClusterConfig(env, "acc-renamed", 3),
			ConfigPlanChecks: expectAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
			Check:            checkRunPodPods(env, 3),
		},
	})
}

// Bad cluster input fails at plan time on the attribute at fault.
func TestAccGPUCluster_planTimeValidation(t *testing.T) {
	env := accEnv(t)
	accTest(t, nil, []resource.TestStep{
		planError(runpodClusterConfig(env, "acc", 1), `(?s)node_count.*2 to 8`),
		planError(runpodClusterConfig(env, "Bad_Name", 2), `(?s)name.*lowercase letters`),
		planError(lambdaClusterConfig(env, 2, `region = "nowhere-1"`), `(?s)region.*no region "nowhere-1"`),
	})
}

// A Lambda cluster imported with `terraform plan -generate-config-out`: the import reads the
// SSH key the nodes were launched with back into ssh_key_ids, so the generated configuration
// is valid (Lambda needs exactly one key) and plans nothing but the import.
func TestAccGPUCluster_lambdaImportGeneratesValidConfig(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.c"
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{
		{
			Config:           lambdaClusterConfig(env, 1, ""),
			ConfigPlanChecks: emptyPlanAfterApply(),
		},
		// terraform import: ssh_key_ids comes back as the configured key's id.
		importByID(addr, "lambda/acc-cluster", "timeouts"),
		{
			// An import block and generated configuration: the plan with it is valid and
			// a no-op import, with the key's id in ssh_key_ids.
			ResourceName:    addr,
			ImportState:     true,
			ImportStateKind: resource.ImportBlockWithID,
			ImportStateId:   "lambda/acc-cluster",
			GenerateConfig:  true,
			ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("neocloud_gpu_cluster.generated", plancheck.ResourceActionNoop),
				planValue("neocloud_gpu_cluster.generated", "ssh_key_ids", knownvalue.SetSizeExact(1)),
			}},
		},
	})
}

// checkLauncherInputs asserts that every node can be logged in to (ssh_host, ssh_port and
// ssh_user known; user matched by sshUser), and that hostfile and node_private_ips list the
// nodes' private addresses in rank order with gpus_per_node slots.
func checkLauncherInputs(addr string, nodes, slots int, sshUser *regexp.Regexp) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return fmt.Errorf("%s not in state", addr)
		}
		a := rs.Primary.Attributes
		if a["nodes.#"] != fmt.Sprint(nodes) || a["node_private_ips.#"] != fmt.Sprint(nodes) {
			return fmt.Errorf("want %d nodes and private IPs, got %s and %s", nodes, a["nodes.#"], a["node_private_ips.#"])
		}
		var want strings.Builder
		users := map[string]bool{}
		for i := range nodes {
			node := func(k string) string { return a[fmt.Sprintf("nodes.%d.%s", i, k)] }
			if node("rank") != fmt.Sprint(i) {
				return fmt.Errorf("node %d has rank %s", i, node("rank"))
			}
			ip := node("private_ip")
			if ip == "" || a[fmt.Sprintf("node_private_ips.%d", i)] != ip {
				return fmt.Errorf("node %d: private_ip %q, node_private_ips[%d] %q", i, ip, i, a[fmt.Sprintf("node_private_ips.%d", i)])
			}
			if node("ssh_host") == "" || node("ssh_port") == "" || !sshUser.MatchString(node("ssh_user")) {
				return fmt.Errorf("node %d cannot be reached: ssh %s@%s -p %s", i, node("ssh_user"), node("ssh_host"), node("ssh_port"))
			}
			users[node("ssh_user")] = true
			fmt.Fprintf(&want, "%s slots=%d\n", ip, slots)
		}
		if a["hostfile"] != want.String() {
			return fmt.Errorf("hostfile:\n%s\nwant:\n%s", a["hostfile"], want.String())
		}
		return nil
	}
}

// A Lambda cluster's nodes can be logged in to as ubuntu at their public address, and the
// launcher inputs (hostfile, node_private_ips, env) list them in rank order.
func TestAccGPUCluster_lambdaNodesReachableWithLauncherInputs(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.c"
	accTest(t, checkNoLiveLambdaInstances(env), []resource.TestStep{{
		Config: lambdaClusterConfig(env, 2, ""),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(addr, "nodes.1.ssh_user", knownvalue.StringExact("ubuntu")),
			stateValue(addr, "nodes.1.ssh_port", knownvalue.Int64Exact(22)),
			stateValue(addr, "nodes.1.env.NODE_RANK", knownvalue.StringExact("1")),
		},
		ConfigPlanChecks: emptyPlanAfterApply(),
		Check: resource.ComposeTestCheckFunc(
			checkLauncherInputs(addr, 2, 1, regexp.MustCompile(`^ubuntu$`)),
			resource.TestCheckResourceAttrPair(addr, "nodes.0.ssh_host", addr, "nodes.0.public_ip"),
			resource.TestCheckResourceAttrPair(addr, "node_private_ips.0", addr, "head_node_ip"),
		),
	}})
}

// A RunPod Instant Cluster without a published 22/tcp is reached through RunPod's SSH proxy:
// every node reports ssh.runpod.io:22 with the user name the proxy routes by (one per node),
// not just the host; the launcher inputs list the nodes in rank order.
func TestAccGPUCluster_runpodNodesReachableWithLauncherInputs(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.c"
	accTest(t, checkRunPodPods(env, 0), []resource.TestStep{{
		Config: runpodClusterConfig(env, "acc-cluster", 2),
		ConfigStateChecks: []statecheck.StateCheck{
			stateValue(addr, "nodes.0.ssh_host", knownvalue.StringExact("ssh.runpod.io")),
			stateValue(addr, "nodes.0.ssh_port", knownvalue.Int64Exact(22)),
		},
		ConfigPlanChecks: emptyPlanAfterApply(),
		Check: resource.ComposeTestCheckFunc(
			checkLauncherInputs(addr, 2, 8, regexp.MustCompile(`^[a-z0-9]+-[0-9a-f]+$`)),
			func(s *terraform.State) error {
				a := s.RootModule().Resources[addr].Primary.Attributes
				pods := env.emu.RunPod.LivePods()
				for i := range 2 {
					user := a[fmt.Sprintf("nodes.%d.ssh_user", i)]
					id := a[fmt.Sprintf("nodes.%d.id", i)]
					// The proxy's user name is "<pod id>-<routing token>".
					if !strings.HasPrefix(user, id+"-") {
						return fmt.Errorf("node %d (%s) has ssh_user %q, not the proxy's user for that pod (pods %+v)", i, id, user, pods)
					}
				}
				return nil
			},
		),
	}})
}

// Spot where the cloud has none (Lambda, RunPod) fails the plan on capacity_type; on CoreWeave a
// spot cluster gets a NodePool of the Spot compute class, and the next plan is empty.
func TestAccGPUCluster_capacityType(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.cw"
	accTest(t, checkCoreWeave(env, 0, 0, 0), []resource.TestStep{
		planError(lambdaClusterConfig(env, 2, `capacity_type = "spot"`), `(?s)No spot capacity on Lambda Cloud.*capacity_type.*Lambda Cloud's API \(1\.8\) has no spot instances`),
		planError(env.providerConfig()+runpodPodResource(`capacity_type = "spot"`), `(?s)No spot capacity on RunPod.*RunPod's REST API \(v2\) has no interruptible`),
		{
			Config:            env.providerConfig() + coreweaveClusterResource(2, `capacity_type = "spot"`),
			ConfigPlanChecks:  emptyPlanAfterApply(planValue(addr, "capacity_type", knownvalue.StringExact("spot"))),
			ConfigStateChecks: []statecheck.StateCheck{stateValue(addr, "capacity_type", knownvalue.StringExact("spot"))},
			Check: func(*terraform.State) error {
				for _, p := range env.emu.CoreWeave.NodePools() {
					if p.ComputeClass != "Spot" {
						return fmt.Errorf("node pool %s has compute class %q, want Spot", p.Name, p.ComputeClass)
					}
				}
				return nil
			},
		},
	})
}

// interconnect = "infiniband" on a cluster: a plan-time error, on the attribute, for a fixed
// cloud and type without it (a Lambda node group); with placement, only the candidates that have
// it are tried (CoreWeave's InfiniBand H100 nodes, not Lambda's), which the plan already knows.
// Offers say which network each machine type has.
func TestAccGPUCluster_interconnect(t *testing.T) {
	env := accEnv(t)
	addr := "neocloud_gpu_cluster.ib"
	placed := env.providerConfig() + sshKeyHCL("lambda", "lambda", "acc-key") + `
resource "neocloud_gpu_cluster" "ib" {
  name          = "acc-ib"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = 2
  ssh_key_ids   = [neocloud_ssh_key.lambda.id]
  interconnect  = "infiniband"
  placement {
    clouds  = ["lambda", "coreweave"]
    regions = ["us-east-1", "US-EAST-04A"]
  }
}

data "neocloud_gpu_offers" "h100" {
  gpu_type         = "H100_80GB_SXM"
  gpu_count        = 8
  clouds           = ["lambda", "coreweave"]
  include_sold_out = true
}
`
	accTest(t, checkCoreWeave(env, 0, 0, 0), []resource.TestStep{
		planError(lambdaClusterConfig(env, 2, `interconnect = "infiniband"`), `(?s)Interconnect not available.*interconnect.*Lambda Cloud cluster of gpu_1x_a10 has ethernet between its nodes, not\s+infiniband`),
		{
			Config: placed,
			ConfigPlanChecks: emptyPlanAfterApply(
				planUnknown(addr, "cloud"),
				planValue(addr, "interconnect", knownvalue.StringExact("infiniband")),
				planValue(addr, "instance_type", knownvalue.StringExact("gd-8xh100ib-i128")),
				planValue(addr, "price_per_hour", knownvalue.Float64Exact(98.48)),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				stateValue(addr, "cloud", knownvalue.StringExact("coreweave")),
				stateValue(addr, "region", knownvalue.StringExact("US-EAST-04A")),
				stateValue(addr, "status", knownvalue.StringExact("running")),
			},
			Check: resource.ComposeTestCheckFunc(
				checkLambdaInstances(env, 0),
				checkCoreWeave(env, 1, 1, 2),
				resource.TestCheckTypeSetElemNestedAttrs("data.neocloud_gpu_offers.h100", "offers.*", map[string]string{"cloud": "coreweave", "interconnect": "infiniband"}),
				resource.TestCheckTypeSetElemNestedAttrs("data.neocloud_gpu_offers.h100", "offers.*", map[string]string{"cloud": "lambda", "interconnect": "ethernet"}),
			),
		},
	})
}
