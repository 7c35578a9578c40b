#!/usr/bin/env bash
# Performance benchmark at the vendors' limits (`make bench`; not part of `make test`). It drives
# terraform against the emulators, with every vendor rate limit on and the emulator's capacity
# and quotas raised through its admin API, and reports for each run and phase:
#
#   calls    API calls the clouds saw (from /_emulator/stats), in total and per route
#   429      calls the clouds refused for their rate limits (/_emulator/stats/429)
#   wall     wall time of the terraform command
#   bound    the lower bound: the rate-limit floor plus the lifecycle time, at the time scale
#            (see bound() below for each case)
#   ratio    wall / bound
#   rss      the provider's peak resident memory (VmHWM, sampled while terraform runs)
#
# Runs: N = 1, 10, 50, 100 gpu_instances on each cloud (Lambda, RunPod, CoreWeave: a CoreWeave
# instance is a one-node NodePool in a CKS cluster made once beforehand), then a 4-, 16- and
# 64-node gpu_cluster on each cloud whose cluster size allows it. Each run: apply, a plan
# that must show no change (the refresh), destroy.
#
# Env: BENCH_TIME_SCALE (default 0.01), BENCH_N (default "1 10 50 100"), BENCH_CLUSTER_N
# (default "4 16 64"), BENCH_CLOUDS (default "lambda runpod coreweave"), BENCH_PARALLELISM
# (terraform -parallelism, default 128: Terraform's default of 10 would deliver deletes ten at
# a time, which no batching can join), BENCH_OUT (write the markdown table there too),
# BENCH_PROFILE (a directory: CPU profiles of the provider processes, one folder per phase, for
# `go tool pprof`).
#
# The contract it measures (docs/guides/reliability.md: many resources, few calls): reads of one
# cloud share one list call, so refreshing N machines costs a handful of calls, not N.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

name=bench
time_scale=${BENCH_TIME_SCALE:-0.01}
sizes=${BENCH_N-1 10 50 100}
cluster_sizes=${BENCH_CLUSTER_N-4 16 64}
clouds=${BENCH_CLOUDS:-lambda runpod coreweave}
parallelism=${BENCH_PARALLELISM:-128}
command -v python3 >/dev/null || { echo "bench: python3 is required" >&2; exit 1; }
# shellcheck source=scripts/emulator-env.sh
source scripts/emulator-env.sh

results=$tmp/results.jsonl
: >"$results"

