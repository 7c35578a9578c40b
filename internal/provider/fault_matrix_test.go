package provider

// The fault matrix: every cloud (Lambda, RunPod, CoreWeave) x every operation on a machine
// (create, read/refresh, update in place, delete, drift) x the faults a real cloud throws at a
// client (5xx bursts, 429 storms, hung requests, lost answers, late commits, transient 404s on
// list routes, capacity and quota refusals, machines failing while booting, machines deleted
// out of band), as acceptance tests against the emulators.
//
// After every case the harness applies once more without faults and asserts the promises of
// the provider's behaviour contract (docs/guides/reliability.md):
//   - the machines the emulator holds as live are exactly the machines in Terraform state, by id
//     (nothing leaked, nothing duplicated, nothing dropped from state while it still runs);
//   - that apply converges and the plan after it is empty;
//   - destroy leaves nothing on the cloud (CheckDestroy).
// Cases add their own promises: how many machines the emulator ever launched, that a create
// call was not repeated, that a hung request was abandoned by the client rather than waited
// out, what an error names.
//
// Run it with
//
//	TF_ACC=1 TF_ACC_TERRAFORM_PATH=$(scripts/ensure-terraform.sh) CHECKPOINT_DISABLE=1 \
//	  go test ./internal/provider -count=1 -run 'TestAccFaultMatrix' -v -timeout 20m
//
// and one case with -run 'TestAccFaultMatrix/lambda/create/lost-answer'.
//
// Most of a case's wall time is spent waiting (Retry-After, a 35 s hung request, a create that
// commits 30-40 s late), not computing, so the cases run concurrently regardless of go test's
// -parallel (which defaults to the number of cores, 2 here): TestAccFaultMatrix starts every
// case's subtest from its own goroutine, at most faultMatrixParallel at a time
// (NEOCLOUD_FAULT_MATRIX_PARALLEL overrides it). Those subtests therefore use resource.Test, not
// resource.ParallelTest: t.Parallel in a subtest started that way would wait for the parent to
// return, which waits for the subtest. Each case has its own emulators, so cases are independent.

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	cwemu "github.com/neocloud/terraform-provider-neocloud/internal/emulator/coreweave"
	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// faultMatrixParallel is how many cases run at once by default: enough to overlap the waiting,
// few enough that two cores still run every case's Terraform CLI promptly.
const faultMatrixParallel = 10

// hungDelay is how long a hung request hangs: far beyond the provider's per-request timeout
// (5 s in tests) and beyond client-go's default 30 s, so only a client that gives up on the
// request and sends another finishes without waiting it out.
const hungDelay = 35 * time.Second

// matrixAddr is the machine every case manages.
const matrixAddr = "neocloud_gpu_instance.m"

// matrixTimeouts bounds every operation of the machine, so a provider that waits forever fails
// a case instead of the whole run.
const matrixTimeouts = `timeouts {
    create = "4m"
    update = "4m"
    delete = "4m"
  }`

// lateCommitTimeouts is the configuration of the late-commit cases: a create timeout shorter
// than the commit's delay, so the first apply must give up before the machine exists.
const lateCommitTimeouts = `timeouts {
    create = "20s"
    update = "4m"
    delete = "4m"
  }`

// lateLaunchDelay is how late a Lambda or RunPod launch commits in the late-commit cases: 200 s
// of the vendor's time on the emulators' clock, beyond the adoption looks of a 1 s create
// timeout but within the clouds' commit horizon (clients.CommitHorizon, on the same clock),
// as the launch protocol assumes of a real cloud.
var lateLaunchDelay = time.Duration(float64(200*time.Second) * testTimeScale)

// lateLaunchTimeouts gives up on the launch before it commits.
const lateLaunchTimeouts = `timeouts {
    create = "1s"
    update = "4m"
    delete = "4m"
  }`

// ---------------------------------------------------------------------------------------------
// What each cloud looks like to the matrix.

// kitRoutes are the emulator's route templates (as counted in emucore.Stats) that a cloud's
// machine operations use.
type kitRoutes struct {
	list   string // the list every read and wait of a machine goes through
	create string
	delete string
	update string // "" when the cloud changes nothing in place
	// reads are every read route a refresh of the machine uses (list first).
	reads []string
	// createReads are the read routes a create uses besides the list (catalog, SSH keys).
	createReads []string
}

// cloudKit is one cloud as the matrix drives it.
type cloudKit struct {
	name string
	// config is the cloud's machine: its supporting resources (SSH key, CKS cluster) always,
	// and the neocloud_gpu_instance "m" named name, with extra lines in its block, when
	// withMachine.
	config func(env *testEnv, withMachine bool, name, extra string) string
	core   func(env *testEnv) *emucore.Core
	// live lists the ids (as in state) of the machines the emulator holds as live: booting,
	// running, failed but still billed.
	live func(env *testEnv) []string
	// ever counts every machine the emulator has launched, terminated ones included; nil when
	// the emulator forgets deleted machines (CoreWeave node pools).
	ever func(env *testEnv) int
	// machineName is the name the cloud has for a live machine.
	machineName func(env *testEnv, id string) string
	routes      kitRoutes
	// listPath and createPath match the raw URL paths of routes.list and routes.create, for
	// the wire log.
	listPath, createPath *regexp.Regexp
	// launchToken matches "<key>=<value>": the tag, label or environment entry a user looks for
	// after a create whose outcome is unknown.
	launchToken string
	// createIsIdempotent says a create can be sent again without launching twice (CoreWeave: the
	// node pool's name is derived from the launch token, so a second send meets AlreadyExists).
	createIsIdempotent bool

	// noCapacity takes away the capacity the machine needs and returns how to give it back;
	// capacityErr is what the error must name.
	noCapacity  func(env *testEnv) (restore func())
	capacityErr *regexp.Regexp
	// noQuota does the same with the account's quota (nil: the cloud has none for a machine).
	noQuota  func(env *testEnv) (restore func())
	quotaErr *regexp.Regexp
	// failBooting fails the first machine seen booting (nil: the emulator cannot).
	failBooting   func(env *testEnv) (stop func())
	failedBootErr *regexp.Regexp
	// deleteOutOfBand deletes a machine behind Terraform's back and waits until it is gone.
	deleteOutOfBand func(t *testing.T, env *testEnv, id string)
	// skip says why a scenario cannot happen on this cloud.
	skip map[string]string
}

