// Command releasecheck is the Go half of `make release-check` (scripts/release-check.sh): it
// stands in for the Terraform Registry in front of a goreleaser dist/ directory, and checks
// the lock file a plain `terraform init` wrote against the release's checksums.
//
//	releasecheck registry -dist DIR [-listen 127.0.0.1:0]
//	    Checks every file SHA256SUMS lists, then serves the provider registry protocol
//	    (/v1/providers/NAMESPACE/TYPE/versions and .../VERSION/download/OS/ARCH) and the files,
//	    on loopback, until it is stopped. SHA256SUMS is signed by dist/snapshot-signing-key.asc
//	    when release-snapshot signed it; otherwise releasecheck signs it with a throwaway key of
//	    its own, as Terraform records the zh: hashes of a release only when its checksums carry
//	    a valid signature. Prints "registry listening on http://ADDR/v1/providers/" first.
//
//	releasecheck lock -dist DIR -lock FILE -platform OS_ARCH [-zh]
//	    Checks that FILE locks the release's version with the h1: hash of the platform's zip
//	    and, with -zh, exactly one zh: hash per line of SHA256SUMS, equal to it (for the
//	    platform's zip, equal to the zip's own SHA-256 too).
//
//	releasecheck emulator-sums -dist DIR
//	    Checks each emulator archive against its .sha256 file.
//
// Every subcommand first checks SHA256SUMS: every file it lists is there with that SHA-256, and
// it lists the provider's zips and manifest only.
//
// It is a test tool: nothing in the provider imports it.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

const (
	namespace = "neocloud"
	typeName  = "neocloud"
	project   = "terraform-provider-" + typeName
	// signingKeyFile is where scripts/release-snapshot.sh leaves the public half of the throwaway
	// key it signed SHA256SUMS with.
	signingKeyFile = "snapshot-signing-key.asc"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "registry":
		err = runRegistry(os.Args[2:])
	case "lock":
		err = runLock(os.Args[2:])
	case "emulator-sums":
		err = runEmulatorSums(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "releasecheck:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: releasecheck registry -dist DIR [-listen ADDR] | lock -dist DIR -lock FILE -platform OS_ARCH [-zh] | emulator-sums -dist DIR")
	os.Exit(2)
}

// release is what a goreleaser dist/ directory holds for the provider.
type release struct {
	dir     string
	version string
	// sums maps each file named in SHA256SUMS to its hex SHA-256.
	sums     map[string]string
	sumsFile string
	sumsData []byte
	// platforms are the provider zips' OS_ARCH, sorted.
	platforms []string
}

// loadRelease finds the one SHA256SUMS in dir and checks every file it lists.
func loadRelease(dir string) (*release, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, project+"_*_SHA256SUMS"))
	if len(matches) != 1 {
		return nil, fmt.Errorf("%s: want exactly one %s_*_SHA256SUMS (run make release-snapshot), found %d", dir, project, len(matches))
	}
	r := &release{dir: dir, sumsFile: filepath.Base(matches[0]), sums: map[string]string{}}
	r.version = strings.TrimSuffix(strings.TrimPrefix(r.sumsFile, project+"_"), "_SHA256SUMS")
	var err error
	if r.sumsData, err = os.ReadFile(matches[0]); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(r.sumsData))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			return nil, fmt.Errorf("%s: malformed line %q", r.sumsFile, sc.Text())
		}
		r.sums[name] = sum
		if got, err := fileSHA256(filepath.Join(dir, name)); err != nil {
			return nil, err
		} else if got != sum {
			return nil, fmt.Errorf("%s: SHA-256 %s, but %s says %s", name, got, r.sumsFile, sum)
		}
		prefix := project + "_" + r.version + "_"
		platform, isZip := strings.CutSuffix(strings.TrimPrefix(name, prefix), ".zip")
		switch {
		case strings.HasPrefix(name, prefix) && isZip:
			r.platforms = append(r.platforms, platform)
		case name == prefix+"manifest.json":
		default:
			// Terraform records a zh: hash in users' lock files for every line of SHA256SUMS.
			return nil, fmt.Errorf("%s lists %s: it should cover the provider's zips and manifest only", r.sumsFile, name)
		}
	}
	if len(r.platforms) == 0 {
		return nil, fmt.Errorf("%s lists no %s_%s_OS_ARCH.zip", r.sumsFile, project, r.version)
	}
	manifest := project + "_" + r.version + "_manifest.json"
	if _, ok := r.sums[manifest]; !ok {
		return nil, fmt.Errorf("%s does not cover the registry manifest %s", r.sumsFile, manifest)
	}
	sort.Strings(r.platforms)
	return r, nil
}

// checkEmulatorSums checks each emulator archive in dir against its .sha256 file and says which
// had one.
func checkEmulatorSums(dir, version string) (string, error) {
	archives, _ := filepath.Glob(filepath.Join(dir, "neocloud-emulator_"+version+"_*"))
	var report strings.Builder
	n := 0
	for _, a := range archives {
		if strings.HasSuffix(a, ".sha256") {
			continue
		}
		n++
		line, err := os.ReadFile(a + ".sha256")
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(&report, "--   %s has no .sha256 (signing was skipped)\n", filepath.Base(a))
			continue
		}
		if err != nil {
			return "", err
		}
		want := strings.TrimSpace(string(line))
		got, err := fileSHA256(a)
		if err != nil {
			return "", err
		}
		if want != got+"  "+filepath.Base(a) {
			return "", fmt.Errorf("%s.sha256 says %q, the archive's SHA-256 is %s", filepath.Base(a), want, got)
		}
		fmt.Fprintf(&report, "ok   %s matches its .sha256\n", filepath.Base(a))
	}
	if n == 0 {
		return "", fmt.Errorf("no neocloud-emulator_%s_* archive in %s", version, dir)
	}
	return report.String(), nil
}

