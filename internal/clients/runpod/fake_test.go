package runpod

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/clients"
	"github.com/neocloud/terraform-provider-neocloud/internal/clients/internal/apifake"
)

// The tests talk to an httptest server whose answers are written here, from RunPod's OpenAPI
// document, as literal JSON and maps: they never reuse the package's wire structs, so a wrong
// field name in the client cannot be mirrored by the test.

const testKey = "rp-secret-test-key"

// fakeAPI is the shared harness with RunPod's routes under /v2 (matched on the unescaped path:
// GPU ids in /catalog/gpus/{id} contain spaces) and RunPod's problem JSON for a route the test
// did not set up.
type fakeAPI struct{ *apifake.Server }

func newFake(t *testing.T) *fakeAPI {
	t.Helper()
	return &fakeAPI{apifake.New(t, apifake.Config{Prefix: "/v2", NotFound: func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "Not Found", "no route "+r.Method+" "+strings.TrimPrefix(r.URL.Path, "/v2")+" in this test")
	}})}
}

// json answers status with a raw JSON body.
func (f *fakeAPI) json(method, path string, status int, rawJSON string) {
	f.Handle(method, path, apifake.Status(status, rawJSON))
}

func (f *fakeAPI) problem(method, path string, status int, title, detail string) {
	f.Handle(method, path, func(w http.ResponseWriter, _ *http.Request) { writeProblem(w, status, title, detail) })
}

func writeRaw(w http.ResponseWriter, status int, body string) { apifake.WriteRaw(w, status, body) }

// writeProblem answers RFC 9457 problem JSON as the document's ErrorResponse.
func writeProblem(w http.ResponseWriter, status int, title, detail string, errs ...string) {
	m := map[string]any{"title": title, "status": status, "detail": detail}
	if len(errs) > 0 {
		m["errors"] = errs
	}
	b, _ := json.Marshal(m)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func mustJSON(v any) string { return apifake.MustJSON(v) }

// opts is the RunPod settings an instance reports or a spec carries, clusterOpts those of a
// cluster spec (each nil when none).
var opts, clusterOpts = apifake.As[InstanceOptions], apifake.As[ClusterOptions]

// newFakeCloud is a fake and a Cloud against it (newTestCloud).
func newFakeCloud(t *testing.T, opts ...Option) (*fakeAPI, *Cloud) {
	t.Helper()
	f := newFake(t)
	return f, newTestCloud(t, f, opts...)
}

// newTestCloud builds a Cloud against the fake without rate limits, with the short waits of
// apifake.
func newTestCloud(t *testing.T, f *fakeAPI, opts ...Option) *Cloud {
	t.Helper()
	settings := clients.Settings{APIKey: testKey, Endpoint: f.Endpoint(), UserAgent: apifake.UserAgent}
	return apifake.Build(t, NewWithOptions, settings, append([]Option{
		WithRateLimiter(apifake.Unlimited()),
		withHTTP(nil, apifake.RetryWaitMin, apifake.RetryWaitMax),
		withRetryBudget(apifake.RetryBudget),
		WithAdoptionWindow(apifake.AdoptionWindow, apifake.AdoptionPoll),
	}, opts...)...)
}

// assertJSON compares a request body with the expected JSON, ignoring formatting and key order.
func assertJSON(t *testing.T, got []byte, want string) { t.Helper(); apifake.AssertJSON(t, got, want) }

func decodeBody(t *testing.T, b []byte) map[string]any { t.Helper(); return apifake.DecodeObject(t, b) }

// docPodJSON is the Pod example of the API document (getPod), verbatim.
const docPodJSON = `{
  "id": "7h9k2m4n6p",
  "name": "pytorch-training",
  "image": "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2404",
  "args": "",
  "disk": 50,
  "ports": ["8888/http", "22/tcp"],
  "env": {"MODEL_NAME": "llama-3"},
  "registry": null,
  "status": "RUNNING",
  "actions": ["stop", "restart", "terminate"],
  "mounts": {"persistent": {"size": 20, "path": "/workspace"}},
  "gpu": {"id": "NVIDIA GeForce RTX 4090", "count": 1},
  "cloud": "SECURE",
  "dataCenterId": "US-KS-2",
  "cudaVersion": "12.8",
  "ssh": {
    "proxy": {"host": "ssh.runpod.io", "port": 22, "username": "7h9k2m4n6p-64411eb2", "command": "ssh 7h9k2m4n6p-64411eb2@ssh.runpod.io"},
    "direct": {"host": "195.26.233.3", "port": 34446, "username": "root", "command": "ssh root@195.26.233.3 -p 34446"}
  },
  "template": "9x4m2p7v",
  "cost": 0.44,
  "locked": false,
  "globalNetworking": {"enabled": false},
  "runtime": {"uptime": 3600, "ports": [{"private": 22, "public": 34446, "type": "tcp", "ip": "195.26.233.3"}]},
  "createdAt": "2026-06-01T12:00:00Z",
  "startedAt": "2026-06-01T12:02:00Z"
}`

// podDoc is a pod in the document's shape, as a map the tests adjust; status PROVISIONING with
// the proxy endpoint only, as the document's createPod answer shows.
func podDoc(id, status string, env map[string]string) map[string]any {
	if env == nil {
		env = map[string]string{}
	}
	return map[string]any{
		"id": id, "name": "pod-" + id, "image": "runpod/pytorch:2.4.0", "args": "", "disk": 50,
		"ports": []string{"22/tcp"}, "env": env, "registry": nil, "status": status,
		"actions": []string{"stop", "terminate"}, "mounts": map[string]any{},
		"gpu":   map[string]any{"id": "NVIDIA H100 80GB HBM3", "count": 8},
		"cloud": "SECURE", "dataCenterId": "US-TX-3", "cudaVersion": "12.8",
		"ssh": map[string]any{
			"proxy":  map[string]any{"host": "ssh.runpod.io", "port": 22, "username": id + "-64411eb2", "command": "ssh " + id + "-64411eb2@ssh.runpod.io"},
			"direct": nil,
		},
		"template": nil, "cost": 21.52, "locked": false, "globalNetworking": map[string]any{"enabled": false},
		"runtime": nil, "createdAt": "2026-06-01T12:00:00Z", "startedAt": nil,
	}
}

// withSSHMapping makes a pod RUNNING with its 22/tcp published.
func withSSHMapping(p map[string]any, ip string, port int) map[string]any {
	p["status"] = "RUNNING"
	p["runtime"] = map[string]any{"uptime": 10, "ports": []map[string]any{{"private": 22, "public": port, "type": "tcp", "ip": ip}}}
	ssh, _ := p["ssh"].(map[string]any)
	ssh["direct"] = map[string]any{"host": ip, "port": port, "username": "root", "command": "ssh root@" + ip}
	return p
}

func podsJSON(pods ...map[string]any) string {
	if pods == nil {
		pods = []map[string]any{}
	}
	return mustJSON(map[string]any{"pods": pods})
}

// newSSHKey makes an ed25519 public key line in OpenSSH format.
func newSSHKey(t *testing.T, comment string) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var blob []byte
	for _, part := range [][]byte{[]byte("ssh-ed25519"), pub} {
		blob = binary.BigEndian.AppendUint32(blob, uint32(len(part)))
		blob = append(blob, part...)
	}
	line := "ssh-ed25519 " + base64.StdEncoding.EncodeToString(blob)
	if comment != "" {
		line += " " + comment
	}
	return line
}