func lambdaKit() *cloudKit {
	return &cloudKit{
		name: "lambda",
		config: func(env *testEnv, withMachine bool, name, extra string) string {
			cfg := env.providerConfig() + fmt.Sprintf(`
resource "neocloud_ssh_key" "me" {
  cloud      = "lambda"
  name       = "fm-key"
  public_key = %q
}
`, testPublicKey)
			if withMachine {
				cfg += fmt.Sprintf(`
resource "neocloud_gpu_instance" "m" {
  name        = %q
  cloud       = "lambda"
  region      = "us-east-1"
  gpu_type    = "A10_24GB"
  gpu_count   = 1
  ssh_key_ids = [neocloud_ssh_key.me.id]
  %s
}
`, name, extra)
			}
			return cfg
		},
		core: func(env *testEnv) *emucore.Core { return env.emu.Lambda.Core },
		live: func(env *testEnv) []string {
			var ids []string
			for _, in := range env.emu.Lambda.LiveInstances() {
				ids = append(ids, in.ID)
			}
			return ids
		},
		ever: func(env *testEnv) int { return len(env.emu.Lambda.Instances()) },
		machineName: func(env *testEnv, id string) string {
			for _, in := range env.emu.Lambda.LiveInstances() {
				if in.ID == id {
					return in.Name
				}
			}
			return ""
		},
		routes: kitRoutes{
			list:        "GET /api/v1/instances",
			create:      "POST /api/v1/instance-operations/launch",
			delete:      "POST /api/v1/instance-operations/terminate",
			update:      "POST /api/v1/instances/{id}",
			reads:       []string{"GET /api/v1/instances", "GET /api/v1/instances/{id}"},
			createReads: []string{"GET /api/v1/instance-types", "GET /api/v1/ssh-keys"},
		},
		listPath:    regexp.MustCompile(`^/api/v1/instances$`),
		createPath:  regexp.MustCompile(`^/api/v1/instance-operations/launch$`),
		launchToken: `neocloud-launch-token\s*[=:]\s*[a-z0-9][a-z0-9-]{7,}`,
		noCapacity: func(env *testEnv) func() {
			before := env.emu.Lambda.Capacity("gpu_1x_a10", "us-east-1")
			env.emu.Lambda.SetCapacity("gpu_1x_a10", "us-east-1", 0)
			return func() { env.emu.Lambda.SetCapacity("gpu_1x_a10", "us-east-1", before) }
		},
		capacityErr: mentionsAll(`lambda`, `us-east-1`, `gpu_1x_a10`, `capacity`),
		noQuota: func(env *testEnv) func() {
			before := env.emu.Lambda.Quota()
			env.emu.Lambda.SetQuota(0)
			return func() { env.emu.Lambda.SetQuota(before) }
		},
		quotaErr:      mentionsAll(`lambda`, `gpu_1x_a10`, `quota`),
		failBooting:   func(env *testEnv) func() { return breakWhileBooting(env, 1) },
		failedBootErr: regexp.MustCompile(`(?i)unhealthy`),
		deleteOutOfBand: func(t *testing.T, env *testEnv, id string) {
			if err := env.emu.Lambda.DeleteOutOfBand(id); err != nil {
				t.Fatalf("deleting instance %s out of band: %v", id, err)
			}
		},
	}
}

func runpodKit() *cloudKit {
	return &cloudKit{
		name: "runpod",
		config: func(env *testEnv, withMachine bool, name, extra string) string {
			cfg := env.providerConfig() + fmt.Sprintf(`
resource "neocloud_ssh_key" "me" {
  cloud      = "runpod"
  name       = "fm-key"
  public_key = %q
}
`, testPublicKey)
			if withMachine {
				cfg += fmt.Sprintf(`
resource "neocloud_gpu_instance" "m" {
  name        = %q
  cloud       = "runpod"
  region      = "US-KS-2"
  gpu_type    = "A6000_48GB"
  gpu_count   = 1
  ssh_key_ids = [neocloud_ssh_key.me.id]
  runpod {
    image = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
    ports = ["22/tcp"]
  }
  %s
}
`, name, extra)
			}
			return cfg
		},
		core: func(env *testEnv) *emucore.Core { return env.emu.RunPod.Core },
		live: func(env *testEnv) []string {
			var ids []string
			for _, p := range env.emu.RunPod.LivePods() {
				ids = append(ids, p.ID)
			}
			return ids
		},
		ever: func(env *testEnv) int { return len(env.emu.RunPod.Pods()) },
		machineName: func(env *testEnv, id string) string {
			for _, p := range env.emu.RunPod.LivePods() {
				if p.ID == id {
					return p.Name
				}
			}
			return ""
		},
		routes: kitRoutes{
			list:        "GET /v2/pods",
			create:      "POST /v2/pods",
			delete:      "DELETE /v2/pods/{id}",
			update:      "PATCH /v2/pods/{id}",
			reads:       []string{"GET /v2/pods", "GET /v2/pods/{id}"},
			createReads: []string{"GET /v2/catalog/gpus", "GET /v2/account/ssh-keys"},
		},
		listPath:    regexp.MustCompile(`^/v2/pods$`),
		createPath:  regexp.MustCompile(`^/v2/pods$`),
		launchToken: `NEOCLOUD_LAUNCH_TOKEN\s*[=:]\s*[a-z0-9][a-z0-9-]{7,}`,
		noCapacity: func(env *testEnv) func() {
			before := env.emu.RunPod.Capacity("NVIDIA RTX A6000", "US-KS-2", "SECURE")
			env.emu.RunPod.SetCapacity("NVIDIA RTX A6000", "US-KS-2", "SECURE", 0)
			return func() { env.emu.RunPod.SetCapacity("NVIDIA RTX A6000", "US-KS-2", "SECURE", before) }
		},
		capacityErr: mentionsAll(`runpod`, `US-KS-2`, `NVIDIA\s+RTX\s+A6000`, `capacity|available`),
		// RunPod's account limit on creating a machine is its balance (402 on create).
		noQuota: func(env *testEnv) func() {
			env.emu.RunPod.SetBalance(0)
			return func() { env.emu.RunPod.SetBalance(math.Inf(1)) }
		},
		quotaErr:      mentionsAll(`runpod`, `NVIDIA\s+RTX\s+A6000`, `balance`),
		failBooting:   failPodWhileBooting,
		failedBootErr: regexp.MustCompile(`\bERROR\b`),
		deleteOutOfBand: func(t *testing.T, env *testEnv, id string) {
			if err := env.emu.RunPod.DeleteOutOfBand(id); err != nil {
				t.Fatalf("deleting pod %s out of band: %v", id, err)
			}
		},
	}
}

