//go:build unix

package provider

// Crash safety (docs/guides/reliability.md): "a rerun after any crash of terraform or
// the provider never launches a second machine for a resource whose first machine exists".
//
// terraform-plugin-testing runs the provider in-process and cannot kill it, so these tests drive
// the real Terraform CLI as a subprocess, against the provider built as a binary (dev_overrides)
// and an emulator running in this test process. Each test starts `terraform apply`, waits until
// the emulator holds the machines it launched (still booting, so the create RPCs are still
// waiting and nothing of them is in state), kills terraform and the provider plugin with
// SIGKILL (one process group), and reruns. The rerun must find the machines and adopt them:
// exactly the wanted number live on the cloud, exactly the ones in state, an empty plan after,
// and destroy removes them all. A machine older than the create timeout is not adopted: the
// apply stops with a `terraform import` hint and launches nothing.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/server"
)

const (
	// crashCommandTimeout bounds one terraform command; a hung command is killed (with its
	// provider) and fails the test.
	crashCommandTimeout = 4 * time.Minute
	// crashPointTimeout bounds the wait for the moment to crash.
	crashPointTimeout = 90 * time.Second
	// devOverrideWarning is the warning Terraform prints on every command under dev_overrides.
	devOverrideWarning = "Provider development overrides are in effect"
)

// crashProvider is the provider binary the crash tests run: built once for all the tests of
// a run that use it (they take it before t.Parallel, so a normal run builds once), and deleted
// when the last of them ends.
var crashProvider struct {
	mu    sync.Mutex
	users int
	dir   string
}

// acquireProviderBinary builds the provider (go build of the module root; the Go build cache
// makes it a link step after the first time) and returns the directory holding it, for
// dev_overrides. Call it before t.Parallel.
func acquireProviderBinary(t *testing.T) string {
	t.Helper()
	crashProvider.mu.Lock()
	defer crashProvider.mu.Unlock()
	if crashProvider.users == 0 {
		dir, err := buildProviderBinary()
		if err != nil {
			t.Fatalf("building the provider binary: %v", err)
		}
		crashProvider.dir = dir
	}
	crashProvider.users++
	t.Cleanup(func() {
		crashProvider.mu.Lock()
		defer crashProvider.mu.Unlock()
		if crashProvider.users--; crashProvider.users == 0 {
			_ = os.RemoveAll(crashProvider.dir)
			crashProvider.dir = ""
		}
	})
	return crashProvider.dir
}

func buildProviderBinary() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no go command on PATH: %w", err)
	}
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the provider's Go module")
	}
	dir, err := os.MkdirTemp("", "neocloud-crash-provider-")
	if err != nil {
		return "", err
	}
	build := exec.Command(goBin, "build", "-o", filepath.Join(dir, "terraform-provider-neocloud"), ".")
	build.Dir = filepath.Dir(gomod)
	if out, err := build.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return dir, nil
}

// crashHarness is one test's world: its own emulator, a CLI config pointing Terraform at the
// provider binary, and the record of every terraform command it ran (printed on failure).
type crashHarness struct {
	t     *testing.T
	env   *testEnv
	tf    string
	scale float64 // the emulator clock of the cloud under test; the provider paces on it
	rc    string
	root  string

	mu      sync.Mutex
	runs    []*tfRun
	running map[*exec.Cmd]bool
}

// newCrashHarness skips unless TF_ACC is set, takes the provider binary, marks the test
// parallel and starts an emulator whose clouds run at scale (Lambda 90 s boots take
// 90*scale seconds), with per-cloud overrides.
func newCrashHarness(t *testing.T, scale float64, cloudScale map[string]float64, rateScale float64) *crashHarness {
	t.Helper()
	testAccPreCheck(t)
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		var err error
		if tf, err = exec.LookPath("terraform"); err != nil {
			t.Fatal("crash tests need a Terraform CLI: set TF_ACC_TERRAFORM_PATH (make testacc does)")
		}
	}
	pluginDir := acquireProviderBinary(t)
	t.Parallel()

	emu := server.New(server.Options{
		TimeScale: scale, CloudTimeScale: cloudScale,
		LambdaKey: "lambda-test-key", RunPodKey: "runpod-test-key", CoreWeaveToken: "CW-SECRET-test",
	})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)

	h := &crashHarness{
		t: t, env: &testEnv{emu: emu, url: srv.URL}, tf: tf, scale: rateScale,
		root: t.TempDir(), running: map[*exec.Cmd]bool{},
	}
	h.rc = filepath.Join(h.root, "terraformrc")
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"neocloud/neocloud\" = %q\n  }\n  direct {}\n}\n", pluginDir)
	if err := os.WriteFile(h.rc, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-in first-out: the report is printed while the emulator still exists,
	// and no terraform outlives its test.
	t.Cleanup(h.killAll)
	t.Cleanup(h.reportOnFailure)
	return h
}

// tfDir is one Terraform working directory (its own state).
type tfDir struct {
	name string
	path string
}

