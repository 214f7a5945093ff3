import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FAKE = fileURLToPath(new URL('../../../test/sim/bin/nvidia-smi', import.meta.url));

/** One run of nvidia-smi as the wrapper saw it. */
export interface SmiRun {
  readonly id: string;
  readonly args: string;
  /** PID of the fake nvidia-smi under the wrapper (absent if the wrapper died before starting it). */
  readonly childPid?: number;
  /** Exit code, "signal" when the wrapper was signalled, undefined while it runs (or when SIGKILLed). */
  readonly end?: string;
  /** Position of the start and end lines in the log: orders runs without any clock. */
  readonly startSeq: number;
  readonly endSeq?: number;
}

export interface NvidiaSmiWrapper {
  /** What to put in `gpu.nvidia_smi`. */
  readonly command: string;
  runs(): SmiRun[];
  /** The log's current length in lines: runs whose endSeq is at least this ended after this moment. */
  mark(): number;
}

/**
 * A `nvidia-smi` for the in-process exporter: points the fake at this test's state file (the exporter's own env
 * cannot be set per test) and records start, child PID and end of every run, so a test can prove from the order
 * of lines alone that runs never overlapped and that a hung one was killed.
 */
export function writeNvidiaSmiWrapper(dir: string, stateFile: string): NvidiaSmiWrapper {
  const log = join(dir, 'nvidia-smi.log');
  const command = join(dir, 'nvidia-smi');
  // The trap forwards the kill and still writes the end line, so a signalled run is told apart from a running one.
  writeFileSync(
    command,
    `#!/bin/sh
log='${log}'
child=
echo "start $$ $*" >> "$log"
trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi; echo "end $$ signal" >> "$log"; exit 143' TERM INT
SENTINEL_FAKE_GPU_STATE='${stateFile}' SENTINEL_FAKE_NODE='${process.execPath}' '${FAKE}' "$@" &
child=$!
echo "child $$ $child" >> "$log"
wait "$child"
rc=$?
echo "end $$ $rc" >> "$log"
exit "$rc"
`,
  );
  chmodSync(command, 0o755);
  return {
    command,
    mark: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').length - 1 : 0),
    runs() {
      if (!existsSync(log)) return [];
      const byId = new Map<
        string,
        { id: string; args: string; childPid?: number; end?: string; startSeq: number; endSeq?: number }
      >();
      readFileSync(log, 'utf8')
        .split('\n')
        .forEach((line, seq) => {
          const m = /^(start|child|end) (\d+) ?(.*)$/.exec(line);
          if (!m) return;
          const [, kind, id, rest] = m as unknown as [string, string, string, string];
          if (kind === 'start') byId.set(id, { id, args: rest, startSeq: seq });
          const run = byId.get(id);
          if (!run) return;
          if (kind === 'child') run.childPid = Number(rest);
          if (kind === 'end') {
            run.end = rest;
            run.endSeq = seq;
          }
        });
      return [...byId.values()];
    },
  };
}
