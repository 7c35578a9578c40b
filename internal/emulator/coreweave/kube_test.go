package coreweave

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The Kubernetes API server's generic behaviour, seen through NodePools and Nodes: list selectors and pages, discovery, watches, racks.

func TestNodePoolListSelectorsAndPages(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "lists", false)
	for i, team := range []string{"a", "b", "a"} {
		m := poolManifest(fmt.Sprintf("p%d", i), "cd-gp-a192-genoa", 0)
		m["metadata"] = map[string]any{"name": fmt.Sprintf("p%d", i), "labels": map[string]string{"team": team}}
		c.ok(201, "POST", poolsPath(cl.ID), m, nil)
	}
	var l testList[testPool]
	c.ok(200, "GET", poolsPath(cl.ID), nil, &l)
	if l.Kind != "NodePoolList" || l.APIVersion != computeGV || len(l.Items) != 3 || l.Items[0].Kind != "NodePool" {
		t.Fatalf("list: %+v", l)
	}
	c.ok(200, "GET", poolsPath(cl.ID)+"?labelSelector=team%3Da", nil, &l)
	if len(l.Items) != 2 {
		t.Fatalf("team=a: %d items", len(l.Items))
	}
	c.ok(200, "GET", poolsPath(cl.ID)+"?labelSelector=team!%3Da", nil, &l)
	if len(l.Items) != 1 || l.Items[0].Metadata.Name != "p1" {
		t.Fatalf("team!=a: %+v", l.Items)
	}
	c.ok(200, "GET", poolsPath(cl.ID)+"?fieldSelector=metadata.name%3Dp2", nil, &l)
	if len(l.Items) != 1 || l.Items[0].Metadata.Name != "p2" {
		t.Fatalf("fieldSelector: %+v", l.Items)
	}
	c.kubeStatusErr("GET", poolsPath(cl.ID)+"?labelSelector=team+in+(a", nil, nil, 400, "BadRequest")
	c.kubeStatusErr("GET", poolsPath(cl.ID)+"?fieldSelector=spec.instanceType%3Dx", nil, nil, 400, "BadRequest")

	c.ok(200, "GET", poolsPath(cl.ID)+"?limit=2", nil, &l)
	if len(l.Items) != 2 || l.Metadata.Continue == "" || l.Metadata.RemainingItemCount == nil || *l.Metadata.RemainingItemCount != 1 {
		t.Fatalf("page 1: %+v", l.Metadata)
	}
	var page2 testList[testPool]
	c.ok(200, "GET", poolsPath(cl.ID)+"?limit=2&continue="+url.QueryEscape(l.Metadata.Continue), nil, &page2)
	if len(page2.Items) != 1 || page2.Items[0].Metadata.Name != "p2" || page2.Metadata.Continue != "" {
		t.Fatalf("page 2: %+v", page2)
	}
}

func TestDiscovery(t *testing.T) {
	_, c, clk := newClockedEmulator(t, Options{})
	cl := runningCluster(c, clk, "disc", false)
	var versions struct {
		Kind     string   `json:"kind"`
		Versions []string `json:"versions"`
	}
	c.ok(200, "GET", kpath(cl.ID, "/api"), nil, &versions)
	if versions.Kind != "APIVersions" || len(versions.Versions) != 1 || versions.Versions[0] != "v1" {
		t.Fatalf("/api: %+v", versions)
	}
	var groups struct {
		Kind   string `json:"kind"`
		Groups []struct {
			Name             string `json:"name"`
			PreferredVersion struct {
				GroupVersion string `json:"groupVersion"`
			} `json:"preferredVersion"`
		} `json:"groups"`
	}
	// client-go asks for aggregated discovery first and takes legacy JSON as the fallback.
	res := c.request("GET", kpath(cl.ID, "/apis"), nil, map[string]string{
		"Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"})
	res.decode(t, &groups)
	if res.status != 200 || groups.Kind != "APIGroupList" || len(groups.Groups) != 1 || groups.Groups[0].PreferredVersion.GroupVersion != computeGV {
		t.Fatalf("/apis: %s", res.body)
	}
	var resources struct {
		Kind         string `json:"kind"`
		GroupVersion string `json:"groupVersion"`
		Resources    []struct {
			Name       string   `json:"name"`
			Namespaced bool     `json:"namespaced"`
			Kind       string   `json:"kind"`
			Verbs      []string `json:"verbs"`
		} `json:"resources"`
	}
	c.ok(200, "GET", kpath(cl.ID, "/apis/compute.coreweave.com/v1alpha1"), nil, &resources)
	if resources.Kind != "APIResourceList" || resources.GroupVersion != computeGV || resources.Resources[0].Name != "nodepools" ||
		resources.Resources[0].Kind != "NodePool" || resources.Resources[0].Namespaced || len(resources.Resources[0].Verbs) < 7 {
		t.Fatalf("group version resources: %+v", resources)
	}
	c.ok(200, "GET", kpath(cl.ID, "/api/v1"), nil, &resources)
	if resources.Resources[0].Name != "nodes" {
		t.Fatalf("/api/v1: %+v", resources)
	}
	c.ok(200, "GET", kpath(cl.ID, "/apis/compute.coreweave.com"), nil, nil)
	if res := c.do("GET", kpath(cl.ID, "/healthz"), nil); res.status != 200 || string(res.body) != "ok" {
		t.Fatalf("/healthz: %d %s", res.status, res.body)
	}
}

