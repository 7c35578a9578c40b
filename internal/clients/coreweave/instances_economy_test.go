package coreweave

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	emu "github.com/neocloud/terraform-provider-neocloud/internal/emulator/coreweave"
)

// The call economy of a CoreWeave destroy (docs/guides/performance.md): counted against the
// CoreWeave emulator, the way `terraform destroy` spends them. Its refresh runs in one provider
// process, its deletes in another, so each phase gets a Cloud of its own (nothing shared).

// callCounter records the requests that reach the emulator, by method and route.
type callCounter struct {
	mu    sync.Mutex
	calls map[string]int
	// listQueries are the query strings of the NodePool list requests.
	listQueries []string
}

func (c *callCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := r.URL.Path
		switch {
		case strings.HasPrefix(route, "/k8s/"):
			_, rest, _ := strings.Cut(strings.TrimPrefix(route, "/k8s/"), "/")
			route = "k8s /" + rest
			if i := strings.Index(route, "/nodepools/"); i >= 0 {
				route = route[:i] + "/nodepools/{name}"
			}
			if r.Method == http.MethodGet && strings.HasSuffix(route, "/nodepools") {
				c.mu.Lock()
				c.listQueries = append(c.listQueries, r.URL.RawQuery)
				c.mu.Unlock()
			}
		case strings.HasPrefix(route, "/v1beta1/networking/vpcs/"):
			route = "/v1beta1/networking/vpcs/{id}"
		}
		c.mu.Lock()
		c.calls[r.Method+" "+route]++
		c.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (c *callCounter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	c.listQueries = nil
	return out
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

const (
	routePoolList   = "GET k8s /apis/compute.coreweave.com/v1alpha1/nodepools"
	routePoolGet    = "GET k8s /apis/compute.coreweave.com/v1alpha1/nodepools/{name}"
	routePoolDelete = "DELETE k8s /apis/compute.coreweave.com/v1alpha1/nodepools/{name}"
	routeNodeList   = "GET k8s /api/v1/nodes"
)

// economyCloud is a Cloud against the emulator at srv, on the clock of an emulator running 100
// times faster than real time (as `make bench` runs it).
func economyCloud(t *testing.T, url string) *Cloud {
	t.Helper()
	c, err := NewWithOptions(clients.Settings{APIKey: emu.DefaultToken, Endpoint: url, RateScale: 0.01, UserAgent: "economy-test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// economyCluster makes a running CKS cluster with n one-node instance pools in the emulator
// and returns the instance ids.
func economyCluster(t *testing.T, ctx context.Context, c *Cloud, n int) []string {
	t.Helper()
	vpc, _, _, err := c.ensureVPC(ctx, "economy", "US-EAST-04A", "")
	if err != nil {
		t.Fatal(err)
	}
	network, err := clusterNetwork(vpc)
	if err != nil {
		t.Fatal(err)
	}
	created, err := c.api.CreateCluster(ctx, CreateClusterRequest{Name: "economy", Zone: "US-EAST-04A", VPCID: vpc.ID, Version: "v1.35", Network: network})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := c.runningCluster(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := c.kube.For(cl.APIServerEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		name := fmt.Sprintf("economy-%d", i)
		pool := NodePool{
			Metadata: ObjectMeta{Name: name, Labels: map[string]string{labelManagedBy: managedByValue, labelRole: roleInstance}},
			Spec:     NodePoolSpec{InstanceType: "gd-1xgh200", TargetNodes: 1},
		}
		if _, err := kc.CreateNodePool(ctx, pool); err != nil {
			t.Fatal(err)
		}
		ids[i] = instanceID(cl.ID, name)
	}
	return ids
}

// Destroying N CoreWeave instances costs at most N + 5 calls, the refresh included, whatever
// N: the refresh reads the cluster list, the NodePool list and the node list once (3), the
// destroy's own process reads the cluster list once more, deletes each pool (N), and proves
// every pool gone with one NodePool list. That list is a consistent read (no resourceVersion),
// so it needs no second list to confirm it, and every waiter shares it: their first looks are
// one cohort's. No pool is asked for by name.
func TestDestroyInstancesCallEconomy(t *testing.T) {
	const n = 10
	e := emu.New(emu.Options{TimeScale: 0.001, ClusterCreateTime: time.Second, VPCCreateTime: time.Second})
	counter := &callCounter{calls: map[string]int{}}
	srv := httptest.NewServer(counter.wrap(e))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	ids := economyCluster(t, ctx, economyCloud(t, srv.URL), n)

	// The refresh: one provider process reads every instance.
	counter.reset()
	refresh := economyCloud(t, srv.URL)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, id := range ids {
		wg.Go(func() {
			if _, err := refresh.GetInstance(ctx, id); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	refreshCalls := counter.reset()
	if got := total(refreshCalls); got != 3 {
		t.Errorf("refresh of %d instances: %d calls, want 3 (cluster list, NodePool list, node list): %v", n, got, refreshCalls)
	}

	// The destroy: another process deletes them all at once and waits until each is gone.
	destroy := economyCloud(t, srv.URL)
	settings := clients.Settings{RateScale: 0.01}
	cad := clients.NewCadence(settings.Pacing())
	settle := settings.Settle(destroy.TerminationTime())
	for _, id := range ids {
		wg.Go(func() {
			if err := destroy.DeleteInstance(ctx, id); err != nil {
				errs <- err
				return
			}
			if err := cad.WaitGoneAfter(ctx, destroy, id, settle, nil); err != nil {
				errs <- fmt.Errorf("%s: %w", id, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	lists := counter.listQueries
	destroyCalls := counter.reset()
	if got := destroyCalls[routePoolDelete]; got != n {
		t.Errorf("%d pool deletes, want %d", got, n)
	}
	if got := destroyCalls[routePoolList]; got != 1 {
		t.Errorf("%d NodePool lists to prove %d pools gone, want 1: %v", got, n, destroyCalls)
	}
	if got := destroyCalls[routePoolGet] + destroyCalls[routeNodeList]; got != 0 {
		t.Errorf("the destroy read pools by name or listed nodes (%d calls): %v", got, destroyCalls)
	}
	if got, budget := total(destroyCalls), n+2; got > budget {
		t.Errorf("destroy of %d instances: %d calls, want at most %d: %v", n, got, budget, destroyCalls)
	}
	if got, budget := total(refreshCalls)+total(destroyCalls), n+5; got > budget {
		t.Errorf("refresh and destroy of %d instances: %d calls, want at most N + 5 = %d", n, got, budget)
	}
	// The proof: a list the API server answers from its latest state.
	for _, q := range lists {
		if strings.Contains(q, "resourceVersion") {
			t.Errorf("the NodePool list asked for resourceVersion (%q): a list that may be served stale is no proof of gone", q)
		}
	}
	// And the pools are gone indeed.
	for _, kc := range destroy.kube.clients {
		pools, err := kc.ListNodePools(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pools) != 0 {
			t.Errorf("%d node pools left after the destroy", len(pools))
		}
	}
}
