#!/usr/bin/env bash
# Prints (last line of stdout) the absolute path of a Terraform CLI >= $NEOCLOUD_TERRAFORM_MIN
# (default 1.5; `terraform test` with .tftest.hcl files needs 1.6).
#
# Order of preference:
#   1. $TERRAFORM_BIN, if set and executable (no version check: explicit wins);
#   2. `terraform` on PATH, if its version is at least the minimum
#      (skipped when NEOCLOUD_FORCE_BUILD_TERRAFORM=1);
#   3. terraform $NEOCLOUD_TERRAFORM_VERSION (default v1.6.6, which has `terraform test` and
#      builds with `go install`) built from source and cached by scripts/ensure-tool.sh under
#      ${NEOCLOUD_CACHE:-$HOME/.cache/neocloud}/bin. Takes a few minutes once.
# Progress messages go to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build_version=${NEOCLOUD_TERRAFORM_VERSION:-v1.6.6}
IFS=. read -r min_major min_minor _ <<<"${NEOCLOUD_TERRAFORM_MIN:-1.5}"

# Never let a version query phone home or trip over the user's CLI config.
export CHECKPOINT_DISABLE=1

# tf_version BIN -> prints "X.Y.Z" (empty if BIN does not run).
tf_version() {
  # `version -json` exists since 0.13; fall back to the first line
  # ("Terraform v1.11.4") for anything odd.
  local out
  out=$("$1" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p') || true
  if [[ -z $out ]]; then
    out=$("$1" version 2>/dev/null | head -n1 | sed -n 's/^Terraform v\([0-9.]*\).*/\1/p') || true
  fi
  echo "$out"
}

version_ok() {
  local major minor
  IFS=. read -r major minor _ <<<"$1"
  [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
  ((major > min_major || (major == min_major && minor >= min_minor)))
}

if [[ -n ${TERRAFORM_BIN:-} ]]; then
  if [[ -x $TERRAFORM_BIN && ! -d $TERRAFORM_BIN ]]; then
    echo "ensure-terraform: using TERRAFORM_BIN=$TERRAFORM_BIN" >&2
    # Absolute path: callers may cd elsewhere before running it.
    echo "$(cd "$(dirname "$TERRAFORM_BIN")" && pwd)/$(basename "$TERRAFORM_BIN")"
    exit 0
  fi
  echo "ensure-terraform: TERRAFORM_BIN=$TERRAFORM_BIN is not executable, ignoring it" >&2
fi

if [[ ${NEOCLOUD_FORCE_BUILD_TERRAFORM:-0} != 1 ]] && path_tf=$(command -v terraform 2>/dev/null); then
  v=$(tf_version "$path_tf")
  if version_ok "$v"; then
    echo "ensure-terraform: using $path_tf (v$v)" >&2
    echo "$path_tf"
    exit 0
  fi
  echo "ensure-terraform: $path_tf is v${v:-unknown}, need >= $min_major.$min_minor" >&2
fi

bin=$("$here/ensure-tool.sh" terraform "github.com/hashicorp/terraform@$build_version" | tail -n1)
v=$(tf_version "$bin")
if ! version_ok "$v"; then
  echo "ensure-terraform: $bin does not run or reports v${v:-unknown}" >&2
  exit 1
fi
echo "ensure-terraform: using $bin (v$v)" >&2
echo "$bin"
