package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// fakeDist writes a dist/ directory shaped like goreleaser's: two provider zips, an emulator
// archive, the manifest and SHA256SUMS over all of them.
func fakeDist(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	const v = "0.1.0-snapshot"
	var sums strings.Builder
	add := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
	}
	for _, p := range []string{"linux_amd64", "darwin_arm64"} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		f, _ := zw.Create(project + "_v" + v)
		_, _ = f.Write([]byte("binary for " + p))
		_ = zw.Close()
		add(project+"_"+v+"_"+p+".zip", buf.Bytes())
	}
	add(project+"_"+v+"_manifest.json", []byte(`{"version":1,"metadata":{"protocol_versions":["6.0"]}}`))
	// The emulator archive is not in SHA256SUMS: it has a .sha256 of its own.
	emu := []byte("emulator")
	emuSum := sha256.Sum256(emu)
	emuName := "neocloud-emulator_" + v + "_linux_amd64.tar.gz"
	if err := os.WriteFile(filepath.Join(dir, emuName), emu, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, emuName+".sha256"), []byte(hex.EncodeToString(emuSum[:])+"  "+emuName+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, project+"_"+v+"_SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRegistryServesASignedRelease(t *testing.T) {
	r, err := loadRelease(fakeDist(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.version != "0.1.0-snapshot" || strings.Join(r.platforms, ",") != "darwin_arm64,linux_amd64" {
		t.Fatalf("release %s %v", r.version, r.platforms)
	}
	s, err := releaseSigner(r)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	defer srv.Close()
	srv.Config.Handler = registryHandler(r, s, srv.URL)

	get := func(path string) []byte {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
		}
		return b
	}
	if v := get("/v1/providers/neocloud/neocloud/versions"); !strings.Contains(string(v), `"version":"0.1.0-snapshot"`) ||
		!strings.Contains(string(v), `{"arch":"arm64","os":"darwin"}`) {
		t.Fatalf("versions %s", v)
	}
	var dl struct {
		Filename    string `json:"filename"`
		Shasum      string `json:"shasum"`
		Download    string `json:"download_url"`
		Sums        string `json:"shasums_url"`
		Sig         string `json:"shasums_signature_url"`
		SigningKeys struct {
			GPGPublicKeys []struct {
				KeyID      string `json:"key_id"`
				ASCIIArmor string `json:"ascii_armor"`
			} `json:"gpg_public_keys"`
		} `json:"signing_keys"`
	}
	if err := json.Unmarshal(get("/v1/providers/neocloud/neocloud/0.1.0-snapshot/download/linux/amd64"), &dl); err != nil {
		t.Fatal(err)
	}
	zipData := get(strings.TrimPrefix(dl.Download, srv.URL))
	if sum := sha256.Sum256(zipData); hex.EncodeToString(sum[:]) != dl.Shasum {
		t.Fatalf("zip does not match its shasum")
	}
	// What Terraform does with the answer: the signature of SHA256SUMS checks out with the key.
	ring, err := openpgp.ReadArmoredKeyRing(strings.NewReader(dl.SigningKeys.GPGPublicKeys[0].ASCIIArmor))
	if err != nil {
		t.Fatal(err)
	}
	sums, sig := get(strings.TrimPrefix(dl.Sums, srv.URL)), get(strings.TrimPrefix(dl.Sig, srv.URL))
	if _, err := openpgp.CheckDetachedSignature(ring, bytes.NewReader(sums), bytes.NewReader(sig), nil); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if !strings.Contains(string(sums), dl.Shasum+"  "+dl.Filename) {
		t.Fatalf("SHA256SUMS lacks the zip: %s", sums)
	}
}

func TestLoadReleaseRefusesATamperedZip(t *testing.T) {
	dir := fakeDist(t)
	if err := os.WriteFile(filepath.Join(dir, project+"_0.1.0-snapshot_linux_amd64.zip"), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadRelease(dir); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("tampered zip accepted: %v", err)
	}
}

func TestCheckLock(t *testing.T) {
	r, err := loadRelease(fakeDist(t))
	if err != nil {
		t.Fatal(err)
	}
	h1, err := zipHash1(filepath.Join(r.dir, r.zipName("linux_amd64")))
	if err != nil {
		t.Fatal(err)
	}
	zh := []string{"zh:" + r.sums[r.zipName("darwin_arm64")], "zh:" + r.sums[r.zipName("linux_amd64")],
		"zh:" + r.sums[project+"_0.1.0-snapshot_manifest.json"]}
	lock := fmt.Sprintf(`# This file is maintained automatically by "terraform init".
provider "registry.terraform.io/neocloud/neocloud" {
  version     = "0.1.0-snapshot"
  constraints = "0.1.0-snapshot"
  hashes = [
    %q,
    %q,
    %q,
    %q,
  ]
}
`, h1, zh[0], zh[1], zh[2])
	version, hashes, err := lockedProvider([]byte(lock), "registry.terraform.io/neocloud/neocloud")
	if err != nil || version != "0.1.0-snapshot" || len(hashes) != 4 {
		t.Fatalf("lockedProvider: %q %v %v", version, hashes, err)
	}
	if _, err := checkLock(r, "linux_amd64", version, hashes, true); err != nil {
		t.Fatalf("a matching lock fails: %v", err)
	}
	if _, err := checkLock(r, "linux_amd64", version, hashes[:1], false); err != nil {
		t.Fatalf("an h1:-only lock (filesystem mirror) fails: %v", err)
	}
	for name, bad := range map[string][]string{
		"a zh: missing":    hashes[:3],
		"a wrong zh:":      {h1, zh[0], zh[2], "zh:" + strings.Repeat("0", 64)},
		"a wrong h1:":      {"h1:AAAA=", zh[0], zh[1], zh[2]},
		"no zh: at all":    {h1},
		"another h1: only": {"h1:AAAA="},
	} {
		if _, err := checkLock(r, "linux_amd64", version, bad, true); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := checkLock(r, "linux_amd64", "0.0.9", hashes, true); err == nil {
		t.Error("a lock of another version: accepted")
	}
}

func TestEmulatorSums(t *testing.T) {
	dir := fakeDist(t)
	if report, err := checkEmulatorSums(dir, "0.1.0-snapshot"); err != nil || !strings.Contains(report, "ok ") {
		t.Fatalf("emulator sums: %q %v", report, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "neocloud-emulator_0.1.0-snapshot_linux_amd64.tar.gz"), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := checkEmulatorSums(dir, "0.1.0-snapshot"); err == nil {
		t.Fatal("a tampered emulator archive passes")
	}
}

func TestLoadReleaseRefusesForeignLinesInSHA256SUMS(t *testing.T) {
	dir := fakeDist(t)
	sums := filepath.Join(dir, project+"_0.1.0-snapshot_SHA256SUMS")
	data, _ := os.ReadFile(sums)
	emu, _ := os.ReadFile(filepath.Join(dir, "neocloud-emulator_0.1.0-snapshot_linux_amd64.tar.gz.sha256"))
	if err := os.WriteFile(sums, append(data, emu...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadRelease(dir); err == nil || !strings.Contains(err.Error(), "provider's zips and manifest only") {
		t.Fatalf("SHA256SUMS with an emulator line accepted: %v", err)
	}
}
