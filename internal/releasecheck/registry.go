package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"golang.org/x/mod/sumdb/dirhash"
)

// zipHash1 is Terraform's h1: hash of a provider zip (Go's dirhash over the unpacked files).
func zipHash1(path string) (string, error) {
	return dirhash.HashZip(path, dirhash.Hash1)
}

// signer is the key SHA256SUMS is checked against.
type signer struct {
	keyID     string // 16 hex digits, as the registry reports it
	armored   string // the public key
	signature []byte // detached signature of SHA256SUMS
}

// releaseSigner uses the signature and key release-snapshot left in dist/, or makes a throwaway
// key and signs with it.
func releaseSigner(r *release) (*signer, error) {
	sig, sigErr := os.ReadFile(filepath.Join(r.dir, r.sumsFile+".sig"))
	key, keyErr := os.ReadFile(filepath.Join(r.dir, signingKeyFile))
	switch {
	case sigErr == nil && keyErr == nil:
		ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(key))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", signingKeyFile, err)
		}
		entity, err := openpgp.CheckDetachedSignature(ring, bytes.NewReader(r.sumsData), bytes.NewReader(sig), nil)
		if err != nil {
			return nil, fmt.Errorf("%s.sig does not verify with %s: %w", r.sumsFile, signingKeyFile, err)
		}
		return &signer{keyID: entity.PrimaryKey.KeyIdString(), armored: string(key), signature: sig}, nil
	case sigErr == nil:
		return nil, fmt.Errorf("%s.sig is there but %s is not: cannot tell which key signed it", r.sumsFile, signingKeyFile)
	case !errors.Is(sigErr, os.ErrNotExist):
		return nil, sigErr
	}
	entity, err := openpgp.NewEntity("neocloud release-check", "throwaway", "release-check@invalid", nil)
	if err != nil {
		return nil, err
	}
	var sigBuf, keyBuf bytes.Buffer
	if err := openpgp.DetachSign(&sigBuf, entity, bytes.NewReader(r.sumsData), nil); err != nil {
		return nil, err
	}
	w, err := armor.Encode(&keyBuf, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := entity.Serialize(w); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return &signer{keyID: entity.PrimaryKey.KeyIdString(), armored: keyBuf.String(), signature: sigBuf.Bytes()}, nil
}

func runRegistry(args []string) error {
	fs := flag.NewFlagSet("registry", flag.ExitOnError)
	dist := fs.String("dist", "dist", "goreleaser output directory")
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on (loopback)")
	_ = fs.Parse(args)

	r, err := loadRelease(*dist)
	if err != nil {
		return err
	}
	s, err := releaseSigner(r)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: registryHandler(r, s, base), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("registry listening on %s/v1/providers/ (version %s, %d platforms, SHA256SUMS signed by key %s)\n",
		base, r.version, len(r.platforms), s.keyID)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// registryHandler serves the provider registry protocol (v1) for the one release, and its files.
func registryHandler(r *release, s *signer, base string) http.Handler {
	mux := http.NewServeMux()
	prefix := "/v1/providers/" + namespace + "/" + typeName
	mux.HandleFunc("GET "+prefix+"/versions", func(w http.ResponseWriter, _ *http.Request) {
		var platforms []map[string]string
		for _, p := range r.platforms {
			goos, goarch, _ := strings.Cut(p, "_")
			platforms = append(platforms, map[string]string{"os": goos, "arch": goarch})
		}
		writeJSON(w, map[string]any{"versions": []any{map[string]any{
			"version": r.version, "protocols": []string{"6.0"}, "platforms": platforms,
		}}})
	})
	mux.HandleFunc("GET "+prefix+"/{version}/download/{os}/{arch}", func(w http.ResponseWriter, req *http.Request) {
		platform := req.PathValue("os") + "_" + req.PathValue("arch")
		name := r.zipName(platform)
		if req.PathValue("version") != r.version || r.sums[name] == "" {
			http.NotFound(w, req)
			return
		}
		writeJSON(w, map[string]any{
			"protocols": []string{"6.0"}, "os": req.PathValue("os"), "arch": req.PathValue("arch"),
			"filename": name, "shasum": r.sums[name],
			"download_url":          base + "/files/" + name,
			"shasums_url":           base + "/files/" + r.sumsFile,
			"shasums_signature_url": base + "/files/" + r.sumsFile + ".sig",
			"signing_keys": map[string]any{"gpg_public_keys": []any{map[string]string{
				"key_id": s.keyID, "ascii_armor": s.armored,
			}}},
		})
	})
	mux.HandleFunc("GET /files/{name}", func(w http.ResponseWriter, req *http.Request) {
		name := req.PathValue("name")
		switch {
		case name == r.sumsFile+".sig":
			_, _ = w.Write(s.signature)
		case name == r.sumsFile || r.sums[name] != "":
			http.ServeFile(w, req, filepath.Join(r.dir, name))
		default:
			http.NotFound(w, req)
		}
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
