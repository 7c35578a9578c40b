package lambda

import (
	"net/http"
	"regexp"
	"sort"
	"time"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// fileSystem is a persistent filesystem. The API spells the word two ways (GET /file-systems,
// POST and DELETE /filesystems); so does the emulator, as the real one does.
type fileSystem struct {
	id, name   string
	region     region
	mountPoint string
	created    time.Time
}

// fileSystemJSON is the Filesystem model.
type fileSystemJSON struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	MountPoint string    `json:"mount_point"`
	Created    time.Time `json:"created"`
	CreatedBy  userJSON  `json:"created_by"`
	IsInUse    bool      `json:"is_in_use"`
	Region     region    `json:"region"`
	BytesUsed  int64     `json:"bytes_used"`
}

// userJSON is the User model; the emulated account has a single user.
type userJSON struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Status string `json:"status"`
}

var accountUser = userJSON{ID: "9f3c2a1be0d94c6f8a7b5e4d3c2b1a09", Email: "emulator@example.com", Status: "active"}

// FileSystemView is a filesystem as the admin side sees it.
type FileSystemView struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Region     string    `json:"region"`
	MountPoint string    `json:"mount_point"`
	InUse      bool      `json:"in_use"`
	Created    time.Time `json:"created"`
}

// fileSystemNameRE is what Lambda's console takes: a letter, then letters, digits, - and _,
// 60 characters at most.
var fileSystemNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,59}$`)

func (e *Emulator) registerFileSystems(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/file-systems", e.listFileSystems)
	mux.HandleFunc("POST /api/v1/filesystems", e.createFileSystem)
	mux.HandleFunc("DELETE /api/v1/filesystems/{id}", e.deleteFileSystem)
}

func (e *Emulator) fileSystemByName(name string) *fileSystem {
	for _, fs := range e.state.fileSystems {
		if fs.name == name {
			return fs
		}
	}
	return nil
}

// fileSystemInUse reports whether an instance that has not finished terminating mounts it.
func (e *Emulator) fileSystemInUse(id string, now time.Time) bool {
	for _, in := range e.state.instances {
		if !in.inUse(now) {
			continue
		}
		for _, m := range in.mounts {
			if m.fileSystemID == id {
				return true
			}
		}
	}
	return false
}

func (e *Emulator) sortedFileSystems() []*fileSystem {
	out := make([]*fileSystem, 0, len(e.state.fileSystems))
	for _, fs := range e.state.fileSystems {
		out = append(out, fs)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].id < out[j].id
	})
	return out
}

func (e *Emulator) fileSystemJSON(fs *fileSystem, now time.Time) fileSystemJSON {
	return fileSystemJSON{
		ID: fs.id, Name: fs.name, MountPoint: fs.mountPoint, Created: fs.created, CreatedBy: accountUser,
		IsInUse: e.fileSystemInUse(fs.id, now), Region: fs.region,
	}
}

func (e *Emulator) listFileSystems(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	out := []fileSystemJSON{}
	for _, fs := range e.sortedFileSystems() {
		out = append(out, e.fileSystemJSON(fs, now))
	}
	respond(w, out, nil)
}

// createFileSystem takes FilesystemCreateRequest: a name and a region. Names are unique in the
// account, because launches refer to filesystems by name.
func (e *Emulator) createFileSystem(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name   string `json:"name"`
		Region string `json:"region"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	if !fileSystemNameRE.MatchString(req.Name) {
		writeError(w, errInvalidParameters("name %q is not a valid filesystem name: 1-60 characters, a letter, then letters, digits, - or _.", req.Name))
		return
	}
	reg, ok := findRegion(req.Region)
	if !ok {
		writeError(w, errInvalidParameters("region %q is not a Lambda region. Regions: %s.", req.Region, regionNames()))
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fileSystemByName(req.Name) != nil {
		writeError(w, errDuplicate("A filesystem named %q already exists.", req.Name))
		return
	}
	now := e.now()
	fs := &fileSystem{id: emucore.NewID(16), name: req.Name, region: reg, mountPoint: "/lambda/nfs/" + req.Name, created: now.UTC()}
	e.state.fileSystems[fs.id] = fs
	respond(w, e.fileSystemJSON(fs, now), nil)
}

func (e *Emulator) deleteFileSystem(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := r.PathValue("id")
	fs := e.state.fileSystems[id]
	if fs == nil {
		writeError(w, &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "Filesystem was not found."})
		return
	}
	if e.fileSystemInUse(id, e.now()) {
		writeError(w, &apiError{Status: http.StatusBadRequest, Code: codeFileSystemInUse,
			Message:    "Filesystem " + fs.name + " is mounted by one or more instances.",
			Suggestion: "Terminate the instances that use the filesystem, then try again."})
		return
	}
	delete(e.state.fileSystems, id)
	respond(w, map[string][]string{"deleted_ids": {id}}, nil)
}

// FileSystems returns the account's filesystems in creation order.
func (e *Emulator) FileSystems() []FileSystemView {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	out := []FileSystemView{}
	for _, fs := range e.sortedFileSystems() {
		out = append(out, FileSystemView{ID: fs.id, Name: fs.name, Region: fs.region.Name, MountPoint: fs.mountPoint,
			InUse: e.fileSystemInUse(fs.id, now), Created: fs.created})
	}
	return out
}
