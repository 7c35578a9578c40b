package lambda

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// A fake Lambda Cloud for the cluster tests: instances, launches, terminates, rulesets and filesystems
// in memory, on the fake API's routes.

func newLambdaCloud(t *testing.T, f *fakeAPI, capacityRegions ...string) *lambdaCloud {
	l := &lambdaCloud{t: t, f: f, capacity: -1, dropRank: -1}
	f.data("GET", "/ssh-keys", sshKeysJSON)
	f.data("GET", "/instance-types", instanceTypesJSON(capacityRegions...))
	f.Handle("GET", "/instances", listOf(l, func() []*fakeInst { return l.inst }, l.instanceJSON))
	f.Handle("POST", "/instance-operations/launch", l.launch)
	f.Handle("POST", "/instance-operations/terminate", l.terminate)
	f.Handle("GET", "/firewall-rulesets", listOf(l, func() []*fakeRuleset { return l.rulesets }, l.rulesetJSON))
	f.Handle("POST", "/firewall-rulesets", l.createRuleset)
	f.Handle("GET", "/file-systems", listOf(l, func() []*fakeFS { return l.fss }, l.fsJSON))
	f.Handle("POST", "/filesystems", l.createFS)
	return l
}

func (l *lambdaCloud) next(prefix string) string {
	l.seq++
	return fmt.Sprintf("%s-%d", prefix, l.seq)
}

func (l *lambdaCloud) instanceJSON(in *fakeInst) map[string]any {
	tags := []map[string]string{}
	for _, t := range in.tags {
		tags = append(tags, map[string]string{"key": t[0], "value": t[1]})
	}
	rss := []map[string]string{}
	for _, id := range in.rulesets {
		rss = append(rss, map[string]string{"id": id})
	}
	m := map[string]any{
		"id": in.id, "name": in.name, "status": in.status,
		"ssh_key_names": in.keys, "file_system_names": append([]string{}, in.fs...),
		"region": map[string]string{"name": in.region, "description": "somewhere"},
		"instance_type": map[string]any{
			"name": in.typ, "description": "8x H100 (80 GB SXM5)", "gpu_description": "H100 (80 GB SXM5)",
			"price_cents_per_hour": 2392,
			"specs":                map[string]int{"vcpus": 208, "memory_gib": 1800, "storage_gib": 24780, "gpus": 8},
		},
		"actions":           map[string]any{"terminate": map[string]any{"available": true}},
		"tags":              tags,
		"firewall_rulesets": rss,
	}
	if in.ip != "" {
		m["ip"], m["private_ip"] = in.ip, in.privateIP
	}
	return m
}

// listOf answers a list route with every item of the fake's state, under l.mu.
func listOf[T any](l *lambdaCloud, items func() []T, toJSON func(T) map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		l.mu.Lock()
		defer l.mu.Unlock()
		out := []map[string]any{}
		for _, it := range items() {
			out = append(out, toJSON(it))
		}
		writeOK(w, mustData(out))
	}
}

func mustData(v any) string {
	b, _ := json.Marshal(map[string]any{"data": v})
	return string(b)
}

func (l *lambdaCloud) launch(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Region   string   `json:"region_name"`
		Type     string   `json:"instance_type_name"`
		Keys     []string `json:"ssh_key_names"`
		FS       []string `json:"file_system_names"`
		Name     string   `json:"name"`
		Tags     []map[string]string
		Rulesets []map[string]string `json:"firewall_rulesets"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		l.t.Errorf("launch body: %v", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.launchTimes = append(l.launchTimes, time.Now())
	if l.capacity == 0 {
		writeErr(w, 400, CodeInsufficientCapacity, "Not enough capacity to fulfill launch request.", "Try another region or instance type.")
		return
	}
	if l.capacity > 0 {
		l.capacity--
	}
	in := &fakeInst{id: l.next("i"), name: req.Name, status: StatusBooting, region: req.Region, typ: req.Type, keys: req.Keys, fs: req.FS}
	for _, t := range req.Tags {
		in.tags = append(in.tags, [2]string{t["key"], t["value"]})
	}
	for _, rs := range req.Rulesets {
		in.rulesets = append(in.rulesets, rs["id"])
	}
	l.inst = append(l.inst, in)
	if l.dropRank >= 0 && strings.HasSuffix(req.Name, fmt.Sprintf("-%d", l.dropRank)) {
		l.dropRank = -1
		writeErr(w, 502, "global/internal-error", "upstream reset", "")
		return
	}
	writeOK(w, mustData(map[string]any{"instance_ids": []string{in.id}}))
}

func (l *lambdaCloud) terminate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		IDs []string `json:"instance_ids"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []map[string]any{}
	for _, in := range l.inst {
		if slices.Contains(req.IDs, in.id) {
			in.status = StatusTerminating
			out = append(out, l.instanceJSON(in))
		}
	}
	writeOK(w, mustData(map[string]any{"terminated_instances": out}))
}

// boot makes every booting instance active with its addresses.
func (l *lambdaCloud) boot() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, in := range l.inst {
		if in.status == StatusBooting {
			in.status = StatusActive
			in.ip, in.privateIP = fmt.Sprintf("192.0.2.%d", 10+i), fmt.Sprintf("10.19.0.%d", 10+i)
		}
	}
}

// finishTerminationsLocked makes terminating instances terminated: time passes between an
// "in use" answer and the next try. Called with l.mu held.
func (l *lambdaCloud) finishTerminationsLocked() {
	for _, in := range l.inst {
		if in.status == StatusTerminating {
			in.status = StatusTerminated
		}
	}
}

