package lambda

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

type wireKey struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	PublicKey  string  `json:"public_key"`
	PrivateKey *string `json:"private_key"`
}

func TestSSHKeyImport(t *testing.T) {
	e, c := newTestEmulator(t, Options{})
	var k wireKey
	c.ok("POST", "/api/v1/ssh-keys", map[string]string{"name": "laptop", "public_key": testKey + "\n"}, &k)
	if k.ID == "" || k.Name != "laptop" || k.PublicKey != testKey || k.PrivateKey != nil {
		t.Fatalf("imported key answered %+v", k)
	}
	var list []wireKey
	c.ok("GET", "/api/v1/ssh-keys", nil, &list)
	if len(list) != 1 || list[0] != (wireKey{ID: k.ID, Name: "laptop", PublicKey: testKey}) {
		t.Fatalf("list %+v", list)
	}

	c.fail("POST", "/api/v1/ssh-keys", map[string]string{"name": "laptop", "public_key": testKey}, 409, "global/duplicate")
	for _, badKey := range []string{"", "hello", "ssh-ed25519 !!!notbase64", "ssh-rsa " + strings.Fields(testKey)[1], "ssh-foo AAAA"} {
		c.fail("POST", "/api/v1/ssh-keys", map[string]string{"name": "other", "public_key": badKey}, 400, "global/invalid-parameters")
	}
	c.fail("POST", "/api/v1/ssh-keys", map[string]string{"public_key": testKey}, 400, "global/invalid-parameters")
	c.fail("POST", "/api/v1/ssh-keys", map[string]string{"name": strings.Repeat("n", 65), "public_key": testKey}, 400, "global/invalid-parameters")

	c.ok("DELETE", "/api/v1/ssh-keys/"+k.ID, nil, nil)
	c.fail("DELETE", "/api/v1/ssh-keys/"+k.ID, nil, 404, "global/object-does-not-exist")
	if len(e.SSHKeys()) != 0 {
		t.Fatal("key not deleted")
	}
}

func TestSSHKeyGenerate(t *testing.T) {
	e, c := newTestEmulator(t, Options{})
	var k wireKey
	c.ok("POST", "/api/v1/ssh-keys", map[string]string{"name": "generated"}, &k)
	if k.PrivateKey == nil || !strings.HasPrefix(k.PublicKey, "ssh-ed25519 ") {
		t.Fatalf("generated key answered %+v", k)
	}
	if err := checkAuthorizedKey(k.PublicKey); err != nil {
		t.Fatalf("generated public key does not parse: %v", err)
	}
	checkOpenSSHPrivateKey(t, *k.PrivateKey, k.PublicKey)

	// Lambda does not keep the private key: it is never shown again.
	var list []wireKey
	c.ok("GET", "/api/v1/ssh-keys", nil, &list)
	if len(list) != 1 || list[0].PrivateKey != nil || list[0].PublicKey != k.PublicKey {
		t.Fatalf("list %+v", list)
	}
	if views := e.SSHKeys(); len(views) != 1 || views[0].PrivateKey != "" {
		t.Fatalf("admin view %+v", views)
	}
	// The generated key launches like an imported one.
	c.launch(map[string]any{"instance_type_name": "gpu_1x_a10", "region_name": "us-east-1", "ssh_key_names": []string{"generated"}})

	// If ssh-keygen is here, it must read the private key and derive the same public key.
	if keygen, err := exec.LookPath("ssh-keygen"); err == nil {
		file := filepath.Join(t.TempDir(), "id")
		if err := os.WriteFile(file, []byte(*k.PrivateKey), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(keygen, "-y", "-f", file).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen -y: %v: %s", err, out)
		}
		if got := strings.Fields(string(out)); len(got) < 2 || got[1] != strings.Fields(k.PublicKey)[1] {
			t.Fatalf("ssh-keygen derived %q, want %q", out, k.PublicKey)
		}
	}
}

// checkOpenSSHPrivateKey parses an unencrypted openssh-key-v1 PEM and checks that it holds the
// ed25519 key whose public half is publicKey.
func checkOpenSSHPrivateKey(t *testing.T, privatePEM, publicKey string) {
	t.Helper()
	block, rest := pem.Decode([]byte(privatePEM))
	if block == nil || block.Type != "OPENSSH PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("private key is not one OPENSSH PRIVATE KEY PEM block")
	}
	b, ok := bytes.CutPrefix(block.Bytes, []byte("openssh-key-v1\x00"))
	if !ok {
		t.Fatal("missing openssh-key-v1 magic")
	}
	next := func() []byte {
		s, r, ok := readSSHString(b)
		if !ok {
			t.Fatal("truncated private key")
		}
		b = r
		return s
	}
	cipher, kdf, kdfOptions := next(), next(), next()
	if string(cipher) != "none" || string(kdf) != "none" || len(kdfOptions) != 0 {
		t.Fatal("private key should be unencrypted")
	}
	if n := binary.BigEndian.Uint32(b); n != 1 {
		t.Fatalf("%d keys, want 1", n)
	}
	b = b[4:]
	pubBlob := next()
	wantBlob, _ := base64.StdEncoding.DecodeString(strings.Fields(publicKey)[1])
	if !bytes.Equal(pubBlob, wantBlob) {
		t.Fatal("public blob in the private key differs from public_key")
	}
	b = next() // the private section
	if len(b)%8 != 0 || !bytes.Equal(b[0:4], b[4:8]) {
		t.Fatal("bad check words or padding")
	}
	b = b[8:]
	if string(next()) != "ssh-ed25519" {
		t.Fatal("wrong key type")
	}
	pub := next()
	priv := ed25519.PrivateKey(next())
	if len(priv) != ed25519.PrivateKeySize || !bytes.Equal(ed25519.NewKeyFromSeed(priv.Seed()), priv) || !bytes.Equal(priv[32:], pub) {
		t.Fatal("private key does not match its public key")
	}
	msg := []byte("emulator")
	if !ed25519.Verify(ed25519.PublicKey(pub), msg, ed25519.Sign(priv, msg)) {
		t.Fatal("key pair does not sign and verify")
	}
}

func TestAddSSHKeyMethod(t *testing.T) {
	e := New(Options{})
	if _, err := e.AddSSHKey("a", testKey); err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddSSHKey("a", testKey); err == nil || !strings.Contains(err.Error(), "global/duplicate") {
		t.Fatalf("duplicate: %v", err)
	}
	v, err := e.AddSSHKey("b", "")
	if err != nil || v.PrivateKey == "" {
		t.Fatalf("generate: %+v %v", v, err)
	}
}