// Keys made with ssh-keygen, and the fingerprints ssh-keygen -l prints for them.
const (
	docKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILXGDN/SclOozk1xsDztpmhGiKkkrfQB9SKoO8dSIQQZ me@example.com"
	docKeyFP = "SHA256:vURoX8c5f9jk2VAqkdDhsG8VkEiNtNS7dVs/Y9t2vtQ"
	key1     = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMaimKAixcxMDWTLmg7Yp/4b0CfxsQkjotrayTrtdCNP user1@host"
	key1FP   = "SHA256:3kqdfSYL+qSvsf+SU9JWGrotRUmuYuRL7Y/6YS+nIX8"
	key2     = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMSLd4vv5DPOpFh3He1ZFim+1h0b+WKJfy3FMyxXy27x user2@host"
	key2FP   = "SHA256:ZTjBAFwxDaa7hhp7846Wpk7rIM+XnDL94wIfrFkj5J0"
)

// keyStore is a stateful GET/PUT /account/ssh-keys, as the document describes it.
type keyStore struct {
	mu   sync.Mutex
	keys []string
	puts int
}

func (s *keyStore) install(f *fakeAPI, initial ...string) {
	s.keys = append([]string{}, initial...)
	f.Handle("GET", "/account/ssh-keys", apifake.Under(&s.mu, func() string { return mustJSON(map[string]any{"keys": s.keys}) }))
	f.Handle("PUT", "/account/ssh-keys", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Keys []string `json:"keys"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Keys == nil {
			writeProblem(w, 422, "Unprocessable Entity", "Request validation failed.", "$.keys: required")
			return
		}
		// The server is slow, so unserialised read-modify-writes would interleave.
		time.Sleep(20 * time.Millisecond)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.keys = body.Keys
		s.puts++
		writeRaw(w, 200, mustJSON(map[string]any{"keys": s.keys}))
	})
}

func (s *keyStore) snapshot() ([]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.keys...), s.puts
}

// podStore is a stateful GET/POST /pods: createPod answers decide per data center, and a
// created pod carries the request's name, env and data center.
type podStore struct {
	mu   sync.Mutex
	pods []map[string]any
	next int
}

func (s *podStore) install(f *fakeAPI, answer func(w http.ResponseWriter, dc string, created func() map[string]any)) {
	f.Handle("GET", "/pods", apifake.Under(&s.mu, func() string { return podsJSON(s.pods...) }))
	f.Handle("POST", "/pods", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name          string            `json:"name"`
			Env           map[string]string `json:"env"`
			DataCenterIDs []string          `json:"dataCenterIds"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		dc := ""
		if len(req.DataCenterIDs) > 0 {
			dc = req.DataCenterIDs[0]
		}
		created := func() map[string]any {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.next++
			p := podDoc("pod"+string(rune('0'+s.next)), "PROVISIONING", req.Env)
			p["name"] = req.Name
			p["dataCenterId"] = regionOrAny(dc)
			s.pods = append(s.pods, p)
			return p
		}
		answer(w, dc, created)
	})
}