// coreweaveMachinePool is the prefix of the node pools of the matrix's CoreWeave machine (the
// cluster's own pool is fm-cks-gpu).
const coreweaveMachinePool = "fmnode-"

const noCoreWeaveUpdate = "a CoreWeave machine has nothing to change in place: its type and pool are fixed and its " +
	"name is part of the pool's name (UpdateInstance refuses; the provider plans a replacement)"

func coreweaveKit() *cloudKit {
	const poolsPath = "/k8s/{cluster}/apis/compute.coreweave.com/v1alpha1/nodepools"
	return &cloudKit{
		name: "coreweave",
		config: func(env *testEnv, withMachine bool, _, extra string) string {
			// The machine is a one-node pool in a CKS cluster made by the same configuration.
			// Its name stays fixed: a CoreWeave machine's name is part of its pool's name, so
			// it cannot change in place.
			cfg := env.providerConfig() + `
resource "neocloud_gpu_cluster" "cw" {
  name          = "fm-cks"
  cloud         = "coreweave"
  region        = "US-EAST-04A"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = 1
  coreweave {
    kubernetes_version = "v1.35"
  }
  timeouts {
    create = "4m"
    update = "4m"
    delete = "4m"
  }
}
`
			if withMachine {
				cfg += fmt.Sprintf(`
resource "neocloud_gpu_instance" "m" {
  name      = "fmnode"
  cloud     = "coreweave"
  gpu_type  = "H100_80GB_SXM"
  gpu_count = 8
  coreweave {
    cluster_id = neocloud_gpu_cluster.cw.id
  }
  %s
}
`, extra)
			}
			return cfg
		},
		core: func(env *testEnv) *emucore.Core { return env.emu.CoreWeave.Core },
		live: func(env *testEnv) []string {
			var ids []string
			for _, p := range env.emu.CoreWeave.NodePools() {
				if strings.HasPrefix(p.Name, coreweaveMachinePool) && !p.Deleting {
					ids = append(ids, p.Cluster+"/"+p.Name)
				}
			}
			return ids
		},
		machineName: func(*testEnv, string) string { return "fmnode" },
		routes: kitRoutes{
			list:   "GET " + poolsPath,
			create: "POST " + poolsPath,
			delete: "DELETE " + poolsPath + "/{name}",
			reads: []string{
				"GET " + poolsPath,
				"GET /k8s/{cluster}/api/v1/nodes",
				"POST /coreweave.cks.v1beta1.ClusterService/ListClusters",
				"GET " + poolsPath + "/{name}",
			},
			createReads: []string{"POST /coreweave.cks.v1beta1.ClusterService/GetCluster"},
		},
		listPath:           regexp.MustCompile(`^/k8s/[^/]+/apis/compute\.coreweave\.com/v1alpha1/nodepools$`),
		createPath:         regexp.MustCompile(`^/k8s/[^/]+/apis/compute\.coreweave\.com/v1alpha1/nodepools$`),
		launchToken:        `terraform-provider-neocloud/launch-token\s*[=:]\s*[a-z0-9][a-z0-9-]{7,}`,
		createIsIdempotent: true,
		noCapacity: func(env *testEnv) func() {
			before := env.emu.CoreWeave.Capacity("gd-8xh100ib-i128", "US-EAST-04A")
			env.emu.CoreWeave.SetCapacity("gd-8xh100ib-i128", "US-EAST-04A", 0)
			return func() { env.emu.CoreWeave.SetCapacity("gd-8xh100ib-i128", "US-EAST-04A", before) }
		},
		capacityErr:     mentionsAll(`coreweave`, `US-EAST-04A`, `gd-8xh100ib-i128`, `capacity`),
		deleteOutOfBand: deleteCoreWeavePoolOutOfBand,
		skip: map[string]string{
			"update/5xx":       noCoreWeaveUpdate,
			"update/429-storm": noCoreWeaveUpdate,
			"create/quota": "CoreWeave's only quota is on CKS clusters; a machine is a node pool in an existing cluster " +
				"and takes none (capacity is create/capacity)",
			"create/failed-boot": "the CoreWeave emulator cannot fail one node while it joins (FailCluster fails the whole " +
				"control plane: the cluster resource's case, TestAccGPUCluster_coreweavePlanErrorsAndFailedCluster)",
		},
	}
}

// ---------------------------------------------------------------------------------------------
// One case.

// faultCase is one cell of the matrix.
type faultCase struct {
	kit   *cloudKit
	op    string // create, read, update, delete, drift
	fault string
	// extra goes into the machine's block in every step, the convergence step's included.
	extra string
	// name is the machine's name after the case's own steps (default "fm-1").
	name string
	// steps are the case's own steps, faults injected in their PreConfig.
	steps func(r *caseRun) []resource.TestStep
	// noMachineAfter: the case deleted the machine, and convergence keeps it deleted.
	noMachineAfter bool
	// beforeConverge runs before the convergence apply, after the faults are cleared and the
	// late commits have landed: assertions on what the case's steps left, undoing admin changes.
	beforeConverge func(r *caseRun)
	// convergePlan checks the convergence plan before it is applied (e.g. a replacement).
	convergePlan []plancheck.PlanCheck
	// converged adds checks to the convergence apply.
	converged func(r *caseRun) []resource.TestCheckFunc
}

func (fc faultCase) id() string { return fc.kit.name + "/" + fc.op + "/" + fc.fault }

// caseRun is a case while it runs: its emulators, its wire log, and what its steps allow.
type caseRun struct {
	t    *testing.T
	fc   faultCase
	kit  *cloudKit
	env  *testEnv
	wire *wireLog

	mu sync.Mutex
	// tolerate is the error the current step may end with; nil: none.
	tolerate *regexp.Regexp
	// restores undo the admin changes (capacity, quota) the case's steps made.
	restores []func()
}

// cfg is the case's configuration, with or without the machine, under the case's final name.
func (r *caseRun) cfg(withMachine bool) string { return r.cfgNamed(withMachine, r.fc.name) }

func (r *caseRun) cfgNamed(withMachine bool, name string) string {
	return r.kit.config(r.env, withMachine, name, r.fc.extra)
}

func (r *caseRun) core() *emucore.Core { return r.kit.core(r.env) }

