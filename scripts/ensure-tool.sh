#!/usr/bin/env bash
# Usage: scripts/ensure-tool.sh NAME MODULE/PKG@VERSION
#
# Builds a Go tool with `go install` into the shared cache and prints the
# absolute path of the binary as the last line of stdout. Later runs reuse the
# cached binary. Progress goes to stderr.
#
# Cache layout: ${NEOCLOUD_CACHE:-$HOME/.cache/neocloud}/bin/NAME-VERSION/NAME
#  - the version is in the directory name, so bumping a pin in the GNUmakefile
#    never silently reuses an older build;
#  - the binary keeps its plain name, so its directory can be put on PATH
#    (tfplugindocs looks up `terraform` on PATH).
set -euo pipefail

if [[ $# -ne 2 || $2 != *@* ]]; then
  echo "usage: $0 NAME MODULE/PKG@VERSION" >&2
  exit 2
fi
name=$1
pkg=${2%@*}
version=${2##*@}

bindir=${NEOCLOUD_CACHE:-$HOME/.cache/neocloud}/bin
dir=$bindir/$name-$version
bin=$dir/$name

# `go version -m` reads the build info embedded in the binary: it fails on a
# truncated or foreign file, so it doubles as a cheap "is it intact" check.
cached_ok() {
  [[ -x $bin ]] && go version -m "$bin" 2>/dev/null | grep -q "^[[:space:]]*path[[:space:]]*$pkg\$"
}

if ! cached_ok; then
  mkdir -p "$bindir"
  # Install into a private temp dir and rename it into place, so an interrupted
  # or concurrent build never leaves a half-written binary at $bin.
  tmp=$(mktemp -d "$bindir/.install.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "ensure-tool: building $pkg@$version (one-off, cached in $dir)..." >&2
  start=$SECONDS
  # `go install pkg@version` ignores the current module: the tool's own go.mod
  # decides its dependencies, not ours.
  GOBIN=$tmp/bin go install "$pkg@$version" >&2
  built=("$tmp"/bin/*) # exactly one binary: the package's last path element
  [[ ${built[0]} == "$tmp/bin/$name" ]] || mv "${built[0]}" "$tmp/bin/$name"
  rm -rf "$dir" # a stale or broken copy
  # A concurrent run may have won the race; its copy is as good as ours.
  mv -T "$tmp/bin" "$dir" 2>/dev/null || cached_ok
  echo "ensure-tool: built $name $version in $((SECONDS - start))s" >&2
  cached_ok || { echo "ensure-tool: $bin failed its sanity check" >&2; exit 1; }
fi

echo "$bin"
