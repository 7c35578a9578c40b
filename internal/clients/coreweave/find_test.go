package coreweave

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
)

// findSpec is h100Cluster as cluster placement asks for it: no zone (each candidate has its own).
func findSpec() clients.ClusterSpec {
	s := h100Cluster()
	s.Region = ""
	return s
}

// findSpecSince is findSpec adopting only a cluster created since then.
func findSpecSince(since time.Time) clients.ClusterSpec {
	s := findSpec()
	s.AdoptSince = since
	return s
}

func TestFindClusterNoneFound(t *testing.T) {
	f := newFake(t)
	f.addVPC("vpc-9", "someone-elses", "US-WEST-04A")
	f.addCluster("cl-9", "other", "US-WEST-04A", "vpc-9", "STATUS_RUNNING")
	// Another cluster's pool, short of capacity, is not looked at.
	f.addPool("cl-9", map[string]any{
		"metadata": map[string]any{"name": "pretrain-gpu", "labels": map[string]any{labelLaunchToken: "tok-1"}},
		"spec":     map[string]any{"instanceType": "gd-8xh100ib-i128", "targetNodes": 2},
	})
	f.setPoolStatus("cl-9", "pretrain-gpu", 0,
		map[string]any{"type": "CapacityAvailable", "status": "False", "reason": "InsufficientCapacity"})
	c := newTestCloud(t, f)
	cl, err := c.FindCluster(t.Context(), findSpec())
	if err != nil || cl != nil {
		t.Fatalf("got %+v, %v; want nothing", cl, err)
	}
	if n := writes(f); n != 0 {
		t.Errorf("FindCluster must not write; %d writes", n)
	}
}

// A cluster an interrupted apply created (its name, in the VPC made for it, young enough) is
// adopted; the node pool it never got is remembered and created by the wait's settle, labelled
// with the launch token.
func TestFindClusterAdoptsWhatAnInterruptedApplyLeft(t *testing.T) {
	f, c := newRunningCloud(t)
	spec := findSpecSince(time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)) // before the fake's createdAt
	cl, err := c.FindCluster(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if cl == nil || cl.ID != "cl-1" || cl.Adopted == "" || cl.NodeCount != 4 || cl.Region != "US-EAST-04A" || cl.InstanceType != "gd-8xh100ib-i128" {
		t.Fatalf("found %+v", cl)
	}
	if n := writes(f); n != 0 {
		t.Fatalf("FindCluster must not create the pool; %d writes", n)
	}
	if _, err := settledGet(t, c, "cl-1"); err != nil {
		t.Fatal(err)
	}
	posts := f.Requests("POST", poolsPath("cl-1"))
	if len(posts) != 1 || !strings.Contains(string(posts[0].Body), `"terraform-provider-neocloud/launch-token":"tok-1"`) ||
		!strings.Contains(string(posts[0].Body), `"targetNodes":4`) {
		t.Fatalf("pool creates %+v", posts)
	}
}

// A cluster of this name with its pool already there is adopted as it is.
func TestFindClusterWithItsPool(t *testing.T) {
	f := newPoolFake(t, h100Pool(4, map[string]any{"labels": map[string]any{labelLaunchToken: "tok-1"}}, nil))
	c := newTestCloud(t, f)
	cl, err := c.FindCluster(t.Context(), findSpec())
	if err != nil || cl == nil || cl.NodeCount != 4 || cl.Adopted == "" {
		t.Fatalf("found %+v, %v", cl, err)
	}

	// The same pool made by another launch: a conflict, not an adoption.
	f.mu.Lock()
	jsonObj(jsonObj(f.pools["cl-1"]["pretrain-gpu"], "metadata"), "labels")[labelLaunchToken] = "tok-other"
	f.mu.Unlock()
	_, err = c.FindCluster(t.Context(), findSpec())
	if !clients.IsConflict(err) || !strings.Contains(err.Error(), "another launch") {
		t.Fatalf("want a conflict, got %v", err)
	}
}

// One created before the create timeout began is not adopted: a conflict with the import
// command. So is one in another zone than the resource's.
func TestFindClusterOldOneIsAConflict(t *testing.T) {
	f, c := newRunningCloud(t)
	spec := findSpecSince(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) // after the fake's createdAt
	_, err := c.FindCluster(t.Context(), spec)
	if !clients.IsConflict(err) || !strings.Contains(err.Error(), "terraform import <this resource's address> coreweave/cl-1") {
		t.Fatalf("want a conflict with the import command, got %v", err)
	}
	if n := writes(f); n != 0 {
		t.Errorf("nothing may be created; %d writes", n)
	}

	spec = findSpec()
	spec.Region = "US-WEST-04A"
	if _, err := c.FindCluster(t.Context(), spec); !clients.IsConflict(err) || !strings.Contains(err.Error(), "another zone") {
		t.Fatalf("want a conflict for the zone, got %v", err)
	}
}

// A cluster of this name that the adapter did not make (not in the VPC made for it), or that
// is being deleted, is nothing to adopt.
func TestFindClusterIgnoresOthersAndDeleting(t *testing.T) {
	f := newFake(t)
	f.addVPC("vpc-9", "team-vpc", "US-EAST-04A")
	f.addCluster("cl-9", "pretrain", "US-EAST-04A", "vpc-9", "STATUS_RUNNING")
	c := newTestCloud(t, f)
	if cl, err := c.FindCluster(t.Context(), findSpec()); err != nil || cl != nil {
		t.Fatalf("someone else's cluster: %+v, %v", cl, err)
	}

	f2 := newFake(t)
	runningCluster(f2)
	f2.setClusterStatus("cl-1", ClusterStatusDeleting)
	c2 := newTestCloud(t, f2)
	if cl, err := c2.FindCluster(t.Context(), findSpec()); err != nil || cl != nil {
		t.Fatalf("a cluster being deleted: %+v, %v", cl, err)
	}
}

// A failed look is an error, never "nothing there".
func TestFindClusterFailedLookIsAnError(t *testing.T) {
	f := newFake(t)
	runningCluster(f)
	f.before = func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/cks/clusters") {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		return false
	}
	c := newTestCloud(t, f)
	cl, err := c.FindCluster(t.Context(), findSpec())
	if err == nil || cl != nil {
		t.Fatalf("got %+v, %v; want an error", cl, err)
	}
}

// writes counts the requests the fake got that were not reads.
func writes(f *fakeCW) int {
	n := 0
	for _, r := range f.Log() {
		if r.Method != http.MethodGet {
			n++
		}
	}
	return n
}

// A Kubernetes API server that does not answer for now does not stop the look: the cluster is
// found by its name and VPC, and its view says what it waits for.
func TestFindClusterAPIServerNotAnswering(t *testing.T) {
	f, c := newRunningCloud(t)
	f.kubeDown("the server is currently unable to handle the request")
	cl, err := c.FindCluster(t.Context(), findSpec())
	if err != nil || cl == nil || cl.ID != "cl-1" || cl.NodeCount != 4 {
		t.Fatalf("found %+v, %v", cl, err)
	}
}