// inject installs faults on a route, in order: the first that still has hits left answers.
func (r *caseRun) inject(route string, faults ...emucore.Fault) {
	for _, f := range faults {
		f.Route = route
		r.core().AddFault(f)
	}
}

// allowError lets the current step end with an error matching re (and only that), for the
// steps whose contract allows either outcome. It is reset before every step.
func (r *caseRun) allowError(re *regexp.Regexp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tolerate = re
}

// errorCheck is the TestCase's ErrorCheck: it lets a step's error pass when the step allows it.
// Failed checks and non-empty plans are never let pass.
func (r *caseRun) errorCheck(err error) error {
	r.mu.Lock()
	re := r.tolerate
	r.mu.Unlock()
	msg := err.Error()
	if re == nil || strings.Contains(msg, "Check failed") || strings.Contains(msg, "plan was not empty") || !re.MatchString(msg) {
		return err
	}
	r.t.Logf("this step may fail, and did: %v", err)
	return nil
}

// clearFaults removes every fault from every cloud of the case.
func (r *caseRun) clearFaults() {
	for _, c := range []*emucore.Core{r.env.emu.Lambda.Core, r.env.emu.RunPod.Core, r.env.emu.CoreWeave.Core} {
		c.ClearFaults()
	}
}

// waitLateCommits waits until every request held back by a commit_late fault has run.
func (r *caseRun) waitLateCommits() {
	r.t.Helper()
	waitFor(r.t, 3*time.Minute, "the late commits to land", func() bool { return r.pendingLateCommits() == 0 })
}

func (r *caseRun) pendingLateCommits() int {
	return r.env.emu.Lambda.Core.PendingLateCommits() + r.env.emu.RunPod.Core.PendingLateCommits() +
		r.env.emu.CoreWeave.Core.PendingLateCommits()
}

// stateIDs are the ids of the machines in state (tainted ones included).
func stateIDs(s *terraform.State) []string {
	var ids []string
	for _, rs := range s.RootModule().Resources {
		if rs.Type == "neocloud_gpu_instance" && rs.Primary != nil {
			ids = append(ids, rs.Primary.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

// cloudMatchesState: the machines the emulator holds as live are exactly those in state.
func (r *caseRun) cloudMatchesState() resource.TestCheckFunc {
	return func(s *terraform.State) error {
		live := r.kit.live(r.env)
		sort.Strings(live)
		inState := stateIDs(s)
		if !slices.Equal(live, inState) {
			return fmt.Errorf("the cloud and state disagree: %s holds %d live machine(s) %v, state has %d %v",
				r.kit.name, len(live), live, len(inState), inState)
		}
		return nil
	}
}

// everLaunched: the emulator launched exactly n machines in the whole case.
func (r *caseRun) everLaunched(n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if r.kit.ever == nil {
			return nil // the emulator forgets deleted machines; cloudMatchesState still holds
		}
		if got := r.kit.ever(r.env); got != n {
			return fmt.Errorf("%s launched %d machine(s) in this case, want exactly %d", r.kit.name, got, n)
		}
		return nil
	}
}

// createCalls: the create route was called exactly n times in the whole case. Calls refused
// with a 429 count too: the promise is that no second create is even attempted.
func (r *caseRun) createCalls(n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := r.core().Stats.Get(r.kit.routes.create); got != n {
			return fmt.Errorf("%s was called %d time(s) (refused calls included), want %d: a create whose answer was lost or late must not be sent again",
				r.kit.routes.create, got, n)
		}
		return nil
	}
}

// noCreateSince: nothing was launched since the create route's count was n.
func (r *caseRun) noCreateSince(n *int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := r.core().Stats.Get(r.kit.routes.create); got != *n {
			return fmt.Errorf("%s was called %d time(s) during this step, want none", r.kit.routes.create, got-*n)
		}
		return nil
	}
}

// listAbandoned: the client gave up on at least one list request before the emulator answered
// it (a hung request was abandoned at the per-request timeout, not waited out).
func (r *caseRun) listAbandoned() resource.TestCheckFunc {
	return func(*terraform.State) error {
		if n := r.wire.abandoned(http.MethodGet, r.kit.listPath); n == 0 {
			return fmt.Errorf("the hung %s was waited out (%s) instead of abandoned at the provider's per-request timeout and retried",
				r.kit.routes.list, hungDelay)
		}
		return nil
	}
}

// liveMachines: the cloud holds exactly n live machines.
func (r *caseRun) liveMachines(n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if live := r.kit.live(r.env); len(live) != n {
			return fmt.Errorf("%s holds %d live machine(s) %v, want %d", r.kit.name, len(live), live, n)
		}
		return nil
	}
}

// run runs the case: its steps, then one apply without faults that must converge with an empty
// plan after it and the cloud equal to state, then destroy, after which nothing may be left.
func (r *caseRun) run() {
	steps := r.fc.steps(r)
	for i := range steps {
		pre := steps[i].PreConfig
		steps[i].PreConfig = func() {
			r.allowError(nil)
			if pre != nil {
				pre()
			}
		}
	}
	checks := []resource.TestCheckFunc{r.cloudMatchesState()}
	if r.fc.converged != nil {
		checks = append(checks, r.fc.converged(r)...)
	}
	steps = append(steps, resource.TestStep{
		PreConfig: func() {
			r.allowError(nil)
			r.clearFaults()
			r.waitLateCommits()
			if r.fc.beforeConverge != nil {
				r.fc.beforeConverge(r)
			}
		},
		Config: r.cfg(!r.fc.noMachineAfter),
		ConfigPlanChecks: resource.ConfigPlanChecks{
			PreApply:             r.fc.convergePlan,
			PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
		},
		Check: resource.ComposeAggregateTestCheckFunc(checks...),
	})
	resource.Test(cleanOnFailure{T: r.t, r: r}, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		ErrorCheck:               r.errorCheck,
		CheckDestroy:             r.nothingLeft,
		Steps:                    steps,
	})
}

// cleanOnFailure is the case's *testing.T as terraform-plugin-testing sees it: when a step
// fails, the faults are cleared and held-back commits awaited before the framework's own
// destroy runs, so that destroy and CheckDestroy report what the failed step left, not the
// injected faults that are still armed.
type cleanOnFailure struct {
	*testing.T
	r *caseRun
}

