package runpod

import (
	"cmp"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// registry is a container registry credential (schema Registry plus the write-only
// CreateRegistryRequest fields the API never returns).
type registry struct {
	id, name           string
	username, password string
	createdAt          time.Time
}

type registryJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (g *registry) json() registryJSON { return registryJSON{ID: g.id, Name: g.name} }

// createRegistrySchema is CreateRegistryRequest (additionalProperties: false).
var createRegistrySchema = object(map[string]*schema{
	"name":     nonEmpty(),
	"username": nonEmpty(),
	"password": nonEmpty(),
}, "name", "username", "password")

// sortedRegistries returns the credentials oldest first. Called with e.mu held.
func (e *Emulator) sortedRegistries() []*registry {
	rs := slices.Collect(maps.Values(e.registries))
	slices.SortFunc(rs, func(a, b *registry) int {
		return cmp.Or(a.createdAt.Compare(b.createdAt), cmp.Compare(a.id, b.id))
	})
	return rs
}

func (e *Emulator) listRegistries(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []registryJSON{}
	for _, g := range e.sortedRegistries() {
		out = append(out, g.json())
	}
	writeJSON(w, http.StatusOK, map[string]any{"registries": out})
}

// createRegistry stores a credential. The username and password are write-only: the answer,
// like every later read, carries only the id and name.
func (e *Emulator) createRegistry(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     string `json:"name"`
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if _, err := decodeBody(r, createRegistrySchema, &req); err != nil {
		writeErr(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	g := &registry{id: newID(10), name: req.Name, username: req.Username, password: req.Password, createdAt: time.Now()}
	e.registries[g.id] = g
	writeJSON(w, http.StatusCreated, g.json())
}

func (e *Emulator) getRegistry(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.registries[r.PathValue("id")]
	if g == nil {
		writeProblem(w, http.StatusNotFound, "container registry credential not found")
		return
	}
	writeJSON(w, http.StatusOK, g.json())
}

// deleteRegistry deletes a credential unless a pod pulls its image with it (400, as the
// document says). Templates that name it lose the reference instead of blocking the delete.
func (e *Emulator) deleteRegistry(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sweep(time.Now())
	id := r.PathValue("id")
	if e.registries[id] == nil {
		writeProblem(w, http.StatusNotFound, "container registry credential not found")
		return
	}
	if users := e.registryUsers(id); len(users) > 0 {
		writeProblem(w, http.StatusBadRequest, "Registry credential is in use by a pod and cannot be deleted (pods: "+strings.Join(users, ", ")+")")
		return
	}
	for _, t := range e.templates {
		if t.registry != nil && *t.registry == id {
			t.registry = nil
		}
	}
	delete(e.registries, id)
	w.WriteHeader(http.StatusNoContent)
}

// registryUsers lists the pods (not terminated) that pull with a credential. Called with e.mu
// held.
func (e *Emulator) registryUsers(id string) []string {
	var out []string
	for _, p := range e.sortedPods() {
		if p.phase != phaseTerminated && p.registry != nil && *p.registry == id {
			out = append(out, p.id)
		}
	}
	return out
}

// checkRegistry resolves a credential a pod or template names; status is the document's answer
// to a missing one for that request. Called with e.mu held.
func (e *Emulator) checkRegistry(id *string, status int) error {
	if id != nil && e.registries[*id] == nil {
		return errorf(status, "container registry credential %q not found; see GET /v2/registries", *id)
	}
	return nil
}
