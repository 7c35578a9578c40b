#!/usr/bin/env bash
# End-to-end demo (`make demo`): builds the provider and the emulator, starts
# the emulator on loopback, and runs examples/quickstart through
# `terraform apply` / `output` / `destroy` against it.
#
# Env: NEOCLOUD_DEMO_PORT (default 8800; the next free port is used if busy),
#      TERRAFORM_BIN (see scripts/ensure-terraform.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

name=demo
time_scale=0.05
# shellcheck source=scripts/emulator-env.sh
source scripts/emulator-env.sh

# Work on a copy so the demo never leaves state files in examples/.
[[ -d examples/quickstart ]] || die "examples/quickstart not found"
mkdir "$tmp/work"
cp -R examples/quickstart/. "$tmp/work/"
cd "$tmp/work"
rm -rf .terraform .terraform.lock.hcl terraform.tfstate terraform.tfstate.backup

# With dev_overrides, `terraform init` is unnecessary (and would try to find
# neocloud/neocloud in the registry), so run it only when the example needs it:
# `terraform get` for module blocks, `init` for other providers' "ns/name"
# sources (those would need the network anyway).
if grep -Eq '^[[:space:]]*module[[:space:]]+"' ./*.tf; then
  log "terraform get (example uses modules)"
  "$tf" get -no-color
fi
if grep -Eho '^[[:space:]]*source[[:space:]]*=[[:space:]]*"[A-Za-z0-9_-]+/[A-Za-z0-9_-]+"' ./*.tf |
  grep -vq '"neocloud/neocloud"'; then
  log "terraform init (example requires other providers)"
  "$tf" init -input=false -no-color
fi

log "terraform apply"
"$tf" apply -auto-approve -input=false -no-color

log "terraform output"
"$tf" output -no-color

log "emulator stats (GET http://$addr/_emulator/stats)"
curl -fsS "http://$addr/_emulator/stats"
echo

log "terraform destroy"
"$tf" destroy -auto-approve -input=false -no-color

log "Demo finished OK"
