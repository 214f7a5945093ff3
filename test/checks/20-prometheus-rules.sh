#!/usr/bin/env bash
# promtool on the shipped Prometheus content: the generated rules (and their deploy/mixin/ split) parse and pass
# the lint, every alert's unit tests pass (deploy/prometheus/tests, promtool 2.42 format), and the example
# prometheus.yml and the generated fleet prometheus-fleet.yml load with their rules.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "20-prometheus-rules: FAILED: promtool not found (apt-get install prometheus)" >&2
  exit 1
fi
failed=()

echo "20-prometheus-rules: promtool check rules"
promtool check rules --lint=all --lint-fatal deploy/prometheus/ollama-sentinel.rules.yml || failed+=("check rules")
# The same groups as mixins ship them (deploy/mixin/): alerts and recording rules apart must each still load.
promtool check rules --lint=all --lint-fatal deploy/mixin/prometheus_alerts.yaml deploy/mixin/prometheus_rules.yaml ||
  failed+=("check rules deploy/mixin")

echo "20-prometheus-rules: promtool test rules"
promtool test rules deploy/prometheus/tests/*.yml || failed+=("test rules")

# The example references a credentials file that exists only on a real Prometheus host: check a copy whose
# secret paths point at a scratch file, so the rule files and everything else are still fully validated.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp deploy/prometheus/prometheus.yml deploy/prometheus/ollama-sentinel.rules.yml "$scratch/"
echo token >"$scratch/secret"
sed -i "s#/etc/prometheus/secrets/[A-Za-z0-9._-]*#$scratch/secret#g" "$scratch/prometheus.yml"
echo "20-prometheus-rules: promtool check config (example prometheus.yml)"
promtool check config "$scratch/prometheus.yml" || failed+=("check config deploy/prometheus/prometheus.yml")

# The fleet variant (generated; deploy/swarm/fleet-stack.yml): its secrets are Swarm secrets under /run/secrets.
cp deploy/prometheus/prometheus-fleet.yml "$scratch/"
sed -i "s#/run/secrets/[A-Za-z0-9._-]*#$scratch/secret#g" "$scratch/prometheus-fleet.yml"
echo "20-prometheus-rules: promtool check config (fleet prometheus-fleet.yml)"
promtool check config "$scratch/prometheus-fleet.yml" || failed+=("check config deploy/prometheus/prometheus-fleet.yml")

if ((${#failed[@]} > 0)); then
  printf '20-prometheus-rules: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "20-prometheus-rules: ok"
