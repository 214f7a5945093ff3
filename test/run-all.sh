#!/usr/bin/env bash
# THE test command (`npm test`, `.ci/run`). On a fresh Debian machine, as root, it does all set-up:
# Debian packages if missing, npm ci, build, unit tests, the Docker test environment, integration
# tests (serially; the fleet tests on a three-node Swarm started for them alone, test/setup/fleet-swarm.sh),
# then every executable test/checks/*.sh. Ends with the line `N passed, N failed`
# and a non-zero exit when anything failed. The unit phase also runs the static checks (import graph,
# prettier --check, eslint), each counted as one result. Each phase that runs node tests ends with a
# table of its slowest test files (see test/README.md).
#
#   bash test/run-all.sh [unit] [integration] [checks]     (default: all three, in that order)
#
# Env: SENTINEL_TEST_TIMEOUT_S (overall, default 3600), SENTINEL_CHECK_TIMEOUT_S (each check, default
# 900), SENTINEL_TEST_KEEP_ENV=1 (leave the environment running), SENTINEL_TEST_DIR (its state dir),
# SENTINEL_TEST_SLOWEST (rows of the slowest-files table, default 20; `all` for every file).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

# Overall time limit. Without --foreground, timeout signals the whole process group, so a hung
# test runner cannot outlive it; the TERM trap below still tears the environment down.
if [[ -z ${SENTINEL_RUN_ALL_INNER:-} ]]; then
  export SENTINEL_RUN_ALL_INNER=1
  exec timeout --kill-after=90 "${SENTINEL_TEST_TIMEOUT_S:-3600}" bash "$REPO_ROOT/test/run-all.sh" "$@" </dev/null
fi