func (c cleanOnFailure) failing() {
	c.r.clearFaults()
	c.r.restoreAll()
	deadline := time.Now().Add(time.Minute)
	for c.r.pendingLateCommits() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

func (c cleanOnFailure) Error(args ...any)                 { c.failing(); c.T.Error(args...) }
func (c cleanOnFailure) Errorf(format string, args ...any) { c.failing(); c.T.Errorf(format, args...) }
func (c cleanOnFailure) Fatal(args ...any)                 { c.failing(); c.T.Fatal(args...) }
func (c cleanOnFailure) Fatalf(format string, args ...any) { c.failing(); c.T.Fatalf(format, args...) }
func (c cleanOnFailure) FailNow()                          { c.failing(); c.T.FailNow() }

// nothingLeft is CheckDestroy: no machine (and for CoreWeave no cluster, VPC or node) is left.
func (r *caseRun) nothingLeft(s *terraform.State) error {
	if live := r.kit.live(r.env); len(live) > 0 {
		return fmt.Errorf("after destroy %s still holds live machines %v", r.kit.name, live)
	}
	if r.kit.name == "coreweave" {
		return checkCoreWeave(r.env, 0, 0, 0)(s)
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// Faults.

// burst5xx is a short burst of server errors: a 500, then two 503s.
func burst5xx() []emucore.Fault {
	return []emucore.Fault{
		{Action: emucore.FaultStatus, Status: http.StatusInternalServerError, Times: 1},
		{Action: emucore.FaultStatus, Status: http.StatusServiceUnavailable, Times: 2},
	}
}

// storm429 is ten consecutive 429s asking for a one-second pause each.
func storm429() []emucore.Fault {
	return []emucore.Fault{{Action: emucore.FaultRateLimit, RetryAfter: 1, Times: 10}}
}

// hung holds one request far longer than any per-request timeout.
func hung() emucore.Fault {
	return emucore.Fault{Action: emucore.FaultDelay, Delay: hungDelay, Times: 1}
}

// mentionsAll matches a text that contains every pattern, in any order, case-insensitively and
// across line breaks (Terraform wraps long diagnostics).
func mentionsAll(patterns ...string) *regexp.Regexp {
	var orders []string
	var permute func(prefix []string, rest []string)
	permute = func(prefix, rest []string) {
		if len(rest) == 0 {
			orders = append(orders, "(?:"+strings.Join(prefix, ").*(?:")+")")
			return
		}
		for i := range rest {
			next := append(slices.Clone(rest[:i]), rest[i+1:]...)
			permute(append(slices.Clone(prefix), rest[i]), next)
		}
	}
	permute(nil, patterns)
	return regexp.MustCompile(`(?is)(?:` + strings.Join(orders, "|") + `)`)
}

// outcomeUnknown is the error of a create whose outcome the provider could not learn: it says
// the outcome is unknown ("outcome unknown", "the cloud may have acted") and names the tag,
// label or variable to look for.
func outcomeUnknown(k *cloudKit) *regexp.Regexp {
	return mentionsAll(`outcome\W+(?:\w+\W+){0,3}?unknown|unknown\W+(?:\w+\W+){0,2}?outcome|may\s+(?:or\s+may\s+not\s+)?have\s+(?:acted|launched|created|been\s+created)`,
		k.launchToken)
}

// anyError matches every error, for the steps whose only promise is made by later checks.
var anyError = regexp.MustCompile(`(?s).`)

// ---------------------------------------------------------------------------------------------
// The cases.

// matrixCases builds every case of the matrix; a case whose scenario cannot happen on its
// cloud carries the reason and is skipped.
func matrixCases() (cases []faultCase, skipped map[string]string) {
	skipped = map[string]string{}
	for _, kit := range []*cloudKit{lambdaKit(), runpodKit(), coreweaveKit()} {
		for _, fc := range scenarios(kit) {
			if why, ok := kit.skip[fc.op+"/"+fc.fault]; ok {
				skipped[fc.id()] = why
				continue
			}
			if fc.name == "" {
				fc.name = "fm-1"
			}
			cases = append(cases, fc)
		}
	}
	return cases, skipped
}

// scenarios are the matrix's rows for one cloud.
func scenarios(k *cloudKit) []faultCase {
	rt := k.routes
	// base applies what the machine needs (SSH key, CKS cluster) without faults, so that the
	// create cases' faults hit the machine's create and nothing else.
	base := func(r *caseRun) resource.TestStep { return resource.TestStep{Config: r.cfg(false)} }
	// one is the first step of the cases that fault an existing machine: create it, cleanly.
	one := func(r *caseRun) resource.TestStep {
		return resource.TestStep{Config: r.cfg(true), Check: r.cloudMatchesState()}
	}
	// createUnder creates the machine with faults armed by inject: one apply must do it.
	createUnder := func(inject func(r *caseRun), more ...func(r *caseRun) resource.TestCheckFunc) func(r *caseRun) []resource.TestStep {
		return func(r *caseRun) []resource.TestStep {
			checks := []resource.TestCheckFunc{r.cloudMatchesState(), r.liveMachines(1), r.everLaunched(1)}
			for _, m := range more {
				checks = append(checks, m(r))
			}
			return []resource.TestStep{base(r), {
				PreConfig: func() { inject(r) },
				Config:    r.cfg(true),
				Check:     resource.ComposeAggregateTestCheckFunc(checks...),
			}}
		}
	}
	// refreshUnder refreshes with faults armed by inject: the machine must stay in state,
	// nothing may be launched, and the plan after it must be empty (RefreshState checks that).
	refreshUnder := func(inject func(r *caseRun), more ...func(r *caseRun) resource.TestCheckFunc) func(r *caseRun) []resource.TestStep {
		return func(r *caseRun) []resource.TestStep {
			before := new(int)
			checks := []resource.TestCheckFunc{r.cloudMatchesState(), r.noCreateSince(before)}
			for _, m := range more {
				checks = append(checks, m(r))
			}
			return []resource.TestStep{one(r), {
				PreConfig: func() {
					*before = r.core().Stats.Get(rt.create)
					inject(r)
				},
				RefreshState: true,
				Check:        resource.ComposeAggregateTestCheckFunc(checks...),
			}}
		}
	}
	// updateUnder renames the machine in place with faults armed by inject on the update call:
	// a rename is idempotent (sent again, or verified by reading back), so one apply must end
	// with the cloud calling the machine by its new name.
	updateUnder := func(inject func(r *caseRun)) func(r *caseRun) []resource.TestStep {
		return func(r *caseRun) []resource.TestStep {
			return []resource.TestStep{
				{Config: r.cfgNamed(true, "fm-1"), Check: r.cloudMatchesState()},
				{
					PreConfig: func() { inject(r) },
					Config:    r.cfg(true),
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(matrixAddr, plancheck.ResourceActionUpdate)},
					},
					Check: resource.ComposeAggregateTestCheckFunc(r.cloudMatchesState(), r.machineNamed("fm-2"), r.everLaunched(1)),
				},
			}
		}
	}
	// deleteUnder removes the machine from the configuration with faults armed by inject on
	// the delete call: a delete is idempotent and waits until the machine is gone.
	deleteUnder := func(inject func(r *caseRun)) func(r *caseRun) []resource.TestStep {
		return func(r *caseRun) []resource.TestStep {
			return []resource.TestStep{one(r), {
				PreConfig: func() { inject(r) },
				Config:    r.cfg(false),
				Check:     resource.ComposeAggregateTestCheckFunc(r.cloudMatchesState(), r.liveMachines(0)),
			}}
		}
	}
	everOne := func(r *caseRun) []resource.TestCheckFunc { return []resource.TestCheckFunc{r.everLaunched(1)} }

	out := []faultCase{
		{
			// 5xx bursts on every read a create makes (catalog, SSH keys, the list its wait
			// polls): idempotent reads are retried.
			op: "create", fault: "5xx-on-reads",
			steps: createUnder(func(r *caseRun) {
				for _, route := range append(slices.Clone(rt.createReads), rt.list) {
					r.inject(route, burst5xx()...)
				}
			}),
			converged: everOne,
		},
		{
			// A 429 storm on the create call (a 429 was not acted on, so it may be sent again)
			// and on the list the wait polls: ridden out, honouring Retry-After.
			op: "create", fault: "429-storm",
			steps: createUnder(func(r *caseRun) {
				r.inject(rt.create, storm429()...)
				r.inject(rt.list, storm429()...)
			}),
			converged: everOne,
		},
		{
			// A 500 then a 503 to the create call itself, not acted on. The provider may fail the
			// apply (the outcome is unknown to it: the error must say so and name the token) or
			// prove that nothing was made and create; either way exactly one machine is ever made.
			op: "create", fault: "5xx-on-create-call",
			steps: func(r *caseRun) []resource.TestStep {
				return []resource.TestStep{base(r), {
					PreConfig: func() {
						r.allowError(outcomeUnknown(k))
						r.inject(rt.create, burst5xx()[0], emucore.Fault{Action: emucore.FaultStatus, Status: http.StatusServiceUnavailable, Times: 1})
					},
					Config: r.cfg(true),
					Check:  resource.ComposeAggregateTestCheckFunc(r.cloudMatchesState(), r.everLaunched(1)),
				}}
			},
			converged: everOne,
		},
		{
			// The first list request hangs: the client must give up on it and ask again.
			op: "create", fault: "hung-read",
			steps: createUnder(func(r *caseRun) { r.inject(rt.list, hung()) }, (*caseRun).listAbandoned),
		},
		{
			// The create commits, its answer is lost: the machine is adopted, never made twice
			// (and, where a second send could launch again, not sent twice).
			op: "create", fault: "lost-answer",
			steps: createUnder(func(r *caseRun) {
				r.inject(rt.create, emucore.Fault{Action: emucore.FaultDropAfterCommit, Times: 1})
			}, func(r *caseRun) resource.TestCheckFunc {
				if k.createIsIdempotent {
					return func(*terraform.State) error { return nil }
				}
				return r.createCalls(1)
			}),
			converged: everOne,
		},
		lateCommitCase(k, false),
		lateCommitCase(k, true),
		{
			// No capacity: the create fails naming what was tried, and leaves no billed machine.
			op: "create", fault: "capacity",
			steps: func(r *caseRun) []resource.TestStep {
				return []resource.TestStep{base(r), {
					PreConfig:   func() { r.undoLater(k.noCapacity(r.env)) },
					Config:      r.cfg(true),
					ExpectError: k.capacityErr,
				}}
			},
			beforeConverge: func(r *caseRun) { r.noMachineLeft(); r.restoreAll() },
			converged: func(r *caseRun) []resource.TestCheckFunc {
				return []resource.TestCheckFunc{r.liveMachines(1), r.everLaunched(1)}
			},
		},
		{
			// Over quota (RunPod: the balance cannot pay an hour): the same.
			op: "create", fault: "quota",
			steps: func(r *caseRun) []resource.TestStep {
				return []resource.TestStep{base(r), {
					PreConfig:   func() { r.undoLater(k.noQuota(r.env)) },
					Config:      r.cfg(true),
					ExpectError: k.quotaErr,
				}}
			},
			beforeConverge: func(r *caseRun) { r.noMachineLeft(); r.restoreAll() },
			converged: func(r *caseRun) []resource.TestCheckFunc {
				return []resource.TestCheckFunc{r.liveMachines(1), r.everLaunched(1)}
			},
		},
		{
			// The machine fails while booting: the apply fails and leaves it tainted in state
			// (never leaked); the next apply replaces it.
			op: "create", fault: "failed-boot",
			steps: func(r *caseRun) []resource.TestStep {
				return []resource.TestStep{base(r), {
					PreConfig:   func() { r.t.Cleanup(k.failBooting(r.env)) },
					Config:      r.cfg(true),
					ExpectError: k.failedBootErr,
				}}
			},
			convergePlan: []plancheck.PlanCheck{plancheck.ExpectResourceAction(matrixAddr, plancheck.ResourceActionDestroyBeforeCreate)},
			converged: func(r *caseRun) []resource.TestCheckFunc {
				return []resource.TestCheckFunc{r.liveMachines(1), r.everLaunched(2)}
			},
		},
		{
			// 5xx bursts on every read a refresh makes.
			op: "read", fault: "5xx",
			steps: refreshUnder(func(r *caseRun) {
				for _, route := range rt.reads {
					r.inject(route, burst5xx()...)
				}
			}),
			converged: everOne,
		},
		{
			op: "read", fault: "429-storm",
			steps:     refreshUnder(func(r *caseRun) { r.inject(rt.list, storm429()...) }),
			converged: everOne,
		},
		{
			op: "read", fault: "hung-request",
			steps:     refreshUnder(func(r *caseRun) { r.inject(rt.list, hung()) }, (*caseRun).listAbandoned),
			converged: everOne,
		},
		{
			// A 404 on the list route is no proof the machine is gone (only a 404 on its own URL,
			// a terminated status, or a complete list without it is): it stays in state.
			op: "read", fault: "404-on-list",
			steps: refreshUnder(func(r *caseRun) {
				r.inject(rt.list, emucore.Fault{Action: emucore.FaultStatus, Status: http.StatusNotFound, Times: 2})
			}),
			converged: everOne,
		},
		{
			op: "update", fault: "5xx", name: "fm-2",
			steps: updateUnder(func(r *caseRun) { r.inject(rt.update, burst5xx()...) }),
		},
		{
			op: "update", fault: "429-storm", name: "fm-2",
			steps: updateUnder(func(r *caseRun) { r.inject(rt.update, storm429()...) }),
		},
		{
			op: "delete", fault: "5xx", noMachineAfter: true,
			steps: deleteUnder(func(r *caseRun) { r.inject(rt.delete, burst5xx()...) }),
		},
		{
			op: "delete", fault: "429-storm", noMachineAfter: true,
			steps: deleteUnder(func(r *caseRun) { r.inject(rt.delete, storm429()...) }),
		},
		{
			// The delete commits, its answer is lost: deleting again is harmless, the apply succeeds.
			op: "delete", fault: "lost-answer", noMachineAfter: true,
			steps: deleteUnder(func(r *caseRun) {
				r.inject(rt.delete, emucore.Fault{Action: emucore.FaultDropAfterCommit, Times: 1})
			}),
		},
		{
			// The machine deleted behind Terraform's back: the next apply makes exactly one new one.
			op: "drift", fault: "deleted-out-of-band",
			steps: func(r *caseRun) []resource.TestStep {
				var old []string
				return []resource.TestStep{one(r), {
					PreConfig: func() {
						old = k.live(r.env)
						if len(old) != 1 {
							r.t.Fatalf("expected one live machine to delete, have %v", old)
						}
						k.deleteOutOfBand(r.t, r.env, old[0])
					},
					Config: r.cfg(true),
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(matrixAddr, plancheck.ResourceActionCreate)},
					},
					Check: resource.ComposeAggregateTestCheckFunc(r.cloudMatchesState(), r.liveMachines(1), r.everLaunched(2),
						func(*terraform.State) error {
							// CoreWeave pool names derive from the resource's name, so the new pool
							// has the old one's id; the planned create shows it is a new one.
							if live := k.live(r.env); !k.createIsIdempotent && len(live) == 1 && live[0] == old[0] {
								return fmt.Errorf("the machine deleted out of band (%s) is still live", old[0])
							}
							return nil
						}),
				}}
			},
		},
	}
	for i := range out {
		out[i].kit = k
		if out[i].extra == "" {
			out[i].extra = matrixTimeouts
		}
	}
	return out
}