func (r *release) zipName(platform string) string {
	return project + "_" + r.version + "_" + platform + ".zip"
}

func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

func runLock(args []string) error {
	fs := flag.NewFlagSet("lock", flag.ExitOnError)
	dist := fs.String("dist", "dist", "goreleaser output directory")
	lockPath := fs.String("lock", ".terraform.lock.hcl", "the lock file terraform init wrote")
	platform := fs.String("platform", "linux_amd64", "the platform terraform installed")
	wantZH := fs.Bool("zh", false, "require a zh: hash for every provider zip of the release")
	_ = fs.Parse(args)

	r, err := loadRelease(*dist)
	if err != nil {
		return err
	}
	lock, err := os.ReadFile(*lockPath)
	if err != nil {
		return err
	}
	version, hashes, err := lockedProvider(lock, "registry.terraform.io/"+namespace+"/"+typeName)
	if err != nil {
		return fmt.Errorf("%s: %w", *lockPath, err)
	}
	report, err := checkLock(r, *platform, version, hashes, *wantZH)
	if err != nil {
		return fmt.Errorf("%s: %w", *lockPath, err)
	}
	fmt.Print(report)
	return nil
}

func runEmulatorSums(args []string) error {
	fs := flag.NewFlagSet("emulator-sums", flag.ExitOnError)
	dist := fs.String("dist", "dist", "goreleaser output directory")
	_ = fs.Parse(args)
	r, err := loadRelease(*dist)
	if err != nil {
		return err
	}
	report, err := checkEmulatorSums(*dist, r.version)
	if err != nil {
		return err
	}
	fmt.Print(report)
	return nil
}

// checkLock compares a lock file's entry with the release and says what matched.
func checkLock(r *release, platform, version string, hashes []string, wantZH bool) (string, error) {
	if version != r.version {
		return "", fmt.Errorf("locks version %q, the release is %q", version, r.version)
	}
	zip := filepath.Join(r.dir, r.zipName(platform))
	h1, err := zipHash1(zip)
	if err != nil {
		return "", err
	}
	var report strings.Builder
	if !contains(hashes, h1) {
		return "", fmt.Errorf("no %s (the h1: hash of %s) among %v", h1, r.zipName(platform), hashes)
	}
	fmt.Fprintf(&report, "ok   %s is the h1: hash of %s\n", h1, r.zipName(platform))

	var zh []string
	for _, h := range hashes {
		if sum, ok := strings.CutPrefix(h, "zh:"); ok {
			zh = append(zh, sum)
		}
	}
	if !wantZH {
		if len(zh) > 0 {
			return "", fmt.Errorf("unexpected zh: hashes %v", zh)
		}
		return report.String(), nil
	}
	// Terraform takes one zh: hash from every line of the signed SHA256SUMS: the provider's zips
	// and its manifest.
	if len(zh) != len(r.sums) {
		return "", fmt.Errorf("%d zh: hashes, %s has %d lines", len(zh), r.sumsFile, len(r.sums))
	}
	for name, sum := range r.sums {
		if !contains(zh, sum) {
			return "", fmt.Errorf("no zh:%s (the SHA256SUMS line of %s)", sum, name)
		}
	}
	own, err := fileSHA256(zip)
	if err != nil {
		return "", err
	}
	if own != r.sums[r.zipName(platform)] || !contains(zh, own) {
		return "", fmt.Errorf("zh: of %s does not match the zip's own SHA-256 %s", r.zipName(platform), own)
	}
	fmt.Fprintf(&report, "ok   zh:%s is the SHA-256 of %s and its line in %s\n", own, r.zipName(platform), r.sumsFile)
	fmt.Fprintf(&report, "ok   %d zh: hashes, one per line of %s (%d provider zips and the manifest), each equal to its line\n",
		len(zh), r.sumsFile, len(r.platforms))
	return report.String(), nil
}

var (
	providerBlockRE = regexp.MustCompile(`(?s)provider\s+"([^"]+)"\s*\{(.*?)\n\}`)
	versionRE       = regexp.MustCompile(`(?m)^\s*version\s*=\s*"([^"]+)"`)
	hashesRE        = regexp.MustCompile(`(?s)hashes\s*=\s*\[(.*?)\]`)
	quotedRE        = regexp.MustCompile(`"([^"]+)"`)
)

// lockedProvider reads one provider's version and hashes from a .terraform.lock.hcl.
func lockedProvider(lock []byte, address string) (string, []string, error) {
	for _, m := range providerBlockRE.FindAllSubmatch(lock, -1) {
		if string(m[1]) != address {
			continue
		}
		v := versionRE.FindSubmatch(m[2])
		h := hashesRE.FindSubmatch(m[2])
		if v == nil || h == nil {
			return "", nil, fmt.Errorf("provider %q has no version or hashes", address)
		}
		var hashes []string
		for _, q := range quotedRE.FindAllSubmatch(h[1], -1) {
			hashes = append(hashes, string(q[1]))
		}
		return string(v[1]), hashes, nil
	}
	return "", nil, fmt.Errorf("no provider %q", address)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