admin() { # admin METHOD PATH [JSON]: the emulator's admin API
  if [[ $# -ge 3 ]]; then
    curl -fsS -o /dev/null -X "$1" -H 'Content-Type: application/json' -d "$3" "http://$addr/_emulator$2"
  else
    curl -fsS -X "$1" "http://$addr/_emulator$2"
  fi
}

# Room for N = 100 (and a 64-node cluster) on every cloud.
admin PUT /lambda/quota '{"gpus": 100000}'
admin PUT /lambda/capacity '{"instance_type": "gpu_1x_a10", "region": "us-east-1", "available": 1000}'
admin PUT /lambda/capacity '{"instance_type": "gpu_8x_h100_sxm5", "region": "us-east-1", "available": 1000}'
admin PUT /runpod/capacity '{"gpu_type_id": "NVIDIA GeForce RTX 4090", "data_center_id": "US-TX-3", "cloud_type": "SECURE", "available": 1000}'
admin PUT /runpod/capacity '{"gpu_type_id": "NVIDIA H100 80GB HBM3", "data_center_id": "US-TX-3", "cloud_type": "SECURE", "available": 1000}'
admin PUT /coreweave/capacity '{"instance_type": "gd-1xgh200", "zone": "US-EAST-04A", "available": 1000}'
admin PUT /coreweave/capacity '{"instance_type": "gd-8xh100ib-i128", "zone": "US-EAST-04A", "available": 1000}'
admin PUT /coreweave/quota '{"clusters": 50}'

# Lambda launches with exactly one account SSH key: one made here, outside the measured runs.
lambda_key=$(curl -fsS -X POST -H "Authorization: Bearer $LAMBDA_API_KEY" -H 'Content-Type: application/json' \
  -d '{"name": "bench"}' "$NEOCLOUD_LAMBDA_ENDPOINT/ssh-keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["id"])')

header='terraform {
  required_providers {
    neocloud = { source = "neocloud/neocloud" }
  }
}
'

# The provider's peak RSS while a command runs: VmHWM of every provider process, sampled.
rss_watch() {
  local out=$1 peak=0 v pid
  while [[ -e $tmp/rss.on ]]; do
    for pid in $(pgrep -f -- "$tmp/bin/terraform-provider-neocloud" || true); do
      v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
      [[ -n $v ]] && ((v > peak)) && peak=$v
    done
    sleep 0.05
  done
  echo "$peak" >"$out"
}

# phase CLOUD KIND N PHASE BOUND -- COMMAND...: runs COMMAND and records one result line.
phase() {
  local cloud=$1 kind=$2 n=$3 label=$4 bound=$5
  shift 6
  for c in lambda runpod coreweave; do admin DELETE "/$c/stats" >/dev/null; done
  if [[ -n ${BENCH_PROFILE:-} ]]; then
    # CPU profiles of the provider processes of this phase (main.go: NEOCLOUD_CPUPROFILE).
    export NEOCLOUD_CPUPROFILE=$BENCH_PROFILE/$cloud-$kind-$n-$label
    mkdir -p "$NEOCLOUD_CPUPROFILE"
  fi
  touch "$tmp/rss.on"
  rss_watch "$tmp/rss.out" &
  local watcher=$! start end rc=0
  start=$(date +%s.%N)
  "$@" >"$tmp/phase.log" 2>&1 || rc=$?
  end=$(date +%s.%N)
  rm -f "$tmp/rss.on"
  wait "$watcher"
  if [[ $label == refresh ]]; then
    # plan -detailed-exitcode: 0 = no change (what a refresh must show), 2 = a change.
    [[ $rc == 0 ]] || { cat "$tmp/phase.log" >&2; die "$cloud $kind N=$n: the plan after apply is not empty (exit $rc)"; }
  elif [[ $rc != 0 ]]; then
    cat "$tmp/phase.log" >&2
    die "$cloud $kind N=$n: $label failed"
  fi
  admin GET /stats >"$tmp/stats.json"
  admin GET /stats/429 >"$tmp/refused.json"
  python3 - "$cloud" "$kind" "$n" "$label" "$bound" "$start" "$end" "$(cat "$tmp/rss.out")" "$tmp" >>"$results" <<'PY'
import json, sys
cloud, kind, n, label, bound, start, end, rss, tmp = sys.argv[1:]
r = {"cloud": cloud, "kind": kind, "n": int(n), "phase": label, "bound": float(bound) if bound else None,
     "wall": float(end) - float(start), "rss_kb": int(rss or 0),
     "calls": json.load(open(tmp + "/stats.json")), "refused": json.load(open(tmp + "/refused.json"))}
print(json.dumps(r))
print(f"{cloud} {kind} N={n} {label}: {r['wall']:.2f} s, {sum(r['calls'].get(cloud, {}).values())} calls, "
      f"{sum(r['refused'].get(cloud, {}).values())} refused, peak RSS {r['rss_kb'] // 1024} MiB", file=sys.stderr)
PY
}

tf_apply() { "$tf" apply -auto-approve -input=false -no-color -parallelism="$parallelism"; }
tf_plan() { "$tf" plan -input=false -no-color -detailed-exitcode -parallelism="$parallelism"; }
tf_destroy() { "$tf" destroy -auto-approve -input=false -no-color -parallelism="$parallelism"; }

# bound CLOUD KIND N PHASE: the lower bound in seconds at the time scale, from the emulators'
# default lifecycles and the vendors' published limits:
#   Lambda    one launch per 12 s, boot 90 s, terminate 20 s; other calls fit the general limit.
#   RunPod    60 requests a minute (a bucket of 60 refilled one a second), so N creates or
#             deletes need (N - 60) s beyond the bucket; a pod is RUNNING with its SSH port
#             after 20 + 20 + 10 s and leaves the list the moment it is deleted.
#   CoreWeave no published limit. A NodePool is seen by the controller after 2 s and adds its
#             nodes one at a time, 5 min each; a deleted pool drains 2 min. A cluster is a VPC
#             (1 min), a CKS cluster (45 min), then its pool; deleting it takes 10 min, then
#             its VPC 30 s.
bound() {
  python3 - "$@" "$time_scale" <<'PY'
import sys
cloud, kind, n, phase, s = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
if phase == "refresh":
    print(""); sys.exit()
b = {
    ("lambda", "instance", "apply"): (n - 1) * 12 + 90,
    ("lambda", "instance", "destroy"): 20,
    ("lambda", "cluster", "apply"): (n - 1) * 12 + 90,
    ("lambda", "cluster", "destroy"): 20,
    ("runpod", "instance", "apply"): max(0, n - 60) + 50,
    ("runpod", "instance", "destroy"): max(0, n - 60),
    ("runpod", "cluster", "apply"): 50,
    ("runpod", "cluster", "destroy"): 0,
    ("coreweave", "instance", "apply"): 2 + 300,
    ("coreweave", "instance", "destroy"): 2 + 120,
    ("coreweave", "cluster", "apply"): 60 + 2700 + 2 + 300 * n,
    ("coreweave", "cluster", "destroy"): 600 + 30,
}[(cloud, kind, phase)]
print(f"{b * s:.3f}")
PY
}

run() { # run CLOUD KIND N: apply, refresh and destroy of the configuration in the current directory
  local cloud=$1 kind=$2 n=$3 p
  for p in apply refresh destroy; do
    case $p in
      apply) phase "$cloud" "$kind" "$n" apply "$(bound "$cloud" "$kind" "$n" apply)" -- tf_apply ;;
      refresh) phase "$cloud" "$kind" "$n" refresh "" -- tf_plan ;;
      destroy)
        # The bounds assume the vendor's quota at the start of a phase, as after a pause: the
        # apply just spent RunPod's minute window, so the destroy waits one window (on the
        # emulator's clock) for it to refill rather than be measured against a bound it
        # cannot meet.
        sleep "$(python3 -c "print(60 * $time_scale)")"
        phase "$cloud" "$kind" "$n" destroy "$(bound "$cloud" "$kind" "$n" destroy)" -- tf_destroy ;;
    esac
  done
}