// workdir makes a working directory holding main.tf with the provider requirement and body.
func (h *crashHarness) workdir(name, body string) *tfDir {
	h.t.Helper()
	d := &tfDir{name: name, path: filepath.Join(h.root, name)}
	if err := os.MkdirAll(d.path, 0o755); err != nil {
		h.t.Fatal(err)
	}
	h.writeConfig(d, body)
	return d
}

func (h *crashHarness) writeConfig(d *tfDir, body string) {
	h.t.Helper()
	cfg := `terraform {
  required_providers {
    neocloud = {
      source = "neocloud/neocloud"
    }
  }
}

# Keys and endpoints come from the environment.
provider "neocloud" {}
` + body
	if err := os.WriteFile(filepath.Join(d.path, "main.tf"), []byte(cfg), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// environ is the subprocesses' environment: the test's own, without anything that would point
// Terraform or the provider elsewhere, plus the emulator's endpoints and keys.
func (h *crashHarness) environ(logPath string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TF_") || strings.HasPrefix(k, "NEOCLOUD_") || strings.HasPrefix(k, "LAMBDA_") ||
			strings.HasPrefix(k, "RUNPOD_") || strings.HasPrefix(k, "COREWEAVE_") || k == "CHECKPOINT_DISABLE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"TF_CLI_CONFIG_FILE="+h.rc,
		"TF_LOG_PROVIDER=INFO",
		"TF_LOG_PATH="+logPath,
		"NEOCLOUD_RATE_SCALE="+strconv.FormatFloat(h.scale, 'f', -1, 64),
		"LAMBDA_API_KEY=lambda-test-key",
		"NEOCLOUD_LAMBDA_ENDPOINT="+h.env.url+"/api/v1",
		"RUNPOD_API_KEY=runpod-test-key",
		"NEOCLOUD_RUNPOD_ENDPOINT="+h.env.url+"/v2",
		"COREWEAVE_API_TOKEN=CW-SECRET-test",
		"COREWEAVE_API_ENDPOINT="+h.env.url,
	)
}

// tfRun is one terraform command and what it printed.
type tfRun struct {
	label   string
	dir     string
	args    []string
	logPath string
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	exit    int
	killed  bool // by the test's SIGKILL (the crash), not by itself
	elapsed time.Duration

	done  chan struct{}
	cmd   *exec.Cmd
	start time.Time
}

// output is everything the command printed (warnings go to stdout, errors to stderr).
func (r *tfRun) output() string { return r.stdout.String() + "\n" + r.stderr.String() }

// start runs terraform args in d, in its own process group, so that one kill -9 reaches
// terraform and the provider plugin it started.
func (h *crashHarness) start(d *tfDir, label string, args ...string) *tfRun {
	h.t.Helper()
	h.mu.Lock()
	n := len(h.runs)
	h.mu.Unlock()
	r := &tfRun{label: label, dir: d.name, args: args, done: make(chan struct{}),
		logPath: filepath.Join(h.root, fmt.Sprintf("provider-%02d-%s.log", n, d.name))}
	cmd := exec.Command(h.tf, args...)
	cmd.Dir = d.path
	cmd.Env = h.environ(r.logPath)
	cmd.Stdout, cmd.Stderr = &r.stdout, &r.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r.cmd = cmd
	r.start = time.Now()
	if err := cmd.Start(); err != nil {
		h.t.Fatalf("starting terraform %s: %v", strings.Join(args, " "), err)
	}
	h.mu.Lock()
	h.runs = append(h.runs, r)
	h.running[cmd] = true
	h.mu.Unlock()
	go func() {
		err := cmd.Wait()
		r.elapsed = time.Since(r.start)
		r.exit = cmd.ProcessState.ExitCode()
		if err != nil && r.exit == 0 {
			r.exit = -1
		}
		h.mu.Lock()
		delete(h.running, cmd)
		h.mu.Unlock()
		close(r.done)
	}()
	return r
}

// killGroup sends SIGKILL to the command's process group: terraform and every plugin it runs.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

func (h *crashHarness) killAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.running {
		killGroup(cmd)
	}
}

// run runs a terraform command to its end (killing it after crashCommandTimeout).
func (h *crashHarness) run(d *tfDir, label string, args ...string) *tfRun {
	h.t.Helper()
	r := h.start(d, label, args...)
	select {
	case <-r.done:
	case <-time.After(crashCommandTimeout):
		killGroup(r.cmd)
		<-r.done
		h.t.Fatalf("%s in %s: terraform %s did not finish within %s", label, d.name, strings.Join(args, " "), crashCommandTimeout)
	}
	h.t.Logf("%s in %s: exit %d after %s", label, d.name, r.exit, r.elapsed.Round(100*time.Millisecond))
	return r
}

func (h *crashHarness) apply(d *tfDir, label string) *tfRun {
	return h.run(d, label, "apply", "-auto-approve", "-input=false", "-no-color")
}

