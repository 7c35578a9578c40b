#!/usr/bin/env bash
# Usage: scripts/changelog-section.sh VERSION
#
# Prints the CHANGELOG.md section of VERSION (the lines under "## VERSION ..." up to the next
# "## " heading), for the release notes. Fails when there is none or it is still marked
# "(Unreleased)": a tag must not be pushed before its changelog section is dated.
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
  echo "usage: $0 VERSION" >&2
  exit 2
fi
version=$1
changelog=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/CHANGELOG.md

heading=$(grep -E "^## ${version//./\\.}( |$)" "$changelog" || true)
if [[ -z $heading ]]; then
  echo "changelog-section: no \"## $version\" section in CHANGELOG.md" >&2
  exit 1
fi
if [[ $heading == *"(Unreleased)"* ]]; then
  echo "changelog-section: CHANGELOG.md still marks $version as Unreleased; date it before tagging" >&2
  exit 1
fi
awk -v h="$heading" '$0 == h { on = 1; next } on && /^## / { exit } on { print }' "$changelog"
