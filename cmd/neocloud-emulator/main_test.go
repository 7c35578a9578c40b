package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this binary's main in a child process (the test binary re-executed
// with NEOCLOUD_EMULATOR_RUN_MAIN=1), so signals and restarts are real.
func TestMain(m *testing.M) {
	if os.Getenv("NEOCLOUD_EMULATOR_RUN_MAIN") == "1" {
		os.Args = append([]string{"neocloud-emulator"}, strings.Fields(os.Getenv("NEOCLOUD_EMULATOR_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// emulatorProcess is the emulator running in a child process.
type emulatorProcess struct {
	cmd  *exec.Cmd
	base string
	out  *bytes.Buffer
}

func startEmulator(t *testing.T, args ...string) *emulatorProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NEOCLOUD_EMULATOR_RUN_MAIN=1",
		"NEOCLOUD_EMULATOR_ARGS="+strings.Join(append([]string{"-listen", "127.0.0.1:0"}, args...), " "))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p := &emulatorProcess{cmd: cmd, out: &bytes.Buffer{}}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		p.out.WriteString(line + "\n")
		if addr, ok := strings.CutPrefix(line, "neocloud-emulator listening on "); ok {
			p.base = addr
			break
		}
	}
	if p.base == "" {
		t.Fatalf("emulator did not start:\n%s%s", p.out, stderr.String())
	}
	go func() { _, _ = io.Copy(p.out, stdout) }()
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *emulatorProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("emulator exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not stop on SIGTERM")
	}
}

func (p *emulatorProcess) call(t *testing.T, method, path, auth, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestStateFileAcrossRestarts runs the emulator with -state, changes every cloud, stops it with
// SIGTERM, starts it again on the same file and finds everything where it was.
func TestStateFileAcrossRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	state := filepath.Join(t.TempDir(), "emulator-state.json")
	// A save interval longer than the test: what is saved, is saved by SIGTERM.
	p := startEmulator(t, "-state", state, "-save-interval", "1h")

	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILOleprsicI9kxIgcPkZPT+Mm4lEmKlrqZRXisV58dIH ci"
	if code, body := p.call(t, "POST", "/api/v1/ssh-keys", "lambda-emulator-key", `{"name":"ci","public_key":"`+key+`"}`); code != 200 {
		t.Fatalf("lambda key: %d %s", code, body)
	}
	if code, body := p.call(t, "PUT", "/v2/account/ssh-keys", "runpod-emulator-key", `{"keys":["`+key+`"]}`); code != 200 {
		t.Fatalf("runpod keys: %d %s", code, body)
	}
	if code, body := p.call(t, "POST", "/v1beta1/networking/vpcs", "CW-SECRET-emulator",
		`{"name":"ci","zone":"US-EAST-04A","vpcPrefixes":[{"name":"pods","value":"10.0.0.0/13"}]}`); code != 200 {
		t.Fatalf("coreweave vpc: %d %s", code, body)
	}
	if code, body := p.call(t, "PUT", "/_emulator/lambda/quota", "", `{"gpus":7}`); code != 200 {
		t.Fatalf("quota: %d %s", code, body)
	}
	p.stop(t)
	if !strings.Contains(p.out.String(), "state saved in "+state) {
		t.Fatalf("no save message on SIGTERM:\n%s", p.out)
	}
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file: %v %v", fi, err)
	}

	p = startEmulator(t, "-state", state)
	if !strings.Contains(p.out.String(), "state loaded from "+state) {
		t.Fatalf("no load message:\n%s", p.out)
	}
	_, body := p.call(t, "GET", "/api/v1/ssh-keys", "lambda-emulator-key", "")
	var keys struct {
		Data []struct{ Name string } `json:"data"`
	}
	if json.Unmarshal(body, &keys) != nil || len(keys.Data) != 1 || keys.Data[0].Name != "ci" {
		t.Fatalf("lambda keys after the restart: %s", body)
	}
	if _, body := p.call(t, "GET", "/v2/account/ssh-keys", "runpod-emulator-key", ""); !strings.Contains(string(body), key) {
		t.Fatalf("runpod keys after the restart: %s", body)
	}
	if _, body := p.call(t, "GET", "/v1beta1/networking/vpcs", "CW-SECRET-emulator", ""); !strings.Contains(string(body), `"name":"ci"`) {
		t.Fatalf("coreweave VPCs after the restart: %s", body)
	}
	if _, body := p.call(t, "GET", "/_emulator/lambda/quota", "", ""); !strings.Contains(string(body), `"gpus":7`) {
		t.Fatalf("quota after the restart: %s", body)
	}

	// Changes are saved while it runs too (within -save-interval, 1 s by default).
	if code, body := p.call(t, "POST", "/_emulator/lambda/reset", "", ""); code != 204 {
		t.Fatalf("reset: %d %s", code, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, _ := os.ReadFile(state)
		// The Lambda key was the only object with a public_key field.
		if len(data) > 0 && !strings.Contains(string(data), `"public_key"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reset was not saved within 5 s:\n%s", data)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBadStateFileStopsTheStart refuses to start on a state file it cannot read, rather than
// starting empty and overwriting it.
func TestBadStateFileStopsTheStart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(state, []byte(`{"format": 42}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NEOCLOUD_EMULATOR_RUN_MAIN=1", "NEOCLOUD_EMULATOR_ARGS=-listen 127.0.0.1:0 -state "+state)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "format 42") {
		t.Fatalf("started on a bad state file: %v\n%s", err, out)
	}
	if data, _ := os.ReadFile(state); string(data) != `{"format": 42}` {
		t.Fatalf("the bad state file was overwritten: %s", data)
	}
}

// TestHelpDocumentsEveryFlagAndTheAdminAPI keeps -help complete.
func TestHelpDocumentsEveryFlagAndTheAdminAPI(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NEOCLOUD_EMULATOR_RUN_MAIN=1", "NEOCLOUD_EMULATOR_ARGS=-help")
	out, _ := cmd.CombinedOutput()
	for _, want := range []string{"-listen", "-time-scale", "-lambda-key", "-runpod-key", "-coreweave-token", "-state",
		"-save-interval", "-version", "lambda-emulator-key", "runpod-emulator-key", "CW-SECRET-emulator",
		"/_emulator/stats", "/faults", "drop_after_commit", "/capacity", "/quota", "/reset", "/balance", "NEOCLOUD_RATE_SCALE"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("-help does not mention %q", want)
		}
	}
}