// TestWatchNodes watches a pool's nodes join on the real clock.
func TestWatchNodes(t *testing.T) {
	_, c := newFastEmulator(t)
	var v struct{ VPC vpcJSON }
	c.ok(200, "POST", "/v1beta1/networking/vpcs", standardVPC("w", zone4A), &v)
	waitFor(t, func() bool {
		return c.do("POST", "/v1beta1/cks/clusters", standardCluster("w", v.VPC.ID, zone4A, false)).status == 200
	})
	var list struct{ Items []clusterJSON }
	c.ok(200, "GET", "/v1beta1/cks/clusters", nil, &list)
	id := list.Items[0].ID
	waitFor(t, func() bool { return c.do("GET", kpath(id, "/version"), nil).status == 200 })

	var nodes testList[testNode]
	c.ok(200, "GET", kpath(id, "/api/v1/nodes"), nil, &nodes)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+kpath(id, "/api/v1/nodes?watch=true&timeoutSeconds=5&resourceVersion="+
		nodes.Metadata.ResourceVersion+"&labelSelector="+url.QueryEscape("compute.coreweave.com/node-pool=w")), nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("watch: %d", res.StatusCode)
	}
	c.ok(201, "POST", poolsPath(id), poolManifest("w", "gd-8xh100ib-i128", 2), nil)
	c.ok(201, "POST", poolsPath(id), poolManifest("other", "gd-8xh100ib-i128", 1), nil)

	dec := json.NewDecoder(res.Body)
	var got []string
	for len(got) < 4 {
		var ev struct {
			Type   string   `json:"type"`
			Object testNode `json:"object"`
		}
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		if ev.Object.Kind != "Node" || ev.Object.Metadata.Labels[LabelNodePool] != "w" {
			t.Fatalf("event object %+v", ev.Object)
		}
		got = append(got, fmt.Sprintf("%s %s ready=%v", ev.Type, ev.Object.Metadata.Name[8:], ev.Object.ready()))
	}
	want := "ADDED w-0 ready=false,MODIFIED w-0 ready=true,ADDED w-1 ready=false,MODIFIED w-1 ready=true"
	if strings.Join(got, ",") != want {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
}

