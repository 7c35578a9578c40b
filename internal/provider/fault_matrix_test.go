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
		live := r.kit.live(r.env) // sorted
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
		if got := r.createsTakenUp(); got != n {
			return fmt.Errorf("%s was taken up %d time(s) (every answer but 429 counts), want %d: a create whose answer was lost or late must not be sent again",
				r.kit.routes.create, got, n)
		}
		return nil
	}
}

// createsTakenUp counts the create calls the cloud may have acted on: every one but those a
// rate limiter turned away with 429, which a cloud never processes. (The plan and the apply
// are separate provider processes, so the apply's first launch can meet the plan's share of
// the cloud's rate budget.)
func (r *caseRun) createsTakenUp() int {
	route := r.kit.routes.create
	return r.core().Stats.Get(route) - r.core().Stats.GetStatus(route, http.StatusTooManyRequests)
}

// noCreateSince: nothing was launched since the create route's count was n.
func (r *caseRun) noCreateSince(n *int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := r.createsTakenUp(); got != *n {
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
		Config:           r.cfg(!r.fc.noMachineAfter),
		ConfigPlanChecks: emptyPlanAfterApply(r.fc.convergePlan...),
		Check:            resource.ComposeAggregateTestCheckFunc(checks...),
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
	resp, err := callAPI(env, http.MethodDelete, apiPath+"/apis/compute.coreweave.com/v1alpha1/nodepools/"+pool, "CW-SECRET-test", nil)
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
