package lambda

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// The cluster tests run against a stateful fake written from the API document: instances that
// boot when told to, firewall rulesets and filesystems that refuse deletion while in use, and
// a launch route that can run out of capacity or lose its answer. Its state is kept in the
// test's own types, never the package's wire structs.

type fakeInst struct {
	id, name, status, region, typ string
	ip, privateIP                 string
	tags                          [][2]string // in launch order
	keys, fs, rulesets            []string
}

type fakeRuleset struct {
	id, name, region string
	rules            []map[string]any
	created          time.Time
}

type fakeFS struct {
	id, name, region string
	created          time.Time
}

// lambdaCloud is the fake account.
type lambdaCloud struct {
	t        *testing.T
	f        *fakeAPI
	mu       sync.Mutex
	inst     []*fakeInst
	rulesets []*fakeRuleset
	fss      []*fakeFS
	seq      int
	// capacity is how many more launches succeed (-1: unlimited).
	capacity int
	// dropRank makes the launch of that node commit and then lose its answer (-1: none).
	dropRank    int
	launchTimes []time.Time
}

func clusterTestCloud(t *testing.T, f *fakeAPI) *Cloud {
	initial, maxPause := clients.PollInitial, clients.PollMax
	clients.PollInitial, clients.PollMax = 5*time.Millisecond, 20*time.Millisecond
	t.Cleanup(func() { clients.PollInitial, clients.PollMax = initial, maxPause })
	return newTestCloud(t, f, WithRateLimiters(apifake.Unlimited(), rate.NewLimiter(rate.Every(launchPace), 1)))
}

// newClusterWorld is a fake playing a stateful Lambda (capacity for H100s in regions) and a
// Cloud against it (clusterTestCloud).
func newClusterWorld(t *testing.T, regions ...string) (*fakeAPI, *Cloud, *lambdaCloud) {
	t.Helper()
	f := newFake(t)
	c := clusterTestCloud(t, f)
	return f, c, newLambdaCloud(t, f, regions...)
}

func lambdaClusterSpec(nodes int) clients.ClusterSpec {
	return clients.ClusterSpec{
		Name: "pretrain", GPUType: "H100_80GB_SXM", GPUsPerNode: 8, NodeCount: nodes,
		SSHKeyIDs: []string{"key-1"}, LaunchToken: "tok",
		Options: &ClusterOptions{FileSystemName: "pretrain", Image: "lambda-stack-24-04"},
	}
}

func TestLambdaClusterRulesAndValidation(t *testing.T) {
	c := newTestCloud(t, newFake(t))
	var cc clients.ClusterCloud = c
	if r := cc.ClusterRules(); r.MinNodes != 1 || r.MaxNodes != 16 || !r.Resizable || r.Renamable {
		t.Errorf("rules %+v", r)
	}
	if errs := c.ValidateClusterSpec(lambdaClusterSpec(4)); len(errs) != 0 {
		t.Errorf("valid spec refused: %+v", errs)
	}
	// Without gpus_per_node a node is the largest machine Lambda sells of the GPU.
	whole := lambdaClusterSpec(4)
	whole.GPUsPerNode = 0
	if it, err := c.clusterInstanceType(whole); err != nil || it.Name != "gpu_8x_h100_sxm5" {
		t.Errorf("default node: %+v %v", it, err)
	}
	bad := clients.ClusterSpec{Name: strings.Repeat("x", 62), GPUType: "H100_80GB_SXM", GPUsPerNode: 3, NodeCount: 17, Region: "mars-1"}
	fields := map[string]bool{}
	for _, e := range c.ValidateClusterSpec(bad) {
		fields[e.Field] = true
	}
	for _, f := range []string{"name", "node_count", "gpu_type", "ssh_key_ids", "region"} {
		if !fields[f] {
			t.Errorf("no objection to %s: %v", f, fields)
		}
	}
}