instances_hcl() { # instances_hcl CLOUD N
  local body
  case $1 in
    lambda) body="cloud       = \"lambda\"
  region      = \"us-east-1\"
  gpu_type    = \"A10_24GB\"
  gpu_count   = 1
  ssh_key_ids = [\"$lambda_key\"]" ;;
    runpod) body='cloud     = "runpod"
  region    = "US-TX-3"
  gpu_type  = "RTX_4090_24GB"
  gpu_count = 1
  runpod {
    image = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
  }' ;;
    coreweave) body="cloud     = \"coreweave\"
  gpu_type  = \"GH200_96GB\"
  gpu_count = 1
  coreweave {
    cluster_id = \"$cw_cluster\"
  }" ;;
  esac
  printf '%s\nresource "neocloud_gpu_instance" "m" {\n  count = %d\n  name  = "bench-${count.index}"\n  %s\n}\n' "$header" "$2" "$body"
}

cluster_hcl() { # cluster_hcl CLOUD N
  local body
  case $1 in
    lambda) body="cloud       = \"lambda\"
  region      = \"us-east-1\"
  ssh_key_ids = [\"$lambda_key\"]" ;;
    runpod) body='cloud         = "runpod"
  region        = "US-TX-3"
  gpus_per_node = 8
  runpod {
    image = "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04"
  }' ;;
    coreweave) body='cloud         = "coreweave"
  region        = "US-EAST-04A"
  gpus_per_node = 8
  coreweave {
    kubernetes_version = "v1.35"
  }' ;;
  esac
  printf '%s\nresource "neocloud_gpu_cluster" "c" {\n  name       = "bench-%d"\n  gpu_type   = "H100_80GB_SXM"\n  node_count = %d\n  %s\n}\n' "$header" "$2" "$2" "$body"
}

cluster_allows() { # cluster_allows CLOUD N: within the cloud's cluster size
  case $1 in
    lambda) (($2 >= 1 && $2 <= 16)) ;;
    runpod) (($2 >= 2 && $2 <= 8)) ;;
    coreweave) (($2 >= 1 && $2 <= 64)) ;;
  esac
}

