# shellcheck shell=bash disable=SC2034,SC2154  # sourced: variables flow in and out
# Shared by demo.sh and bench.sh (sourced, not run): builds the provider and the emulator,
# starts the emulator on a free loopback port, and points terraform and the provider at it.
#
# Before sourcing, set: name (for messages and the temp dir), time_scale (the emulator's
# clock). After sourcing: $tf, $tmp, $addr, and the environment terraform needs.
# Env: NEOCLOUD_DEMO_PORT (default 8800; the next free port is used if busy),
#      TERRAFORM_BIN (see scripts/ensure-terraform.sh).

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$name" "$*" >&2; exit 1; }

command -v curl >/dev/null || die "curl is required"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/neocloud-$name.XXXXXX")
emu_pid=
cleanup() {
  local rc=$?
  if [[ -n $emu_pid ]]; then
    kill "$emu_pid" 2>/dev/null || true
    wait "$emu_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
# Turn Ctrl-C / SIGTERM into a normal (failing) exit so the EXIT trap runs.
trap 'exit 130' INT
trap 'exit 143' TERM

tf=$(scripts/ensure-terraform.sh)

log "Building provider and emulator"
mkdir -p "$tmp/bin"
go build -ldflags "-X main.version=0.1.0-dev" -o "$tmp/bin/terraform-provider-neocloud" .
go build -o "$tmp/bin/neocloud-emulator" ./cmd/neocloud-emulator

# True if something already accepts connections on 127.0.0.1:$1.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port=${NEOCLOUD_DEMO_PORT:-8800}
first=$port
while port_busy "$port"; do
  port=$((port + 1))
  ((port < first + 100)) || die "no free port in $first..$((port - 1))"
done

log "Starting emulator on 127.0.0.1:$port"
"$tmp/bin/neocloud-emulator" -listen "127.0.0.1:$port" -time-scale "$time_scale" >"$tmp/emulator.log" 2>&1 &
emu_pid=$!

# Ready when it announces its address, or (if that line changes) when the
# stats endpoint answers 200.
addr=
for _ in $(seq 1 150); do # ~30s
  if ! kill -0 "$emu_pid" 2>/dev/null; then
    cat "$tmp/emulator.log" >&2
    die "emulator exited before becoming ready"
  fi
  addr=$(sed -n 's|.*neocloud-emulator listening on http://\([^[:space:]/]*\).*|\1|p' "$tmp/emulator.log" | head -n1)
  [[ -n $addr ]] && break
  if curl -fs -o /dev/null "http://127.0.0.1:$port/_emulator/stats"; then
    addr=127.0.0.1:$port
    break
  fi
  sleep 0.2
done
if [[ -z $addr ]]; then
  cat "$tmp/emulator.log" >&2
  die "emulator not ready after 30s"
fi
echo "emulator listening on http://$addr" >&2

# dev_overrides makes terraform load our freshly built binary directly, with
# no registry, lock file or `terraform init` involved.
cat >"$tmp/terraformrc" <<HCL
provider_installation {
  dev_overrides {
    "neocloud/neocloud" = "$tmp/bin"
  }
  direct {}
}
HCL
export TF_CLI_CONFIG_FILE=$tmp/terraformrc
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
export LAMBDA_API_KEY=lambda-emulator-key
# The emulator's rate limits run on its scaled clock: pace the provider on the same clock.
export NEOCLOUD_RATE_SCALE=$time_scale
export NEOCLOUD_LAMBDA_ENDPOINT=http://$addr/api/v1
export RUNPOD_API_KEY=runpod-emulator-key
export NEOCLOUD_RUNPOD_ENDPOINT=http://$addr/v2
export COREWEAVE_API_TOKEN=CW-SECRET-emulator
export COREWEAVE_API_ENDPOINT=http://$addr