// add puts an instance into the account directly, in us-east-1 (one the provider's state
// never knew).
func (l *lambdaCloud) add(name, status string, tags ...[2]string) *fakeInst {
	l.mu.Lock()
	defer l.mu.Unlock()
	in := &fakeInst{id: l.next("i"), name: name, status: status, region: "us-east-1", typ: "gpu_8x_h100_sxm5", keys: []string{"me"}, tags: tags}
	l.inst = append(l.inst, in)
	return in
}

// with runs fn with the account locked, for tests that change or inspect it directly.
func (l *lambdaCloud) with(fn func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fn()
}

func (l *lambdaCloud) find(name string) *fakeInst {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, in := range l.inst {
		if in.name == name && in.status != StatusTerminated {
			return in
		}
	}
	return nil
}

// inUse reports whether an instance that has not finished terminating uses the ruleset or
// filesystem. Called with l.mu held.
func (l *lambdaCloud) inUse(rulesetID, fsName string) bool {
	for _, in := range l.inst {
		if in.status != StatusTerminated && (slices.Contains(in.rulesets, rulesetID) || slices.Contains(in.fs, fsName)) {
			return true
		}
	}
	return false
}

func (l *lambdaCloud) rulesetJSON(rs *fakeRuleset) map[string]any {
	ids := []string{}
	for _, in := range l.inst {
		if in.status != StatusTerminated && slices.Contains(in.rulesets, rs.id) {
			ids = append(ids, in.id)
		}
	}
	return map[string]any{
		"id": rs.id, "name": rs.name, "region": map[string]string{"name": rs.region, "description": "somewhere"},
		"rules": rs.rules, "created": rs.created.Format(time.RFC3339Nano), "instance_ids": ids,
	}
}

func (l *lambdaCloud) createRuleset(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name   string           `json:"name"`
		Region string           `json:"region"`
		Rules  []map[string]any `json:"rules"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	if req.Rules == nil {
		l.t.Errorf("ruleset created without a rules list")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	rs := &fakeRuleset{id: l.next("rs"), name: req.Name, region: req.Region, rules: req.Rules, created: time.Now()}
	l.rulesets = append(l.rulesets, rs)
	l.f.Handle("PATCH", "/firewall-rulesets/"+rs.id, func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Rules *[]map[string]any `json:"rules"`
		}
		_ = json.NewDecoder(r.Body).Decode(&p)
		l.mu.Lock()
		defer l.mu.Unlock()
		if p.Rules != nil {
			rs.rules = *p.Rules
		}
		writeOK(w, mustData(l.rulesetJSON(rs)))
	})
	l.f.Handle("DELETE", "/firewall-rulesets/"+rs.id, func(w http.ResponseWriter, _ *http.Request) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.inUse(rs.id, "") {
			writeErr(w, 400, CodeFirewallRulesetInUse, "Firewall ruleset is in use by one or more instances.", "")
			l.finishTerminationsLocked()
			return
		}
		l.rulesets = slices.DeleteFunc(l.rulesets, func(x *fakeRuleset) bool { return x == rs })
		writeOK(w, `{"data":{}}`)
	})
	writeOK(w, mustData(l.rulesetJSON(rs)))
}

func (l *lambdaCloud) fsJSON(fs *fakeFS) map[string]any {
	return map[string]any{
		"id": fs.id, "name": fs.name, "mount_point": "/lambda/nfs/" + fs.name, "created": fs.created.Format(time.RFC3339Nano),
		"created_by": map[string]string{"id": "u", "email": "e", "status": "active"}, "is_in_use": l.inUse("", fs.name),
		"region": map[string]string{"name": fs.region, "description": "somewhere"},
	}
}

func (l *lambdaCloud) createFS(w http.ResponseWriter, r *http.Request) {
	var req struct{ Name, Region string }
	_ = json.NewDecoder(r.Body).Decode(&req)
	writeOK(w, mustData(l.addFS(req.Name, req.Region, time.Now())))
}

func (l *lambdaCloud) addFS(name, region string, created time.Time) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	fs := &fakeFS{id: l.next("fs"), name: name, region: region, created: created}
	l.fss = append(l.fss, fs)
	l.f.Handle("DELETE", "/filesystems/"+fs.id, func(w http.ResponseWriter, _ *http.Request) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.inUse("", fs.name) {
			writeErr(w, 400, CodeFilesystemInUse, "Filesystem is in use.", "")
			l.finishTerminationsLocked()
			return
		}
		l.fss = slices.DeleteFunc(l.fss, func(x *fakeFS) bool { return x == fs })
		writeOK(w, mustData(map[string]any{"deleted_ids": []string{fs.id}}))
	})
	return l.fsJSON(fs)
}

// launchBodies decodes every launch request.
func launchBodies(t *testing.T, f *fakeAPI) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range f.Requests("POST", "/instance-operations/launch") {
		var m any
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatal(err)
		}
		body, ok := withoutLaunchedAt(t, m).(map[string]any)
		if !ok {
			t.Fatalf("launch body is not an object: %s", r.Body)
		}
		out = append(out, body)
	}
	return out
}

// launchPace is the test's launch limit (Lambda's is one per 12 s): short enough to keep the
// tests fast, long enough for the pacing to show.
const launchPace = 60 * time.Millisecond

// clusterTestCloud paces launches one per launchPace and shortens the shared poll intervals.
