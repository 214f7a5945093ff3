#!/usr/bin/env bash
# The integration-test environment: a private Docker Engine (never the user's), a registry on loopback,
# a one-node Swarm and locally built images. See `usage` below; state lives in one directory.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: test/setup/test-env.sh start|stop|status|rebuild-images|env-file

  start           start everything (idempotent: reuses a running environment)
  stop            tear down everything it started, whatever state it is in
  status          print the state; exit 0 when running, 3 when not
  rebuild-images  re-import and re-push the images (after `npm run build`)
  env-file        print the path of the env file tests read

State directory: $SENTINEL_TEST_DIR (default /var/tmp/sentinel-test; on disk, not tmpfs,
because it holds the Docker data root). Env file: $SENTINEL_TEST_DIR/env (KEY=value lines).
EOF
}

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE_DIR=${SENTINEL_TEST_DIR:-/var/tmp/sentinel-test}
if [[ $STATE_DIR != /* || $STATE_DIR =~ [[:space:]] || $STATE_DIR == / ]]; then
  echo "test-env: SENTINEL_TEST_DIR must be an absolute path without spaces (got '$STATE_DIR')" >&2
  exit 2
fi
STATE_DIR=${STATE_DIR%/}

ENV_FILE=$STATE_DIR/env
SOCKET=$STATE_DIR/docker.sock
DATA_ROOT=$STATE_DIR/docker/data
EXEC_ROOT=$STATE_DIR/docker/exec
DOCKERD_PID_FILE=$STATE_DIR/docker/dockerd.pid
DAEMON_CONFIG=$STATE_DIR/docker/daemon.json
REGISTRY_DIR=$STATE_DIR/registry
REGISTRY_PID_FILE=$REGISTRY_DIR/registry.pid
LOG_DIR=$STATE_DIR/logs
SCRATCH_DIR=$STATE_DIR/tmp
CLIENT_CONFIG_DIR=$STATE_DIR/docker-config
# Own cgroup parent so that `stop` can find and kill container processes even when dockerd is gone.
CGROUP_PARENT=sentinel-test-$(printf '%s' "$STATE_DIR" | md5sum | cut -c1-8)
# A network named docker_gwbridge is what Swarm attaches containers to; creating it ourselves with our
# own interface name keeps us from touching a docker_gwbridge interface another daemon may own.
GWBRIDGE_IFACE=sntl$(printf '%s' "$STATE_DIR" | md5sum | cut -c1-6)gw
SIM_REPO=sentinel-sim
SHELL_REPO=sentinel-shell
IMAGE_TAG=test

export DOCKER_HOST=unix://$SOCKET
export DOCKER_CONFIG=$CLIENT_CONFIG_DIR

log() { echo "test-env: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

free_port() {
  # Asking the kernel for port 0 is the only race-free-enough way without extra tools.
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

http_ok() {
  node -e "fetch(process.argv[1],{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$1"
}

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

read_pid() { [[ -f $1 ]] && tr -dc '0-9' <"$1" || true; }

docker_answers() { [[ -S $SOCKET ]] && timeout 5 docker info --format '{{.ID}}' >/dev/null 2>&1; }

env_value() { [[ -f $ENV_FILE ]] && sed -n "s/^$1=//p" "$ENV_FILE" | tail -n1 || true; }

# Kills a process (and waits for it), TERM first, KILL after $2 seconds.
kill_pid() {
  local pid=$1 grace=${2:-10} i
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  log "pid $pid ignored SIGTERM for ${grace}s, killing"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do pid_alive "$pid" || return 0; sleep 0.1; done
}

# --- checks -------------------------------------------------------------------------------------------

check_swarm_port() {
  # Swarm's gossip port 7946 cannot be moved, so only one Swarm can run per host.
  local holders
  holders=$(ss -Hltnup 2>/dev/null | awk '$5 ~ /:7946$/' || true)
  if [[ -n $holders ]]; then
    local pid who=''
    for pid in $(grep -o 'pid=[0-9]*' <<<"$holders" | cut -d= -f2 | sort -u); do
      who+=$'\n'"  pid $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-300)"
    done
    die "port 7946 (Docker Swarm gossip) is already in use on this host:
$holders$who
Another Docker Swarm runs here (only one Swarm per host is possible; its port cannot be moved).
Leave it (docker swarm leave --force on that daemon) or stop that process, then run start again."
  fi
}

# --- dockerd ------------------------------------------------------------------------------------------

start_dockerd() {
  mkdir -p "$DATA_ROOT" "$EXEC_ROOT" "$LOG_DIR" "$CLIENT_CONFIG_DIR"
  # An empty config file keeps the host's /etc/docker/daemon.json out of our daemon.
  echo '{}' >"$DAEMON_CONFIG"
  [[ -f $CLIENT_CONFIG_DIR/config.json ]] || echo '{}' >"$CLIENT_CONFIG_DIR/config.json"
  log "starting dockerd (socket $SOCKET, data root $DATA_ROOT)"
  # setsid: own session, so Ctrl-C or a timeout signal to the caller's process group does not kill it
  # behind `stop`'s back; 9>&- so the daemon does not inherit (and hold) our lock.
  setsid dockerd \
    --config-file "$DAEMON_CONFIG" \
    --data-root "$DATA_ROOT" \
    --exec-root "$EXEC_ROOT" \
    --host "unix://$SOCKET" \
    --pidfile "$DOCKERD_PID_FILE" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --cgroup-parent "$CGROUP_PARENT" \
    --shutdown-timeout 3 \
    --log-level warn \
    </dev/null >>"$LOG_DIR/dockerd.log" 2>&1 9>&- &
  local launcher=$! i
  for ((i = 0; i < 300; i++)); do
    if docker_answers; then
      log "dockerd answers ($(docker info --format '{{.ServerVersion}}'), pid $(read_pid "$DOCKERD_PID_FILE"))"
      return 0
    fi
    if ! pid_alive "$launcher"; then
      tail -n 30 "$LOG_DIR/dockerd.log" >&2 || true
      die "dockerd exited during start-up (log above, full log $LOG_DIR/dockerd.log)"
    fi
    sleep 0.1
  done
  tail -n 30 "$LOG_DIR/dockerd.log" >&2 || true
  die "dockerd did not answer within 30 s (log $LOG_DIR/dockerd.log)"
}

# --- registry -----------------------------------------------------------------------------------------

start_registry() {
  local port=$1 i
  mkdir -p "$REGISTRY_DIR/storage" "$LOG_DIR"
  cat >"$REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
  log "starting registry on 127.0.0.1:$port"
  setsid docker-registry serve "$REGISTRY_DIR/config.yml" </dev/null >>"$LOG_DIR/registry.log" 2>&1 9>&- &
  echo $! >"$REGISTRY_PID_FILE"
  for ((i = 0; i < 100; i++)); do
    if http_ok "http://127.0.0.1:$port/v2/"; then return 0; fi
    if ! pid_alive "$(read_pid "$REGISTRY_PID_FILE")"; then
      tail -n 20 "$LOG_DIR/registry.log" >&2 || true
      die "registry exited during start-up (log $LOG_DIR/registry.log)"
    fi
    sleep 0.1
  done
  die "registry did not answer on 127.0.0.1:$port within 10 s (log $LOG_DIR/registry.log)"
}

# --- swarm --------------------------------------------------------------------------------------------

start_swarm() {
  local state
  state=$(docker info --format '{{.Swarm.LocalNodeState}}')
  if [[ $state == active ]]; then
    log "swarm already active"
    return 0
  fi
  check_swarm_port
  local port
  port=$(free_port)
  # The manager port (2377 by default) can be moved, so take a free one to coexist with anything.
  docker network create --driver bridge --scope local \
    --opt "com.docker.network.bridge.name=$GWBRIDGE_IFACE" \
    --opt com.docker.network.bridge.enable_icc=false \
    --opt com.docker.network.bridge.enable_ip_masquerade=false \
    docker_gwbridge >/dev/null
  if ! docker swarm init --advertise-addr 127.0.0.1 --listen-addr "127.0.0.1:$port" >/dev/null 2>"$LOG_DIR/swarm-init.err"; then
    cat "$LOG_DIR/swarm-init.err" >&2
    if grep -q 7946 "$LOG_DIR/swarm-init.err"; then
      die "swarm init failed on port 7946: another Docker Swarm probably runs on this host (only one per host)"
    fi
    die "docker swarm init failed"
  fi
  echo "127.0.0.1:$port" >"$STATE_DIR/swarm-addr"
  log "one-node swarm active (manager 127.0.0.1:$port)"
}

# --- images -------------------------------------------------------------------------------------------

add_busybox() {
  local rootfs=$1 applet
  local busybox_bin
  busybox_bin=$(readlink -f "$(command -v busybox)")
  mkdir -p "$rootfs/bin" "$rootfs/usr/bin"
  cp "$busybox_bin" "$rootfs/bin/busybox"
  for applet in $(busybox --list); do
    [[ -e $rootfs/bin/$applet ]] || ln -s busybox "$rootfs/bin/$applet"
  done
  ln -sf ../../bin/busybox "$rootfs/usr/bin/env"
}

add_base_files() {
  local rootfs=$1
  mkdir -p "$rootfs"/{etc,proc,sys,dev,tmp,root}
  chmod 1777 "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
}

# Node + the libraries it links + the fake nvidia-smi; the app code is streamed in by build_images.
build_node_layer() {
  local rootfs=$1 node_bin lib
  node_bin=$(readlink -f "$(command -v node)")
  mkdir -p "$rootfs/usr/bin" "$rootfs/app"
  cp "$node_bin" "$rootfs/usr/bin/node"
  # Exactly the shared libraries this node binary needs, at the paths the dynamic loader expects.
  for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
    cp -L --parents "$lib" "$rootfs/"
  done
  # The fake nvidia-smi (test/sim/README.md); a busybox sh script so it works in the bare image.
  # Inside this image it runs "in the container" unless the caller sets the variable (even to empty).
  cat >"$rootfs/usr/bin/nvidia-smi" <<'EOF'
#!/bin/sh
export SENTINEL_FAKE_SMI_CONTEXT="${SENTINEL_FAKE_SMI_CONTEXT-container}"
exec /usr/bin/node /app/dist/test/sim/fake-nvidia-smi-main.js "$@"
EOF
  chmod 755 "$rootfs/usr/bin/nvidia-smi"
  # The fake llama-server of the simulator's 0.30+ profile (test/sim/README.md, processes), static so it runs in
  # this bare image; SENTINEL_FAKE_LLAMA_SERVER (set on the image) tells the simulator where it is.
  mkdir -p "$rootfs/app/ollama-bin/lib/ollama"
  cc -static -O2 -Wall -Werror -o "$rootfs/app/ollama-bin/lib/ollama/llama-server" \
    "$REPO_ROOT/test/sim/fake-runner/fake-llama-server.c" ||
    log "WARNING: could not build the static fake llama-server: the sim image runs only the 0.12 profile"
}

# The repo's files for /app, as names relative to the repo root.
app_members() {
  # package.json must sit above dist/: its "type": "module" is what makes the .js files ESM.
  echo package.json
  if [[ -d $REPO_ROOT/dist ]]; then
    echo dist
    [[ -f $REPO_ROOT/dist/test/sim/ollama-sim-main.js ]] ||
      log "note: dist/test/sim/ollama-sim-main.js not built yet; the sim image entry point fails until it is"
  else
    log "WARNING: $REPO_ROOT/dist does not exist (run npm run build); the sim image has no app code"
  fi
  [[ ! -d $REPO_ROOT/node_modules ]] || echo node_modules
  # Data files the compiled test doubles read relative to dist/ (e.g. the nvidia-smi help captures).
  [[ ! -d $REPO_ROOT/test/fixtures ]] || echo test/fixtures
}

build_images() {
  local registry=$1 build_dir=$STATE_DIR/build t0=$SECONDS
  local sim_image=$registry/$SIM_REPO:$IMAGE_TAG shell_image=$registry/$SHELL_REPO:$IMAGE_TAG
  rm -rf "$build_dir"
  mkdir -p "$build_dir/rootfs"
  # The shell image is the busybox base; the sim image is that base plus node and the app.
  add_base_files "$build_dir/rootfs"
  add_busybox "$build_dir/rootfs"
  tar -C "$build_dir/rootfs" -cf - . | docker import \
    -c 'CMD ["/bin/sh"]' \
    -c 'ENV PATH=/usr/bin:/bin' \
    -m 'sentinel test busybox shell' \
    - "$shell_image" >/dev/null
  build_node_layer "$build_dir/rootfs"
  local members
  mapfile -t members < <(app_members)
  # One tar stream, the repo's files renamed under app/ on the fly: extracting thousands of
  # node_modules files into a build folder first costs seconds. Compiler and type packages are
  # a third of node_modules and unused at run time.
  tar -cf - -C "$build_dir/rootfs" . \
    -C "$REPO_ROOT" --exclude=node_modules/typescript --exclude=node_modules/@types \
    --exclude=node_modules/.cache --exclude='*.tsbuildinfo' \
    --transform='s,^\(package\.json\|dist\|node_modules\|test/fixtures\),app/\1,S' "${members[@]}" |
    docker import \
      -c 'ENTRYPOINT ["/usr/bin/node", "/app/dist/test/sim/ollama-sim-main.js"]' \
      -c 'WORKDIR /app' \
      -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin SENTINEL_FAKE_LLAMA_SERVER=/app/ollama-bin/lib/ollama/llama-server' \
      -m "sentinel test simulator from $REPO_ROOT" \
      - "$sim_image" >/dev/null
  rm -rf "$build_dir"
  log "imported $sim_image and $shell_image in $((SECONDS - t0)) s; pushing"
  docker push --quiet "$sim_image" >/dev/null
  docker push --quiet "$shell_image" >/dev/null
  # Old untagged layers from earlier rebuilds only waste disk.
  docker image prune --force >/dev/null 2>&1 || true
  log "pushed to $registry in $((SECONDS - t0)) s in all"
}

# --- env file -----------------------------------------------------------------------------------------

write_env_file() {
  local registry=$1
  cat >"$ENV_FILE.tmp" <<EOF
# Written by test/setup/test-env.sh start. KEY=value lines, values never need quoting.
SENTINEL_TEST_DIR=$STATE_DIR
SENTINEL_TEST_ENV_FILE=$ENV_FILE
SENTINEL_TEST_REPO=$REPO_ROOT
DOCKER_HOST=unix://$SOCKET
DOCKER_CONFIG=$CLIENT_CONFIG_DIR
SENTINEL_TEST_DOCKER_SOCKET=$SOCKET
SENTINEL_TEST_DOCKERD_PID=$(read_pid "$DOCKERD_PID_FILE")
SENTINEL_TEST_REGISTRY=$registry
SENTINEL_TEST_SIM_IMAGE=$registry/$SIM_REPO:$IMAGE_TAG
SENTINEL_TEST_SHELL_IMAGE=$registry/$SHELL_REPO:$IMAGE_TAG
SENTINEL_TEST_SWARM_ADDR=$(cat "$STATE_DIR/swarm-addr")
SENTINEL_TEST_TMP=$SCRATCH_DIR
SENTINEL_TEST_LOG_DIR=$LOG_DIR
EOF
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# --- status -------------------------------------------------------------------------------------------

# Prints problems, one a line; prints nothing when the environment is fully up.
problems() {
  if [[ ! -f $ENV_FILE ]]; then echo "no env file $ENV_FILE"; return; fi
  if ! pid_alive "$(read_pid "$DOCKERD_PID_FILE")"; then echo "dockerd not running"; return; fi
  if ! docker_answers; then echo "dockerd does not answer on $SOCKET"; return; fi
  local registry
  registry=$(env_value SENTINEL_TEST_REGISTRY)
  pid_alive "$(read_pid "$REGISTRY_PID_FILE")" || echo "registry not running"
  http_ok "http://$registry/v2/" || echo "registry does not answer on $registry"
  [[ $(docker info --format '{{.Swarm.LocalNodeState}}') == active ]] || echo "swarm not active"
  docker image inspect "$(env_value SENTINEL_TEST_SIM_IMAGE)" >/dev/null 2>&1 || echo "sim image missing"
  docker image inspect "$(env_value SENTINEL_TEST_SHELL_IMAGE)" >/dev/null 2>&1 || echo "shell image missing"
}

cmd_status() {
  local p
  p=$(problems)
  if [[ -z $p ]]; then
    echo "running: state $STATE_DIR, env file $ENV_FILE"
    grep -v '^#' "$ENV_FILE"
    return 0
  fi
  if [[ -e $STATE_DIR ]]; then
    echo "not running (state dir $STATE_DIR exists):"
  else
    echo "not running"
  fi
  sed 's/^/  /' <<<"$p"
  return 3
}

# --- start / stop -------------------------------------------------------------------------------------

cmd_start() {
  local t0=$SECONDS p
  p=$(problems)
  if [[ -z $p ]]; then
    log "reusing the running environment ($ENV_FILE)"
    return 0
  fi
  if [[ -e $STATE_DIR ]]; then
    log "found a broken or stopped environment (${p//$'\n'/; }); cleaning it up first"
    cmd_stop
  fi
  [[ $(id -u) -eq 0 ]] || die "must run as root (dockerd needs it)"
  "$REPO_ROOT/test/setup/ensure-packages.sh"
  mkdir -p "$STATE_DIR" "$LOG_DIR" "$SCRATCH_DIR"
  chmod 1777 "$SCRATCH_DIR"
  check_swarm_port
  start_dockerd
  local registry_port
  registry_port=$(free_port)
  start_registry "$registry_port"
  start_swarm
  build_images "127.0.0.1:$registry_port"
  write_env_file "127.0.0.1:$registry_port"
  log "started in $((SECONDS - t0)) s; env file $ENV_FILE"
}

cmd_rebuild_images() {
  local p
  p=$(problems)
  [[ -z $p ]] || die "environment not running (${p//$'\n'/; }); run: $0 start"
  local registry
  registry=$(env_value SENTINEL_TEST_REGISTRY)
  build_images "$registry"
  # SENTINEL_TEST_REPO names the checkout the images now come from.
  write_env_file "$registry"
  log "images rebuilt from $REPO_ROOT"
}

# Our daemons' helpers still running after dockerd is gone: containerd, shims, registry. Matched by
# program name AND our state dir in the command line, so nobody else's processes are touched.
our_leftover_pids() {
  local proc pid comm
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    comm=$(cat "$proc/comm" 2>/dev/null || true)
    case $comm in
      dockerd | containerd | containerd-shim* | docker-registry | registry | runc | docker-proxy) ;;
      *) continue ;;
    esac
    if tr '\0' ' ' <"$proc/cmdline" 2>/dev/null | grep -qF -- "$STATE_DIR/"; then
      echo "$pid"
    fi
  done
}

# Docker makes the parent relative to its own cgroup, which may be nested (e.g. memory/process_api/ID/...).
our_cgroup_dirs() { find /sys/fs/cgroup -maxdepth 6 -type d -name "$CGROUP_PARENT" -prune 2>/dev/null; }

# Every process in our containers' cgroups (the containers themselves, if dockerd died under them).
our_cgroup_pids() {
  our_cgroup_dirs | while read -r dir; do
    find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null || true
  done | sort -u
}

remove_cgroup_dirs() {
  our_cgroup_dirs | while read -r dir; do
    # Children first: rmdir only works on empty cgroups.
    find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

unmount_under_state_dir() {
  local mp
  # Deepest first; a lazy unmount as the fallback for busy ones.
  awk -v d="$STATE_DIR/" '$5 == substr(d, 1, length(d) - 1) || index($5, d) == 1 {print $5}' /proc/self/mountinfo |
    sort -r | while read -r mp; do
      umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || log "could not unmount $mp"
    done
}

cmd_stop() {
  local pid
  if docker_answers; then
    log "removing stacks, services and containers"
    local stacks services containers
    stacks=$(timeout 20 docker stack ls --format '{{.Name}}' 2>/dev/null || true)
    [[ -z $stacks ]] || timeout 30 docker stack rm $stacks >/dev/null 2>&1 || true
    services=$(timeout 20 docker service ls -q 2>/dev/null || true)
    [[ -z $services ]] || timeout 30 docker service rm $services >/dev/null 2>&1 || true
    containers=$(timeout 20 docker ps -aq 2>/dev/null || true)
    [[ -z $containers ]] || timeout 60 docker rm -f -v $containers >/dev/null 2>&1 || true
    timeout 30 docker swarm leave --force >/dev/null 2>&1 || true
    timeout 20 docker network rm docker_gwbridge >/dev/null 2>&1 || true
  fi
  pid=$(read_pid "$REGISTRY_PID_FILE")
  if pid_alive "$pid"; then log "stopping registry (pid $pid)"; kill_pid "$pid" 5; fi
  pid=$(read_pid "$DOCKERD_PID_FILE")
  if pid_alive "$pid"; then log "stopping dockerd (pid $pid)"; kill_pid "$pid" 20; fi
  # Whatever survived a crashed daemon: container processes, then shims/containerd.
  for pid in $(our_cgroup_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in $(our_leftover_pids); do
    log "killing leftover pid $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"
    kill_pid "$pid" 3
  done
  remove_cgroup_dirs
  if ip link show "$GWBRIDGE_IFACE" >/dev/null 2>&1; then ip link delete "$GWBRIDGE_IFACE" 2>/dev/null || true; fi
  if [[ -d $STATE_DIR ]]; then
    unmount_under_state_dir
    if awk -v d="$STATE_DIR/" 'index($5, d) == 1 || $5"/" == d {f=1} END {exit !f}' /proc/self/mountinfo; then
      die "mounts remain under $STATE_DIR; not deleting it (see: grep $STATE_DIR /proc/self/mountinfo)"
    fi
    rm -rf --one-file-system "$STATE_DIR"
  fi
  log "stopped"
}

# --- main ---------------------------------------------------------------------------------------------

with_lock() {
  # One start/stop/rebuild at a time: several engineers and test runs share the one environment.
  # The lock file sits beside the state dir because `stop` deletes the dir.
  mkdir -p "$(dirname "$STATE_DIR")"
  exec 9>"$STATE_DIR.lock"
  if ! flock -w 600 9; then die "could not get the lock $STATE_DIR.lock within 600 s"; fi
  "$@"
}

case ${1:-} in
  start) with_lock cmd_start ;;
  stop) with_lock cmd_stop ;;
  status) cmd_status ;;
  rebuild-images) with_lock cmd_rebuild_images ;;
  env-file) echo "$ENV_FILE" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
