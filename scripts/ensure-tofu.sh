#!/usr/bin/env bash
# Prints the absolute path of an OpenTofu CLI (last line of stdout), building
# github.com/opentofu/opentofu@$NEOCLOUD_TOFU_VERSION from the Go module proxy into the shared
# cache on first use (about 4 minutes on 2 cores) and reusing it after.
#
# OpenTofu cannot be `go install`ed (its go.mod has replace directives), so it is built as a
# main module from the module cache, as OpenTofu's own build does. Uses `tofu` from PATH when
# it is >= 1.10.
set -euo pipefail

version=${NEOCLOUD_TOFU_VERSION:-v1.12.6}
dir=${NEOCLOUD_CACHE:-$HOME/.cache/neocloud}/bin/tofu-$version
bin=$dir/tofu

if command -v tofu >/dev/null 2>&1; then
  have=$(tofu version 2>/dev/null | sed -n 's/^OpenTofu v\([0-9]*\)\.\([0-9]*\).*/\1 \2/p' | head -n1)
  read -r major minor <<<"${have:-0 0}"
  if ((major > 1 || (major == 1 && minor >= 10))); then
    command -v tofu
    exit 0
  fi
fi

if ! [[ -x $bin ]] || ! "$bin" version >/dev/null 2>&1; then
  echo "ensure-tofu: building OpenTofu $version (one-off, cached in $dir)..." >&2
  GOFLAGS=-mod=mod go mod download "github.com/opentofu/opentofu@$version"
  src=$(go env GOMODCACHE)/github.com/opentofu/opentofu@$version
  mkdir -p "$dir"
  tmp=$(mktemp "$dir/.tofu.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  (cd "$src" && go build -ldflags "-X github.com/opentofu/opentofu/version.dev=no" -o "$tmp" ./cmd/tofu)
  mv "$tmp" "$bin"
fi
echo "$bin"
