#!/bin/sh
# Entry point of the Ollama simulator container in the demo and the end-to-end test (bind-mounted into the test
# environment's simulator image, which has busybox sh and node). Runs the simulator as `/opt/ollama/ollama serve ...`
# so that /proc shows what a real Ollama shows: the exporter and the remediator tell the server and its runners apart
# by that (a runner whose parent is not an `ollama serve` counts as orphaned, and the remediator kills orphans).
#
#   sim-entrypoint.sh [simulator flags...]      (test/sim/README.md: --version, --host, --port, --pull-bytes-per-second...)
#
# --version V picks the Ollama the simulator plays: 0.30 and later run `lib/ollama/llama-server --model ...` runners
# (and GPU discovery processes) from this folder, 0.12 `ollama runner --model ...`. run-demo.sh passes 0.33.0 unless
# told otherwise (--ollama-version).
#
# SIM_MODELS_FILE: a file holding the comma-separated models the simulator starts with. The simulator keeps pulled
# models in memory only, where a real Ollama keeps them on its volume; this file plays that volume, so a container
# restart finds the models still there.
set -eu
dir=/opt/ollama
# Idempotent: a restarted container finds the folder from its first start. It also holds lib/ollama/llama-server (the
# image's static fake, named by SENTINEL_FAKE_LLAMA_SERVER) for the simulator's 0.30+ profile.
/usr/bin/node -e "import('/app/dist/test/sim/prepare-ollama-executable-dir.js').then((m) => m.prepareOllamaExecutableDir('$dir', { simMainPath: '/app/dist/test/sim/ollama-sim-main.js' }))"
models=
if [ -n "${SIM_MODELS_FILE:-}" ] && [ -f "$SIM_MODELS_FILE" ]; then models=$(cat "$SIM_MODELS_FILE"); fi
cd "$dir"
# exec: the simulator is PID 1 and handles SIGTERM itself, so `docker restart` takes a second, not the stop timeout.
exec "$dir/ollama" serve --models "$models" "$@"