// lateCommitCase is the create that commits long after the client gave up, with the list
// failing from the moment the create is sent, so the provider cannot learn the outcome within
// its create timeout. (The list must still answer before: a provider that looks for an earlier
// launch before it launches could otherwise not launch at all.)
//
// In the first variant the second apply runs after the commit has landed: it must find the
// late machine (by its launch token) and take it into state, not launch another. In the second
// (raceSecondApply) the second apply runs while the commit is still held back and the list
// answers again: whatever it does (fail again, or launch), once the late commit has landed the
// next apply must leave exactly one machine, the one in state.
func lateCommitCase(k *cloudKit, raceSecondApply bool) faultCase {
	rt := k.routes
	delay, fault := 30*time.Second, "late-commit"
	if raceSecondApply {
		// Longer, so that the second apply surely starts before the commit lands.
		delay, fault = 40*time.Second, "late-commit-second-apply-first"
	}
	extra, firstExtra := lateCommitTimeouts, lateCommitTimeouts
	if !k.createIsIdempotent {
		// The first apply gives up on the launch; the later ones have time to boot a machine.
		delay, extra, firstExtra = lateLaunchDelay, matrixTimeouts, lateLaunchTimeouts
	}
	firstApply := func(r *caseRun) resource.TestStep {
		step := resource.TestStep{
			PreConfig: func() {
				if !k.createIsIdempotent {
					// A 429's Retry-After is at least a whole second, longer than this create's
					// timeout: the case is about the late commit, not pacing.
					r.core().SetRateLimitEnabled(false)
				}
				r.inject(rt.create, emucore.Fault{Action: emucore.FaultCommitLate, Delay: delay, Times: 1})
				r.wire.onArrival(http.MethodPost, k.createPath, func() {
					r.inject(rt.list, emucore.Fault{Action: emucore.FaultStatus, Status: http.StatusServiceUnavailable})
				})
				if k.createIsIdempotent {
					// Sending the create again is harmless here, so the apply may well succeed,
					// or fail on the failing list while it waits: only the end state is promised.
					r.allowError(anyError)
				}
			},
			Config: r.kit.config(r.env, true, r.fc.name, firstExtra),
		}
		if !k.createIsIdempotent {
			step.ExpectError = outcomeUnknown(k)
		}
		return step
	}
	fc := faultCase{
		kit: k, op: "create", fault: fault, extra: extra,
	}
	if !raceSecondApply {
		fc.steps = func(r *caseRun) []resource.TestStep {
			return []resource.TestStep{{Config: r.cfg(false)}, firstApply(r)}
		}
		fc.converged = func(r *caseRun) []resource.TestCheckFunc {
			if k.createIsIdempotent {
				return []resource.TestCheckFunc{r.liveMachines(1), r.everLaunched(1)}
			}
			// The first apply saved the launch in doubt, tainted; the next one found the late
			// machine, terminated it with the tainted resource and launched its replacement:
			// two launches, never two live machines.
			return []resource.TestCheckFunc{r.liveMachines(1), r.everLaunched(2), r.createCalls(2)}
		}
		return fc
	}
	fc.steps = func(r *caseRun) []resource.TestStep {
		return []resource.TestStep{
			{Config: r.cfg(false)},
			firstApply(r),
			{
				PreConfig: func() {
					r.clearFaults()
					if r.core().PendingLateCommits() == 0 {
						r.t.Log("the late commit landed before the second apply started: this run saw the commit-first order only")
					}
					r.allowError(outcomeUnknown(k))
					if k.createIsIdempotent {
						r.allowError(anyError)
					}
				},
				Config: r.cfg(true),
			},
		}
	}
	fc.converged = func(r *caseRun) []resource.TestCheckFunc { return []resource.TestCheckFunc{r.liveMachines(1)} }
	return fc
}