// TestCreateClusterPacedLaunches: ruleset first, then the filesystem, then one paced launch per
// node, each named and tagged with its rank, attached to the ruleset and the filesystem, in the
// first region (by name) with capacity.
func TestCreateClusterPacedLaunches(t *testing.T) {
	f, c, l := newClusterWorld(t, "us-west-1", "us-east-1")

	cl, err := c.CreateCluster(t.Context(), lambdaClusterSpec(4))
	if err != nil {
		t.Fatal(err)
	}
	if cl.ID != "pretrain" || cl.Region != "us-east-1" || cl.Status != clients.ClusterPending || cl.NodeCount != 4 || len(cl.Nodes) != 4 ||
		cl.InstanceType != "gpu_8x_h100_sxm5" || cl.GPUsPerNode != 8 || cl.PricePerHour != 4*23.92 {
		t.Errorf("cluster %+v", cl)
	}
	for i, n := range cl.Nodes {
		if n.Rank != i || n.Name != fmt.Sprintf("pretrain-%d", i) || n.ID == "" || n.Status != clients.StatusPending {
			t.Errorf("node %d: %+v", i, n)
		}
	}
	assertJSON(t, f.Requests("POST", "/firewall-rulesets")[0].Body, `{"name":"pretrain","region":"us-east-1","rules":[]}`)
	assertJSON(t, f.Requests("POST", "/filesystems")[0].Body, `{"name":"pretrain","region":"us-east-1"}`)
	bodies := launchBodies(t, f)
	if len(bodies) != 4 {
		t.Fatalf("%d launches", len(bodies))
	}
	for i, b := range bodies {
		want := fmt.Sprintf(`{"region_name":"us-east-1","instance_type_name":"gpu_8x_h100_sxm5","ssh_key_names":["me"],
			"file_system_names":["pretrain"],"name":"pretrain-%d","image":{"family":"lambda-stack-24-04"},
			"tags":[{"key":"neocloud-cluster","value":"pretrain"},{"key":"neocloud-image","value":"lambda-stack-24-04"},
				{"key":"neocloud-rank","value":"%d"},{"key":"neocloud-launch-token","value":"tok-r%d"}],
			"firewall_rulesets":[{"id":"rs-1"}]}`, i, i, i)
		assertJSON(t, []byte(mustJSON(b)), want)
	}
	// Paced by the launch limiter, not by 429s: four launches span three intervals. Measured
	// where they arrive, so each may be late by scheduling; two intervals is the safe bound
	// (unpaced, they would arrive within a few milliseconds).
	l.with(func() {
		if span := l.launchTimes[3].Sub(l.launchTimes[0]); span < 2*launchPace {
			t.Errorf("four launches arrived within %s; want them paced %s apart", span, launchPace)
		}
	})

	// The same create again (a retry with the same token) launches nothing new.
	if cl, err = c.CreateCluster(t.Context(), lambdaClusterSpec(4)); err != nil || len(cl.Nodes) != 4 {
		t.Fatalf("retry: %+v %v", cl, err)
	}
	f.WantCount(t, "POST", "/instance-operations/launch", 4, "launches after a retry")
	// Another create of that name is a conflict, not an adoption.
	other := lambdaClusterSpec(2)
	other.LaunchToken = "someone-else"
	if _, err := c.CreateCluster(t.Context(), other); !clients.IsConflict(err) || !strings.Contains(err.Error(), "lambda/pretrain") {
		t.Errorf("same name: %v", err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestCreateClusterCapacityRunsOut: capacity for three of four nodes returns the three with a
// CapacityError naming node 3 and the region; nothing is cleaned up, since nodes exist.
func TestCreateClusterCapacityRunsOut(t *testing.T) {
	f, c, l := newClusterWorld(t, "us-east-1")
	l.capacity = 3

	cl, err := c.CreateCluster(t.Context(), lambdaClusterSpec(4))
	var ce *clients.CapacityError
	if !errors.As(err, &ce) || !clients.IsCapacity(err) || len(ce.Attempts) != 1 {
		t.Fatalf("error %v", err)
	}
	if a := ce.Attempts[0]; a.Region != "us-east-1" || a.InstanceType != "gpu_8x_h100_sxm5" || !strings.Contains(a.Err.Error(), "node 3 of 4 (pretrain-3)") ||
		!strings.Contains(a.Err.Error(), "Not enough capacity") {
		t.Errorf("attempt %+v", a)
	}
	if cl == nil || cl.ID != "pretrain" || len(cl.Nodes) != 3 || cl.Status != clients.ClusterDegraded || !strings.Contains(cl.Problem, "node 3 of 4") {
		t.Fatalf("cluster %+v", cl)
	}
	if f.Count("DELETE", "/firewall-rulesets/rs-1") != 0 {
		t.Errorf("ruleset of a partial cluster deleted")
	}
}

// TestCreateClusterNoCapacityForTheFirstNode leaves nothing behind: the ruleset and the
// filesystem the create made are deleted again, and no cluster comes back.
func TestCreateClusterNoCapacityForTheFirstNode(t *testing.T) {
	_, c, l := newClusterWorld(t, "us-east-1")
	l.capacity = 0
	cl, err := c.CreateCluster(t.Context(), lambdaClusterSpec(2))
	if cl != nil || !clients.IsCapacity(err) {
		t.Fatalf("%+v %v", cl, err)
	}
	l.with(func() {
		if len(l.rulesets) != 0 || len(l.fss) != 0 {
			t.Errorf("left behind: %d rulesets, %d filesystems", len(l.rulesets), len(l.fss))
		}
	})
}

// TestCreateClusterLostLaunchAnswer: node 1's launch commits but its answer is lost; it is
// adopted by its tag and not launched again.
func TestCreateClusterLostLaunchAnswer(t *testing.T) {
	f, c, l := newClusterWorld(t, "us-east-1")
	l.dropRank = 1
	cl, err := c.CreateCluster(t.Context(), lambdaClusterSpec(3))
	if err != nil {
		t.Fatal(err)
	}
	if n := f.Count("POST", "/instance-operations/launch"); n != 3 || len(cl.Nodes) != 3 || cl.Nodes[1].ID != l.find("pretrain-1").id {
		t.Errorf("%d launches, nodes %+v", n, cl.Nodes)
	}
}

// TestGetClusterByTags finds the nodes by tag, including one the provider never launched, and
// leaves out terminated nodes and other clusters' instances; it opens the ruleset to the
// nodes' private addresses once they have them.
func TestGetClusterByTags(t *testing.T) {
	f, c, l := newClusterWorld(t, "us-east-1")
	spec := lambdaClusterSpec(2)
	clusterOpts(spec.Options).FileSystemName = ""
	apifake.MustCreate(t, c.CreateCluster, spec)
	stray := l.add("pretrain-2", StatusBooting, [2]string{ClusterTag, "pretrain"}, [2]string{RankTag, "2"})
	l.with(func() { stray.rulesets = []string{"rs-1"} })
	l.add("pretrain-old", StatusTerminated, [2]string{ClusterTag, "pretrain"}, [2]string{RankTag, "1"})
	l.add("other-0", StatusActive, [2]string{ClusterTag, "other"}, [2]string{RankTag, "0"})
	l.add("untagged", StatusActive)
	c.instances.Invalidate()

	cl, err := c.GetCluster(t.Context(), "pretrain")
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Nodes) != 3 || cl.NodeCount != 3 || cl.Nodes[2].Name != "pretrain-2" || cl.Status != clients.ClusterPending || cl.Ready {
		t.Fatalf("booting: %+v", cl)
	}
	f.WantCount(t, "PATCH", "/firewall-rulesets/rs-1", 0, "ruleset updates before any node has an address")

	l.boot()
	c.instances.Invalidate()
	// Booted but the ruleset not yet opened to the nodes: not ready, and a read writes nothing.
	if cl, err = c.GetCluster(t.Context(), "pretrain"); err != nil || cl.Ready || !strings.Contains(cl.Problem, "firewall ruleset") {
		t.Fatalf("before settling: %+v %v", cl, err)
	}
	if n := f.Count("PATCH", "/firewall-rulesets/rs-1"); n != 0 {
		t.Fatalf("GetCluster wrote %d ruleset updates: reads must not change anything", n)
	}
	if err := c.SettleCluster(t.Context(), "pretrain"); err != nil {
		t.Fatal(err)
	}
	cl, err = c.GetCluster(t.Context(), "pretrain")
	if err != nil {
		t.Fatal(err)
	}
	head := l.find("pretrain-0")
	if !cl.Ready || cl.Status != clients.ClusterRunning || cl.HeadNodeIP != head.privateIP || cl.Nodes[0].PublicIP != head.ip ||
		cl.Nodes[0].SSHHost != head.ip || cl.Nodes[0].SSHPort != 22 || cl.Nodes[0].Role != "head" || cl.Nodes[2].Role != "worker" ||
		cl.Region != "us-east-1" || cl.PricePerHour != 3*23.92 || cl.NativeStatus != "active=3" {
		t.Errorf("active: %+v", cl)
	}
	// The key the nodes were launched with (by name), as its id: what an import needs.
	if !slices.Equal(cl.SSHKeyIDs, []string{"key-1"}) {
		t.Errorf("SSH key ids %v, want [key-1]", cl.SSHKeyIDs)
	}
	// A refresh whose state holds the cluster's key ids does not read the key list for them.
	c.sshKeys.Invalidate()
	keyLists := f.Count("GET", "/ssh-keys")
	if known, err := c.GetCluster(clients.WithKnownSSHKeys(t.Context(), []string{"key-from-state"}), "pretrain"); err != nil ||
		!slices.Equal(known.SSHKeyIDs, []string{"key-from-state"}) || f.Count("GET", "/ssh-keys") != keyLists {
		t.Errorf("with the keys known: %v, %v, %d key lists", known, err, f.Count("GET", "/ssh-keys")-keyLists)
	}
	patches := f.Requests("PATCH", "/firewall-rulesets/rs-1")
	if len(patches) != 1 {
		t.Fatalf("%d ruleset updates", len(patches))
	}
	var body struct {
		Rules []struct {
			Protocol      string `json:"protocol"`
			PortRange     []int  `json:"port_range"`
			SourceNetwork string `json:"source_network"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(patches[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, r := range body.Rules {
		if r.Protocol != "all" || len(r.PortRange) != 2 || r.PortRange[0] != 1 || r.PortRange[1] != 65535 {
			t.Errorf("rule %+v", r)
		}
		sources = append(sources, r.SourceNetwork)
	}
	var want []string
	for _, n := range cl.Nodes {
		want = append(want, n.PrivateIP+"/32")
	}
	if !slices.Equal(sources, want) {
		t.Errorf("rules allow %v, want %v", sources, want)
	}
	// In step: no further update.
	c.instances.Invalidate()
	if _, err := c.GetCluster(t.Context(), "pretrain"); err != nil || f.Count("PATCH", "/firewall-rulesets/rs-1") != 1 {
		t.Errorf("second read: %v, %d updates", err, f.Count("PATCH", "/firewall-rulesets/rs-1"))
	}

	// A node lost (preempted): degraded, with the missing rank named.
	lost := l.find("pretrain-1")
	l.with(func() { lost.status = StatusPreempted })
	c.instances.Invalidate()
	cl, _ = c.GetCluster(t.Context(), "pretrain")
	if cl.Status != clients.ClusterDegraded || !strings.Contains(cl.Problem, "rank(s) 1 missing") || len(cl.Nodes) != 2 {
		t.Errorf("preempted: %+v", cl)
	}

	if _, err := c.GetCluster(t.Context(), "nothing"); !clients.IsNotFound(err) {
		t.Errorf("unknown cluster: %v", err)
	}
}

// TestScaleCluster: 2 -> 3 launches rank 2 with the nodes' settings; 3 -> 1 terminates ranks
// 2 and 1 and closes the ruleset to them.
func TestScaleCluster(t *testing.T) {
	f, c, l := newClusterWorld(t, "us-east-1")
	if _, err := c.CreateCluster(t.Context(), lambdaClusterSpec(2)); err != nil {
		t.Fatal(err)
	}
	l.boot()
	c.instances.Invalidate()
	if _, err := c.GetCluster(t.Context(), "pretrain"); err != nil { // opens the ruleset to 2 nodes
		t.Fatal(err)
	}

	three := 3
	cl, err := c.UpdateCluster(t.Context(), "pretrain", clients.ClusterUpdate{NodeCount: &three})
	if err != nil {
		t.Fatal(err)
	}
	bodies := launchBodies(t, f)
	if len(bodies) != 3 || len(cl.Nodes) != 3 {
		t.Fatalf("%d launches, %+v", len(bodies), cl.Nodes)
	}
	b := bodies[2]
	if b["name"] != "pretrain-2" || b["region_name"] != "us-east-1" || b["instance_type_name"] != "gpu_8x_h100_sxm5" ||
		mustJSON(b["ssh_key_names"]) != `["me"]` || mustJSON(b["file_system_names"]) != `["pretrain"]` ||
		mustJSON(b["firewall_rulesets"]) != `[{"id":"rs-1"}]` || mustJSON(b["image"]) != `{"family":"lambda-stack-24-04"}` ||
		!strings.Contains(mustJSON(b["tags"]), `{"key":"neocloud-rank","value":"2"}`) {
		t.Errorf("scale-up launch %v", b)
	}
	l.boot()
	c.instances.Invalidate()
	if err := c.SettleCluster(t.Context(), "pretrain"); err != nil {
		t.Fatal(err)
	}
	if cl, _ = c.GetCluster(t.Context(), "pretrain"); !cl.Ready || len(cl.Nodes) != 3 {
		t.Errorf("after scale-up: %+v", cl)
	}

	one := 1
	cl, err = c.UpdateCluster(t.Context(), "pretrain", clients.ClusterUpdate{NodeCount: &one})
	if err != nil {
		t.Fatal(err)
	}
	terms := f.Requests("POST", "/instance-operations/terminate")
	if len(terms) != 1 {
		t.Fatalf("%d terminate requests", len(terms))
	}
	assertJSON(t, terms[0].Body, mustJSON(map[string]any{"instance_ids": []string{l.find("pretrain-1").id, l.find("pretrain-2").id}}))
	if len(cl.Nodes) != 1 || cl.Nodes[0].Name != "pretrain-0" || !cl.Ready {
		t.Errorf("after scale-down: %+v", cl)
	}
	var rules []map[string]any
	l.with(func() { rules = l.rulesets[0].rules })
	if len(rules) != 1 || rules[0]["source_network"] != l.find("pretrain-0").privateIP+"/32" {
		t.Errorf("rules after scale-down: %v", rules)
	}

	name := "renamed"
	if _, err := c.UpdateCluster(t.Context(), "pretrain", clients.ClusterUpdate{Name: &name}); !errors.Is(err, clients.ErrUnsupported) {
		t.Errorf("rename: %v", err)
	}
}

// TestScaleClusterWithUserData: user data cannot be read back, so growing such a cluster needs
// the spec.
func TestScaleClusterWithUserData(t *testing.T) {
	f, c, _ := newClusterWorld(t, "us-east-1")
	spec := lambdaClusterSpec(1)
	clusterOpts(spec.Options).UserData = "#cloud-config\n"
	apifake.MustCreate(t, c.CreateCluster, spec)
	two := 2
	if _, err := c.UpdateCluster(t.Context(), "pretrain", clients.ClusterUpdate{NodeCount: &two}); !errors.Is(err, clients.ErrUnsupported) {
		t.Errorf("without the spec: %v", err)
	}
	cl, err := c.ScaleCluster(t.Context(), "pretrain", 2, &spec)
	if err != nil || len(cl.Nodes) != 2 {
		t.Fatalf("%+v %v", cl, err)
	}
	if b := launchBodies(t, f)[1]; b["user_data"] != "#cloud-config\n" || b["name"] != "pretrain-1" {
		t.Errorf("launch %v", b)
	}
}

// TestDeleteCluster terminates every tagged node (one state never knew included) in one
// request, waits, deletes the filesystem the cluster made and then the ruleset once no node
// holds it, and counts a second delete as done.
func TestDeleteCluster(t *testing.T) {
	f, c, l := newClusterWorld(t, "us-east-1")
	if _, err := c.CreateCluster(t.Context(), lambdaClusterSpec(2)); err != nil {
		t.Fatal(err)
	}
	stray := l.add("pretrain-2", StatusActive, [2]string{ClusterTag, "pretrain"}, [2]string{RankTag, "2"})
	l.with(func() { stray.rulesets, stray.fs = []string{"rs-1"}, []string{"pretrain"} })
	bystander := l.add("keep-me", StatusActive)
	want := []string{l.find("pretrain-0").id, l.find("pretrain-1").id, stray.id}
	c.instances.Invalidate()

	if err := c.DeleteCluster(t.Context(), "pretrain"); err != nil {
		t.Fatal(err)
	}
	terms := f.Requests("POST", "/instance-operations/terminate")
	if len(terms) != 1 {
		t.Fatalf("%d terminate requests", len(terms))
	}
	assertJSON(t, terms[0].Body, mustJSON(map[string]any{"instance_ids": want}))
	l.with(func() {
		if bystander.status != StatusActive {
			t.Errorf("an untagged instance was terminated")
		}
		if len(l.rulesets) != 0 || len(l.fss) != 0 {
			t.Errorf("left: %d rulesets, %d filesystems", len(l.rulesets), len(l.fss))
		}
	})
	// The filesystem is deleted first (while the ruleset still proves the cluster made it),
	// retried while terminating nodes hold it.
	if n := f.Count("DELETE", "/filesystems/fs-2"); n < 2 {
		t.Errorf("the filesystem delete was tried %d times; want a retry while in use", n)
	}
	if _, err := c.GetCluster(t.Context(), "pretrain"); !clients.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
	if err := c.DeleteCluster(t.Context(), "pretrain"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	f.WantCount(t, "POST", "/instance-operations/terminate", 1, "terminate requests after a second delete")
}

// TestDeleteClusterWaitsForTermination: the filesystem and ruleset deletes, which fail while
// terminating nodes hold them, start no sooner than Lambda's typical termination time after the
// terminate (on the shortened poll clock: 20 s x 5 ms / 1 s).
func TestDeleteClusterWaitsForTermination(t *testing.T) {
	_, c, _ := newClusterWorld(t, "us-east-1")
	if _, err := c.CreateCluster(t.Context(), lambdaClusterSpec(2)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.DeleteCluster(t.Context(), "pretrain"); err != nil {
		t.Fatal(err)
	}
	if took, settle := time.Since(start), (clients.Settings{}).Settle(terminationTime); took < settle {
		t.Errorf("the delete took %v, less than the %v Lambda takes to terminate", took, settle)
	}
}

// TestDeleteClusterKeepsUsersFilesystem: a filesystem that existed before the cluster, even one
// named like it, is the user's.
func TestDeleteClusterKeepsUsersFilesystem(t *testing.T) {
	f, c, l := newClusterWorld(t, "us-east-1")
	l.addFS("pretrain", "us-south-1", time.Now().Add(-time.Hour))
	if _, err := c.CreateCluster(t.Context(), lambdaClusterSpec(1)); err != nil {
		t.Fatal(err)
	}
	// The existing filesystem pinned the region.
	if r := launchBodies(t, f)[0]["region_name"]; r != "us-south-1" {
		t.Errorf("launched in %v", r)
	}
	if f.Count("POST", "/filesystems") != 0 {
		t.Errorf("an existing filesystem was created again")
	}
	if err := c.DeleteCluster(t.Context(), "pretrain"); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("DELETE", "/firewall-rulesets/rs-2"); n < 2 {
		t.Errorf("the ruleset delete was tried %d times; want a retry while in use", n)
	}
	l.with(func() {
		if len(l.fss) != 1 || len(l.rulesets) != 0 {
			t.Errorf("left: %d filesystems (want the user's), %d rulesets", len(l.fss), len(l.rulesets))
		}
	})
}

// TestDeleteClusterKeepsUnmountedFilesystem: a filesystem named like the cluster but made after
// it, and not mounted by its nodes, is the user's too.
func TestDeleteClusterKeepsUnmountedFilesystem(t *testing.T) {
	_, c, l := newClusterWorld(t, "us-east-1")
	spec := lambdaClusterSpec(1)
	clusterOpts(spec.Options).FileSystemName = ""
	apifake.MustCreate(t, c.CreateCluster, spec)
	l.addFS("pretrain", "us-east-1", time.Now())
	if err := c.DeleteCluster(t.Context(), "pretrain"); err != nil {
		t.Fatal(err)
	}
	l.with(func() {
		if len(l.fss) != 1 || len(l.rulesets) != 0 {
			t.Errorf("left: %d filesystems (want the user's), %d rulesets", len(l.fss), len(l.rulesets))
		}
	})
}
