package provider

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// The fault matrix's cases: every operation of every cloud under every fault, with what must hold.

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
	// refusedCreate is a create the cloud refuses because take took away what the machine
	// needs (take returns how to give it back): the error must match err, and no billed
	// machine may be left.
	refusedCreate := func(fault string, take func(*testEnv) (restore func()), err *regexp.Regexp) faultCase {
		return faultCase{
			op: "create", fault: fault,
			steps: func(r *caseRun) []resource.TestStep {
				return []resource.TestStep{base(r), {
					PreConfig:   func() { r.undoLater(take(r.env)) },
					Config:      r.cfg(true),
					ExpectError: err,
				}}
			},
			beforeConverge: func(r *caseRun) { r.noMachineLeft(); r.restoreAll() },
			converged: func(r *caseRun) []resource.TestCheckFunc {
				return []resource.TestCheckFunc{r.liveMachines(1), r.everLaunched(1)}
			},
		}
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
					*before = r.createsTakenUp()
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
					PreConfig:        func() { inject(r) },
					Config:           r.cfg(true),
					ConfigPlanChecks: expectAction(matrixAddr, plancheck.ResourceActionUpdate),
					Check:            resource.ComposeAggregateTestCheckFunc(r.cloudMatchesState(), r.machineNamed("fm-2"), r.everLaunched(1)),
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
		// No capacity: the create fails naming what was tried, and leaves no billed machine.
		refusedCreate("capacity", func(env *testEnv) func() { return k.noCapacity(env) }, k.capacityErr),
		// Over quota (RunPod: the balance cannot pay an hour): the same.
		refusedCreate("quota", func(env *testEnv) func() { return k.noQuota(env) }, k.quotaErr),
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
					Config:           r.cfg(true),
					ConfigPlanChecks: expectAction(matrixAddr, plancheck.ResourceActionCreate),
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
		if got := r.kit.liveNames(r.env)[ids[0]]; got != name {
			return fmt.Errorf("the cloud calls machine %s %q, want %q", ids[0], got, name)
		}
		return nil
	}
}