// mustApply applies and fails the test at once unless the apply succeeds.
func (h *crashHarness) mustApply(d *tfDir, label string) {
	h.t.Helper()
	r := h.apply(d, label)
	if r.exit != 0 {
		h.t.Fatalf("%s in %s: terraform apply failed (exit %d):\n%s", label, d.name, r.exit, crashTail(r.stderr.String(), 30))
	}
}

// expectEmptyPlan runs `terraform plan -detailed-exitcode`: 0 is no changes, 2 is changes.
func (h *crashHarness) expectEmptyPlan(d *tfDir) {
	h.t.Helper()
	r := h.run(d, "plan after the rerun", "plan", "-detailed-exitcode", "-input=false", "-no-color")
	switch r.exit {
	case 0:
	case 2:
		h.t.Errorf("the plan after the rerun is not empty (terraform plan -detailed-exitcode exited 2):\n%s", crashTail(r.stdout.String(), 40))
	default:
		h.t.Errorf("terraform plan failed (exit %d):\n%s", r.exit, crashTail(r.stderr.String(), 30))
	}
}

// destroy runs `terraform destroy` and checks, with gone, that nothing is left on the cloud.
func (h *crashHarness) destroy(d *tfDir, gone func() error) {
	h.t.Helper()
	r := h.run(d, "destroy", "destroy", "-auto-approve", "-input=false", "-no-color")
	if r.exit != 0 {
		h.t.Errorf("terraform destroy in %s failed (exit %d):\n%s", d.name, r.exit, crashTail(r.stderr.String(), 30))
	}
	if err := gone(); err != nil {
		h.t.Errorf("after terraform destroy in %s: %v", d.name, err)
	}
}

// crashApply starts `terraform apply` in d, waits until crashPoint reports the machines are
// launched and still coming up, and kills terraform and the provider with SIGKILL. It fails
// the test if terraform ends on its own first.
func (h *crashHarness) crashApply(d *tfDir, crashPoint func() (bool, string)) {
	h.t.Helper()
	r := h.start(d, "apply (killed)", "apply", "-auto-approve", "-input=false", "-no-color")
	deadline := time.Now().Add(crashPointTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		reached, what := crashPoint()
		last = what
		if reached {
			killGroup(r.cmd)
			<-r.done
			if ws, ok := r.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
				h.t.Fatalf("terraform apply ended on its own (exit %d) before it could be killed at the crash point (%s); "+
					"the machines booted too fast for this test's time scale", r.exit, what)
			}
			r.killed = true
			h.t.Logf("killed terraform apply and the provider (kill -9 of the process group) after %s: %s",
				time.Since(r.start).Round(10*time.Millisecond), what)
			return
		}
		select {
		case <-r.done:
			h.t.Fatalf("terraform apply ended on its own (exit %d) before the crash point; last seen: %s", r.exit, last)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			killGroup(r.cmd)
			<-r.done
			h.t.Fatalf("the crash point was not reached within %s; last seen: %s", crashPointTimeout, last)
		}
	}
}

// tfState is the part of terraform.tfstate (format 4) the tests read.
type tfState struct {
	Resources []struct {
		Mode      string `json:"mode"`
		Type      string `json:"type"`
		Name      string `json:"name"`
		Instances []struct {
			IndexKey   any            `json:"index_key"`
			Status     string         `json:"status"`
			Attributes map[string]any `json:"attributes"`
		} `json:"instances"`
	} `json:"resources"`
}

// state reads d's state; a missing file (a crash before the first write) is an empty state.
func (h *crashHarness) state(d *tfDir) *tfState {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join(d.path, "terraform.tfstate"))
	st := &tfState{}
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(bytes.TrimSpace(b)) == 0) {
		return st
	}
	if err != nil {
		h.t.Fatal(err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		h.t.Fatalf("reading %s/terraform.tfstate: %v", d.name, err)
	}
	return st
}

// attrs returns the attributes of every instance of the managed resources of type typ.
func (s *tfState) attrs(typ string) []map[string]any {
	var out []map[string]any
	for _, r := range s.Resources {
		if r.Mode == "managed" && r.Type == typ {
			for _, in := range r.Instances {
				out = append(out, in.Attributes)
			}
		}
	}
	return out
}

