#!/usr/bin/env bash
# Runs ollama-sentinel end to end on its built-in defaults, on a machine with no GPU and no internet (Debian/Ubuntu,
# as root): an Ollama simulator in a Compose-labelled container with a fake GPU, `init --verify` pulling a model into
# it, the exporter and the remediator, Prometheus with the generated rules and Alertmanager routing to the remediator.
# Everything runs on 127.0.0.1 inside the demo's own private Docker Engine; Ctrl-C (or SIGTERM) removes all of it.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: deploy/demo/run-demo.sh [--scenario cpu-fallback] [--once] [--ollama-version 0.33.0|0.12.6]

  (no option)              set up, start everything, print the URLs and a short guide, run until Ctrl-C/SIGTERM
  --scenario cpu-fallback  after start, inject a silent CPU fallback into the simulator and narrate the chain:
                           condition seen, alert firing, remediator acted (audit log), container restarted,
                           healthy again, alert resolved
  --once                   run the scenario (cpu-fallback unless another is named), print PASS or FAIL, tear
                           everything down and exit 0 (PASS) or 1
  --ollama-version V       the Ollama version the simulator plays (test/sim/README.md, its --version): 0.33.0 by
                           default (the llama-server era, 0.30 and later); 0.12.6 for the `ollama runner` era

Does all set-up itself: Debian packages (test/setup/ensure-packages.sh), npm ci when node_modules is missing or
older than package-lock.json, npm run build. Its own Docker test environment lives in /var/tmp/sentinel-demo
(test/setup/test-env.sh with SENTINEL_TEST_DIR=/var/tmp/sentinel-demo). Only one Docker Swarm can run per host,
so it refuses to start while the integration-test environment (or any other Swarm) runs.
Fixed loopback ports (the built-in defaults): Ollama 11434, exporter 9778, remediator 9779, Prometheus 9090,
Alertmanager 9093. Exit codes: 0 stopped cleanly or PASS, 1 FAIL or a failure, 2 bad usage.
EOF
}

