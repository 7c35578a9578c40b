package provider

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// fakeClusterCloud answers GetCluster from a script: the i-th look sees states[i] (the last
// one from then on).
type fakeClusterCloud struct {
	mu     sync.Mutex
	states []*clients.Cluster
	looks  int
}

func (f *fakeClusterCloud) ClusterRules() clients.ClusterRules { return clients.ClusterRules{} }
func (f *fakeClusterCloud) CreateCluster(context.Context, clients.ClusterSpec) (*clients.Cluster, error) {
	return nil, errors.ErrUnsupported
}
func (f *fakeClusterCloud) UpdateCluster(context.Context, string, clients.ClusterUpdate) (*clients.Cluster, error) {
	return nil, errors.ErrUnsupported
}
func (f *fakeClusterCloud) DeleteCluster(context.Context, string) error { return errors.ErrUnsupported }
func (f *fakeClusterCloud) GetCluster(context.Context, string) (*clients.Cluster, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.states[min(f.looks, len(f.states)-1)]
	f.looks++
	return c, nil
}

func node(rank int, status, ip string) clients.ClusterNode {
	id := "i-" + string(rune('a'+rank))
	return clients.ClusterNode{ID: id, Name: "pretrain-" + string(rune('0'+rank)), Rank: rank, Status: status, PrivateIP: ip}
}

func cluster(status, native string, ready bool, nodes ...clients.ClusterNode) *clients.Cluster {
	return &clients.Cluster{ID: "pretrain", Cloud: "lambda", Status: status, NativeStatus: native, Ready: ready, NodeCount: len(nodes), Nodes: nodes}
}

// infoMessages are the INFO messages logged in buf.
func infoMessages(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	entries, err := tflogtest.MultilineJSONDecode(buf)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, e := range entries {
		if e["@level"] == "info" {
			out = append(out, e)
		}
	}
	return out
}