// TestWatchNodePoolsFromTheStart checks the synthetic ADDED events of a watch without a
// resourceVersion and a too-old resourceVersion's 410.
func TestWatchNodePoolsFromTheStart(t *testing.T) {
	_, c := newFastEmulator(t)
	var v struct{ VPC vpcJSON }
	c.ok(200, "POST", "/v1beta1/networking/vpcs", standardVPC("w", zone4A), &v)
	var cl struct{ Cluster clusterJSON }
	waitFor(t, func() bool {
		return c.do("POST", "/v1beta1/cks/clusters", standardCluster("w", v.VPC.ID, zone4A, false)).status == 200
	})
	var list struct{ Items []clusterJSON }
	c.ok(200, "GET", "/v1beta1/cks/clusters", nil, &list)
	cl.Cluster = list.Items[0]
	waitFor(t, func() bool { return c.do("GET", kpath(cl.Cluster.ID, "/version"), nil).status == 200 })
	c.ok(201, "POST", poolsPath(cl.Cluster.ID), poolManifest("a", "cd-gp-a192-genoa", 0), nil)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.base+poolsPath(cl.Cluster.ID)+"?watch=1", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var ev struct {
		Type   string   `json:"type"`
		Object testPool `json:"object"`
	}
	if err := json.NewDecoder(res.Body).Decode(&ev); err != nil || ev.Type != "ADDED" || ev.Object.Metadata.Name != "a" {
		t.Fatalf("first event %+v: %v", ev, err)
	}

	// WatchList (client-go's streaming list): initial events, then the initial-events-end bookmark.
	c.kubeStatusErr("GET", poolsPath(cl.Cluster.ID)+"?watch=true&sendInitialEvents=true", nil, nil, 422, "Invalid")
	req, _ = http.NewRequestWithContext(ctx, "GET", c.base+poolsPath(cl.Cluster.ID)+
		"?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	dec := json.NewDecoder(res2.Body)
	var first, bookmark struct {
		Type   string   `json:"type"`
		Object testPool `json:"object"`
	}
	var annotations struct {
		Object struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		} `json:"object"`
	}
	if err := dec.Decode(&first); err != nil || first.Type != "ADDED" {
		t.Fatalf("initial event %+v: %v", first, err)
	}
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(raw, &bookmark)
	_ = json.Unmarshal(raw, &annotations)
	if bookmark.Type != "BOOKMARK" || bookmark.Object.Metadata.ResourceVersion == "" ||
		annotations.Object.Metadata.Annotations["k8s.io/initial-events-end"] != "true" {
		t.Fatalf("bookmark: %s", raw)
	}
}

func TestNodePoolRacksAndAutoscaling(t *testing.T) {
	e, c, clk := newClockedEmulator(t, Options{})
	var v struct{ VPC vpcJSON }
	c.ok(200, "POST", "/v1beta1/networking/vpcs", standardVPC("east6", "US-EAST-06A"), &v)
	clk.Advance(DefaultVPCCreateTime)
	var cl struct{ Cluster clusterJSON }
	c.ok(200, "POST", "/v1beta1/cks/clusters", standardCluster("racks", v.VPC.ID, "US-EAST-06A", false), &cl)
	clk.Advance(DefaultClusterCreateTime)
	id := cl.Cluster.ID

	// One NVL72 rack is 18 gb200-4x nodes.
	racks := poolManifest("nvl", "gb200-4x", 0)
	racks["spec"] = map[string]any{"instanceType": "gb200-4x", "targetRacks": 1}
	c.ok(201, "POST", poolsPath(id), racks, nil)
	clk.Advance(controllerLag + 18*DefaultNodeJoinTime)
	if p := c.pool(id, "nvl"); p.Status.CurrentNodes != 18 {
		t.Fatalf("one rack: %d nodes", p.Status.CurrentNodes)
	}
	if got := e.Capacity("gb200-4x", "US-EAST-06A"); got != 18 {
		t.Fatalf("gb200-4x capacity left %d, want 18", got)
	}
	bad := poolManifest("nvl2", "gb200-4x", 4)
	c.kubeStatusErr("POST", poolsPath(id), bad, nil, 422, "Invalid")

	// Autoscaling clamps the target into [minNodes, maxNodes].
	auto := poolManifest("auto", "cd-gp-a192-genoa", 5)
	auto["spec"] = map[string]any{"instanceType": "cd-gp-a192-genoa", "targetNodes": 5, "autoscaling": true, "minNodes": 1, "maxNodes": 2}
	c.ok(201, "POST", poolsPath(id), auto, nil)
	clk.Advance(controllerLag + 5*DefaultNodeJoinTime)
	p := c.pool(id, "auto")
	if st, _ := p.condition(CondAtTarget); p.Status.CurrentNodes != 2 || st != "True" {
		t.Fatalf("autoscaled pool: %+v", p.Status)
	}
}
