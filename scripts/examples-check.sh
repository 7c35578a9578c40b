#!/usr/bin/env bash
# `make examples-check`: every example is formatted (`terraform fmt -check -recursive examples/`)
# and every example root module validates (`terraform validate`), with the provider built from
# this tree and loaded through dev_overrides, so no registry or `terraform init` is involved.
#
# Examples are copied to a temporary directory first, so nothing is written into examples/. The
# resource and data-source snippets (rendered into docs/ by tfplugindocs) have no terraform
# block; their copy gets one naming neocloud/neocloud, as a user's configuration would.
# Env: TERRAFORM_BIN (see scripts/ensure-terraform.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

tf=$(scripts/ensure-terraform.sh)
start=$SECONDS

tmp=$(mktemp -d "${TMPDIR:-/tmp}/neocloud-examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bin/terraform-provider-neocloud" .
cat >"$tmp/terraformrc" <<HCL
provider_installation {
  dev_overrides {
    "neocloud/neocloud" = "$tmp/bin"
  }
  direct {}
}
HCL
export TF_CLI_CONFIG_FILE=$tmp/terraformrc

echo "==> terraform fmt -check -recursive examples/" >&2
if ! "$tf" fmt -check -recursive -diff examples/; then
  echo "examples-check: run make fmt (terraform fmt -recursive examples/)" >&2
  exit 1
fi

failed=0 n=0
while IFS= read -r dir; do
  n=$((n + 1))
  work=$tmp/work/$n
  mkdir -p "$work"
  (cd "$dir" && tar --exclude=.terraform --exclude='.terraform.lock.hcl' --exclude='*.tfstate*' -cf - .) | tar -xf - -C "$work"
  if grep -rqsE '^\s*module\s*(\{|")' --include='*.tf' --include='*.tftest.hcl' "$work"; then
    # A root module calling local modules (an example of examples/modules/*), or tests that
    # run one: validate it in a copy of the whole examples/ tree, so that relative sources
    # resolve, after installing the modules (terraform get: no provider is downloaded).
    work=$tmp/tree/$n
    mkdir -p "$work"
    tar --exclude=.terraform --exclude='.terraform.lock.hcl' --exclude='*.tfstate*' -cf - examples | tar -xf - -C "$work"
    work=$work/$dir
    if ! out=$("$tf" -chdir="$work" get -no-color 2>&1); then
      echo "FAIL  $dir (init)" >&2
      sed -n '/Error:/,$p' <<<"$out" >&2
      failed=$((failed + 1))
      continue
    fi
  fi
  if ! grep -qs 'required_providers' "$work"/*.tf; then
    cat >"$work/zz_examples_check_providers.tf" <<'HCL'
terraform {
  required_providers {
    neocloud = {
      source = "neocloud/neocloud"
    }
  }
}
HCL
  fi
  if out=$("$tf" -chdir="$work" validate -no-color 2>&1); then
    echo "ok    $dir" >&2
  else
    echo "FAIL  $dir" >&2
    sed -n '/Error:/,$p' <<<"$out" >&2
    failed=$((failed + 1))
  fi
done < <(find examples -name '*.tf' -not -path '*/.terraform/*' -exec dirname {} \; | sort -u)

if ((failed > 0)); then
  echo "examples-check: $failed of $n example modules do not validate" >&2
  exit 1
fi
echo "examples-check: $n example modules formatted and valid ($((SECONDS - start))s)" >&2
