#!/usr/bin/env bash
# Installs the Debian packages the test environment needs, only those that are missing.
# Safe to run again and again: when everything is present it does nothing (no apt-get update).
set -euo pipefail

# command that proves the package is installed -> package name
declare -A NEEDED=(
  [dockerd]=docker.io
  [docker-registry]=docker-registry
  [prometheus]=prometheus
  [promtool]=prometheus
  [prometheus-alertmanager]=prometheus-alertmanager
  [amtool]=prometheus-alertmanager
  # The unit tests compile the fake libnvidia-ml.so.1 (test/sim/fake-nvml/) with it.
  [cc]=gcc
  # test/setup/ensure-node.sh checks the pinned Node.js tarball with it.
  [openssl]=openssl
)

missing=()
for cmd in "${!NEEDED[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$cmd" ]]; then
    missing+=("${NEEDED[$cmd]}")
  fi
done
# The shell image copies busybox into a bare root filesystem, so it must be the static build,
# not the dynamically linked `busybox` package.
if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
  missing+=(busybox-static)
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-packages: missing Debian packages: ${missing[*]}; run as root or install them:" >&2
  echo "  apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "ensure-packages: installing ${missing[*]}"
# Package scripts would start the system dockerd/prometheus/alertmanager on their default ports;
# the tests start their own private copies, so forbid service starts during the install.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi
cleanup() { if ((created_policy)); then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq "${missing[@]}" </dev/null
