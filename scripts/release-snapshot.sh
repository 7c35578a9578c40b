#!/usr/bin/env bash
# `make release-snapshot`: the release artifacts of .goreleaser.yml, built locally and published
# nowhere, in dist/:
#
#   terraform-provider-neocloud_<V>_<os>_<arch>.zip   every registry platform
#   terraform-provider-neocloud_<V>_manifest.json     the registry manifest (as the release uploads it)
#   terraform-provider-neocloud_<V>_SHA256SUMS        over the zips and the manifest
#   terraform-provider-neocloud_<V>_SHA256SUMS.sig    when gpg is installed: signed with a throwaway
#   snapshot-signing-key.asc                          key, whose public half is this file
#   neocloud-emulator_<V>_<os>_<arch>.tar.gz / .zip   the emulator, each with a .sha256 (made in the
#                                                     signing step, so also only with gpg)
#
# <V> is the next minor version with "-snapshot" (0.1.0-snapshot until v0.1.0 is tagged).
# GoReleaser is built from the Go module proxy on first use and cached (scripts/ensure-tool.sh);
# the signing step runs exactly as in a release (gpg --detach-sign), with a key made for this
# run in a temporary GNUPGHOME; without gpg it is skipped (`make release-check` then signs).
#
# Env: GORELEASER (module@version, set by the GNUmakefile), GORELEASER_PARALLELISM (default:
#      the number of CPUs), NEOCLOUD_SNAPSHOT_SIGN=never to skip signing even with gpg.
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
if [[ ${NEOCLOUD_SNAPSHOT_SIGN:-auto} != never ]] && command -v gpg >/dev/null 2>&1; then
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
  log "gpg not found (or NEOCLOUD_SNAPSHOT_SIGN=never): the signing step is skipped (no SHA256SUMS.sig, no emulator .sha256 files; make release-check signs with a throwaway key of its own)"
  args+=(--skip=sign)
fi

log "goreleaser ${args[*]}"
"$goreleaser" "${args[@]}"

sums=$(ls dist/terraform-provider-neocloud_*_SHA256SUMS)
version=${sums#dist/terraform-provider-neocloud_}
version=${version%_SHA256SUMS}
# The release uploads the registry manifest under this name (release.extra_files); goreleaser
# only checksums it, so put the same copy in dist/ for a complete local release.
cp terraform-registry-manifest.json "dist/terraform-provider-neocloud_${version}_manifest.json"

if [[ -n $fingerprint ]]; then
  gpg --batch --armor --export "$fingerprint" >dist/snapshot-signing-key.asc
  gpg --batch --quiet --verify "$sums.sig" "$sums"
  echo "SHA256SUMS signed by throwaway key $fingerprint (public key: dist/snapshot-signing-key.asc)" >&2
fi

log "dist/ (version $version)"
(cd dist && ls -1 -- *.zip *.tar.gz *.sha256 *SHA256SUMS* *manifest.json *.asc 2>/dev/null | sed 's|^|  |') || true
echo "release-snapshot: done in $((SECONDS - start))s" >&2
