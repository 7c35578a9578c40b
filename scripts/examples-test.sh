#!/usr/bin/env bash
# `make examples-test`: runs `terraform test` in every example that has tests (a tests/ directory
# or *.tftest.hcl files; today examples/module-testing) against the local emulator, with the
# provider built from this tree through dev_overrides. Needs Terraform >= 1.6 (built from the Go
# module proxy on first use when the one on PATH is older). About 15 s.
# Env: NEOCLOUD_DEMO_PORT (first port tried, default 8800), TERRAFORM_BIN.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

name=examples-test
time_scale=0.01
# .tftest.hcl files arrived in Terraform 1.6.
export NEOCLOUD_TERRAFORM_MIN=1.6
# shellcheck source=scripts/emulator-env.sh
source scripts/emulator-env.sh

start=$SECONDS
n=0
while IFS= read -r dir; do
  n=$((n + 1))
  work=$tmp/work/$n
  mkdir -p "$work"
  (cd "$dir" && tar --exclude=.terraform --exclude='.terraform.lock.hcl' --exclude='*.tfstate*' -cf - .) | tar -xf - -C "$work"
  if grep -rqsE '^\s*module\s*(\{|")' --include='*.tf' --include='*.tftest.hcl' "$work"; then
    # Local modules (a test's run { module { source } }, a module call) are installed first;
    # dev_overrides covers the provider, so nothing is downloaded.
    "$tf" -chdir="$work" get -no-color >/dev/null
  fi
  log "terraform test in $dir"
  "$tf" -chdir="$work" test -no-color
done < <(find examples \( -name '*.tftest.hcl' -o -path '*/tests/*.tftest.hcl' \) -not -path '*/.terraform/*' |
  sed 's|/tests/[^/]*$||; s|/[^/]*\.tftest\.hcl$||' | sort -u)

((n > 0)) || die "no example has terraform tests"
echo "examples-test: terraform test passed in $n example(s) ($((SECONDS - start))s)" >&2
