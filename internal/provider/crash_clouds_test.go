//go:build unix

package provider

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The crash tests of each cloud: Lambda, RunPod, CoreWeave.

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

func liveLambdaIDs(h *crashHarness) []string { return slices.Sorted(maps.Keys(liveLambdaNames(h.env))) }

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
	return func() error { return noneLive("Lambda instance(s)", liveLambdaNames(h.env)) }
}

// noneLive is an error that lists the machines of live ("id (name)"), nil when it is empty.
func noneLive(what string, live map[string]string) error {
	if len(live) == 0 {
		return nil
	}
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(live)) {
		ids = append(ids, id+" ("+live[id]+")")
	}
	return fmt.Errorf("%d %s still live: %v", len(live), what, ids)
}

// watching completes c with what every case on a cloud watches: the live machines, every
// machine the cloud ever made (ever), and nothing live after destroy (gone).
func (c crashCase) watching(live func() []string, ever func() int, gone func() error) crashCase {
	c.live, c.everLaunched, c.gone = live, ever, gone
	return c
}

// onLambda is c on Lambda: its instances.
func (c crashCase) onLambda(h *crashHarness) crashCase {
	return c.watching(func() []string { return liveLambdaIDs(h) }, func() int { return len(h.env.emu.Lambda.Instances()) }, noLiveLambda(h))
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
		crashPoint: lambdaBooting(h, 3, func(_ map[string]string, name string) bool { return strings.HasPrefix(name, "crash-") }),
		inState:    (*tfState).instanceIDs,
		want:       3,
	}.onLambda(h))
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
		crashPoint: lambdaBooting(h, 2, func(tags map[string]string, _ string) bool { return tags["neocloud-cluster"] == "crash-cluster" }),
		inState:    (*tfState).nodeIDs,
		want:       2,
		converged: func(s *tfState) error {
			if ids := s.ids("neocloud_gpu_cluster"); len(ids) != 1 || ids[0] != "crash-cluster" {
				return fmt.Errorf("want the cluster crash-cluster in state, have %v", ids)
			}
			return nil
		},
	}.onLambda(h))
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

func liveRunPodIDs(h *crashHarness) []string { return slices.Sorted(maps.Keys(liveRunPodNames(h.env))) }

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
		if err := noneLive("RunPod pod(s)", liveRunPodNames(h.env)); err != nil {
			return err
		}
		if cs := h.env.emu.RunPod.Clusters(); len(cs) != 0 {
			return fmt.Errorf("%d RunPod cluster(s) still exist: %+v", len(cs), cs)
		}
		return nil
	}
}

// onRunPod is c on RunPod: its pods (and after destroy, no cluster either).
func (c crashCase) onRunPod(h *crashHarness) crashCase {
	return c.watching(func() []string { return liveRunPodIDs(h) }, func() int { return len(h.env.emu.RunPod.Pods()) }, noLiveRunPod(h))
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
		crashPoint: runpodBooting(h, 3),
		inState:    (*tfState).instanceIDs,
		want:       3,
	}.onRunPod(h))
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
		crashPoint: runpodBooting(h, 2),
		inState:    (*tfState).nodeIDs,
		want:       2,
		converged: func(s *tfState) error {
			ids, cs := s.ids("neocloud_gpu_cluster"), h.env.emu.RunPod.Clusters()
			if len(cs) != 1 || len(ids) != 1 || ids[0] != cs[0].ID {
				return fmt.Errorf("want exactly one RunPod cluster, the one in state: state has %v, the cloud %+v", ids, cs)
			}
			return nil
		},
	}.onRunPod(h))
}

// ---- CoreWeave ----

// crashCoreWeaveScale makes a CKS cluster take 5.4 s to create and a node 0.6 s to join.
const crashCoreWeaveScale = 0.002

// coreweaveCluster is the CKS cluster "crash-cks" of nodes nodes.
func coreweaveCluster(nodes int) string { return coreweaveClusterHCL("crash-cks", nodes, "") }

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
		inState: (*tfState).instanceIDs,
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

// `TF_LOG_PROVIDER=INFO terraform apply` of a cluster shows where it stands: the real CLI, the
// provider as a plugin binary (the harness of the crash tests, which logs at INFO), a Lambda
// cluster of two nodes. The log has each node's status changes with the time since the create
// began, the cluster's progress in nodes up, and no line per look that saw nothing new.
func TestAccProgress_lambdaClusterLogsEveryStatusChange(t *testing.T) {
	h := newCrashHarness(t, crashLambdaScale, nil, crashLambdaScale)
	key := seedLambdaKey(t, h)
	d := h.workdir("main", fmt.Sprintf(`
resource "neocloud_gpu_cluster" "c" {
  name          = "progress"
  cloud         = "lambda"
  region        = "us-east-1"
  gpu_type      = "A10_24GB"
  gpus_per_node = 1
  node_count    = 2
  ssh_key_ids   = [%q]
}
`, key))
	r := h.apply(d, "apply")
	if r.exit != 0 {
		t.Fatalf("terraform apply failed (exit %d):\n%s", r.exit, crashTail(r.stderr.String(), 30))
	}
	raw, err := os.ReadFile(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(raw)
	for _, want := range []string{
		`\[INFO\]\s+provider\.terraform-provider-neocloud: Lambda Cloud cluster progress node 0 \(progress-0, [^)]+\) is pending, no private address yet, [0-9.]+m?s after the start`,
		`Lambda Cloud cluster progress node 1 \(progress-1, [^)]+\) is running at [0-9.]+, [0-9.]+m?s after the start`,
		`Lambda Cloud cluster progress is pending \([^)]*\), 0 of 2 node\(s\) up`,
		`Lambda Cloud cluster progress is running \(active=2\), 2 of 2 node\(s\) up, [0-9.]+m?s after the start \(waiting until it is running with 2 node\(s\) up\)`,
	} {
		if !regexp.MustCompile(want).MatchString(log) {
			t.Errorf("the provider's INFO log lacks %s:\n%s", want, crashTail(providerLogLines(log), 60))
		}
	}
	// One line per change: node 1 becomes running once.
	if n := len(regexp.MustCompile(`node 1 \(progress-1, [^)]+\) is running at`).FindAllString(log, -1)); n != 1 {
		t.Errorf("node 1 turning running is logged %d times, want once", n)
	}
	h.destroy(d, noLiveLambda(h))
}
