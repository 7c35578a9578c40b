package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

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

func checkNoLiveLambdaInstances(env *testEnv) func(*terraform.State) error {
	return checkLambdaInstances(env, 0)
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