log "Benchmark at time scale $time_scale: clouds $clouds, N = $sizes, clusters of $cluster_sizes nodes"
skipped=()
for cloud in $clouds; do
  cw_cluster=
  if [[ $cloud == coreweave ]]; then
    # CoreWeave machines live in a CKS cluster: one, made once, outside the measured runs.
    mkdir -p "$tmp/cw-base" && cd "$tmp/cw-base"
    printf '%s\nresource "neocloud_gpu_cluster" "base" {\n  name          = "bench-base"\n  cloud         = "coreweave"\n  region        = "US-EAST-04A"\n  gpu_type      = "H100_80GB_SXM"\n  gpus_per_node = 8\n  node_count    = 1\n  coreweave {\n    kubernetes_version = \"v1.35\"\n  }\n}\noutput "id" {\n  value = neocloud_gpu_cluster.base.id\n}\n' "$header" >main.tf
    log "Creating the CKS cluster the CoreWeave instances go into"
    "$tf" apply -auto-approve -input=false -no-color >"$tmp/cw-base.log" 2>&1 &
    base_apply=$!
    # Not measured, and 45 minutes of CKS cluster at the vendor's pace: once the cluster is
    # being created, the emulator's admin API brings it up at once.
    while kill -0 "$base_apply" 2>/dev/null; do
      creating=$(admin GET /coreweave/clusters | python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(sys.stdin) if c["status"] == "STATUS_CREATING"))')
      for id in $creating; do admin POST "/coreweave/clusters/$id/status" '{"status": "STATUS_RUNNING"}' || true; done
      sleep 1
    done
    wait "$base_apply" || { cat "$tmp/cw-base.log" >&2; die "CoreWeave base cluster failed"; }
    cw_cluster=$("$tf" output -raw id)
  fi
  for n in $sizes; do
    mkdir -p "$tmp/$cloud-i$n" && cd "$tmp/$cloud-i$n"
    instances_hcl "$cloud" "$n" >main.tf
    run "$cloud" instance "$n"
  done
  for n in $cluster_sizes; do
    if ! cluster_allows "$cloud" "$n"; then
      skipped+=("$cloud $n-node cluster")
      continue
    fi
    mkdir -p "$tmp/$cloud-c$n" && cd "$tmp/$cloud-c$n"
    cluster_hcl "$cloud" "$n" >main.tf
    run "$cloud" cluster "$n"
  done
  if [[ -n $cw_cluster ]]; then
    cd "$tmp/cw-base"
    # Not measured either: the cluster goes out of band at once (10 minutes of deletion at the
    # vendor's pace), and the destroy deletes what is left (its VPC) and finds the cluster gone.
    admin DELETE "/coreweave/clusters/$cw_cluster"
    "$tf" destroy -auto-approve -input=false -no-color >"$tmp/cw-base.log" 2>&1 || { cat "$tmp/cw-base.log" >&2; die "CoreWeave base cluster destroy failed"; }
  fi
done

cd "$root"
python3 - "$results" "$time_scale" "$parallelism" "${skipped[@]}" <<'PY' | tee "${BENCH_OUT:-/dev/null}"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
scale, par, skipped = sys.argv[2], sys.argv[3], sys.argv[4:]
short = {"POST /api/v1/instance-operations/launch": "launch", "POST /api/v1/instance-operations/terminate": "terminate",
         "GET /api/v1/instances": "list", "GET /api/v1/instances/{id}": "get", "GET /v2/pods": "list",
         "GET /v2/pods/{id}": "get", "POST /v2/pods": "create", "DELETE /v2/pods/{id}": "delete"}
def routes(d, refused):
    out = []
    for route, n in sorted(d.items(), key=lambda kv: -kv[1]):
        k = f" (429: {refused[route]})" if refused.get(route) else ""
        if route.startswith("POST /coreweave."):  # a Connect RPC of CoreWeave's platform API: its method
            r = route.rsplit("/", 1)[1]
        else:
            r = short.get(route, route.replace("/api/v1", "").replace("/v2", "").replace("/apis/compute.coreweave.com/v1alpha1", "")
                          .replace("/k8s/{cluster}", "k8s").replace("/v1beta1", ""))
        out.append(f"{r} {n}{k}")
    return ", ".join(out)
print(f"Time scale {scale}, terraform -parallelism={par}; times in seconds of wall time; bound = rate-limit floor + lifecycle at the time scale.\n")
print("| cloud | resource | N | phase | calls | 429s | wall s | bound s | ratio | peak RSS MiB | calls per route |")
print("|---|---|--:|---|--:|--:|--:|--:|--:|--:|---|")
for r in rows:
    calls = r["calls"].get(r["cloud"], {})
    refused_routes = r["refused"].get(r["cloud"], {})
    refused = sum(refused_routes.values())
    other = sum(sum(v.values()) for c, v in r["calls"].items() if c != r["cloud"])
    total = sum(calls.values())
    b = r["bound"]
    ratio = f"{r['wall'] / b:.2f}" if b else "-"
    bs = f"{b:.2f}" if b is not None else "-"
    note = f" (+{other} on other clouds)" if other else ""
    print(f"| {r['cloud']} | {r['kind']} | {r['n']} | {r['phase']} | {total}{note} | {refused} | {r['wall']:.2f} | {bs} | {ratio} | {r['rss_kb'] / 1024:.0f} | {routes(calls, refused_routes)} |")
if skipped:
    print("\nNot run (beyond the cloud's cluster size: Lambda 1-16 nodes, RunPod 2-8): " + "; ".join(skipped) + ".")
PY
