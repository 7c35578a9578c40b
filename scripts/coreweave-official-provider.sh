#!/usr/bin/env bash
# Drives CoreWeave's official Terraform provider (coreweave/terraform-provider-coreweave) against
# our CoreWeave emulator: apply a VPC and a CKS cluster, update the cluster in place, destroy both, then check through the
# emulator's admin API that nothing is left. Not part of `make test`.
#
# The provider is built from a git checkout of its repository (CWPROV_GIT: a git dir or URL you
# can clone; nothing of it enters this repository). Its object-storage package needs modules the
# Go module proxy does not serve, so the scratch copy drops that package and its imports before
# building. The binary is cached in $NEOCLOUD_CACHE/coreweave-official/<commit>/.
#
#   CWPROV_GIT=/path/to/terraform-provider-coreweave/.git scripts/coreweave-official-provider.sh
#
# Needs: go, git, python3, terraform (>= 1.5; TERRAFORM overrides the one on PATH).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${NEOCLOUD_CACHE:-$HOME/.cache/neocloud}
src=${CWPROV_GIT:?set CWPROV_GIT to a clone of github.com/coreweave/terraform-provider-coreweave (its git dir or URL)}
tf=${TERRAFORM:-$(command -v terraform)}
scale=${CW_TIME_SCALE:-0.01}

work=$(mktemp -d)
emu_pid=""
cleanup() {
  if [[ -n "$emu_pid" ]]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

commit=$(git --git-dir="$src" rev-parse HEAD 2>/dev/null || git ls-remote "$src" HEAD | cut -f1)
bindir="$cache/coreweave-official/$commit"
if [[ ! -x "$bindir/terraform-provider-coreweave" ]]; then
  echo "== building terraform-provider-coreweave $commit (without its object-storage package)"
  git clone -q "$src" "$work/src"
  (
    cd "$work/src"
    rm -rf coreweave/object_storage coreweave/s3.go coreweave/s3_test.go
    python3 - <<'EOF'
import re
p = 'coreweave/client.go'; s = open(p).read()
s = re.sub(r'\n\t"buf.build/gen/go/coreweave/cwobject/[^"]*"', '', s)
s = re.sub(r'\n\t\tCWObjectClient: *cwobjectv1connect\.NewCWObjectClient\([^\n]*\),', '', s)
s = re.sub(r'\n\tcwobjectv1connect\.CWObjectClient', '', s)
open(p, 'w').write(s)
p = 'internal/provider/provider.go'; s = open(p).read()
s = re.sub(r'\n\tobjectstorage "[^"]*"', '', s)
s = re.sub(r'\n\t\tobjectstorage\.[A-Za-z]+,', '', s)
open(p, 'w').write(s)
EOF
    sed -i '/cwobject/d' go.mod go.sum
    GOFLAGS=-mod=mod go build -o terraform-provider-coreweave .
  )
  mkdir -p "$bindir"
  mv "$work/src/terraform-provider-coreweave" "$bindir/"
fi
echo "== provider: $bindir/terraform-provider-coreweave"

echo "== starting the emulator (time scale $scale)"
(cd "$root" && go build -o "$work/neocloud-emulator" ./cmd/neocloud-emulator)
"$work/neocloud-emulator" -listen 127.0.0.1:0 -time-scale "$scale" >"$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 100); do
  grep -q 'listening on' "$work/emulator.log" 2>/dev/null && break
  sleep 0.1
done
base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/emulator.log" | head -1)
[[ -n "$base" ]] || { cat "$work/emulator.log"; exit 1; }
echo "== emulator at $base"

cat >"$work/cli.tfrc" <<EOF
provider_installation {
  dev_overrides {
    "coreweave/coreweave" = "$bindir"
  }
  direct {}
}
EOF
mkdir "$work/tf"
cat >"$work/tf/main.tf" <<'EOF'
terraform {
  required_providers {
    coreweave = { source = "coreweave/coreweave" }
  }
}

provider "coreweave" {}

resource "coreweave_networking_vpc" "net" {
  name = "official-provider-net"
  zone = "US-EAST-04A"
  host_prefixes = [{ name = "primary", type = "PRIMARY", prefixes = ["10.16.192.0/18"] }]
  vpc_prefixes = [
    { name = "pod cidr", value = "10.0.0.0/13" },
    { name = "service cidr", value = "10.16.0.0/22" },
    { name = "internal lb cidr", value = "10.32.4.0/22" },
  ]
}

resource "coreweave_cks_cluster" "k8s" {
  name                   = "official-provider"
  version                = "v1.35"
  zone                   = "US-EAST-04A"
  vpc_id                 = coreweave_networking_vpc.net.id
  public                 = false
  pod_cidr_name          = "pod cidr"
  service_cidr_name      = "service cidr"
  internal_lb_cidr_names = ["internal lb cidr"]
}

output "cluster" {
  value = { id = coreweave_cks_cluster.k8s.id, status = coreweave_cks_cluster.k8s.status, endpoint = coreweave_cks_cluster.k8s.api_server_endpoint }
}
EOF

export TF_CLI_CONFIG_FILE="$work/cli.tfrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export COREWEAVE_API_ENDPOINT="$base/" COREWEAVE_API_TOKEN=CW-SECRET-emulator
cd "$work/tf"
echo "== terraform apply"
"$tf" apply -auto-approve -no-color
echo "== terraform plan (expect no changes)"
"$tf" plan -detailed-exitcode -no-color
echo "== update in place (public = true: UpdateCluster with an update mask)"
sed -i 's/public                 = false/public                 = true/' main.tf
"$tf" apply -auto-approve -no-color
"$tf" plan -detailed-exitcode -no-color
echo "== emulator state after apply"
curl -fsS "$base/_emulator/coreweave/clusters"; echo
curl -fsS "$base/_emulator/coreweave/vpcs"; echo
echo "== terraform destroy"
"$tf" destroy -auto-approve -no-color
echo "== emulator state after destroy"
left=$(curl -fsS "$base/_emulator/coreweave/clusters" | python3 -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin) or [] if not c.get("gone")))')
leftv=$(curl -fsS "$base/_emulator/coreweave/vpcs" | python3 -c 'import json,sys; print(sum(1 for v in json.load(sys.stdin) or [] if not v.get("gone")))')
echo "clusters left: $left, VPCs left: $leftv"
echo "== calls per route"
curl -fsS "$base/_emulator/stats?by=status"; echo
[[ "$left" == 0 && "$leftv" == 0 ]]
echo "PASS: the official CoreWeave provider applied, updated in place and destroyed a VPC and a CKS cluster against the emulator"
