package lambda

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// InstanceView is an instance as the admin side sees it: what a test asserts on, including what
// the API never echoes back (user data, the image asked for). Times are the emulator's.
type InstanceView struct {
	ID                 string            `json:"id"`
	Name               string            `json:"name"`
	Status             string            `json:"status"`
	InstanceType       string            `json:"instance_type"`
	Region             string            `json:"region"`
	GPUs               int               `json:"gpus"`
	Tags               map[string]string `json:"tags"`
	SSHKeyNames        []string          `json:"ssh_key_names"`
	FileSystemNames    []string          `json:"file_system_names"`
	FirewallRulesetIDs []string          `json:"firewall_ruleset_ids"`
	UserData           string            `json:"user_data"`
	// Image is the image id or family the launch asked for, empty for the default image.
	Image     string    `json:"image"`
	Hostname  string    `json:"hostname,omitempty"`
	IP        string    `json:"ip,omitempty"`
	PrivateIP string    `json:"private_ip,omitempty"`
	Created   time.Time `json:"created"`
	// Terminated is when the instance was terminated, preempted or deleted; nil while it lives.
	Terminated *time.Time `json:"terminated,omitempty"`
	// Gone says the API no longer shows the instance (it lingered out, or was deleted out of band).
	Gone bool `json:"gone"`
}

func (e *Emulator) view(in *instance, now time.Time) InstanceView {
	j := in.json(now)
	v := InstanceView{
		ID: in.id, Name: in.name, Status: j.Status, InstanceType: in.typ.Name, Region: in.region.Name, GPUs: in.typ.GPUs,
		Tags: map[string]string{}, SSHKeyNames: j.SSHKeyNames, FileSystemNames: j.FileSystemNames,
		FirewallRulesetIDs: nonNil(append([]string(nil), in.rulesetIDs...)), UserData: in.userData, Image: in.image,
		Hostname: j.Hostname, IP: j.IP, PrivateIP: j.PrivateIP, Created: in.created, Gone: !in.visible(now),
	}
	for _, t := range in.tags {
		v.Tags[t.Key] = t.Value
	}
	for _, end := range []time.Time{in.preemptedAt, in.terminateRequested} {
		if !end.IsZero() {
			v.Terminated = &end
			break
		}
	}
	return v
}

// Instances returns every instance launched since the last reset, in launch order, including
// terminated ones the API has already forgotten (Gone), so a test can check nothing leaked.
func (e *Emulator) Instances() []InstanceView {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	out := []InstanceView{}
	for _, in := range e.sortedInstances() {
		out = append(out, e.view(in, now))
	}
	return out
}

// LiveInstances returns the instances that are booting, active or unhealthy: the ones that
// still cost money and count against the quota.
func (e *Emulator) LiveInstances() []InstanceView {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	out := []InstanceView{}
	for _, in := range e.sortedInstances() {
		if in.live(now) {
			out = append(out, e.view(in, now))
		}
	}
	return out
}

// ErrNoInstance is returned by the admin methods for an id the API does not show.
var ErrNoInstance = errors.New("lambda emulator: no such instance")

// liveTarget finds an instance for an admin action that needs it alive.
func (e *Emulator) liveTarget(id string, now time.Time) (*instance, error) {
	in := e.visibleInstance(id, now)
	if in == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoInstance, id)
	}
	if !in.live(now) {
		return nil, fmt.Errorf("lambda emulator: instance %s is already %s", id, in.status(now))
	}
	return in, nil
}

// Preempt makes a live instance "preempted", as when Lambda reclaims a machine: it frees its
// machine and GPUs at once, stays listed for the linger time, then vanishes.
func (e *Emulator) Preempt(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	in, err := e.liveTarget(id, now)
	if err != nil {
		return err
	}
	in.preemptedAt = now
	in.goneAt = now.Add(e.scaled(terminatedLinger))
	e.release(in)
	return nil
}

// MarkUnhealthy makes a live instance "unhealthy" until it is restarted or terminated.
func (e *Emulator) MarkUnhealthy(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	in, err := e.liveTarget(id, e.now())
	if err != nil {
		return err
	}
	in.unhealthy = true
	return nil
}

// DeleteOutOfBand removes an instance behind the API's back (as if deleted in the console): it
// vanishes at once, GET answers 404, and its machine and GPUs are freed.
func (e *Emulator) DeleteOutOfBand(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	in := e.visibleInstance(id, now)
	if in == nil {
		return fmt.Errorf("%w: %s", ErrNoInstance, id)
	}
	if in.terminateRequested.IsZero() && in.preemptedAt.IsZero() {
		in.terminateRequested, in.terminatedAt = now, now
	}
	in.goneAt = now
	e.release(in)
	return nil
}

