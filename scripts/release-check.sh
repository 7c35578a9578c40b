#!/usr/bin/env bash
# `make release-check`: installs the provider from the release artifacts in dist/ (made by
# `make release-snapshot`) the way users will, and uses it:
#
#   1. filesystem mirror: a plain `terraform init` (no dev_overrides) from a packed mirror holding
#      this platform's zip; the lock file's h1: hash must be the zip's.
#   2. registry: a plain `terraform init` from a local stand-in for the Terraform Registry
#      (internal/releasecheck: the provider registry protocol on 127.0.0.1, the release's
#      SHA256SUMS and its signature). As with the real registry, Terraform records a zh: hash
#      per platform from the signed SHA256SUMS; each must equal its SHA256SUMS line, and this
#      platform's must equal the zip's own SHA-256.
#   3. `terraform plan` of examples/quickstart with the installed provider against the emulator
#      from dist/'s own emulator archive (checked against its .sha256), on 127.0.0.1.
#
# Everything is local: no network but loopback. Takes about 30 s once terraform is at hand.
# Env: TERRAFORM_BIN (see scripts/ensure-terraform.sh), DIST (default dist).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'release-check: %s\n' "$*" >&2; exit 1; }
start=$SECONDS
dist=${DIST:-dist}

sums=$(ls "$dist"/terraform-provider-neocloud_*_SHA256SUMS 2>/dev/null || true)
[[ -n $sums && $(wc -l <<<"$sums") -eq 1 ]] || die "no single $dist/terraform-provider-neocloud_*_SHA256SUMS: run make release-snapshot first"
version=${sums##*/terraform-provider-neocloud_}
version=${version%_SHA256SUMS}

export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_PLUGIN_CACHE_DIR TF_CLI_ARGS TF_CLI_ARGS_init TF_CLI_ARGS_plan
tf=$(scripts/ensure-terraform.sh)
platform=$("$tf" version -json | sed -n 's/.*"platform": *"\([^"]*\)".*/\1/p')
[[ -n $platform ]] || die "cannot tell terraform's platform"
zip=$dist/terraform-provider-neocloud_${version}_${platform}.zip
[[ -f $zip ]] || die "no $zip in the release"
emu_archive=$(ls "$dist"/neocloud-emulator_"${version}"_"${platform}".* 2>/dev/null | head -n1 || true)
[[ -n $emu_archive ]] || die "no neocloud-emulator archive for $platform in $dist"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/neocloud-release-check.XXXXXX")
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]+"${pids[@]}"}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for_line FILE PATTERN PID: prints the first match of the sed pattern in FILE, waiting for
# it while PID lives (up to 30 s).
wait_for_line() {
  local file=$1 pattern=$2 pid=$3 found
  for _ in $(seq 1 150); do
    found=$(sed -n "$pattern" "$file" | head -n1)
    if [[ -n $found ]]; then
      echo "$found"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; return 1; }
    sleep 0.2
  done
  cat "$file" >&2
  return 1
}

log "Release $version, platform $platform, terraform $tf"
go build -o "$tmp/releasecheck" ./internal/releasecheck

# The configuration: the quickstart, pinned to the snapshot (a prerelease is only ever chosen
# when asked for exactly).
mkdir -p "$tmp/config"
cp -R examples/quickstart/. "$tmp/config/"
rm -rf "$tmp/config/.terraform" "$tmp/config/.terraform.lock.hcl" "$tmp/config"/terraform.tfstate*
cat >"$tmp/config/release_check_override.tf" <<HCL
terraform {
  required_providers {
    neocloud = {
      source  = "neocloud/neocloud"
      version = "= $version"
    }
  }
}
HCL

log "1. terraform init from a filesystem mirror"
mkdir -p "$tmp/mirror/registry.terraform.io/neocloud/neocloud"
cp "$zip" "$tmp/mirror/registry.terraform.io/neocloud/neocloud/"
cat >"$tmp/mirror.tfrc" <<HCL
provider_installation {
  filesystem_mirror {
    path    = "$tmp/mirror"
    include = ["registry.terraform.io/neocloud/neocloud"]
  }
}
HCL
cp -R "$tmp/config" "$tmp/work-mirror"
TF_CLI_CONFIG_FILE=$tmp/mirror.tfrc "$tf" -chdir="$tmp/work-mirror" init -input=false -no-color
"$tmp/releasecheck" lock -dist "$dist" -lock "$tmp/work-mirror/.terraform.lock.hcl" -platform "$platform"