// clusterDoc is a Cluster in the document's shape.
func clusterDoc(id, name string, podCount int) map[string]any {
	return map[string]any{
		"id": id, "name": name, "type": "TRAINING",
		"compute":   map[string]any{"gpuTypeId": "NVIDIA H100 80GB HBM3", "gpuCountPerPod": 8, "podCount": podCount},
		"pods":      map[string]any{"total": 0, "byStatus": map[string]int{}},
		"createdAt": "2026-06-29T20:00:00Z",
	}
}

// memberDoc is a cluster member pod; rank < 0 leaves the rank null.
func memberDoc(id, clusterID string, rank int, status string, env map[string]string) map[string]any {
	p := podDoc(id, status, env)
	m := map[string]any{"id": clusterID, "rank": nil}
	if rank >= 0 {
		m["rank"] = rank
		m["ip"] = "10.65.0." + string(rune('2'+rank))
	}
	p["cluster"] = m
	return p
}

// clusterStore is a stateful GET/POST /clusters and GET /pods: the create decides its answer,
// and created clusters get member pods carrying the request's environment.
type clusterStore struct {
	mu       sync.Mutex
	clusters []map[string]any
	pods     []map[string]any
}

func (s *clusterStore) install(f *fakeAPI, answer func(w http.ResponseWriter, create func() map[string]any)) {
	f.Handle("GET", "/clusters", apifake.Under(&s.mu, func() string {
		return mustJSON(map[string]any{"clusters": append([]map[string]any{}, s.clusters...)})
	}))
	f.Handle("GET", "/pods", apifake.Under(&s.mu, func() string { return podsJSON(s.pods...) }))
	f.Handle("POST", "/clusters", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name    string            `json:"name"`
			Env     map[string]string `json:"env"`
			Compute struct {
				PodCount int `json:"podCount"`
			} `json:"compute"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		answer(w, func() map[string]any { return s.add("new", req.Name, req.Compute.PodCount, req.Env) })
	})
}

// add makes a cluster with its member pods (PROVISIONING).
func (s *clusterStore) add(id, name string, podCount int, env map[string]string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	cl := clusterDoc(id, name, podCount)
	s.clusters = append(s.clusters, cl)
	for rank := range podCount {
		s.pods = append(s.pods, memberDoc(id+"-n"+string(rune('0'+rank)), id, rank, "PROVISIONING", env))
	}
	return cl
}

// catalogJSON is a GET /catalog/gpus answer with availability, in the document's shape.
func catalogJSON(gpus ...map[string]any) string { return mustJSON(map[string]any{"gpus": gpus}) }

func gpuDoc(id, name string, memory int, secure, community float64, maxSecure int, dcs map[string]string) map[string]any {
	var list []map[string]any
	for _, dc := range slices.Sorted(maps.Keys(dcs)) {
		list = append(list, map[string]any{"id": dc, "name": "DC " + dc, "availability": dcs[dc]})
	}
	g := map[string]any{
		"id": id, "name": name, "pool": nil, "manufacturer": "NVIDIA", "memory": memory,
		"secure": secure > 0, "community": community > 0,
		"price":        map[string]any{"secure": secure, "community": community},
		"maxCount":     map[string]any{"secure": maxSecure, "community": 4},
		"availability": "HIGH",
	}
	if list != nil {
		g["dataCenters"] = list
	}
	return g
}

// templateDoc is a Template as the document describes it (every required field).
func templateDoc(id string, serverless, jupyter bool, env map[string]string) string {
	if env == nil {
		env = map[string]string{}
	}
	return mustJSON(map[string]any{
		"id": id, "name": "tpl " + id, "image": "runpod/pytorch:2.4.0", "args": "", "disk": 50,
		"mounts": map[string]any{"persistent": map[string]any{"size": 20, "path": "/workspace"}},
		"ports":  []string{"8888/http", "22/tcp"}, "env": env, "registry": nil, "serverless": serverless,
		"public": true, "category": "NVIDIA", "startSsh": true, "startJupyter": jupyter, "allowedCudaVersions": []string{},
	})
}