PHASES=("$@")
((${#PHASES[@]})) || PHASES=(unit integration checks)
for phase in "${PHASES[@]}"; do
  [[ $phase =~ ^(unit|integration|checks)$ ]] || { echo "run-all: unknown phase '$phase' (unit, integration, checks)" >&2; exit 2; }
done
wants() { [[ " ${PHASES[*]} " == *" $1 "* ]]; }

TEST_ENV=$REPO_ROOT/test/setup/test-env.sh
FLEET_ENV=$REPO_ROOT/test/setup/fleet-swarm.sh
RESULTS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sentinel-run-all.XXXXXX")
PASSED=0
FAILED=0
SKIPPED=0
SUMMARY=()
ENV_STARTED_HERE=0
FLEET_STARTED_HERE=0

say() { printf '\n=== %s\n' "$*"; }
record() { # record <passed> <failed> <skipped> <what>
  PASSED=$((PASSED + $1)); FAILED=$((FAILED + $2)); SKIPPED=$((SKIPPED + $3))
  SUMMARY+=("$(printf '%-46s %4d passed, %d failed, %d skipped' "$4:" "$1" "$2" "$3")")
}
note() { SUMMARY+=("$(printf '%-46s %s' "$1:" "$2")"); }

# Stops the environment only if this run started it: on a shared machine someone else's running
# environment is theirs to stop.
stop_env() {
  ((ENV_STARTED_HERE)) || return 0
  ENV_STARTED_HERE=0
FLEET_STARTED_HERE=0
  if [[ ${SENTINEL_TEST_KEEP_ENV:-} == 1 ]]; then
    echo "run-all: leaving the test environment running (SENTINEL_TEST_KEEP_ENV=1); stop it with: bash $TEST_ENV stop"
    return 0
  fi
  say "teardown"
  if ! timeout 180 bash "$TEST_ENV" stop </dev/null; then
    echo "run-all: WARNING: test-env.sh stop failed" >&2
    return 1
  fi
}

# The same for the test fleet (a multi-node Swarm, test/setup/fleet-swarm.sh).
stop_fleet() {
  ((FLEET_STARTED_HERE)) || return 0
  FLEET_STARTED_HERE=0
  if [[ ${SENTINEL_TEST_KEEP_ENV:-} == 1 ]]; then
    echo "run-all: leaving the test fleet running (SENTINEL_TEST_KEEP_ENV=1); stop it with: bash $FLEET_ENV stop"
    return 0
  fi
  say "teardown: test fleet"
  if ! timeout 180 bash "$FLEET_ENV" stop </dev/null; then
    echo "run-all: WARNING: fleet-swarm.sh stop failed" >&2
    return 1
  fi
}

teardown() {
  local rc=$?
  trap - EXIT INT TERM HUP
  stop_fleet || true
  stop_env || true
  rm -rf "$RESULTS_DIR"
  exit "$rc"
}
trap teardown EXIT
trap 'echo "run-all: interrupted" >&2; record 0 1 0 "interrupted"; finish' INT HUP
trap 'echo "run-all: terminated (overall timeout ${SENTINEL_TEST_TIMEOUT_S:-3600}s?)" >&2; record 0 1 0 "terminated (timeout?)"; finish' TERM

# Prints the summary (its last line is `N passed, N failed`) and exits: non-zero when anything failed.
finish() {
  # Teardown first, so that the summary line really is the last line.
  stop_fleet || record 0 1 0 "teardown (test fleet)"
  stop_env || record 0 1 0 "teardown"
  say "summary"
  printf '%s\n' "${SUMMARY[@]}"
  ((SKIPPED == 0)) || echo "($SKIPPED skipped)"
  echo "$PASSED passed, $FAILED failed"
  if ((FAILED == 0)); then exit 0; fi
  exit 1
}

# Compiled tests whose .ts source still exists: a stale dist/ must not run deleted tests.
test_files() {
  local dir=$1 js ts
  [[ -d $dir ]] || return 0
  find "$dir" -name '*.test.js' -type f | sort | while read -r js; do
    ts=${js#dist/}
    if [[ -f $REPO_ROOT/${ts%.js}.ts ]]; then echo "$js"; fi
  done
}

# Whether the machine's node differs from the pinned one and package.json's engines (">=N...") admits its major.
machine_node_allowed() {
  [[ -n $MACHINE_NODE && -x $MACHINE_NODE ]] || return 1
  [[ $("$MACHINE_NODE" --version) != "$(node --version)" ]] || return 1
  node -e 'const m = />=\s*(\d+)/.exec(require("./package.json").engines?.node ?? "");
    process.exit(m && Number(m[1]) <= Number(process.argv[1].replace(/^v/, "").split(".")[0]) ? 0 : 1)' "$("$MACHINE_NODE" --version)"
}

# Seconds since an earlier $SECONDS reading, for the labels of timed results.
since() { echo "$((SECONDS - $1))s"; }

# Runs one static check (a command) and counts it as one result: exit 0 = passed.
run_check() { # run_check <label> command...
  local label=$1 start=$SECONDS rc=0
  shift
  printf -- '--- %s\n' "$label"
  timeout --kill-after=30 "${SENTINEL_CHECK_TIMEOUT_S:-900}" "$@" </dev/null || rc=$?
  if ((rc == 0)); then
    record 1 0 0 "$label ($(since "$start"))"
  else
    ((rc == 124)) && echo "run-all: $label timed out after ${SENTINEL_CHECK_TIMEOUT_S:-900}s" >&2
    record 0 1 0 "$label ($(since "$start"), exit $rc)"
  fi
}

# The per-file durations a phase's node --test run wrote (test/helpers/file-durations-reporter.ts), slowest first.
print_durations() { # print_durations <label>
  local file=$RESULTS_DIR/$1.durations rows=${SENTINEL_TEST_SLOWEST:-20}
  [[ -s $file ]] || return 0
  local count total_ms
  count=$(wc -l <"$file")
  total_ms=$(awk -F'\t' '{ s += $1 } END { print s + 0 }' "$file")
  [[ $rows == all ]] && rows=$count
  say "slowest $1 test files ($(awk -v n="$rows" -v c="$count" 'BEGIN { print (n < c ? n : c) }') of $count; all files together $(awk -v t="$total_ms" 'BEGIN { printf "%.0f", t / 1000 }')s of test time)"
  # awk reads the whole sorted list (a head here can SIGPIPE sort, which pipefail turns into a failed run).
  sort -t $'\t' -k1,1nr "$file" |
    awk -F'\t' -v root="$REPO_ROOT/" -v n="$rows" 'NR <= n { f = $3; if (index(f, root) == 1) f = substr(f, length(root) + 1); printf "%8.1fs  %-6s  %s\n", $1 / 1000, $2, f }'
}

# Runs node --test over files, spec output to the console, TAP to a file for the counts, and each
# file's duration to another for the slowest-files table.
run_node_tests() { # run_node_tests <label> <concurrency> <timeout-ms> files...
  local label=$1 concurrency=$2 timeout_ms=$3
  shift 3
  local tap=$RESULTS_DIR/$label.tap rc=0 durations=()
  # Node 20's TAP has no per-file line: a small reporter of ours writes them (built with the rest).
  if [[ -f dist/test/helpers/file-durations-reporter.js ]]; then
    durations=(--test-reporter=./dist/test/helpers/file-durations-reporter.js
      --test-reporter-destination="$RESULTS_DIR/$label.durations")
  else
    echo "run-all: dist/test/helpers/file-durations-reporter.js missing: no per-file durations" >&2
  fi
  "${TEST_NODE:-node}" --test --test-concurrency="$concurrency" --test-timeout="$timeout_ms" \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    "${durations[@]}" "$@" </dev/null || rc=$?
  # Top-level TAP summary lines: "# pass N", "# fail N", ...
  local pass fail cancelled skipped todo
  pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n1)
  fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n1)
  cancelled=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n1)
  skipped=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n1)
  todo=$(sed -n 's/^# todo \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -n1)
  if [[ -z $pass || -z $fail ]]; then
    echo "run-all: node --test ($label) ended (exit $rc) without a summary" >&2
    record 0 1 0 "$label tests (runner crashed)"
    return
  fi
  fail=$((fail + ${cancelled:-0}))
  # A non-zero exit with nothing failed (e.g. a crash after the summary) still counts as a failure.
  if ((rc != 0 && fail == 0)); then fail=1; fi
  record "$pass" "$fail" "$((${skipped:-0} + ${todo:-0}))" "$label tests"
}

# --- set-up ----------------------------------------------------------------------------------------

say "set-up: Debian packages"
if ! bash "$REPO_ROOT/test/setup/ensure-packages.sh" </dev/null; then
  record 0 1 0 "set-up (Debian packages)"
fi

say "set-up: pinned Node.js"
# Every phase runs on the pinned Node (test/setup/ensure-node.sh); the machine's own node, when engines still
# allows it, runs the unit phase a second time.
MACHINE_NODE=$(command -v node || true)
if node_bin=$(bash "$REPO_ROOT/test/setup/ensure-node.sh" </dev/null); then
  export PATH="$node_bin:$PATH"
  note "node" "$(node --version) (pinned, $node_bin)"
else
  record 0 1 0 "set-up (pinned Node.js)"
fi
echo "node $(node --version) at $(command -v node)"

say "set-up: npm dependencies"
# npm ci wipes node_modules: only when it is missing or older than the lock file (fresh clone, CI),
# not under the feet of someone else's build on a shared checkout.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  if ! npm ci --no-audit --no-fund </dev/null; then
    record 0 1 0 "set-up (npm ci)"
    finish
  fi
else
  echo "node_modules is up to date with package-lock.json"
fi

say "build: npm run build"
if npm run build </dev/null; then
  note "build (tsc)" ok
else
  # tsc still emits on type errors, so the tests run anyway; the build counts as one failure.
  record 0 1 0 "build (tsc)"
fi

# --- unit tests ------------------------------------------------------------------------------------

if wants unit; then
  # Static checks, each one result. They read the sources, not dist/. eslint type-checks the whole
  # tree (about 30 s of CPU) and prettier about 12 s: together they must stay under 90 s.
  say "static checks: import graph, formatting, lint"
  run_check "import graph" node test/checks/import-graph.mjs
  run_check "prettier --check" "$REPO_ROOT/node_modules/.bin/prettier" --check --log-level=warn .
  run_check "eslint" "$REPO_ROOT/node_modules/.bin/eslint" .

  say "unit tests"
  mapfile -t unit_files < <(test_files dist/test/unit)
  if ((${#unit_files[@]})); then
    run_node_tests unit 2 60000 "${unit_files[@]}"
    print_durations unit
    if machine_node_allowed; then
      say "unit tests on the machine's Node.js $("$MACHINE_NODE" --version) (package.json engines still allows it)"
      TEST_NODE=$MACHINE_NODE run_node_tests "unit-$("$MACHINE_NODE" --version | cut -d. -f1)" 2 60000 "${unit_files[@]}"
    fi
  else
    echo "no unit tests found under dist/test/unit"
  fi
fi

# --- integration tests -----------------------------------------------------------------------------

env_ready=0
if wants integration || wants checks; then
  say "test environment"
  if bash "$TEST_ENV" status >/dev/null 2>&1; then
    # Someone else's running environment: reuse it, refresh its images from this build, leave it up.
    if bash "$TEST_ENV" rebuild-images </dev/null; then env_ready=1; fi
  else
    ENV_STARTED_HERE=1
    if bash "$TEST_ENV" start </dev/null; then env_ready=1; fi
  fi
  if ((env_ready)); then
    set -a
    # shellcheck disable=SC1090
    . "$(bash "$TEST_ENV" env-file)"
    set +a
    # Integration tests must fail, not skip, when the environment is missing (see testEnvSkip).
    export SENTINEL_TEST_REQUIRE_ENV=1
  else
    record 0 1 0 "test environment start"
  fi
fi

if wants integration && ((env_ready)); then
  say "integration tests (serial)"
  # The fleet tests run in their own phase below, on the test fleet.
  mapfile -t integration_files < <(test_files dist/test/integration | grep -v '^dist/test/integration/fleet/' || true)
  if ((${#integration_files[@]})); then
    run_node_tests integration 1 900000 "${integration_files[@]}"
    print_durations integration
  else
    echo "no integration tests found under dist/test/integration"
  fi
fi

# The fleet tests need a multi-node Swarm (test/setup/fleet-swarm.sh: three dockerds in network namespaces, about
# 30 s to start and 10 s to stop), started for them alone and stopped right after, also when they fail.
if wants integration; then
  mapfile -t fleet_files < <(test_files dist/test/integration/fleet)
  if ((${#fleet_files[@]})); then
    say "test fleet (three-node Swarm)"
    fleet_ready=0
    if bash "$FLEET_ENV" status >/dev/null 2>&1; then
      # Someone else's running fleet: reuse it, refresh its image from this build, leave it up.
      if bash "$FLEET_ENV" rebuild-images </dev/null; then fleet_ready=1; fi
    else
      FLEET_STARTED_HERE=1
      if bash "$FLEET_ENV" start </dev/null; then fleet_ready=1; fi
    fi
    if ((fleet_ready)); then
      say "fleet integration tests (serial)"
      # Fail, not skip, when the fleet is missing (see fleetEnvSkip).
      SENTINEL_FLEET_REQUIRE_ENV=1 SENTINEL_FLEET_ENV_FILE=$(bash "$FLEET_ENV" env-file) \
        run_node_tests fleet 1 900000 "${fleet_files[@]}"
      print_durations fleet
    else
      record 0 1 0 "test fleet start"
    fi
    stop_fleet || record 0 1 0 "teardown (test fleet)"
  fi
fi

# --- extra checks ----------------------------------------------------------------------------------
# EXTENSION POINT: every executable test/checks/*.sh runs here, in name order, from the repo root,
# with the test environment's variables exported, each under SENTINEL_CHECK_TIMEOUT_S (default 900).
# Exit 0 = passed. Name them NN-what.sh to order them.

if wants checks; then
  say "checks (test/checks/*.sh)"
  shopt -s nullglob
  for check in "$REPO_ROOT"/test/checks/*.sh; do
    name=${check#"$REPO_ROOT"/}
    if [[ ! -x $check ]]; then
      echo "run-all: $name is not executable (git update-index --chmod=+x $name); counted as failed" >&2
      record 0 1 0 "$name"
      continue
    fi
    if ((!env_ready)); then
      echo "run-all: $name not run: the test environment did not start" >&2
      record 0 1 0 "$name"
      continue
    fi
    run_check "$name" "$check"
  done
  shopt -u nullglob
fi

# --- summary ---------------------------------------------------------------------------------------

finish
