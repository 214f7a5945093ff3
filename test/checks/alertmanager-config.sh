#!/usr/bin/env bash
# amtool (Alertmanager 0.25) on deploy/alertmanager/alertmanager.yml and the fleet's alertmanager-fleet.yml: the files are valid, and alerts are routed as
# documented: remediable alerts that name a target go to the remediator AND the humans, everything else only to
# the humans. The remediator receiver must use bearer auth from a credentials file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
name=alertmanager-config

if ! command -v amtool >/dev/null 2>&1; then
  echo "$name: FAILED: amtool not found (apt-get install prometheus-alertmanager)" >&2
  exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The secret path exists only on a real Alertmanager host; point it at a scratch file.
config=$scratch/alertmanager.yml
cp deploy/alertmanager/alertmanager.yml "$config"
echo token >"$scratch/secret"
sed -i "s#/etc/alertmanager/secrets/[A-Za-z0-9._-]*#$scratch/secret#g" "$config"
failed=()

echo "$name: amtool check-config"
amtool check-config "$config" || failed+=("check-config")

grep -Eq '^ +credentials_file: ' "$config" && grep -Eq '^ +type: Bearer' "$config" \
  || failed+=("the remediator receiver must use http_config.authorization (type Bearer, credentials_file)")
grep -Eq '^ +send_resolved: true' "$config" || failed+=("send_resolved must be true (resolutions cancel pending healing)")

# expect <receivers> <labels...>: the labels must route to exactly these receivers.
expect() {
  local receivers=$1
  shift
  if amtool config routes test --config.file="$config" --verify.receivers="$receivers" "$@" >/dev/null 2>&1; then
    echo "$name: ok: {$*} -> $receivers"
  else
    failed+=("{$*} should go to $receivers, goes to: $(amtool config routes test --config.file="$config" "$@" 2>/dev/null)")
  fi
}
for alert in OllamaApiDown OllamaGpuIdleWhileModelLoaded OllamaProbeHung OllamaProbeFailing OllamaLoadStalled OllamaRunnerCrashed OllamaModelMissing OllamaOrphanRunners OllamaModelStuckStopping; do
  expect sentinel-remediator,humans alertname=$alert remediate=true ollama=main severity=critical
done
for alert in GpuLost GpuEccUncorrectedErrors OllamaModelPartialOffload OllamaOutOfMemory OllamaKeepWarmEvicted OllamaServerBusy OllamaRunnerBusyTooLong; do
  expect humans alertname=$alert ollama=main severity=critical
done
expect humans alertname=OllamaProbeHung remediate=true            # no target label: never sent to the remediator
expect humans alertname=OllamaProbeHung remediate=false ollama=main

# The route test itself must be able to fail, or the checks above prove nothing.
if amtool config routes test --config.file="$config" --verify.receivers=humans alertname=OllamaProbeHung remediate=true ollama=main >/dev/null 2>&1; then
  failed+=("amtool --verify.receivers accepted a wrong expectation")
fi

# The fleet variant (generated from the example nodes): a remediable alert reaches the remediator of its own node
# (receiver remediator-<node ID>) and the humans, never another node's; one from an unknown node or without a node
# label, and every other alert, only the humans (and the fleet remediator, below, for the restart family).
fleet=$scratch/alertmanager-fleet.yml
cp deploy/alertmanager/alertmanager-fleet.yml "$fleet"
sed -i "s#/run/secrets/[A-Za-z0-9._-]*#$scratch/secret#g" "$fleet"
echo "$name: amtool check-config (fleet)"
amtool check-config "$fleet" || failed+=("check-config fleet")
mapfile -t nodes < <(sed -n 's/^ *- node="\([^"]*\)"$/\1/p' "$fleet")
((${#nodes[@]} >= 2)) || failed+=("the fleet config should route at least two example nodes, found ${#nodes[@]}")
config=$fleet
# The alerts no node remediator cures also reach the fleet remediator on every manager (receiver fleet), which
# counts their nodes; those cured on the node (CPU fallback: a restart of the node's task; a hung runner: a reload; a
# missing model) do not, or a fault on two nodes would be restarted twice.
for node in "${nodes[@]}"; do
  for alert in OllamaApiDown OllamaLoadStalled; do
    expect "fleet,remediator-$node,humans" alertname=$alert remediate=true ollama=main node="$node" severity=critical
  done
  for alert in OllamaGpuIdleWhileModelLoaded OllamaProbeHung OllamaModelMissing OllamaRunnerCrashed OllamaProbeFailing; do
    expect "remediator-$node,humans" alertname=$alert remediate=true ollama=main node="$node" severity=critical
  done
  expect humans alertname=GpuLost ollama=main node="$node" severity=critical
  expect humans alertname=OllamaProbeHung remediate=true node="$node"   # no target label
done
expect humans alertname=OllamaProbeHung remediate=true ollama=main                  # no node label
# A node the file does not know: no node remediator; the fleet remediator still counts it.
expect fleet,humans alertname=OllamaApiDown remediate=true ollama=main node=joined-later
expect humans alertname=OllamaModelMissing remediate=true ollama=main node=joined-later
if amtool config routes test --config.file="$fleet" --verify.receivers="remediator-${nodes[1]},humans" \
  alertname=OllamaProbeHung remediate=true ollama=main node="${nodes[0]}" >/dev/null 2>&1; then
  failed+=("amtool routed node ${nodes[0]}'s alert to node ${nodes[1]}'s remediator")
fi

if ((${#failed[@]} > 0)); then
  printf '%s: FAILED: %s\n' "$name" "${failed[@]}" >&2
  exit 1
fi
echo "$name: ok"
