#!/usr/bin/env bash
# A real multi-node Docker Swarm on this one machine, for the fleet tests: three Docker Engines, each in its own
# network namespace, joined by a bridge, forming one Swarm of three managers (nodes 2 and 3 labelled as GPU nodes).
# Every address is from the benchmarking range 198.18.0.0/15, so nothing outside the machine is ever addressed.
# See `usage` below; state lives in one directory; deploy/swarm/README.md ("The test fleet") says how it is used.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: test/setup/fleet-swarm.sh start|stop|status|rebuild-images|env-file|node-down N|node-up N

  start           start the fleet (idempotent: reuses a running one); tears down what it made when it fails
  stop            tear down every daemon, namespace, link, mount and folder it made, whatever state it is in
  status          print the state; exit 0 when running, 3 when not
  rebuild-images  re-import the product image into every node (after npm run build)
  env-file        print the path of the env file tests read
  node-down N     stop node N's dockerd (its containers stop with it): the node goes away as a crashed host does
  node-up N       start node N's dockerd again on its data root: it comes back into the Swarm as it was

State directory: $SENTINEL_FLEET_DIR (default /var/tmp/sentinel-fleet; on disk: it holds three Docker data roots).
Env file: $SENTINEL_FLEET_DIR/env (KEY=value lines).
Needs root, ip (iproute2), nsenter (util-linux), dockerd, and a built dist/ (npx tsc -p tsconfig.json).
EOF
}

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE_DIR=${SENTINEL_FLEET_DIR:-/var/tmp/sentinel-fleet}
if [[ $STATE_DIR != /* || $STATE_DIR =~ [[:space:]] || $STATE_DIR == / ]]; then
  echo "fleet-swarm: SENTINEL_FLEET_DIR must be an absolute path without spaces (got '$STATE_DIR')" >&2
  exit 2
fi
STATE_DIR=${STATE_DIR%/}

NODES=(1 2 3)
# Nodes 2 and 3 carry the GPU label (fleet.gpuNodeLabel in deploy/monitoring/monitoring-config.ts); node 1 is a
# manager without GPUs, so a test can prove that nothing GPU-bound runs there.
GPU_NODES=(2 3)
GPU_LABEL=ollama-sentinel.gpu=true
# Every name starts with sfleet so that nothing collides with the integration environment (test-env.sh) or a user's.
PREFIX=sfleet
BRIDGE=${PREFIX}0
BRIDGE_ADDR=198.18.0.1
NET_BITS=24
node_addr() { echo "198.18.0.1$1"; }
node_ns() { echo "$PREFIX$1"; }
# Host side of node N's veth pair; inside the namespace it is eth0.
node_veth() { echo "${PREFIX}v$1"; }
node_dir() { echo "$STATE_DIR/n$1"; }
node_socket() { echo "$STATE_DIR/n$1/docker.sock"; }
node_pid_file() { echo "$STATE_DIR/n$1/dockerd.pid"; }
node_cgroup() { echo "$PREFIX-n$1"; }
# Docker's own networks get 198.18/15 subnets too (a docker_gwbridge per node, the overlays from the pool), so no
# interface anywhere carries a 10.x/172.16-31.x/192.168.x address because of us.
node_gwbridge_subnet() { echo "198.18.1$1.0/24"; }
OVERLAY_POOL=198.19.0.0/16
LOCAL_POOL=198.18.64.0/18

ENV_FILE=$STATE_DIR/env
LOG_DIR=$STATE_DIR/logs
SCRATCH_DIR=$STATE_DIR/tmp
BY_ID_DIR=$STATE_DIR/by-id
CLIENT_CONFIG_DIR=$STATE_DIR/docker-config
IMAGE=sentinel-fleet/ollama-sentinel:test

export DOCKER_CONFIG=$CLIENT_CONFIG_DIR

log() { echo "fleet-swarm: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }
read_pid() { [[ -f $1 ]] && tr -dc '0-9' <"$1" || true; }
env_value() { [[ -f $ENV_FILE ]] && sed -n "s/^$1=//p" "$ENV_FILE" | tail -n1 || true; }
# The docker CLI against node N's daemon.
dn() {
  local n=$1
  shift
  docker -H "unix://$(node_socket "$n")" "$@"
}
node_answers() { [[ -S $(node_socket "$1") ]] && timeout 5 docker -H "unix://$(node_socket "$1")" info --format '{{.ID}}' >/dev/null 2>&1; }

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

# --- network ------------------------------------------------------------------------------------------

check_network_free() {
  local n
  if ip link show "$BRIDGE" >/dev/null 2>&1; then die "interface $BRIDGE already exists (run: $0 stop)"; fi
  for n in "${NODES[@]}"; do
    if [[ -e /var/run/netns/$(node_ns "$n") ]]; then die "network namespace $(node_ns "$n") already exists (run: $0 stop)"; fi
  done
  # The bridge's /24 must not overlap an address the machine already routes.
  if ip -4 route show to match "$BRIDGE_ADDR" | grep -qv '^default'; then
    die "$BRIDGE_ADDR is already routed on this machine ($(ip -4 route show to match "$BRIDGE_ADDR" | grep -v '^default' | head -n1)); the fleet needs 198.18.0.0/24 for itself"
  fi
}

start_network() {
  local n ns veth
  log "bridge $BRIDGE $BRIDGE_ADDR/$NET_BITS, namespaces $(printf '%s ' "${NODES[@]/#/$PREFIX}")"
  ip link add "$BRIDGE" type bridge
  ip addr add "$BRIDGE_ADDR/$NET_BITS" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  for n in "${NODES[@]}"; do
    ns=$(node_ns "$n")
    veth=$(node_veth "$n")
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$BRIDGE" up
    ip -n "$ns" addr add "$(node_addr "$n")/$NET_BITS" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    # No default route: a node reaches the bridge's /24 and nothing else (no image pull can leave the machine).
  done
}

# --- dockerd per namespace ----------------------------------------------------------------------------

start_dockerd() {
  local n=$1 dir sock launcher i
  dir=$(node_dir "$n")
  sock=$(node_socket "$n")
  mkdir -p "$dir/data" "$dir/exec"
  # An empty config file keeps the host's /etc/docker/daemon.json out of our daemons.
  echo '{}' >"$dir/daemon.json"
  log "node $n: dockerd in namespace $(node_ns "$n") (socket $sock)"
  # nsenter --net only: `ip netns exec` also makes a new mount namespace that hides the cgroup mounts ("Devices
  # cgroup isn't mounted"). setsid: own session, so a signal to the caller's process group does not kill it behind
  # stop's back; 9>&- so the daemon does not hold our lock. DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: a Swarm task
  # uses the image already loaded instead of trying a registry first (there is none, and no route out).
  DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid nsenter "--net=/var/run/netns/$(node_ns "$n")" dockerd \
    --config-file "$dir/daemon.json" \
    --data-root "$dir/data" \
    --exec-root "$dir/exec" \
    --host "unix://$sock" \
    --pidfile "$(node_pid_file "$n")" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --default-address-pool "base=$LOCAL_POOL,size=24" \
    --cgroup-parent "$(node_cgroup "$n")" \
    --shutdown-timeout 3 \
    --log-level warn \
    </dev/null >>"$LOG_DIR/dockerd-n$n.log" 2>&1 9>&- &
  launcher=$!
  for ((i = 0; i < 300; i++)); do
    if node_answers "$n"; then return 0; fi
    if ! pid_alive "$launcher"; then
      tail -n 30 "$LOG_DIR/dockerd-n$n.log" >&2 || true
      die "node $n: dockerd exited during start-up (log above, full log $LOG_DIR/dockerd-n$n.log)"
    fi
    sleep 0.1
  done
  tail -n 30 "$LOG_DIR/dockerd-n$n.log" >&2 || true
  die "node $n: dockerd did not answer within 30 s (log $LOG_DIR/dockerd-n$n.log)"
}

# --- swarm --------------------------------------------------------------------------------------------

# Swarm attaches to a network named docker_gwbridge; made first, it gets a subnet of ours instead of a 172.x one.
create_gwbridge() {
  local n=$1
  dn "$n" network create --driver bridge --scope local --subnet "$(node_gwbridge_subnet "$n")" \
    --opt com.docker.network.bridge.enable_icc=false \
    --opt com.docker.network.bridge.enable_ip_masquerade=false \
    docker_gwbridge >/dev/null
}

start_swarm() {
  local n addr token
  addr=$(node_addr 1)
  create_gwbridge 1
  log "node 1: swarm init on $addr:2377"
  dn 1 swarm init --advertise-addr "$addr" --listen-addr "$addr:2377" \
    --default-addr-pool "$OVERLAY_POOL" --default-addr-pool-mask-length 24 >/dev/null 2>"$LOG_DIR/swarm-init.err" ||
    { cat "$LOG_DIR/swarm-init.err" >&2; die "docker swarm init failed on node 1"; }
  # Three managers: Raft keeps a majority when one goes away, so a manager can fail over.
  token=$(dn 1 swarm join-token -q manager)
  for n in "${NODES[@]:1}"; do
    addr=$(node_addr "$n")
    create_gwbridge "$n"
    log "node $n: swarm join as a manager from $addr"
    dn "$n" swarm join --token "$token" --advertise-addr "$addr" --listen-addr "$addr:2377" "$(node_addr 1):2377" \
      >/dev/null 2>"$LOG_DIR/swarm-join-n$n.err" ||
      { cat "$LOG_DIR/swarm-join-n$n.err" >&2; die "docker swarm join failed on node $n"; }
  done
  for n in "${GPU_NODES[@]}"; do
    dn 1 node update --label-add "$GPU_LABEL" "$(node_id "$n")" >/dev/null
  done
  local i ready
  for ((i = 0; i < 300; i++)); do
    ready=$(dn 1 node ls --format '{{.Status}} {{.ManagerStatus}}' | grep -c '^Ready \(Leader\|Reachable\)$' || true)
    ((ready == ${#NODES[@]})) && break
    sleep 0.1
  done
  ((ready == ${#NODES[@]})) || { dn 1 node ls >&2 || true; die "only $ready of ${#NODES[@]} managers are Ready/Reachable after 30 s"; }
  log "swarm of ${#NODES[@]} managers ready; GPU label on node(s) ${GPU_NODES[*]}"
}

node_id() { dn "$1" info --format '{{.Swarm.NodeID}}'; }

# $STATE_DIR/by-id/<Swarm node ID> -> that node's folder: a service can bind its node's own socket as
# $STATE_DIR/by-id/{{.Node.ID}}/docker.sock (Swarm expands the template per task), the fleet's stand-in for the
# /var/run/docker.sock every real node has at the same path.
link_by_id() {
  local n
  rm -rf "$BY_ID_DIR"
  mkdir -p "$BY_ID_DIR"
  for n in "${NODES[@]}"; do ln -s "$(node_dir "$n")" "$BY_ID_DIR/$(node_id "$n")"; done
}

# --- images -------------------------------------------------------------------------------------------

# The product image, built once without a registry (deploy/image/build-local-image.sh) into node 1, then copied
# into the others with docker save | docker load: the same image ID everywhere.
load_images() {
  local t0=$SECONDS n
  [[ -f $REPO_ROOT/dist/shared/cli/main.js ]] || die "$REPO_ROOT/dist not built (npx tsc -p tsconfig.json)"
  DOCKER_HOST="unix://$(node_socket 1)" bash "$REPO_ROOT/deploy/image/build-local-image.sh" --tag "$IMAGE" \
    --sbom "$SCRATCH_DIR/sbom.cdx.json" 2>"$LOG_DIR/build-image.log" ||
    { tail -n 20 "$LOG_DIR/build-image.log" >&2; die "building $IMAGE failed (log $LOG_DIR/build-image.log)"; }
  for n in "${NODES[@]:1}"; do
    dn 1 save "$IMAGE" | dn "$n" load -q >/dev/null || die "loading $IMAGE into node $n failed"
  done
  for n in "${NODES[@]}"; do dn "$n" image prune --force >/dev/null 2>&1 || true; done
  log "$IMAGE on every node in $((SECONDS - t0)) s"
}

# --- env file -----------------------------------------------------------------------------------------

write_env_file() {
  local n
  {
    echo "# Written by test/setup/fleet-swarm.sh start. KEY=value lines, values never need quoting."
    echo "SENTINEL_FLEET_DIR=$STATE_DIR"
    echo "SENTINEL_FLEET_ENV_FILE=$ENV_FILE"
    echo "SENTINEL_FLEET_REPO=$REPO_ROOT"
    echo "SENTINEL_FLEET_NODES=${NODES[*]}"
    echo "SENTINEL_FLEET_GPU_NODES=${GPU_NODES[*]}"
    echo "SENTINEL_FLEET_GPU_LABEL=$GPU_LABEL"
    echo "SENTINEL_FLEET_IMAGE=$IMAGE"
    echo "SENTINEL_FLEET_BRIDGE_ADDR=$BRIDGE_ADDR"
    echo "SENTINEL_FLEET_BY_ID=$BY_ID_DIR"
    echo "SENTINEL_FLEET_TMP=$SCRATCH_DIR"
    echo "SENTINEL_FLEET_LOG_DIR=$LOG_DIR"
    echo "DOCKER_CONFIG=$CLIENT_CONFIG_DIR"
    for n in "${NODES[@]}"; do
      echo "SENTINEL_FLEET_NODE${n}_SOCKET=$(node_socket "$n")"
      echo "SENTINEL_FLEET_NODE${n}_ADDR=$(node_addr "$n")"
      echo "SENTINEL_FLEET_NODE${n}_ID=$(node_id "$n")"
      echo "SENTINEL_FLEET_NODE${n}_PID=$(read_pid "$(node_pid_file "$n")")"
      echo "SENTINEL_FLEET_NODE${n}_NETNS=$(node_ns "$n")"
    done
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

# --- status -------------------------------------------------------------------------------------------

# Prints problems, one a line; prints nothing when the fleet is fully up.
problems() {
  if [[ ! -f $ENV_FILE ]]; then echo "no env file $ENV_FILE"; return; fi
  local n state
  for n in "${NODES[@]}"; do
    if ! pid_alive "$(read_pid "$(node_pid_file "$n")")"; then echo "node $n: dockerd not running"; continue; fi
    if ! node_answers "$n"; then echo "node $n: dockerd does not answer on $(node_socket "$n")"; continue; fi
    state=$(dn "$n" info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null || true)
    [[ $state == 'active true' ]] || echo "node $n: not an active manager ($state)"
    dn "$n" image inspect "$IMAGE" >/dev/null 2>&1 || echo "node $n: image $IMAGE missing"
  done
}

cmd_status() {
  local p
  p=$(problems)
  if [[ -z $p ]]; then
    echo "running: state $STATE_DIR, env file $ENV_FILE"
    grep -v '^#' "$ENV_FILE"
    return 0
  fi
  if [[ -e $STATE_DIR ]]; then echo "not running (state dir $STATE_DIR exists):"; else echo "not running"; fi
  sed 's/^/  /' <<<"$p"
  return 3
}

# --- start / stop -------------------------------------------------------------------------------------

cmd_start() {
  local t0=$SECONDS p n
  p=$(problems)
  if [[ -z $p ]]; then
    log "reusing the running fleet ($ENV_FILE)"
    return 0
  fi
  [[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, bridge and dockerd need it)"
  for cmd in ip nsenter dockerd docker; do command -v "$cmd" >/dev/null || die "$cmd not found"; done
  if [[ -e $STATE_DIR ]] || ip link show "$BRIDGE" >/dev/null 2>&1; then
    log "found a broken or stopped fleet (${p//$'\n'/; }); cleaning it up first"
    cmd_stop
  fi
  [[ -f $REPO_ROOT/dist/shared/cli/main.js ]] || die "$REPO_ROOT/dist not built (npx tsc -p tsconfig.json)"
  check_network_free
  # From here on, a failure tears down whatever was made.
  trap 'rc=$?; if ((rc != 0)); then log "start failed; tearing down"; cmd_stop || true; fi' EXIT
  # A signal ends the script through exit, so the EXIT trap above runs for it too.
  trap 'exit 130' INT TERM HUP
  mkdir -p "$STATE_DIR" "$LOG_DIR" "$SCRATCH_DIR" "$CLIENT_CONFIG_DIR"
  chmod 1777 "$SCRATCH_DIR"
  echo '{}' >"$CLIENT_CONFIG_DIR/config.json"
  start_network
  for n in "${NODES[@]}"; do start_dockerd "$n"; done
  start_swarm
  link_by_id
  load_images
  write_env_file
  trap - EXIT INT TERM HUP
  log "started in $((SECONDS - t0)) s; env file $ENV_FILE"
}

cmd_rebuild_images() {
  local p
  p=$(problems | grep -v 'image .* missing' || true)
  [[ -z $p ]] || die "fleet not running (${p//$'\n'/; }); run: $0 start"
  load_images
  write_env_file
}

node_number() {
  local n
  for n in "${NODES[@]}"; do [[ $1 == "$n" ]] && return 0; done
  die "no node '$1' (nodes: ${NODES[*]})"
}

cmd_node_down() {
  node_number "$1"
  [[ -z $(problems | grep -v "^node $1: " || true) ]] || die "the rest of the fleet is not running; run: $0 start"
  log "node $1: stopping dockerd (pid $(read_pid "$(node_pid_file "$1")")) and its containers"
  kill_pid "$(read_pid "$(node_pid_file "$1")")" 20
}

cmd_node_up() {
  node_number "$1"
  if node_answers "$1"; then
    log "node $1: dockerd already answers"
    return 0
  fi
  start_dockerd "$1"
  write_env_file
}

# Our daemons' helpers still running after their dockerd is gone (containerd, shims): matched by program name AND
# our state dir in the command line, so nobody else's processes are touched.
our_leftover_pids() {
  local proc pid comm
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    comm=$(cat "$proc/comm" 2>/dev/null || true)
    case $comm in
      dockerd | containerd | containerd-shim* | runc | docker-proxy) ;;
      *) continue ;;
    esac
    if tr '\0' ' ' <"$proc/cmdline" 2>/dev/null | grep -qF -- "$STATE_DIR/"; then echo "$pid"; fi
  done
}

our_cgroup_dirs() {
  local n
  for n in "${NODES[@]}"; do find /sys/fs/cgroup -maxdepth 6 -type d -name "$(node_cgroup "$n")" -prune 2>/dev/null; done
}

our_cgroup_pids() {
  our_cgroup_dirs | while read -r dir; do find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null || true; done | sort -u
}

remove_cgroup_dirs() {
  our_cgroup_dirs | while read -r dir; do find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
}

unmount_under_state_dir() {
  local mp
  # Deepest first (overlays, the namespaces dockerd bind-mounts under its exec root); lazy as the fallback.
  awk -v d="$STATE_DIR/" '$5 == substr(d, 1, length(d) - 1) || index($5, d) == 1 {print $5}' /proc/self/mountinfo |
    sort -r | while read -r mp; do
      umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || log "could not unmount $mp"
    done
}

cmd_stop() {
  local n pid ns
  # No stack removal or swarm leave: the whole Swarm goes, and with it every data root. dockerd stops its own
  # containers on SIGTERM (--shutdown-timeout 3), in parallel for all nodes.
  for n in "${NODES[@]}"; do
    pid=$(read_pid "$(node_pid_file "$n")")
    if pid_alive "$pid"; then log "node $n: stopping dockerd (pid $pid)"; kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for n in "${NODES[@]}"; do kill_pid "$(read_pid "$(node_pid_file "$n")")" 20; done
  # Whatever survived a crashed daemon: container processes, then shims and containerd.
  for pid in $(our_cgroup_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in $(our_leftover_pids); do
    log "killing leftover pid $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"
    kill_pid "$pid" 3
  done
  remove_cgroup_dirs
  if [[ -d $STATE_DIR ]]; then unmount_under_state_dir; fi
  for n in "${NODES[@]}"; do
    ns=$(node_ns "$n")
    # Deleting the namespace deletes its end of the veth pair, and with it ours.
    if [[ -e /var/run/netns/$ns ]]; then ip netns delete "$ns" 2>/dev/null || log "could not delete namespace $ns"; fi
    if ip link show "$(node_veth "$n")" >/dev/null 2>&1; then ip link delete "$(node_veth "$n")" 2>/dev/null || true; fi
  done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link delete "$BRIDGE" 2>/dev/null || log "could not delete $BRIDGE"; fi
  if [[ -d $STATE_DIR ]]; then
    if awk -v d="$STATE_DIR/" 'index($5, d) == 1 || $5"/" == d {f=1} END {exit !f}' /proc/self/mountinfo; then
      die "mounts remain under $STATE_DIR; not deleting it (see: grep $STATE_DIR /proc/self/mountinfo)"
    fi
    rm -rf --one-file-system "$STATE_DIR"
  fi
  log "stopped"
}

# --- main ---------------------------------------------------------------------------------------------

with_lock() {
  # One start/stop at a time; the lock file sits beside the state dir because stop deletes the dir.
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
  node-down) with_lock cmd_node_down "${2:?usage: $0 node-down N}" ;;
  node-up) with_lock cmd_node_up "${2:?usage: $0 node-up N}" ;;
  env-file) echo "$ENV_FILE" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
