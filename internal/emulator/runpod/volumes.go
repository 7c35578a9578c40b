package runpod

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// volume is a network volume: persistent storage pinned to one data center.
type volume struct {
	id, name  string
	size      int // GB
	dc        string
	typ       string
	createdAt time.Time
}

type volumeJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Size       int    `json:"size"`
	DataCenter string `json:"dataCenter"`
	Type       string `json:"type"`
}

func (v *volume) json() volumeJSON {
	return volumeJSON{ID: v.id, Name: v.name, Size: v.size, DataCenter: v.dc, Type: v.typ}
}

// usersOf lists the pods that mount v and still exist, stopped ones included (a stopped pod
// keeps its mounts). Called with e.mu held.
func (e *Emulator) usersOf(v *volume) []string {
	var ids []string
	for _, p := range e.sortedPods() {
		if p.phase != phaseTerminated && len(p.network) > 0 && p.network[0].VolumeID == v.id {
			ids = append(ids, p.id)
		}
	}
	return ids
}

var createVolumeSchema = object(map[string]*schema{
	"dataCenter": nonEmpty(),
	"name":       nonEmpty(),
	"size":       intRange(10, 4096),
	"type":       enum(volumeTypeEnum...),
}, "name", "size", "dataCenter")

var updateVolumeSchema = func() *schema {
	s := object(map[string]*schema{"name": nonEmpty(), "size": intRange(10, 4096)})
	s.minProps = 1
	return s
}()

func (e *Emulator) listVolumes(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []volumeJSON{}
	for _, v := range e.sortedVolumes() {
		out = append(out, v.json())
	}
	writeJSON(w, http.StatusOK, map[string]any{"networkVolumes": out})
}

// sortedVolumes returns the volumes oldest first. Called with e.mu held.
func (e *Emulator) sortedVolumes() []*volume {
	vs := slices.Collect(maps.Values(e.volumes))
	slices.SortFunc(vs, func(a, b *volume) int {
		return cmp.Or(a.createdAt.Compare(b.createdAt), cmp.Compare(a.id, b.id))
	})
	return vs
}

func (e *Emulator) createVolume(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DataCenter string `json:"dataCenter"`
		Name       string `json:"name"`
		Size       int    `json:"size"`
		Type       string `json:"type"`
	}
	if _, err := decodeBody(r, createVolumeSchema, &req); err != nil {
		writeErr(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	dc := e.findDC(req.DataCenter)
	if dc == nil {
		writeErr(w, errorf(http.StatusBadRequest, "unknown data center %q; see GET /v2/catalog/datacenters", req.DataCenter))
		return
	}
	if len(dc.VolumeTypes) == 0 {
		writeProblem(w, http.StatusBadRequest, "data center "+dc.ID+" does not offer network volumes")
		return
	}
	// Omitted type: the data center's default (primary) tier.
	typ := cmp.Or(req.Type, dc.VolumeTypes[0])
	if !slices.Contains(dc.VolumeTypes, typ) {
		writeProblem(w, http.StatusBadRequest, "data center "+dc.ID+" does not offer "+typ+" network volumes (offers "+strings.Join(dc.VolumeTypes, ", ")+")")
		return
	}
	v := &volume{id: newID(10), name: req.Name, size: req.Size, dc: dc.ID, typ: typ, createdAt: time.Now()}
	e.volumes[v.id] = v
	writeJSON(w, http.StatusCreated, v.json())
}

func (e *Emulator) getVolume(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v := e.volumes[r.PathValue("id")]
	if v == nil {
		writeProblem(w, http.StatusNotFound, "network volume not found")
		return
	}
	writeJSON(w, http.StatusOK, v.json())
}

// updateVolume renames and/or grows a volume. Storage cannot be reduced: a smaller size is the
// document's 400 ("size decrease attempted"); the same size is accepted as a no-op.
func (e *Emulator) updateVolume(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name *string `json:"name"`
		Size *int    `json:"size"`
	}
	if _, err := decodeBody(r, updateVolumeSchema, &req); err != nil {
		writeErr(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	v := e.volumes[r.PathValue("id")]
	if v == nil {
		writeProblem(w, http.StatusNotFound, "network volume not found")
		return
	}
	if req.Size != nil && *req.Size < v.size {
		writeErr(w, errorf(http.StatusBadRequest, "network volume size can only be increased (current %d GB, requested %d GB)", v.size, *req.Size))
		return
	}
	if req.Name != nil {
		v.name = *req.Name
	}
	if req.Size != nil {
		v.size = *req.Size
	}
	writeJSON(w, http.StatusOK, v.json())
}

// deleteVolume deletes an unused volume. A volume still mounted by a pod is refused with 400,
// the status the document gives its other "in use" deletions (templates, registries).
func (e *Emulator) deleteVolume(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sweep(time.Now())
	v := e.volumes[r.PathValue("id")]
	if v == nil {
		writeProblem(w, http.StatusNotFound, "network volume not found")
		return
	}
	if users := e.usersOf(v); len(users) > 0 {
		writeErr(w, errorf(http.StatusBadRequest, "network volume %s is in use by pod(s) %s and cannot be deleted; terminate them first", v.id, strings.Join(users, ", ")))
		return
	}
	delete(e.volumes, v.id)
	w.WriteHeader(http.StatusNoContent)
}
