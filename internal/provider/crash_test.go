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
// instanceIDs lists the ids of the neocloud_gpu_instance resources in state.
func (s *tfState) instanceIDs() []string { return s.ids("neocloud_gpu_instance") }

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