// undoLater remembers how to undo an admin change, for restoreAll.
func (r *caseRun) undoLater(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.restores = append(r.restores, f)
}

// restoreAll undoes the case's admin changes.
func (r *caseRun) restoreAll() {
	r.mu.Lock()
	fs := r.restores
	r.restores = nil
	r.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// noMachineLeft asserts, between steps, that a refused create left no billed machine: nothing
// launched on Lambda and RunPod; on CoreWeave no node in the machine's pool (a pool waiting for
// capacity may be kept, tainted in state, and is compared with state by the next step).
func (r *caseRun) noMachineLeft() {
	r.t.Helper()
	if r.kit.ever != nil {
		if n := r.kit.ever(r.env); n != 0 {
			r.t.Errorf("the refused create left %d machine(s) on %s", n, r.kit.name)
		}
		return
	}
	for _, p := range r.env.emu.CoreWeave.NodePools() {
		if strings.HasPrefix(p.Name, coreweaveMachinePool) && p.Nodes > 0 {
			r.t.Errorf("the refused create left node pool %s with %d node(s)", p.Name, p.Nodes)
		}
	}
}

// machineNamed: the cloud calls the machine in state name.
func (r *caseRun) machineNamed(name string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		ids := stateIDs(s)
		if len(ids) != 1 {
			return fmt.Errorf("want one machine in state, have %v", ids)
		}
		if got := r.kit.machineName(r.env, ids[0]); got != name {
			return fmt.Errorf("the cloud calls machine %s %q, want %q", ids[0], got, name)
		}
		return nil
	}
}

