package runpod

import (
	"net/http"
	"slices"
)

// sshKeySchema is UpdateSshKeysRequest: the full replacement set, each entry an
// authorized_keys line matching the document's pattern.
var sshKeySchema = object(map[string]*schema{
	"keys": arrayOf(matching(`^(ssh|ecdsa|sk)-[^\s]+ [^\s]+([ \t][^\n\r]*)?$`)),
}, "keys")

func (e *Emulator) getSSHKeys(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": slices.Clone(e.sshKeys)})
}

// putSSHKeys replaces the account's keys as a whole (no merge; [] removes all). Running pods
// keep the PUBLIC_KEY they were created with, as the document says.
func (e *Emulator) putSSHKeys(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Keys []string `json:"keys"`
	}
	if _, err := decodeBody(r, sshKeySchema, &req); err != nil {
		writeErr(w, err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sshKeys = slices.Clone(req.Keys)
	if e.sshKeys == nil {
		e.sshKeys = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": slices.Clone(e.sshKeys)})
}
