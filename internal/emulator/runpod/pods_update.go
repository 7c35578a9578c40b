package runpod

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Changes to a live pod: PATCH /pods/{podId} (image, env, mounts, registry, ...) and the
// start, stop, restart, reset actions.

var updatePodSchema = object(containerProps(map[string]*schema{
	"registry":         str().orNull(),
	"globalNetworking": boolean(),
	"locked":           boolean(),
	"mounts":           mountsSchema,
	"name":             nonEmpty(),
	"templateId":       str(),
}))

type updatePodRequest struct {
	Name             *string           `json:"name"`
	Image            *string           `json:"image"`
	Args             *string           `json:"args"`
	Disk             *int              `json:"disk"`
	Env              map[string]string `json:"env"`
	Ports            []string          `json:"ports"`
	Registry         *string           `json:"registry"`
	GlobalNetworking *bool             `json:"globalNetworking"`
	Locked           *bool             `json:"locked"`
	Mounts           *mountsRequest    `json:"mounts"`
	TemplateID       *string           `json:"templateId"`
}

// updatePod is a PATCH: only fields present change. Container settings (image, args, env,
// ports, disk, registry, mounts) apply immediately, which on RunPod means the container is
// recreated: a STARTING or RUNNING pod goes back to STARTING and loses its port mappings until
// PortsDelay after it is RUNNING again. name and locked apply without a restart;
// globalNetworking waits for the next start/restart, as the document says.
func (e *Emulator) updatePod(w http.ResponseWriter, r *http.Request) {
	var req updatePodRequest
	raw, err := decodeBody(r, updatePodSchema, &req)
	if err != nil {
		writeErr(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	p, err := e.livePod(r.PathValue("id"))
	if err != nil {
		writeErr(w, err)
		return
	}
	if err := e.applyPodUpdate(p, &req, raw, now); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, e.podJSON(p, now))
}

func (e *Emulator) applyPodUpdate(p *pod, req *updatePodRequest, raw map[string]any, now time.Time) error {
	if p.clusterID != "" {
		return errorf(http.StatusConflict, "pod %s belongs to cluster %s and cannot be modified via the pod endpoints; use /v2/clusters/%s", p.id, p.clusterID, p.clusterID)
	}
	if req.TemplateID != nil {
		t, err := e.podTemplate(*req.TemplateID)
		if err != nil {
			return err
		}
		t.applyToUpdate(req, raw)
	}
	if err := e.checkRegistry(req.Registry, http.StatusNotFound); err != nil {
		return err
	}
	if _, ok := raw["ports"]; ok {
		if err := checkPorts(req.Ports); err != nil {
			return err
		}
	}
	if req.GlobalNetworking != nil && *req.GlobalNetworking {
		if p.gpu == nil || p.gpu.Manufacturer != "NVIDIA" {
			return errorf(http.StatusBadRequest, "globalNetworking requires an NVIDIA GPU")
		}
		if !p.dc.GlobalNetwork {
			return errorf(http.StatusBadRequest, "data center %s does not support global networking", p.dc.ID)
		}
	}
	if err := checkMountsPatch(p, req.Mounts, raw); err != nil {
		return err
	}

	// Everything is valid: apply.
	changed := false
	if req.Name != nil {
		p.name = *req.Name
	}
	if req.Locked != nil {
		p.locked = *req.Locked
	}
	if req.GlobalNetworking != nil {
		p.globalWant = *req.GlobalNetworking
	}
	if req.Image != nil && *req.Image != p.image {
		p.image, changed = *req.Image, true
	}
	if req.Args != nil && *req.Args != p.args {
		p.args, changed = *req.Args, true
	}
	if req.Disk != nil && *req.Disk != p.disk {
		p.disk, changed = *req.Disk, true
	}
	if _, ok := raw["env"]; ok && !maps.Equal(req.Env, p.env) {
		// PATCH semantics: env replaces the pod's env as a whole.
		p.env, changed = maps.Clone(req.Env), true
		if p.env == nil {
			p.env = map[string]string{}
		}
	}
	if _, ok := raw["ports"]; ok && !slices.Equal(req.Ports, p.ports) {
		p.ports, changed = slices.Clone(req.Ports), true
		p.assignPorts()
	}
	if _, ok := raw["registry"]; ok && !equalPtr(req.Registry, p.registry) {
		// A new credential (or none: null) is used to pull the image again.
		p.registry, changed = nil, true
		if req.Registry != nil {
			p.registry = ptr(*req.Registry)
		}
	}
	if m := req.Mounts; m != nil {
		if m.Persistent != nil && *m.Persistent != *p.persistent {
			p.persistent, changed = ptr(*m.Persistent), true
		}
		if len(m.Network) > 0 && m.Network[0].Path != p.network[0].Path {
			p.network, changed = slices.Clone(m.Network), true
		}
	}
	if changed {
		if s := p.status(now); s == statusStarting || s == statusRunning {
			e.boot(p, now, false)
		}
	}
	return nil
}

// checkMountsPatch enforces the Mounts PATCH rules of the document.
func checkMountsPatch(p *pod, m *mountsRequest, raw map[string]any) error {
	if m == nil {
		return nil
	}
	rawMounts, _ := raw["mounts"].(map[string]any)
	_, hasNetwork := rawMounts["network"]
	if hasNetwork && len(m.Network) == 0 {
		return errorf(http.StatusBadRequest, "mounts.network: [] is not supported; mounts cannot be cleared")
	}
	if m.Persistent != nil && hasNetwork {
		return errorf(http.StatusBadRequest, "mounts.persistent and mounts.network are mutually exclusive")
	}
	if m.Persistent != nil {
		if p.persistent == nil {
			return errorf(http.StatusBadRequest, "mounts.persistent: the mount kind is fixed at create and this pod has no persistent mount")
		}
		if m.Persistent.Size < p.persistent.Size {
			return errorf(http.StatusBadRequest, "mounts.persistent.size: persistent storage can only grow (current %d GB, requested %d GB)", p.persistent.Size, m.Persistent.Size)
		}
	}
	if hasNetwork {
		if len(p.network) == 0 {
			return errorf(http.StatusBadRequest, "mounts.network: the mount kind is fixed at create and this pod has no network mount")
		}
		if m.Network[0].VolumeID != p.network[0].VolumeID {
			return errorf(http.StatusBadRequest, "mounts.network[0].volumeId is immutable (currently %s)", p.network[0].VolumeID)
		}
	}
	return nil
}

func (e *Emulator) podAction(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Action string `json:"action"`
	}
	if _, err := decodeBody(r, podActionSchema, &req); err != nil {
		writeErr(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now()
	e.sweep(now)
	p, err := e.livePod(r.PathValue("id"))
	if err != nil {
		writeErr(w, err)
		return
	}
	if err := e.applyAction(p, req.Action, now); err != nil {
		writeErr(w, err)
		return
	}
	if req.Action == "terminate" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, e.podJSON(p, now))
}

// applyAction performs one PodAction. Called with e.mu held.
func (e *Emulator) applyAction(p *pod, action string, now time.Time) error {
	if p.clusterID != "" {
		return errorf(http.StatusConflict, "pod %s belongs to cluster %s and cannot be controlled via the pod endpoints", p.id, p.clusterID)
	}
	status := p.status(now)
	if !slices.Contains(p.actions(now), action) {
		if p.locked && (action == "stop" || action == "restart") {
			return errorf(http.StatusConflict, "pod %s is locked; unlock it (PATCH locked=false) before stopping or restarting it", p.id)
		}
		return errorf(http.StatusConflict, "action %s is not valid for a pod in status %s (valid: %s)", action, status, strings.Join(p.actions(now), ", "))
	}
	switch action {
	case "start":
		if !p.holdsCompute {
			if err := e.checkBalance(p.hourlyCost()); err != nil {
				return err
			}
			if p.gpu != nil {
				// A stopped pod resumes onto the machine it was assigned.
				key := capKey{p.gpu.ID, p.dc.ID, p.cloud}
				if e.capacity[key] < p.gpuCount {
					return errorf(http.StatusBadRequest, hostCapacityDetail)
				}
				e.capacity[key] -= p.gpuCount
			}
			p.holdsCompute = true
		}
		e.boot(p, now, true)
	case "stop":
		e.release(p)
		p.phase = phaseExited
	case "restart":
		e.boot(p, now, false)
	case "terminate":
		e.terminate(p, now)
	}
	return nil
}