// ---------------------------------------------------------------------------------------------
// The matrix.

func TestAccFaultMatrix(t *testing.T) {
	testAccPreCheck(t)
	t.Parallel()
	cases, skipped := matrixCases()
	parallel := faultMatrixParallel
	if v, err := strconv.Atoi(os.Getenv("NEOCLOUD_FAULT_MATRIX_PARALLEL")); err == nil && v > 0 {
		parallel = v
	}
	slots := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	// The longest cases first, so they do not start last.
	slices.SortStableFunc(cases, func(a, b faultCase) int { return lateFirst(a) - lateFirst(b) })
	for _, fc := range cases {
		slots <- struct{}{} // taken here, in order, so the longest cases start first
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			t.Run(fc.id(), func(t *testing.T) {
				env := newTestEnv(t)
				r := &caseRun{t: t, fc: fc, kit: fc.kit, env: env, wire: wireEnv(t, env)}
				r.run()
			})
		}()
	}
	wg.Wait()
	for _, id := range slices.Sorted(maps.Keys(skipped)) {
		t.Run(id, func(t *testing.T) { t.Skip(skipped[id]) })
	}
}

func lateFirst(fc faultCase) int {
	switch {
	case strings.HasPrefix(fc.fault, "late-commit"):
		return 0
	case strings.HasPrefix(fc.fault, "hung"):
		return 1
	}
	return 2
}

// ---------------------------------------------------------------------------------------------
// Helpers.

// wireLog records, per request, whether the client gave up on it before the emulator answered.
type wireLog struct {
	mu    sync.Mutex
	reqs  []wireReq
	hooks []*wireHook
}

// wireHook runs once, when a matching request arrives, before the emulator sees it.
type wireHook struct {
	method string
	path   *regexp.Regexp
	run    func()
	fired  bool
}

// onArrival runs f once, when a request with method and a path matching path arrives, before
// the emulator sees it: to arm faults at the exact moment a call is made.
func (l *wireLog) onArrival(method string, path *regexp.Regexp, f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hooks = append(l.hooks, &wireHook{method: method, path: path, run: f})
}

type wireReq struct {
	method, path string
	abandoned    bool
}

// wireEnv puts a wire log in front of env's emulators: env.url then points at it.
func wireEnv(t *testing.T, env *testEnv) *wireLog {
	l := &wireLog{}
	srv := httptest.NewServer(l.wrap(env.emu))
	t.Cleanup(srv.Close)
	env.url = srv.URL
	return l
}

func (l *wireLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var due []func()
		l.mu.Lock()
		for _, h := range l.hooks {
			if !h.fired && h.method == r.Method && h.path.MatchString(r.URL.Path) {
				h.fired = true
				due = append(due, h.run)
			}
		}
		l.mu.Unlock()
		for _, f := range due {
			f()
		}
		defer func() {
			// The server cancels a request's context when its client goes away; a handler that
			// returned normally has not yet had it cancelled.
			l.mu.Lock()
			l.reqs = append(l.reqs, wireReq{method: r.Method, path: r.URL.Path, abandoned: r.Context().Err() != nil})
			l.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

// abandoned counts the requests with method and a path matching path that the client gave up on.
func (l *wireLog) abandoned(method string, path *regexp.Regexp) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, q := range l.reqs {
		if q.abandoned && q.method == method && path.MatchString(q.path) {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, or fails the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// failPodWhileBooting puts the first RunPod pod seen provisioning or starting into ERROR.
func failPodWhileBooting(env *testEnv) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			for _, p := range env.emu.RunPod.LivePods() {
				if p.Status == "PROVISIONING" || p.Status == "STARTING" {
					if env.emu.RunPod.FailPod(p.ID) == nil {
						return
					}
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// deleteCoreWeavePoolOutOfBand deletes a machine's node pool through the cluster's Kubernetes
// API, as kubectl would, and waits until the pool is gone.
func deleteCoreWeavePoolOutOfBand(t *testing.T, env *testEnv, id string) {
	t.Helper()
	clusterID, pool, _ := strings.Cut(id, "/")
	var apiPath string
	for _, c := range env.emu.CoreWeave.Clusters() {
		if c.ID == clusterID && !c.Gone {
			apiPath = c.APIServerPath
		}
	}
	if apiPath == "" {
		t.Fatalf("no live CKS cluster %s for machine %s", clusterID, id)
	}
	req, _ := http.NewRequest(http.MethodDelete, env.url+apiPath+"/apis/compute.coreweave.com/v1alpha1/nodepools/"+pool, nil)
	req.Header.Set("Authorization", "Bearer CW-SECRET-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("deleting node pool %s: %v", pool, err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("deleting node pool %s: %s", pool, resp.Status)
	}
	waitFor(t, time.Minute, "node pool "+pool+" to be gone", func() bool {
		return !slices.ContainsFunc(env.emu.CoreWeave.NodePools(), func(p cwemu.NodePoolView) bool { return p.Name == pool })
	})
}