// SetQuota sets the maximum number of GPUs in live instances. It does not touch instances
// already running over a lowered quota; it only refuses new launches.
func (e *Emulator) SetQuota(gpus int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.state.quotaGPUs = max(gpus, 0)
}

// Quota returns the GPU quota.
func (e *Emulator) Quota() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state.quotaGPUs
}

// Reset puts the emulator back to the state New gave it: no instances, keys, filesystems or
// rulesets; default capacity, quota and global firewall rules; call counters and faults cleared.
func (e *Emulator) Reset() {
	e.mu.Lock()
	e.state = e.initialState()
	e.mu.Unlock()
	e.Core.Stats.Reset()
	e.Core.ClearFaults()
	e.Core.ResetRateLimits()
}

// capacityCell is one cell of the capacity table, as the admin API reads and writes it.
type capacityCell struct {
	InstanceType string `json:"instance_type"`
	Region       string `json:"region"`
	Available    int    `json:"available"`
}

// AdminHandler serves the admin API relative to its own root (see the package comment), on top
// of emucore's /stats and /faults. It has no auth of its own: the server that mounts it decides.
func (e *Emulator) AdminHandler() http.Handler {
	mux := e.Core.AdminHandler()
	mux.HandleFunc("GET /instances", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, e.Instances())
	})
	mux.HandleFunc("GET /capacity", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, e.capacityCells())
	})
	mux.HandleFunc("PUT /capacity", func(w http.ResponseWriter, r *http.Request) {
		var c capacityCell
		if !decodeAdmin(w, r, &c) {
			return
		}
		if err := e.setCapacity(c.InstanceType, c.Region, c.Available); err != nil {
			adminError(w, http.StatusBadRequest, err)
			return
		}
		emucore.WriteJSON(w, http.StatusOK, c)
	})
	instanceAction := func(action func(string) error) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := action(r.PathValue("id")); err != nil {
				status := http.StatusConflict
				if errors.Is(err, ErrNoInstance) {
					status = http.StatusNotFound
				}
				adminError(w, status, err)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}
	mux.HandleFunc("POST /instances/{id}/preempt", instanceAction(e.Preempt))
	mux.HandleFunc("POST /instances/{id}/unhealthy", instanceAction(e.MarkUnhealthy))
	mux.HandleFunc("DELETE /instances/{id}", instanceAction(e.DeleteOutOfBand))
	mux.HandleFunc("GET /quota", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, map[string]int{"gpus": e.Quota()})
	})
	mux.HandleFunc("PUT /quota", func(w http.ResponseWriter, r *http.Request) {
		var q struct {
			GPUs *int `json:"gpus"`
		}
		if !decodeAdmin(w, r, &q) {
			return
		}
		if q.GPUs == nil || *q.GPUs < 0 {
			adminError(w, http.StatusBadRequest, errors.New(`body must be {"gpus": N} with N >= 0`))
			return
		}
		e.SetQuota(*q.GPUs)
		emucore.WriteJSON(w, http.StatusOK, map[string]int{"gpus": *q.GPUs})
	})
	mux.HandleFunc("GET /ssh-keys", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, e.SSHKeys())
	})
	mux.HandleFunc("GET /file-systems", func(w http.ResponseWriter, _ *http.Request) {
		emucore.WriteJSON(w, http.StatusOK, e.FileSystems())
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) {
		e.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// capacityCells lists every cell that has ever been set (zeros included), in catalog order.
func (e *Emulator) capacityCells() []capacityCell {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.capacityCellsLocked()
}

// capacityCellsLocked is capacityCells with e.mu held.
func (e *Emulator) capacityCellsLocked() []capacityCell {
	out := []capacityCell{}
	for _, t := range instanceTypes {
		for _, r := range regions {
			if n, ok := e.state.capacity[capacityKey{t.Name, r.Name}]; ok {
				out = append(out, capacityCell{InstanceType: t.Name, Region: r.Name, Available: n})
			}
		}
	}
	return out
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		adminError(w, http.StatusBadRequest, fmt.Errorf("invalid JSON body: %w", err))
		return false
	}
	return true
}

// adminError answers the admin API's own failures: plain {"error": "..."}, not Lambda's format,
// so nobody mistakes them for vendor answers.
func adminError(w http.ResponseWriter, status int, err error) {
	emucore.WriteJSON(w, status, map[string]string{"error": err.Error()})
}
