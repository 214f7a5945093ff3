#!/usr/bin/env bash
# amtool (Alertmanager 0.25) on deploy/alertmanager/alertmanager.yml: the file is valid, and alerts are routed as
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

if ((${#failed[@]} > 0)); then
  printf '%s: FAILED: %s\n' "$name" "${failed[@]}" >&2
  exit 1
fi
echo "$name: ok"
