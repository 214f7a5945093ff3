#!/usr/bin/env bash
# The committed rules, runbook and dashboards are exactly what deploy/monitoring/monitoring-config.ts generates, and
# deploy/CONFIGURATION.md is exactly what the commands' config sections generate.
# Fails listing the stale files; fix with: npx tsc -p tsconfig.json && node dist/deploy/monitoring/generate.js
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

generator=dist/deploy/monitoring/generate.js
# A generator older than its sources would compare against an old config: rebuild first (tsc still emits when
# unrelated files have type errors, so only the generator's presence decides). The config sections live with the
# commands and the library, so their sources count too.
if [[ ! -f $generator ]] || [[ -n $(find deploy/monitoring shared exporter remediator -name '*.ts' -newer "$generator" -print -quit) ]]; then
  echo "10-generated-artefacts: $generator missing or older than its sources; building"
  npx tsc -p tsconfig.json >/dev/null || true
fi
if [[ ! -f $generator ]]; then
  echo "10-generated-artefacts: FAILED: $generator was not built (is deploy/**/*.ts in tsconfig.json include?)" >&2
  exit 1
fi
if ! node "$generator" --check; then
  echo "10-generated-artefacts: FAILED: generated files differ from their sources (see above)" >&2
  exit 1
fi
echo "10-generated-artefacts: ok"