// Each status change of the cluster and of each node is logged once, at INFO, with the time
// since the operation began; looks that see nothing new log nothing.
func TestWaitClusterReadyLogsEachChange(t *testing.T) {
	setFastPolling(t)
	var buf bytes.Buffer
	ctx := withOperationStart(tflogtest.RootLogger(context.Background(), &buf))
	f := &fakeClusterCloud{states: []*clients.Cluster{
		cluster("pending", "booting=1", false, node(0, "pending", "")),
		cluster("pending", "booting=1", false, node(0, "pending", "")), // nothing new
		cluster("pending", "active=1,booting=1", false, node(0, "running", "10.0.0.5"), node(1, "pending", "")),
		cluster("pending", "active=1,booting=1", false, node(0, "running", "10.0.0.5"), node(1, "pending", "")),
		cluster("running", "active=2", true, node(0, "running", "10.0.0.5"), node(1, "running", "10.0.0.6")),
	}}
	got, err := waitClusterReady(ctx, fastCadence(), f, "pretrain", 2)
	if err != nil || !got.Ready {
		t.Fatalf("wait: %+v %v", got, err)
	}
	var msgs []string
	for _, e := range infoMessages(t, &buf) {
		msg, _ := e["@message"].(string)
		if _, ok := e["elapsed"].(string); !ok {
			t.Errorf("no elapsed time in %v", e)
		}
		msgs = append(msgs, msg)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^Lambda Cloud cluster pretrain is pending \(booting=1\), 0 of 2 node\(s\) up, .+ after the start \(waiting until it is running with 2 node\(s\) up\)$`),
		regexp.MustCompile(`^Lambda Cloud cluster pretrain node 0 \(pretrain-0, i-a\) is pending, no private address yet, .+ after the start$`),
		regexp.MustCompile(`^Lambda Cloud cluster pretrain is pending \(active=1,booting=1\), 1 of 2 node\(s\) up`),
		regexp.MustCompile(`^Lambda Cloud cluster pretrain node 0 \(pretrain-0, i-a\) is running at 10\.0\.0\.5`),
		regexp.MustCompile(`^Lambda Cloud cluster pretrain node 1 \(pretrain-1, i-b\) is pending, no private address yet`),
		regexp.MustCompile(`^Lambda Cloud cluster pretrain is running \(active=2\), 2 of 2 node\(s\) up`),
		regexp.MustCompile(`^Lambda Cloud cluster pretrain node 1 \(pretrain-1, i-b\) is running at 10\.0\.0\.6`),
	}
	if len(msgs) != len(want) {
		t.Fatalf("want %d INFO messages, got %d:\n%s", len(want), len(msgs), strings.Join(msgs, "\n"))
	}
	for i, w := range want {
		if !w.MatchString(msgs[i]) {
			t.Errorf("message %d:\n%s\ndoes not match %s", i, msgs[i], w)
		}
	}
}

// A wait that times out names the last status of every node, and the ranks never seen.
func TestWaitClusterReadyTimeoutNamesEveryNode(t *testing.T) {
	setFastPolling(t)
	ctx, cancel := context.WithTimeout(withOperationStart(context.Background()), 300*time.Millisecond)
	defer cancel()
	f := &fakeClusterCloud{states: []*clients.Cluster{
		cluster("pending", "active=1,booting=1", false, node(0, "running", "10.0.0.5"), node(1, "pending", "")),
	}}
	_, err := waitClusterReady(ctx, fastCadence(), f, "pretrain", 3)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a timeout, got %v", err)
	}
	for _, w := range []string{
		"with 1 of 3 node(s) up, cluster active=1,booting=1",
		"rank 0 (pretrain-0, i-a): running at 10.0.0.5",
		"rank 1 (pretrain-1, i-b): pending, no private address yet",
		"rank 2: no node yet",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the timeout error lacks %q:\n%v", w, err)
		}
	}
}

// fakeInstanceCloud answers GetInstance from a script, like fakeClusterCloud.
type fakeInstanceCloud struct {
	clients.Cloud
	states []*clients.Instance
	looks  int
}

func (f *fakeInstanceCloud) GetInstance(context.Context, string) (*clients.Instance, error) {
	i := f.states[min(f.looks, len(f.states)-1)]
	f.looks++
	return i, nil
}

// A machine's status changes are logged once each, with the elapsed time; the timeout error
// says how long was waited and what the machine was.
func TestWaitInstanceReadyLogsEachChange(t *testing.T) {
	setFastPolling(t)
	var buf bytes.Buffer
	ctx := withOperationStart(tflogtest.RootLogger(context.Background(), &buf))
	inst := func(status, native string, ready bool) *clients.Instance {
		return &clients.Instance{ID: "i-1", Cloud: "lambda", Status: status, NativeStatus: native, Ready: ready}
	}
	f := &fakeInstanceCloud{states: []*clients.Instance{
		inst("pending", "booting", false), inst("pending", "booting", false), inst("running", "active", false), inst("running", "active", true),
	}}
	if _, err := waitInstanceReady(ctx, fastCadence(), f, "i-1"); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range infoMessages(t, &buf) {
		msg, _ := e["@message"].(string)
		msgs = append(msgs, msg)
	}
	want := []string{"is pending (booting),", "is running (active), not reachable yet,", "is running (active), reachable,"}
	if len(msgs) != len(want) {
		t.Fatalf("want %d INFO messages, got:\n%s", len(want), strings.Join(msgs, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(msgs[i], "Lambda Cloud instance i-1 "+w) || !strings.Contains(msgs[i], "after the start") {
			t.Errorf("message %d: %q, want %q", i, msgs[i], w)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	f = &fakeInstanceCloud{states: []*clients.Instance{inst("pending", "booting", false)}}
	if _, err := waitInstanceReady(ctx, fastCadence(), f, "i-1"); err == nil || !regexp.MustCompile(`timed out after \S+ while the machine was pending \(booting\)`).MatchString(err.Error()) {
		t.Errorf("timeout error: %v", err)
	}
}

// setFastPolling makes clients.Poll (and fastCadence) look every few milliseconds for the test.
func setFastPolling(t *testing.T) {
	t.Helper()
	initial, maxWait := clients.PollInitial, clients.PollMax
	clients.PollInitial, clients.PollMax = 5*time.Millisecond, 20*time.Millisecond
	t.Cleanup(func() { clients.PollInitial, clients.PollMax = initial, maxWait })
}

// fastCadence is a cloud's shared look schedule on setFastPolling's intervals.
func fastCadence() *clients.Cadence { return clients.NewCadence(clients.DefaultPacing()) }
