package provider

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// accEnv is the start of an acceptance test: skipped without TF_ACC, else its own emulators.
func accEnv(t *testing.T) *testEnv {
	t.Helper()
	testAccPreCheck(t)
	return newTestEnv(t)
}

// accTest runs steps in parallel with the other tests, against the provider under test;
// destroy (nil: none) checks the clouds after the last step's destroy.
func accTest(t *testing.T, destroy resource.TestCheckFunc, steps []resource.TestStep) {
	t.Helper()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		CheckDestroy:             destroy,
		Steps:                    steps,
	})
}

// emptyPlanAfterApply checks the plan before apply with pre, and that the plan after apply
// and refresh is empty.
func emptyPlanAfterApply(pre ...plancheck.PlanCheck) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{
		PreApply:             pre,
		PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
	}
}

// expectAction checks that the plan before apply does action to addr.
func expectAction(addr string, action plancheck.ResourceActionType) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, action)}}
}

// planError is a plan-only step of config that must fail with an error matching re.
func planError(config, re string) resource.TestStep {
	return resource.TestStep{Config: config, PlanOnly: true, ExpectError: regexp.MustCompile(re)}
}

// importByState imports addr as "<cloud>/<id in state>" and compares it with state, but for
// the attributes in ignore.
func importByState(addr, cloud string, ignore ...string) resource.TestStep {
	return resource.TestStep{
		ResourceName:            addr,
		ImportState:             true,
		ImportStateVerify:       true,
		ImportStateIdFunc:       importID(addr, cloud),
		ImportStateVerifyIgnore: ignore,
	}
}

// importByID imports addr by the import ID id and compares it with state, but for the
// attributes in ignore.
func importByID(addr, id string, ignore ...string) resource.TestStep {
	return resource.TestStep{
		ResourceName:            addr,
		ImportState:             true,
		ImportStateVerify:       true,
		ImportStateId:           id,
		ImportStateVerifyIgnore: ignore,
	}
}

// jsonPath is the path of attr, an attribute's address in state as the TestCheckResourceAttr
// checks write it ("nodes.1.env.NODE_RANK"): numbers index lists, other parts name attributes,
// blocks or map keys.
func jsonPath(attr string) tfjsonpath.Path {
	parts := strings.Split(attr, ".")
	p := tfjsonpath.New(parts[0])
	for _, part := range parts[1:] {
		if i, err := strconv.Atoi(part); err == nil {
			p = p.AtSliceIndex(i)
		} else {
			p = p.AtMapKey(part)
		}
	}
	return p
}

// stateValue checks the attribute attr (see jsonPath) of addr in state.
func stateValue(addr, attr string, want knownvalue.Check) statecheck.StateCheck {
	return statecheck.ExpectKnownValue(addr, jsonPath(attr), want)
}

// stateSensitive checks that the attribute attr of addr is sensitive in state.
func stateSensitive(addr, attr string) statecheck.StateCheck {
	return statecheck.ExpectSensitiveValue(addr, jsonPath(attr))
}

// planValue checks the attribute attr (see jsonPath) of addr in the plan.
func planValue(addr, attr string, want knownvalue.Check) plancheck.PlanCheck {
	return plancheck.ExpectKnownValue(addr, jsonPath(attr), want)
}

// planUnknown checks that the plan leaves the attribute attr of addr unknown until apply.
func planUnknown(addr, attr string) plancheck.PlanCheck {
	return plancheck.ExpectUnknownValue(addr, jsonPath(attr))
}

// checkLambdaInstances asserts how many billed (not terminating or terminated) instances the
// Lambda emulator holds: the guard against leaks and duplicates.
func checkLambdaInstances(env *testEnv, want int) func(*terraform.State) error {
	return func(*terraform.State) error {
		if got := len(env.emu.Lambda.LiveInstances()); got != want {
			return fmt.Errorf("expected %d live Lambda instance(s), the emulator has %d: %+v", want, got, env.emu.Lambda.LiveInstances())
		}
		return nil
	}
}

// liveLambdaNames maps the ids of the Lambda instances the emulator holds as live (billed) to
// their names.
func liveLambdaNames(env *testEnv) map[string]string {
	names := map[string]string{}
	for _, in := range env.emu.Lambda.LiveInstances() {
		names[in.ID] = in.Name
	}
	return names
}

// liveRunPodNames maps the ids of the RunPod pods the emulator holds as live to their names.
func liveRunPodNames(env *testEnv) map[string]string {
	names := map[string]string{}
	for _, p := range env.emu.RunPod.LivePods() {
		names[p.ID] = p.Name
	}
	return names
}

func checkNoLiveLambdaInstances(env *testEnv) func(*terraform.State) error {
	return checkLambdaInstances(env, 0)
}

// adoptedTheOne checks that the cloud ever made exactly one machine (ever counts them,
// terminated ones included) and that addr holds the live one (liveID): a create whose answer was
// lost is adopted, not repeated. noun and verb name the machine and its making in the errors.
func adoptedTheOne(addr, noun, verb string, ever func() int, liveID func() string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		if n := ever(); n != 1 {
			return fmt.Errorf("expected exactly one %s ever %s, the emulator has %d", noun, verb, n)
		}
		if id := s.RootModule().Resources[addr].Primary.ID; id != liveID() {
			return fmt.Errorf("state holds %s, not the adopted %s", id, noun)
		}
		return nil
	}
}

// callAPI sends a request to the emulators at path, as a user's own tool would, with the
// cloud's test credential (token) and a JSON body (nil: none).
func callAPI(env *testEnv, method, path, token string, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, env.url+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return http.DefaultClient.Do(req)
}

// importID builds "<cloud>/<id>" from a resource in state.
func importID(addr, cloud string) func(*terraform.State) (string, error) {
	return func(s *terraform.State) (string, error) {
		rs, ok := s.RootModule().Resources[addr]
		if !ok {
			return "", fmt.Errorf("%s not in state", addr)
		}
		return cloud + "/" + rs.Primary.ID, nil
	}
}

// breakWhileBooting marks the first n Lambda instances the emulator sees booting unhealthy, to
// simulate a machine that fails during provisioning.
func breakWhileBooting(env *testEnv, n int) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		done := map[string]bool{}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for len(done) < n {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for _, inst := range env.emu.Lambda.Instances() {
				if inst.Status == "booting" && !done[inst.ID] {
					_ = env.emu.Lambda.MarkUnhealthy(inst.ID)
					done[inst.ID] = true
				}
			}
		}
	}()
	return cancel
}