SCENARIO=
ONCE=0
# The current profile by default: what users run today (the shipped stacks pin 0.32.15, the same code in the parts the
# simulator models). 0.12.6 keeps the older profile one flag away.
OLLAMA_VERSION=0.33.0
while (($#)); do
  case $1 in
    --scenario)
      [[ ${2:-} == cpu-fallback ]] || { echo "run-demo: --scenario takes: cpu-fallback" >&2; exit 2; }
      SCENARIO=$2; shift 2 ;;
    --scenario=*)
      [[ ${1#*=} == cpu-fallback ]] || { echo "run-demo: --scenario takes: cpu-fallback" >&2; exit 2; }
      SCENARIO=${1#*=}; shift ;;
    --once) ONCE=1; shift ;;
    --ollama-version | --ollama-version=*)
      if [[ $1 == *=* ]]; then OLLAMA_VERSION=${1#*=}; shift; else OLLAMA_VERSION=${2:-}; shift $(($# > 1 ? 2 : 1)); fi
      [[ $OLLAMA_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] \
        || { echo "run-demo: --ollama-version takes a version such as 0.33.0 or 0.12.6" >&2; exit 2; } ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run-demo: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
((ONCE == 0)) || SCENARIO=${SCENARIO:-cpu-fallback}

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO_ROOT"

# Fixed: deploy/demo/demo.yaml names paths under it (docker socket, token, remediator data dir).
STATE_DIR=/var/tmp/sentinel-demo
DEMO_DIR=$STATE_DIR/demo
TEST_ENV=$REPO_ROOT/test/setup/test-env.sh
CONFIG=$REPO_ROOT/deploy/demo/demo.yaml
CLI=(node "$REPO_ROOT/dist/shared/cli/main.js")
CONTAINER=demo-ollama-1
MODEL=qwen2.5:0.5b   # the keep_warm model of demo.yaml
OLLAMA_PORT=11434 EXPORTER_PORT=9778 REMEDIATOR_PORT=9779 PROMETHEUS_PORT=9090 ALERTMANAGER_PORT=9093
T0=$SECONDS

say() { echo "demo: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
elapsed() { echo "$((SECONDS - T0)) s"; }

# --- checks before touching anything -------------------------------------------------------------------------------

[[ $(id -u) -eq 0 ]] || die "run it as root (it installs Debian packages and starts a private dockerd)"
command -v node >/dev/null || die "node is not installed: install Node.js 20 (>= 20.5), then run this again"
node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=5)?0:1)' ||
  die "Node $(node --version) is too old: ollama-sentinel needs Node >= 20.5"
command -v npm >/dev/null || die "npm is not installed (it comes with Node.js)"

# One demo at a time: the lock is held until this script exits (the fd is not passed to the daemons we start).
mkdir -p "$(dirname "$STATE_DIR")"
exec 8>"$STATE_DIR.run.lock"
flock -n 8 || die "another run-demo.sh is running (lock $STATE_DIR.run.lock); stop it first (Ctrl-C in its terminal)"

port_holder() { ss -Hltnp 2>/dev/null | awk -v p=":$1" 'substr($4, length($4) - length(p) + 1) == p' | head -n1; }

# Only one Docker Swarm per host (its gossip port 7946 cannot be moved): say who holds it.
if holder=$(port_holder 7946) && [[ -n $holder ]]; then
  if bash "$TEST_ENV" status >/dev/null 2>&1; then
    die "the integration-test environment is running on this host (/var/tmp/sentinel-test, its Swarm holds port 7946).
Only one Docker Swarm can run per host, so the demo cannot start its own. Stop the test environment first:
  bash test/setup/test-env.sh stop
(or wait until the test run that started it has finished)."
  fi
  die "port 7946 (Docker Swarm gossip) is in use: another Docker Swarm runs on this host, and only one can.
  $holder
Leave it (docker swarm leave --force on that daemon) or stop that process, then run this again."
fi
for port in $OLLAMA_PORT $EXPORTER_PORT $REMEDIATOR_PORT $PROMETHEUS_PORT $ALERTMANAGER_PORT; do
  if holder=$(port_holder "$port") && [[ -n $holder ]]; then
    die "127.0.0.1:$port is already in use, but the demo runs its components on their default ports:
  $holder
Stop that process (a system Ollama, Prometheus or Alertmanager service?) and run this again."
  fi
done

# --- set-up --------------------------------------------------------------------------------------------------------

bash "$REPO_ROOT/test/setup/ensure-packages.sh" >&2
# npm ci wipes node_modules: only when it is missing or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund </dev/null >&2
fi
say "building (npm run build)"
npm run --silent build </dev/null >&2 || die "the build failed (output above)"
if ! "${CLI[@]}" remediator --help >/dev/null 2>&1; then
  die "this build has no 'remediator' command yet (dist/shared/cli/main.js remediator --help fails)"
fi

# --- teardown: everything started below is stopped here, whatever happens -----------------------------------------

PIDS=()    # "name:pid" of the plain processes, in start order
ENV_STARTED=0
SCENARIO_PID=

stop_pid() { # name pid grace_s
  local name=$1 pid=$2 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < $3 * 10; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  say "$name (pid $pid) ignored SIGTERM for $3 s: killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

TORN_DOWN=0
teardown() {
  ((TORN_DOWN == 0)) || return 0
  TORN_DOWN=1
  say "stopping everything it started"
  [[ -z $SCENARIO_PID ]] || stop_pid scenario "$SCENARIO_PID" 5
  local i entry
  # Reverse order: Prometheus and Alertmanager first, so no new alert reaches a remediator that is going away.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    entry=${PIDS[i]}
    stop_pid "${entry%%:*}" "${entry#*:}" 15
  done
  if ((ENV_STARTED)); then
    # Removes the container, the Swarm, the registry, dockerd and the whole $STATE_DIR (logs and audit log too).
    SENTINEL_TEST_DIR=$STATE_DIR timeout 180 bash "$TEST_ENV" stop </dev/null >&2 8>&- || say "WARNING: test-env.sh stop failed"
  fi
  say "stopped after $(elapsed)"
}
on_exit() {
  local rc=$?
  trap - EXIT INT TERM HUP
  teardown
  exit "$rc"
}
on_signal() {
  trap - INT TERM HUP
  say "$1: shutting down"
  teardown
  # Ctrl-C / SIGTERM is how the demo is meant to end: a clean teardown is a success (unless --once was cut short).
  if ((ONCE)); then exit 1; fi
  exit 0
}
trap on_exit EXIT
trap 'on_signal SIGINT' INT
trap 'on_signal SIGTERM' TERM
trap 'on_signal SIGHUP' HUP

# --- the demo's own test environment: private dockerd, loopback registry, Swarm, simulator image -------------------

if [[ -e $STATE_DIR ]]; then
  # We hold the demo lock, so whatever is there is a crashed earlier demo of ours.
  say "removing what an earlier demo left in $STATE_DIR"
  ENV_STARTED=1
  SENTINEL_TEST_DIR=$STATE_DIR bash "$TEST_ENV" stop </dev/null >&2 8>&-
  ENV_STARTED=0
fi
say "starting the demo's Docker environment in $STATE_DIR (private dockerd, registry, one-node Swarm, images)"
ENV_STARTED=1
SENTINEL_TEST_DIR=$STATE_DIR bash "$TEST_ENV" start </dev/null >&2 8>&-
set -a
# shellcheck disable=SC1091
. "$STATE_DIR/env"
set +a
export DOCKER_HOST DOCKER_CONFIG   # the docker CLI below talks to the demo's daemon only

mkdir -p "$DEMO_DIR"/{gpu,ollama,secrets,remediator,logs,prometheus,alertmanager}
# One idle H100, no processes yet (test/sim/README.md §1); the simulator adds its runners as they load.
cat >"$DEMO_DIR/gpu/gpu.state" <<'EOF'
driver 580.159.04 13.0
gpu 0 GPU-f88d2996-314d-4abe-0c94-acc6aa417694 00000000:00:06.0 81559 480 0 0 0 37 94.33 700.00 700.00 345 P0 0 0x0000000000000001 0 NVIDIA H100 80GB HBM3
container_nvml_lost 0
EOF
export SENTINEL_FAKE_GPU_STATE=$DEMO_DIR/gpu/gpu.state   # for the fake nvidia-smi the exporter and remediator run
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DEMO_DIR/secrets/remediator-token")
: >"$DEMO_DIR/ollama/models"

# --- Ollama: the simulator as a Compose service "ollama" of project "demo" -----------------------------------------

say "starting the Ollama simulator as Ollama $OLLAMA_VERSION: container $CONTAINER (Compose labels demo/ollama, host network, --pid host)"
# deploy/demo/sim-entrypoint.sh runs it as `ollama serve` (so its runners are not taken for orphans) and starts it
# with the models in ollama/models, the demo's stand-in for Ollama's volume (init's pulls are written there below).
# --pid host: runner PIDs in the GPU state are then host PIDs, as nvidia-smi reports them on a real host.
docker run -d --name "$CONTAINER" --network host --pid host --restart unless-stopped \
  --label com.docker.compose.project=demo --label com.docker.compose.service=ollama \
  --label com.docker.compose.container-number=1 --label com.docker.compose.oneoff=False \
  -v "$DEMO_DIR/gpu:/gpu" -v "$DEMO_DIR/ollama:/root/.ollama" \
  -v "$REPO_ROOT/deploy/demo/sim-entrypoint.sh:/sim-entrypoint.sh:ro" \
  -e SENTINEL_FAKE_GPU_STATE=/gpu/gpu.state -e SIM_MODELS_FILE=/root/.ollama/models \
  -e OLLAMA_HOST=127.0.0.1:$OLLAMA_PORT \
  --entrypoint /bin/sh "$SENTINEL_TEST_SIM_IMAGE" /sim-entrypoint.sh --version "$OLLAMA_VERSION" \
  --pull-bytes-per-second 100000000 \
  >/dev/null

wait_http() { # url what timeout_s [pid]
  local url=$1 what=$2 limit=$3 pid=${4:-} i
  for ((i = 0; i < limit * 4; i++)); do
    if node -e "fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$url"; then return 0; fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.25
  done
  return 1
}
wait_http "http://127.0.0.1:$OLLAMA_PORT/api/version" "Ollama" 30 ||
  { docker logs --tail 30 "$CONTAINER" >&2 || true; die "the Ollama simulator did not answer on 127.0.0.1:$OLLAMA_PORT (its log above)"; }

# --- init: pull and verify the model ------------------------------------------------------------------------------

say "ollama-sentinel init --verify: pulling $MODEL into it and verifying it on the (fake) GPU"
if ! "${CLI[@]}" init --config "$CONFIG" --verify >"$DEMO_DIR/logs/init.log"; then
  die "init failed (summary above, JSON log $DEMO_DIR/logs/init.log)"
fi
# What the "volume" now holds: the names in /api/tags.
node -e "fetch(process.argv[1]).then(r=>r.json()).then(t=>console.log(t.models.map(m=>m.name).join(',')))" \
  "http://127.0.0.1:$OLLAMA_PORT/api/tags" >"$DEMO_DIR/ollama/models"

# --- exporter and remediator: plain processes on the built-in defaults ---------------------------------------------

start_bg() { # name logfile command...
  local name=$1 logfile=$2
  shift 2
  # setsid: own session, so a Ctrl-C reaches only this script, which stops them in order; 8>&- drops the demo lock.
  setsid "$@" </dev/null >>"$logfile" 2>&1 8>&- &
  PIDS+=("$name:$!")
  LAST_PID=$!
}

say "starting the exporter (127.0.0.1:$EXPORTER_PORT)"
start_bg exporter "$DEMO_DIR/logs/exporter.log" "${CLI[@]}" exporter --config "$CONFIG"
wait_http "http://127.0.0.1:$EXPORTER_PORT/readyz" exporter 60 "$LAST_PID" ||
  { tail -n 20 "$DEMO_DIR/logs/exporter.log" >&2; die "the exporter did not become ready (log above)"; }

say "starting the remediator (127.0.0.1:$REMEDIATOR_PORT)"
start_bg remediator "$DEMO_DIR/logs/remediator.log" "${CLI[@]}" remediator --config "$CONFIG"
wait_http "http://127.0.0.1:$REMEDIATOR_PORT/healthz" remediator 60 "$LAST_PID" ||
  { tail -n 20 "$DEMO_DIR/logs/remediator.log" >&2; die "the remediator did not start (log above)"; }

# --- Alertmanager and Prometheus -----------------------------------------------------------------------------------

cp deploy/demo/alertmanager.yml "$DEMO_DIR/alertmanager/alertmanager.yml"
say "starting Alertmanager (127.0.0.1:$ALERTMANAGER_PORT)"
start_bg alertmanager "$DEMO_DIR/logs/alertmanager.log" prometheus-alertmanager \
  --config.file="$DEMO_DIR/alertmanager/alertmanager.yml" --storage.path="$DEMO_DIR/alertmanager/data" \
  --web.listen-address=127.0.0.1:$ALERTMANAGER_PORT --cluster.listen-address= --log.level=warn
wait_http "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" alertmanager 30 "$LAST_PID" ||
  { tail -n 20 "$DEMO_DIR/logs/alertmanager.log" >&2; die "Alertmanager did not become ready (log above)"; }

cp deploy/demo/prometheus.yml "$DEMO_DIR/prometheus/prometheus.yml"
# The shipped rules from the same generator and typed config, with every for: capped at 30 s (demo speed).
node dist/deploy/demo/write-fast-rules.js "$DEMO_DIR/prometheus/ollama-sentinel.demo.rules.yml" --max-for 30s
say "starting Prometheus (127.0.0.1:$PROMETHEUS_PORT; scrape and rule evaluation every 5 s, alert for: at most 30 s)"
start_bg prometheus "$DEMO_DIR/logs/prometheus.log" prometheus \
  --config.file="$DEMO_DIR/prometheus/prometheus.yml" --storage.tsdb.path="$DEMO_DIR/prometheus/data" \
  --web.listen-address=127.0.0.1:$PROMETHEUS_PORT --rules.alert.resend-delay=1s --log.level=warn
wait_http "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" prometheus 60 "$LAST_PID" ||
  { tail -n 20 "$DEMO_DIR/logs/prometheus.log" >&2; die "Prometheus did not become ready (log above)"; }

cat >&2 <<EOF

=== ollama-sentinel demo: up after $(elapsed) ===
  Ollama (simulator)  http://127.0.0.1:$OLLAMA_PORT         Ollama $OLLAMA_VERSION, container $CONTAINER, model $MODEL on a fake H100
  exporter            http://127.0.0.1:$EXPORTER_PORT/metrics   diagnosis: http://127.0.0.1:$EXPORTER_PORT/api/state
  remediator          http://127.0.0.1:$REMEDIATOR_PORT         (bearer token in $DEMO_DIR/secrets/remediator-token)
  Prometheus          http://127.0.0.1:$PROMETHEUS_PORT/alerts
  Alertmanager        http://127.0.0.1:$ALERTMANAGER_PORT
  audit log           $DEMO_DIR/remediator/audit.jsonl
  logs                $DEMO_DIR/logs/   config: deploy/demo/demo.yaml
  docker              DOCKER_HOST=$DOCKER_HOST docker ps
Break it yourself (another terminal), e.g. a silent CPU fallback, narrated from failure to healed:
  node dist/deploy/demo/run-scenario.js --config deploy/demo/demo.yaml --scenario cpu-fallback --prometheus-url http://127.0.0.1:$PROMETHEUS_PORT
  or through the simulator's control API (test/sim/README.md): POST http://127.0.0.1:$OLLAMA_PORT/_sim/faults {"cpuFallback":true},
  then POST /_sim/expire {"model":"$MODEL"}; the exporter's probe reloads it onto the CPU within a minute.
Ctrl-C stops and removes everything.

EOF

# --- scenario -----------------------------------------------------------------------------------------------------

if [[ -n $SCENARIO ]]; then
  say "scenario $SCENARIO: starting"
  node dist/deploy/demo/run-scenario.js --config "$CONFIG" --scenario "$SCENARIO" \
    --prometheus-url "http://127.0.0.1:$PROMETHEUS_PORT" --timeout-s 300 8>&- &
  SCENARIO_PID=$!
  rc=0
  wait "$SCENARIO_PID" || rc=$?
  SCENARIO_PID=
  if ((ONCE)); then
    say "--once: scenario $( ((rc == 0)) && echo passed || echo FAILED); tearing down"
    exit "$rc"
  fi
fi

say "running; Ctrl-C stops and removes everything"
while :; do
  for entry in "${PIDS[@]}"; do
    if ! kill -0 "${entry#*:}" 2>/dev/null; then
      tail -n 20 "$DEMO_DIR/logs/${entry%%:*}.log" >&2 || true
      die "${entry%%:*} exited unexpectedly (log above, $DEMO_DIR/logs/${entry%%:*}.log)"
    fi
  done
  sleep 2 &
  wait $! || true
done
