#!/usr/bin/env bash
# API-economy and speed benchmark (`make bench`): drives terraform against the emulators and
# reports, per phase, wall time and the API calls the clouds saw (from /_emulator/stats).
#
#   create   N Lambda instances and N RunPod pods (terraform apply)
#   refresh  a plan of the same configuration: one read of every machine
#   destroy  terraform destroy
#   cluster  a 4-node Lambda cluster created, against its lower bound: Lambda launches one
#            instance per 12 s, so 3 x 12 s of pacing plus one boot (90 s), at the time scale
#
# The contract it measures (docs/guides/reliability.md: many resources, few calls): reads of one cloud share one list call,
# so refreshing 2N machines costs a handful of calls, not 2N. Timings are at the emulator's
# time scale; compare runs of the same N on the same machine.
# Env: BENCH_N (default 10 per cloud), BENCH_TIME_SCALE (default 0.01).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

name=bench
time_scale=${BENCH_TIME_SCALE:-0.01}
n=${BENCH_N:-10}
# shellcheck source=scripts/emulator-env.sh
source scripts/emulator-env.sh

mkdir "$tmp/work"
cd "$tmp/work"
cat >main.tf <<HCL
terraform {
  required_providers {
    neocloud = { source = "neocloud/neocloud" }
  }
}

resource "neocloud_ssh_key" "bench" {
  cloud = "lambda"
  name  = "bench"
}

resource "neocloud_gpu_instance" "lambda" {
  count       = $n
  name        = "bench-\${count.index}"
  cloud       = "lambda"
  gpu_type    = "A10_24GB"
  gpu_count   = 1
  ssh_key_ids = [neocloud_ssh_key.bench.id]
}

resource "neocloud_gpu_instance" "runpod" {
  count     = $n
  name      = "bench-\${count.index}"
  cloud     = "runpod"
  gpu_type  = "RTX_4090_24GB"
  gpu_count = 1
  runpod {
    image = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
  }
}
HCL

stats() { curl -fsS -X GET "http://$addr/_emulator/stats"; }
reset_stats() {
  for cloud in lambda runpod coreweave; do
    curl -fsS -o /dev/null -X DELETE "http://$addr/_emulator/$cloud/stats"
  done
}
# total CLOUD: the number of calls a cloud saw since the last reset (jq-free).
total() {
  stats | python3 -c "import json,sys; d=json.load(sys.stdin); print(sum(d.get('$1',{}).values()))"
}

results=()
phase() {
  local label=$1
  shift
  reset_stats
  local start end
  start=$(date +%s.%N)
  "$@" >"$tmp/$label.log" 2>&1 || { cat "$tmp/$label.log" >&2; die "$label failed"; }
  end=$(date +%s.%N)
  results+=("$(printf '%-8s %8.1f s %8s %8s' "$label" "$(echo "$end - $start" | bc)" "$(total lambda)" "$(total runpod)")")
  stats >"$tmp/$label.stats.json"
}

log "Benchmark: $n Lambda instances + $n RunPod pods, emulator time scale $time_scale"
phase create "$tf" apply -auto-approve -input=false -no-color -parallelism=20
phase refresh "$tf" plan -input=false -no-color -detailed-exitcode -parallelism=20
phase destroy "$tf" destroy -auto-approve -input=false -no-color -parallelism=20

mkdir "$tmp/cluster"
cd "$tmp/cluster"
cat >main.tf <<HCL
terraform {
  required_providers {
    neocloud = { source = "neocloud/neocloud" }
  }
}

resource "neocloud_ssh_key" "bench" {
  cloud = "lambda"
  name  = "bench-cluster"
}

resource "neocloud_gpu_cluster" "bench" {
  name        = "bench"
  cloud       = "lambda"
  gpu_type    = "H100_80GB_SXM"
  node_count  = 4
  ssh_key_ids = [neocloud_ssh_key.bench.id]
}
HCL
phase cluster "$tf" apply -auto-approve -input=false -no-color
"$tf" destroy -auto-approve -input=false -no-color >"$tmp/cluster-destroy.log" 2>&1 || die "cluster destroy failed"

printf '\n%-8s %10s %8s %8s\n' phase "wall" lambda runpod
printf '%s\n' "${results[@]}"
printf '\ncluster lower bound: (3 x 12 s + 90 s) x %s = %.2f s\n' "$time_scale" "$(echo "(3 * 12 + 90) * $time_scale" | bc -l)"
echo "(the provider looks at a booting machine after 1 s, then backs off to 15 s, in real time: at a"
echo " small time scale that polling, not the launch pacing, is most of the gap)"
echo
echo "Calls per route during refresh:"
python3 -c "import json; d=json.load(open('$tmp/refresh.stats.json')); [print(f'  {c:7} {r}: {n}') for c in d for r,n in sorted(d[c].items())]"