// ids returns the ids of the resources of type typ.
func (s *tfState) ids(typ string) []string {
	var out []string
	for _, a := range s.attrs(typ) {
		if id, _ := a["id"].(string); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// nodeIDs returns the node ids of every cluster of type neocloud_gpu_cluster.
func (s *tfState) nodeIDs() []string {
	var out []string
	for _, a := range s.attrs("neocloud_gpu_cluster") {
		nodes, _ := a["nodes"].([]any)
		for _, n := range nodes {
			m, _ := n.(map[string]any)
			if id, _ := m["id"].(string); id != "" {
				out = append(out, id)
			}
		}
	}
	return out
}

// crashCase is what one crash test checks.
type crashCase struct {
	// config is the configuration whose create is crashed, then rerun.
	config string
	// crashPoint reports (and describes) whether the moment to kill has come: the machines
	// are launched and still coming up.
	crashPoint func() (bool, string)
	// live lists the ids of the live (billed) machines of the resources under test.
	live func() []string
	// inState lists the machine ids the state knows, in the same terms as live.
	inState func(*tfState) []string
	// want is how many machines the configuration asks for.
	want int
	// everLaunched, if set, counts every machine of the resources under test the cloud has
	// seen, terminated ones included: after the rerun it must still be want (a duplicate
	// launched and terminated again is a second launch all the same).
	everLaunched func() int
	// converged, if set, checks more after the rerun (clusters: node counts, one cluster).
	converged func(*tfState) error
	// gone checks that destroy left nothing live.
	gone func() error
}

// crashAndRerun is the crash test proper, in working directory d (which may already hold state
// from an earlier, completed apply).
func (h *crashHarness) crashAndRerun(d *tfDir, c crashCase) {
	t := h.t
	t.Helper()
	h.writeConfig(d, c.config)
	h.crashApply(d, c.crashPoint)

	// The test proves something only if the crash left machines outside state.
	launched, known := c.live(), c.inState(h.state(d))
	outside := crashMissing(launched, known)
	if len(outside) == 0 {
		t.Fatalf("the crash left no machine outside state (live %v, in state %v): the crash point came too late to test anything", launched, known)
	}
	t.Logf("after the crash: %d live machine(s), %d of them outside state: %v", len(launched), len(outside), outside)

	rerun := h.apply(d, "rerun apply")
	if rerun.exit != 0 {
		t.Errorf("the rerun apply after the crash failed (exit %d); it must adopt the machines the crashed run launched:\n%s",
			rerun.exit, crashTail(rerun.stderr.String(), 30))
	} else if w := providerWarnings(rerun.output()); len(w) == 0 {
		t.Errorf("the rerun printed no warning (besides dev_overrides'); adopting machines a crashed run launched must be reported with one")
	} else {
		t.Logf("rerun warnings: %q", w)
	}

	st := h.state(d)
	live, known := c.live(), c.inState(st)
	if len(live) != c.want {
		t.Errorf("after the rerun the cloud has %d live machine(s), want exactly %d: %v", len(live), c.want, live)
	}
	if !crashSameSet(live, known) {
		t.Errorf("after the rerun the live machines are not exactly the ones in state:\n  live:     %v\n  in state: %v\n  live, not in state: %v\n  in state, not live: %v",
			crashSorted(live), crashSorted(known), crashMissing(live, known), crashMissing(known, live))
	}
	for _, id := range launched {
		if !slices.Contains(live, id) {
			t.Errorf("machine %s, launched by the crashed run, is no longer live after the rerun: it was not adopted", id)
		}
	}
	if c.everLaunched != nil {
		if n := c.everLaunched(); n != c.want {
			t.Errorf("the cloud has seen %d machine(s) launched in all, want exactly %d: the rerun launched again", n, c.want)
		}
	}
	if c.converged != nil {
		if err := c.converged(st); err != nil {
			t.Errorf("after the rerun: %v", err)
		}
	}
	if rerun.exit == 0 {
		h.expectEmptyPlan(d)
	}
	h.destroy(d, c.gone)
}

// providerWarnings returns the summaries of the warnings Terraform printed, other than the one
// dev_overrides causes on every command.
func providerWarnings(out string) []string {
	var w []string
	for _, m := range regexp.MustCompile(`(?m)^[│|\s]*Warning: (.+?)\s*$`).FindAllStringSubmatch(out, -1) {
		if !strings.Contains(m[1], devOverrideWarning) {
			w = append(w, m[1])
		}
	}
	return w
}

// reportOnFailure prints, for a failed test, what every terraform command printed last and
// what the emulator holds.
func (h *crashHarness) reportOnFailure() {
	if !h.t.Failed() {
		return
	}
	h.mu.Lock()
	runs := slices.Clone(h.runs)
	h.mu.Unlock()
	var b strings.Builder
	b.WriteString("\n======== crash test report ========\n")
	for i, r := range runs {
		select {
		case <-r.done:
		default:
			fmt.Fprintf(&b, "\n--- [%d] %s in %s: still running\n", i, r.label, r.dir)
			continue
		}
		status := fmt.Sprintf("exit %d", r.exit)
		if r.killed {
			status = "killed (SIGKILL to the process group)"
		}
		fmt.Fprintf(&b, "\n--- [%d] %s in %s: terraform %s -> %s after %s\n", i, r.label, r.dir, strings.Join(r.args, " "),
			status, r.elapsed.Round(100*time.Millisecond))
		fmt.Fprintf(&b, "stdout (last lines, plan body elided):\n%s\n", crashIndent(crashTail(elidePlanBody(r.stdout.String()), 25)))
		if s := strings.TrimSpace(r.stderr.String()); s != "" {
			fmt.Fprintf(&b, "stderr (last lines):\n%s\n", crashIndent(crashTail(s, 25)))
		}
		if log, err := os.ReadFile(r.logPath); err == nil {
			if lines := providerLogLines(string(log)); lines != "" {
				fmt.Fprintf(&b, "provider log %s (last lines, plugin chatter elided):\n%s\n", r.logPath, crashIndent(crashTail(lines, 12)))
			}
		}
	}
	b.WriteString("\n--- emulator machines\n")
	b.WriteString(crashIndent(h.machineReport()))
	h.t.Log(b.String())
}

// machineReport lists every machine the emulator has seen, live or not.
func (h *crashHarness) machineReport() string {
	var b strings.Builder
	emu := h.env.emu
	for _, in := range emu.Lambda.Instances() {
		fmt.Fprintf(&b, "lambda instance %s name=%q status=%s type=%s region=%s created=%s gone=%v tags=%v\n",
			in.ID, in.Name, in.Status, in.InstanceType, in.Region, in.Created.Format("15:04:05.000"), in.Gone, in.Tags)
	}
	for _, p := range emu.RunPod.Pods() {
		fmt.Fprintf(&b, "runpod pod %s name=%q status=%s ports_ready=%v cluster=%s created=%s\n",
			p.ID, p.Name, p.Status, p.PortsReady, p.ClusterID, p.CreatedAt.Format("15:04:05.000"))
	}
	for _, c := range emu.RunPod.Clusters() {
		fmt.Fprintf(&b, "runpod cluster %s name=%q pods=%v\n", c.ID, c.Name, c.PodIDs)
	}
	for _, c := range emu.CoreWeave.Clusters() {
		fmt.Fprintf(&b, "coreweave cluster %s name=%q status=%s vpc=%s pools=%d nodes=%d created=%s gone=%v\n",
			c.ID, c.Name, c.Status, c.VPCID, c.NodePools, c.Nodes, c.CreatedAt.Format("15:04:05.000"), c.Gone)
	}
	for _, v := range emu.CoreWeave.VPCs() {
		fmt.Fprintf(&b, "coreweave vpc %s name=%q status=%s gone=%v\n", v.ID, v.Name, v.Status, v.Gone)
	}
	for _, p := range emu.CoreWeave.NodePools() {
		fmt.Fprintf(&b, "coreweave nodepool %s/%s type=%s target=%d ready=%d nodes=%d deleting=%v\n",
			p.Cluster, p.Name, p.InstanceType, p.TargetNodes, p.CurrentNodes, p.Nodes, p.Deleting)
	}
	if b.Len() == 0 {
		return "(none)\n"
	}
	return b.String()
}

// devOverrideBlock is the text of the dev_overrides warning, repeated by every command.
var devOverrideBlock = regexp.MustCompile(`(?s)Warning: ` + devOverrideWarning + `.*?published\s+releases\.\n`)

// elidePlanBody replaces the resource diffs of a plan (between "Terraform will perform the
// following actions:" and "Plan: ...") and the dev_overrides warning with one line each: the
// tail is then about what happened.
func elidePlanBody(s string) string {
	s = devOverrideBlock.ReplaceAllString(s, "[dev_overrides warning elided]\n")
	start := strings.Index(s, "Terraform will perform the following actions:")
	if start < 0 {
		return s
	}
	end := strings.Index(s[start:], "\nPlan: ")
	if end < 0 {
		return s
	}
	return s[:start] + "[plan body elided]" + s[start+end:]
}

// providerLogLines drops the go-plugin lines that say nothing about what the provider did.
func providerLogLines(log string) string {
	noise := regexp.MustCompile(`automatic mTLS|timeout configuration not found|plugin process exited|error encountered while scanning stdout|plugin started|starting plugin|using plugin|plugin address`)
	var keep []string
	for _, line := range strings.Split(log, "\n") {
		if line != "" && !noise.MatchString(line) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func crashTail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("[... %d earlier lines]", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

func crashIndent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

func crashMissing(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func crashSameSet(a, b []string) bool {
	return slices.Equal(crashSorted(a), crashSorted(b))
}

func crashSorted(a []string) []string {
	out := slices.Clone(a)
	sort.Strings(out)
	return slices.Compact(out)
}

// ---- Lambda ----

// crashLambdaScale makes a Lambda instance boot in 4.5 s and launches pace at 0.6 s.
const crashLambdaScale = 0.05

// seedLambdaKey adds the SSH key the machines use outside Terraform, so that the tests are
// about machines only.
func seedLambdaKey(t *testing.T, h *crashHarness) string {
	t.Helper()
	k, err := h.env.emu.Lambda.AddSSHKey("crash-key", testPublicKey)
	if err != nil {
		t.Fatalf("seeding the Lambda SSH key: %v", err)
	}
	return k.ID
}

func liveLambdaIDs(h *crashHarness) []string {
	var ids []string
	for _, in := range h.env.emu.Lambda.LiveInstances() {
		ids = append(ids, in.ID)
	}
	return ids
}

// lambdaBooting reports whether want instances matching pick exist and all are still booting.
func lambdaBooting(h *crashHarness, want int, pick func(tags map[string]string, name string) bool) func() (bool, string) {
	return func() (bool, string) {
		var seen []string
		booting := 0
		for _, in := range h.env.emu.Lambda.LiveInstances() {
			if !pick(in.Tags, in.Name) {
				continue
			}
			seen = append(seen, in.Name+"="+in.Status)
			if in.Status == "booting" {
				booting++
			}
		}
		return len(seen) == want && booting == want, fmt.Sprintf("Lambda instances %v", seen)
	}
}

func noLiveLambda(h *crashHarness) func() error {
	return func() error {
		if live := h.env.emu.Lambda.LiveInstances(); len(live) != 0 {
			var ids []string
			for _, in := range live {
				ids = append(ids, in.ID+" ("+in.Name+")")
			}
			return fmt.Errorf("%d Lambda instance(s) still live: %v", len(live), ids)
		}
		return nil
	}
}

// Three Lambda instances (count = 3), terraform killed while all three boot: the rerun adopts
// the three, launches none, and converges.
func TestAccCrash_lambdaInstances(t *testing.T) {
	h := newCrashHarness(t, crashLambdaScale, nil, crashLambdaScale)
	key := seedLambdaKey(t, h)
	d := h.workdir("main", "")
	h.crashAndRerun(d, crashCase{
		config: fmt.Sprintf(`
resource "neocloud_gpu_instance" "m" {
  count       = 3
  name        = "crash-${count.index}"
  cloud       = "lambda"
  region      = "us-east-1"
  gpu_type    = "A10_24GB"
  gpu_count   = 1
  ssh_key_ids = [%q]
}
`, key),
		crashPoint:   lambdaBooting(h, 3, func(_ map[string]string, name string) bool { return strings.HasPrefix(name, "crash-") }),
		live:         func() []string { return liveLambdaIDs(h) },
		inState:      func(s *tfState) []string { return s.ids("neocloud_gpu_instance") },
		want:         3,
		everLaunched: func() int { return len(h.env.emu.Lambda.Instances()) },
		gone:         noLiveLambda(h),
	})
}

// A Lambda node group of 2, terraform killed while both nodes boot: the rerun adopts the nodes
// (no manual import), ends with exactly 2, and destroy removes them.
func TestAccCrash_lambdaCluster(t *testing.T) {
	h := newCrashHarness(t, crashLambdaScale, nil, crashLambdaScale)
	key := seedLambdaKey(t, h)
	d := h.workdir("main", "")
	h.crashAndRerun(d, crashCase{
		config: fmt.Sprintf(`
resource "neocloud_gpu_cluster" "c" {
  name          = "crash-cluster"
  cloud         = "lambda"
  region        = "us-east-1"
  gpu_type      = "A10_24GB"
  gpus_per_node = 1
  node_count    = 2
  ssh_key_ids   = [%q]
}
`, key),
		crashPoint:   lambdaBooting(h, 2, func(tags map[string]string, _ string) bool { return tags["neocloud-cluster"] == "crash-cluster" }),
		live:         func() []string { return liveLambdaIDs(h) },
		inState:      (*tfState).nodeIDs,
		want:         2,
		everLaunched: func() int { return len(h.env.emu.Lambda.Instances()) },
		converged: func(s *tfState) error {
			if ids := s.ids("neocloud_gpu_cluster"); len(ids) != 1 || ids[0] != "crash-cluster" {
				return fmt.Errorf("want the cluster crash-cluster in state, have %v", ids)
			}
			return nil
		},
		gone: noLiveLambda(h),
	})
}

// An instance that already exists and is older than the create timeout of the resource that
// would launch it is not adopted: the apply stops with an error naming the machine and giving
// the exact `terraform import` command, and launches nothing.
func TestAccCrash_lambdaOldMachineNotAdopted(t *testing.T) {
	h := newCrashHarness(t, crashLambdaScale, nil, crashLambdaScale)
	key := seedLambdaKey(t, h)
	config := func(extra string) string {
		return fmt.Sprintf(`
resource "neocloud_gpu_instance" "m" {
  name        = "crash-old"
  cloud       = "lambda"
  region      = "us-east-1"
  gpu_type    = "A10_24GB"
  gpu_count   = 1
  ssh_key_ids = [%q]
  %s
}
`, key, extra)
	}
	a := h.workdir("a", config(""))
	h.mustApply(a, "apply A")
	ids := h.state(a).ids("neocloud_gpu_instance")
	if len(ids) != 1 {
		t.Fatalf("directory A: want one instance in state, have %v", ids)
	}
	id := ids[0]

	// B is the same resource with a 5 s create timeout: wait until A's machine is older.
	const createTimeout = 5 * time.Second
	var created time.Time
	for _, in := range h.env.emu.Lambda.Instances() {
		if in.ID == id {
			created = in.Created
		}
	}
	if created.IsZero() {
		t.Fatalf("instance %s from directory A is not in the emulator", id)
	}
	for time.Since(created) < createTimeout+time.Second {
		time.Sleep(100 * time.Millisecond)
	}

	b := h.workdir("b", config(`timeouts {
    create = "5s"
  }`))
	r := h.apply(b, "apply B")
	if r.exit == 0 {
		t.Errorf("apply B succeeded; it must stop with an error because instance %s (same resource, older than B's create timeout) exists", id)
	}
	out := r.output()
	for _, want := range []string{"terraform import", id} {
		if !strings.Contains(out, want) {
			t.Errorf("apply B's output does not contain %q; it must name the existing machine and give the exact import command:\n%s",
				want, crashTail(r.stderr.String(), 30))
		}
	}
	if live := liveLambdaIDs(h); len(live) != 1 || live[0] != id {
		t.Errorf("after apply B the cloud must still hold exactly instance %s live, it has %v", id, live)
	}
	if all := h.env.emu.Lambda.Instances(); len(all) != 1 {
		t.Errorf("apply B launched something: the emulator has seen %d instance(s), want only %s", len(all), id)
	}
	if inB := h.state(b).ids("neocloud_gpu_instance"); len(inB) != 0 {
		t.Errorf("apply B left %v in its state; it must end with nothing in state (the old machine comes in only through terraform import)", inB)
	}

	h.destroy(b, func() error { return nil })
	h.destroy(a, noLiveLambda(h))
}

// ---- RunPod ----

// crashRunPodScale makes a pod take 5 s from create to RUNNING with its ports published.
const crashRunPodScale = 0.1

func liveRunPodIDs(h *crashHarness) []string {
	var ids []string
	for _, p := range h.env.emu.RunPod.LivePods() {
		ids = append(ids, p.ID)
	}
	return ids
}

// runpodBooting reports whether want pods exist and none is ready (RUNNING with its ports).
func runpodBooting(h *crashHarness, want int) func() (bool, string) {
	return func() (bool, string) {
		var seen []string
		ready := 0
		for _, p := range h.env.emu.RunPod.LivePods() {
			seen = append(seen, fmt.Sprintf("%s=%s(ports %v)", p.Name, p.Status, p.PortsReady))
			if p.Status == "RUNNING" && p.PortsReady {
				ready++
			}
		}
		return len(seen) == want && ready == 0, fmt.Sprintf("RunPod pods %v", seen)
	}
}

func noLiveRunPod(h *crashHarness) func() error {
	return func() error {
		if live := h.env.emu.RunPod.LivePods(); len(live) != 0 {
			var ids []string
			for _, p := range live {
				ids = append(ids, p.ID+" ("+p.Name+")")
			}
			return fmt.Errorf("%d RunPod pod(s) still live: %v", len(live), ids)
		}
		if cs := h.env.emu.RunPod.Clusters(); len(cs) != 0 {
			return fmt.Errorf("%d RunPod cluster(s) still exist: %+v", len(cs), cs)
		}
		return nil
	}
}

// Three RunPod pods (count = 3), terraform killed while they provision: the rerun adopts the
// three pods and launches none.
func TestAccCrash_runpodPods(t *testing.T) {
	h := newCrashHarness(t, crashRunPodScale, nil, crashRunPodScale)
	d := h.workdir("main", "")
	h.crashAndRerun(d, crashCase{
		config: `
resource "neocloud_gpu_instance" "m" {
  count     = 3
  name      = "crash-${count.index}"
  cloud     = "runpod"
  gpu_type  = "A6000_48GB"
  gpu_count = 1
  runpod {
    image = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
    ports = ["22/tcp"]
  }
}
`,
		crashPoint:   runpodBooting(h, 3),
		live:         func() []string { return liveRunPodIDs(h) },
		inState:      func(s *tfState) []string { return s.ids("neocloud_gpu_instance") },
		want:         3,
		everLaunched: func() int { return len(h.env.emu.RunPod.Pods()) },
		gone:         noLiveRunPod(h),
	})
}

// A RunPod Instant Cluster of 2, terraform killed while its pods provision: the rerun adopts
// the cluster (no manual import, no second cluster), 2 pods, and destroy removes it.
func TestAccCrash_runpodCluster(t *testing.T) {
	h := newCrashHarness(t, crashRunPodScale, nil, crashRunPodScale)
	d := h.workdir("main", "")
	h.crashAndRerun(d, crashCase{
		config: `
resource "neocloud_gpu_cluster" "c" {
  name          = "crash-cluster"
  cloud         = "runpod"
  region        = "US-TX-3"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = 2
  runpod {
    cluster_type = "TRAINING"
    image        = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
  }
}
`,
		crashPoint:   runpodBooting(h, 2),
		live:         func() []string { return liveRunPodIDs(h) },
		inState:      (*tfState).nodeIDs,
		want:         2,
		everLaunched: func() int { return len(h.env.emu.RunPod.Pods()) },
		converged: func(s *tfState) error {
			ids, cs := s.ids("neocloud_gpu_cluster"), h.env.emu.RunPod.Clusters()
			if len(cs) != 1 || len(ids) != 1 || ids[0] != cs[0].ID {
				return fmt.Errorf("want exactly one RunPod cluster, the one in state: state has %v, the cloud %+v", ids, cs)
			}
			return nil
		},
		gone: noLiveRunPod(h),
	})
}

// ---- CoreWeave ----

// crashCoreWeaveScale makes a CKS cluster take 5.4 s to create and a node 0.6 s to join.
const crashCoreWeaveScale = 0.002

func coreweaveCluster(nodes int) string {
	return fmt.Sprintf(`
resource "neocloud_gpu_cluster" "cw" {
  name          = "crash-cks"
  cloud         = "coreweave"
  region        = "US-EAST-04A"
  gpu_type      = "H100_80GB_SXM"
  gpus_per_node = 8
  node_count    = %d
  coreweave {
    kubernetes_version = "v1.35"
  }
}
`, nodes)
}

// coreweaveInstancePools returns the live node pools that were not there before (the pools of
// the neocloud_gpu_instance resources), by instance id (<cluster id>/<pool>), with their Ready
// node counts.
func coreweaveInstancePools(h *crashHarness, before map[string]bool) map[string]int {
	out := map[string]int{}
	for _, p := range h.env.emu.CoreWeave.NodePools() {
		id := p.Cluster + "/" + p.Name
		if !before[id] && !p.Deleting {
			out[id] = p.CurrentNodes
		}
	}
	return out
}

func liveCoreWeaveClusterIDs(h *crashHarness) []string {
	var ids []string
	for _, c := range h.env.emu.CoreWeave.Clusters() {
		if !c.Gone {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

func noLiveCoreWeave(h *crashHarness) func() error {
	return func() error { return checkCoreWeave(h.env, 0, 0, 0)(nil) }
}

// Two CoreWeave instances (one-node pools) in a CKS cluster made by a first, completed apply;
// terraform killed while their nodes join: the rerun adopts the two pools and makes none.
func TestAccCrash_coreweaveInstances(t *testing.T) {
	h := newCrashHarness(t, 1, map[string]float64{"coreweave": crashCoreWeaveScale}, crashCoreWeaveScale)
	d := h.workdir("main", coreweaveCluster(1))
	h.mustApply(d, "apply the CKS cluster")
	clusterPools := map[string]bool{}
	for id := range coreweaveInstancePools(h, nil) {
		clusterPools[id] = true
	}
	h.crashAndRerun(d, crashCase{
		config: coreweaveCluster(1) + `
resource "neocloud_gpu_instance" "node" {
  count     = 2
  name      = "crash-node-${count.index}"
  cloud     = "coreweave"
  gpu_type  = "H100_80GB_SXM"
  gpu_count = 8
  coreweave {
    cluster_id = neocloud_gpu_cluster.cw.id
  }
}
`,
		// Both pools accepted: the creates are waiting for their nodes (which join within a
		// second here, while the provider looks again only after one), so nothing of them is in
		// state yet; crashAndRerun checks that.
		crashPoint: func() (bool, string) {
			pools := coreweaveInstancePools(h, clusterPools)
			return len(pools) == 2, fmt.Sprintf("instance node pools (ready nodes) %v", pools)
		},
		live: func() []string {
			var ids []string
			for id := range coreweaveInstancePools(h, clusterPools) {
				ids = append(ids, id)
			}
			return ids
		},
		inState: func(s *tfState) []string { return s.ids("neocloud_gpu_instance") },
		want:    2,
		converged: func(*tfState) error {
			// The cluster's own node plus one per instance, all Ready; one cluster, one VPC.
			return checkCoreWeave(h.env, 1, 1, 3)(nil)
		},
		gone: noLiveCoreWeave(h),
	})
}

// A CoreWeave cluster (VPC + CKS cluster + node pool), terraform killed while the CKS cluster
// is CREATING: the rerun adopts it (no second cluster, no conflict), ends with its 2 nodes, and
// destroy removes cluster and VPC.
func TestAccCrash_coreweaveCluster(t *testing.T) {
	h := newCrashHarness(t, 1, map[string]float64{"coreweave": crashCoreWeaveScale}, crashCoreWeaveScale)
	d := h.workdir("main", "")
	h.crashAndRerun(d, crashCase{
		config: coreweaveCluster(2),
		crashPoint: func() (bool, string) {
			var seen []string
			creating := 0
			for _, c := range h.env.emu.CoreWeave.Clusters() {
				if !c.Gone {
					seen = append(seen, c.Name+"="+c.Status)
					if c.Status == "STATUS_CREATING" {
						creating++
					}
				}
			}
			return len(seen) == 1 && creating == 1, fmt.Sprintf("CKS clusters %v", seen)
		},
		live:         func() []string { return liveCoreWeaveClusterIDs(h) },
		inState:      func(s *tfState) []string { return s.ids("neocloud_gpu_cluster") },
		want:         1,
		everLaunched: func() int { return len(h.env.emu.CoreWeave.Clusters()) },
		converged: func(s *tfState) error {
			if n := len(s.nodeIDs()); n != 2 {
				return fmt.Errorf("want 2 nodes in state, have %d", n)
			}
			return checkCoreWeave(h.env, 1, 1, 2)(nil)
		},
		gone: noLiveCoreWeave(h),
	})
}
