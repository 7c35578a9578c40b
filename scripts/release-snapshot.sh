#!/usr/bin/env bash
# `make release-snapshot`: the release artifacts of .goreleaser.yml, built locally and published
# nowhere, in dist/:
#
#   terraform-provider-neocloud_<V>_<os>_<arch>.zip   every registry platform
#   terraform-provider-neocloud_<V>_manifest.json     the registry manifest
#   terraform-provider-neocloud_<V>_SHA256SUMS        over all of the above (and the emulator archives)
#   terraform-provider-neocloud_<V>_SHA256SUMS.sig    when gpg is installed: signed with a throwaway
#   snapshot-signing-key.asc                          key, whose public half is this file
#   neocloud-emulator_<V>_<os>_<arch>.tar.gz / .zip   the emulator
#
# <V> is the next minor version with "-snapshot" (0.1.0-snapshot until v0.1.0 is tagged).
# GoReleaser is built from the Go module proxy on first use and cached (scripts/ensure-tool.sh);
# the signing step runs exactly as in a release (gpg --detach-sign), with a key made for this
# run in a temporary GNUPGHOME; without gpg it is skipped (`make release-check` then signs).
#
# Env: GORELEASER (module@version, set by the GNUmakefile), GORELEASER_PARALLELISM (default:
#      the number of CPUs).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf '\n==> %s\n' "$*" >&2; }
start=$SECONDS

goreleaser=$(scripts/ensure-tool.sh goreleaser "${GORELEASER:-github.com/goreleaser/goreleaser/v2@v2.17.0}" | tail -n1)

args=(release --snapshot --clean)
if [[ -n ${GORELEASER_PARALLELISM:-} ]]; then
  args+=(--parallelism "$GORELEASER_PARALLELISM")
fi

gnupghome=
cleanup() {
  if [[ -n $gnupghome ]]; then
    # Stop the agent gpg started for this keyring, then forget the key.
    GNUPGHOME=$gnupghome gpgconf --kill all >/dev/null 2>&1 || true
    rm -rf "$gnupghome"
  fi
}
trap cleanup EXIT

fingerprint=
if command -v gpg >/dev/null 2>&1; then
  log "Making a throwaway signing key (gpg, temporary keyring)"
  # A short path: gpg-agent's socket lives here and socket paths are length-limited.
  gnupghome=$(mktemp -d /tmp/neocloud-gpg.XXXXXX)
  chmod 700 "$gnupghome"
  export GNUPGHOME=$gnupghome
  gpg --batch --quiet --passphrase '' --quick-gen-key \
    "neocloud release snapshot (throwaway) <snapshot@neocloud.invalid>" rsa3072 sign 1d
  fingerprint=$(gpg --batch --list-secret-keys --with-colons | awk -F: '$1 == "fpr" { print $10; exit }')
  [[ -n $fingerprint ]] || { echo "release-snapshot: gpg made no key" >&2; exit 1; }
  export GPG_FINGERPRINT=$fingerprint
else
  log "gpg not found: the signature step is skipped (make release-check signs with a throwaway key instead)"
  args+=(--skip=sign)
fi

log "goreleaser ${args[*]}"
"$goreleaser" "${args[@]}"

if [[ -n $fingerprint ]]; then
  gpg --batch --armor --export "$fingerprint" >dist/snapshot-signing-key.asc
  sums=$(ls dist/terraform-provider-neocloud_*_SHA256SUMS)
  gpg --batch --quiet --verify "$sums.sig" "$sums"
  echo "SHA256SUMS signed by throwaway key $fingerprint (public key: dist/snapshot-signing-key.asc)" >&2
fi

log "dist/"
(cd dist && ls -1 ./*.zip ./*.tar.gz ./*SHA256SUMS* ./*manifest.json ./*.asc 2>/dev/null | sed 's|^\./|  |')
echo "release-snapshot: done in $((SECONDS - start))s" >&2
