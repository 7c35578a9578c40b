package lambda

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/neocloud/terraform-provider-neocloud/internal/emulator/emucore"
)

// maxKeyNameLen bounds SSH key names; Lambda's console takes 64 characters.
const maxKeyNameLen = 64

// sshKey is the SSHKey model. Lambda never stores the private key of a generated pair, and
// neither does the emulator.
type sshKey struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	PublicKey string `json:"public_key"`
	created   time.Time
}

// SSHKeyView is an SSH key as the admin side sees it. PrivateKey is set only in AddSSHKey's
// answer for a generated pair, as the API returns it only once.
type SSHKeyView struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	PublicKey  string `json:"public_key"`
	PrivateKey string `json:"private_key,omitempty"`
}

func (e *Emulator) registerSSHKeys(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/ssh-keys", e.listSSHKeys)
	mux.HandleFunc("POST /api/v1/ssh-keys", e.addSSHKey)
	mux.HandleFunc("DELETE /api/v1/ssh-keys/{id}", e.deleteSSHKey)
}

func (e *Emulator) sortedSSHKeys() []*sshKey {
	out := make([]*sshKey, 0, len(e.state.sshKeys))
	for _, k := range e.state.sshKeys {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (e *Emulator) sshKeyByName(name string) *sshKey {
	for _, k := range e.state.sshKeys {
		if k.Name == name {
			return k
		}
	}
	return nil
}

func (e *Emulator) listSSHKeys(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []*sshKey{}
	out = append(out, e.sortedSSHKeys()...)
	respond(w, out, nil)
}

// addSSHKey imports a public key, or, without one, generates a pair and returns its private key
// this once (GeneratedSSHKey).
func (e *Emulator) addSSHKey(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name      string  `json:"name"`
		PublicKey *string `json:"public_key"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, err)
		return
	}
	publicKey := ""
	if req.PublicKey != nil {
		publicKey = *req.PublicKey
		if strings.TrimSpace(publicKey) == "" {
			// An explicit empty key is a mistake, not a request to generate one.
			writeError(w, errInvalidParameters("public_key is empty; omit it to have a key pair generated."))
			return
		}
	}
	view, err := e.addKey(req.Name, publicKey)
	respond(w, view, err)
}

// AddSSHKey adds an SSH key as POST /ssh-keys does: with an empty publicKey it generates a pair
// and returns the private key in the view. Errors are the API's (invalid name or key, duplicate).
func (e *Emulator) AddSSHKey(name, publicKey string) (SSHKeyView, error) {
	v, err := e.addKey(name, publicKey)
	if err != nil {
		return SSHKeyView{}, err
	}
	return v, nil
}

func (e *Emulator) addKey(name, publicKey string) (SSHKeyView, *apiError) {
	if name == "" {
		return SSHKeyView{}, errInvalidParameters("name is required.")
	}
	if utf8.RuneCountInString(name) > maxKeyNameLen {
		return SSHKeyView{}, errInvalidParameters("name must be %d characters or fewer.", maxKeyNameLen)
	}
	var privateKey string
	if publicKey == "" {
		var err error
		publicKey, privateKey, err = generateKeyPair(name)
		if err != nil {
			return SSHKeyView{}, &apiError{Status: http.StatusInternalServerError, Code: codeInternal,
				Message: "An internal server error occurred.", Suggestion: "Try again later."}
		}
	} else {
		publicKey = strings.TrimSpace(publicKey)
		if err := checkAuthorizedKey(publicKey); err != nil {
			return SSHKeyView{}, errInvalidParameters("public_key is not a valid OpenSSH public key: %v.", err)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.sshKeyByName(name) != nil {
		return SSHKeyView{}, errDuplicate("An SSH key named %q already exists.", name)
	}
	k := &sshKey{ID: emucore.NewID(16), Name: name, PublicKey: publicKey, created: e.now()}
	e.state.sshKeys[k.ID] = k
	return SSHKeyView{ID: k.ID, Name: k.Name, PublicKey: k.PublicKey, PrivateKey: privateKey}, nil
}

func (e *Emulator) deleteSSHKey(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := r.PathValue("id")
	if e.state.sshKeys[id] == nil {
		writeError(w, &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "SSH key was not found.",
			Suggestion: "Check the SSH key ID and try again."})
		return
	}
	// Running instances keep the key they booted with; Lambda lets a used key be deleted.
	delete(e.state.sshKeys, id)
	respond(w, map[string]any{}, nil)
}

// SSHKeys returns the account's SSH keys in creation order.
func (e *Emulator) SSHKeys() []SSHKeyView {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []SSHKeyView{}
	for _, k := range e.sortedSSHKeys() {
		out = append(out, SSHKeyView{ID: k.ID, Name: k.Name, PublicKey: k.PublicKey})
	}
	return out
}

// sshKeyTypes are the public key algorithms OpenSSH's authorized_keys accepts.
var sshKeyTypes = map[string]bool{
	"ssh-rsa": true, "ssh-dss": true, "ssh-ed25519": true,
	"ecdsa-sha2-nistp256": true, "ecdsa-sha2-nistp384": true, "ecdsa-sha2-nistp521": true,
	"sk-ssh-ed25519@openssh.com": true, "sk-ecdsa-sha2-nistp256@openssh.com": true,
}

// checkAuthorizedKey checks one authorized_keys line: "TYPE BASE64 [comment]", where the blob
// decodes and names the same type. It does not check the key's mathematics.
func checkAuthorizedKey(line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return errors.New("it must be a single line")
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return errors.New(`expected "TYPE BASE64-KEY [COMMENT]"`)
	}
	if !sshKeyTypes[fields[0]] {
		return fmt.Errorf("unknown key type %q", fields[0])
	}
	blob, err := base64.StdEncoding.DecodeString(fields[1])
	if err != nil {
		return errors.New("the key is not valid base64")
	}
	typ, rest, ok := readSSHString(blob)
	if !ok || string(typ) != fields[0] {
		return errors.New("the key data does not match its type")
	}
	if fields[0] == "ssh-ed25519" {
		if pub, _, ok := readSSHString(rest); !ok || len(pub) != ed25519.PublicKeySize {
			return errors.New("the ed25519 key has the wrong length")
		}
	} else if len(rest) == 0 {
		return errors.New("the key data is truncated")
	}
	return nil
}

// readSSHString reads an RFC 4251 string: a big-endian uint32 length, then that many bytes.
func readSSHString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

func appendSSHString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// generateKeyPair makes an ed25519 pair with the standard library only: the public key in
// authorized_keys format and the private key as an unencrypted "OPENSSH PRIVATE KEY" PEM (the
// openssh-key-v1 format ssh and ssh-keygen read). Lambda generates RSA pairs; an ed25519 pair
// is as usable and keeps the emulator free of dependencies.
func generateKeyPair(comment string) (publicKey, privateKey string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", err
	}
	const keyType = "ssh-ed25519"
	pubBlob := appendSSHString(appendSSHString(nil, []byte(keyType)), pub)
	publicKey = keyType + " " + base64.StdEncoding.EncodeToString(pubBlob) + " " + strings.ReplaceAll(comment, " ", "_")

	// The private section: a repeated random check word, the key, the comment, then padding
	// 1, 2, 3... to the cipher block size (8 for "none").
	var check [4]byte
	if _, err := rand.Read(check[:]); err != nil {
		return "", "", err
	}
	var section []byte
	section = append(section, check[:]...)
	section = append(section, check[:]...)
	section = appendSSHString(section, []byte(keyType))
	section = appendSSHString(section, pub)
	section = appendSSHString(section, priv) // seed || public key, 64 bytes, as OpenSSH stores it
	section = appendSSHString(section, []byte(comment))
	for i := byte(1); len(section)%8 != 0; i++ {
		section = append(section, i)
	}

	var body bytes.Buffer
	body.WriteString("openssh-key-v1\x00")
	body.Write(appendSSHString(nil, []byte("none"))) // cipher
	body.Write(appendSSHString(nil, []byte("none"))) // kdf
	body.Write(appendSSHString(nil, nil))            // kdf options
	body.Write(binary.BigEndian.AppendUint32(nil, 1))
	body.Write(appendSSHString(nil, pubBlob))
	body.Write(appendSSHString(nil, section))
	privateKey = string(pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: body.Bytes()}))
	return publicKey, privateKey, nil
}