log "2. terraform init from a local registry serving the release"
"$tmp/releasecheck" registry -dist "$dist" >"$tmp/registry.log" 2>&1 &
registry_pid=$!
pids+=("$registry_pid")
registry=$(wait_for_line "$tmp/registry.log" 's|^registry listening on \(http://[^ ]*\).*|\1|p' "$registry_pid") ||
  die "the local registry did not start"
head -n1 "$tmp/registry.log" >&2
# Service discovery for registry.terraform.io answered from the CLI configuration: the
# providers.v1 service is the local registry. No dev_overrides, no mirror.
cat >"$tmp/registry.tfrc" <<HCL
host "registry.terraform.io" {
  services = {
    "providers.v1" = "$registry"
  }
}
HCL
cp -R "$tmp/config" "$tmp/work"
TF_CLI_CONFIG_FILE=$tmp/registry.tfrc "$tf" -chdir="$tmp/work" init -input=false -no-color | tee "$tmp/init.log"
grep -q "Installed neocloud/neocloud v$version" "$tmp/init.log" || die "terraform init did not install neocloud/neocloud v$version"
"$tmp/releasecheck" lock -dist "$dist" -lock "$tmp/work/.terraform.lock.hcl" -platform "$platform" -zh
sed -n '/neocloud\/neocloud/,/^}/p' "$tmp/work/.terraform.lock.hcl" >&2

log "3. terraform plan against the released emulator"
"$tmp/releasecheck" emulator-sums -dist "$dist"
mkdir -p "$tmp/emulator"
case $emu_archive in
*.zip) (cd "$tmp/emulator" && unzip -q "$root/$emu_archive") ;;
*) tar -xzf "$emu_archive" -C "$tmp/emulator" ;;
esac
time_scale=0.01
"$tmp/emulator/neocloud-emulator" -listen 127.0.0.1:0 -time-scale "$time_scale" >"$tmp/emulator.log" 2>&1 &
emulator_pid=$!
pids+=("$emulator_pid")
addr=$(wait_for_line "$tmp/emulator.log" 's|^neocloud-emulator listening on http://\([^[:space:]/]*\).*|\1|p' "$emulator_pid") ||
  die "the emulator did not start"
"$tmp/emulator/neocloud-emulator" -version >&2
echo "emulator listening on http://$addr" >&2

export LAMBDA_API_KEY=lambda-emulator-key NEOCLOUD_LAMBDA_ENDPOINT=http://$addr/api/v1
export RUNPOD_API_KEY=runpod-emulator-key NEOCLOUD_RUNPOD_ENDPOINT=http://$addr/v2
export COREWEAVE_API_TOKEN=CW-SECRET-emulator COREWEAVE_API_ENDPOINT=http://$addr
export NEOCLOUD_RATE_SCALE=$time_scale
rc=0
TF_CLI_CONFIG_FILE=$tmp/registry.tfrc "$tf" -chdir="$tmp/work" plan -input=false -no-color -detailed-exitcode \
  -out="$tmp/plan.out" | tee "$tmp/plan.log" || rc=$?
[[ $rc -eq 2 ]] || die "terraform plan exited $rc, want 2 (changes to make)"
grep -q "Plan: 2 to add, 0 to change, 0 to destroy" "$tmp/plan.log" || die "unexpected plan"
calls=$(curl -fsS "http://$addr/_emulator/lambda/stats" 2>/dev/null || true)
if [[ -n $calls ]]; then
  [[ $calls == *'GET /api/v1/instance-types'* ]] || die "the plan did not read offers from the emulator: $calls"
fi

log "release-check passed in $((SECONDS - start))s: $zip installs by a plain terraform init (filesystem mirror and registry protocol), its lock hashes match SHA256SUMS, and it plans against the released emulator"
