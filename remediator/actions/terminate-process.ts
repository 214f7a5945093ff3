import { readProcessIdentity, type ProcessIdentity } from '../../shared/proc/read-process-identity.js';
import type { CallLog } from './call-log.js';
import type { KillCandidate } from './select-kill-candidates.js';
import { defaultSleep, type Sleep } from './wait-until.js';

export type TerminateOutcome =
  /** Exited after SIGTERM. */
  | 'terminated'
  /** Needed SIGKILL, then exited. */
  | 'killed'
  /** Gone, or a different process, before the first signal: nothing was sent. */
  | 'gone'
  /** Still the same process after SIGKILL (uninterruptible sleep in the driver?). */
  | 'survived'
  /** Dry-run: nothing sent. */
  | 'dry_run';

export interface TerminateOptions {
  readonly procRoot: string;
  readonly graceMs: number;
  /** How long to wait for the exit after SIGKILL. */
  readonly killWaitMs: number;
  readonly calls: CallLog;
  readonly signal: AbortSignal;
  readonly kill: (pid: number, signal: NodeJS.Signals) => void;
  readonly now: () => number;
  readonly sleep?: Sleep;
  readonly readIdentity?: (procRoot: string, pid: number) => Promise<ProcessIdentity | null>;
  readonly pollMs?: number;
}

/**
 * SIGTERM, a grace period, SIGKILL, re-reading the process's identity from /proc immediately before EACH signal so a
 * PID reused in between is never hit. A process that became a zombie counts as exited (its /proc/exe is gone).
 */
export async function terminateProcess(c: KillCandidate, opts: TerminateOptions): Promise<TerminateOutcome> {
  const read = opts.readIdentity ?? readProcessIdentity;
  const sleep = opts.sleep ?? defaultSleep;
  const pollMs = opts.pollMs ?? 100;
  const label = `PID ${c.pid} (start ${c.startTime}, ${c.argv.slice(0, 2).join(' ')})`;
  const still = async () => sameProcess(c, await read(opts.procRoot, c.pid));

  opts.calls.read(`read ${opts.procRoot}/${c.pid}/{stat,cmdline,exe,cgroup,status}: identity re-check`);
  if (!(await still())) return 'gone';
  if (!opts.calls.write(`kill -TERM ${label}`)) {
    opts.calls.write(`wait ${opts.graceMs} ms, re-check identity, kill -KILL ${label} if still running`);
    return 'dry_run';
  }
  if (!send(opts.kill, c.pid, 'SIGTERM')) return 'terminated';
  if (await exitedWithin(opts.graceMs)) return 'terminated';

  opts.calls.read(`read ${opts.procRoot}/${c.pid}/{stat,cmdline,exe,cgroup,status}: identity re-check`);
  if (!(await still())) return 'terminated';
  opts.calls.write(`kill -KILL ${label}`);
  if (!send(opts.kill, c.pid, 'SIGKILL')) return 'killed';
  return (await exitedWithin(opts.killWaitMs)) ? 'killed' : 'survived';

  async function exitedWithin(ms: number): Promise<boolean> {
    const deadline = opts.now() + ms;
    for (;;) {
      if (!(await still())) return true;
      const left = deadline - opts.now();
      if (left <= 0) return false;
      await sleep(Math.min(pollMs, left), opts.signal);
    }
  }
}

/** false when the process was already gone (ESRCH); other errors (EPERM) propagate. */
function send(kill: (pid: number, signal: NodeJS.Signals) => void, pid: number, sig: NodeJS.Signals): boolean {
  try {
    kill(pid, sig);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * Pure: is `now` (just re-read from /proc) still the process chosen at discovery? The start time (stat field 22)
 * catches PID reuse; exe, argv and container catch an exec or a zombie (empty argv) in between.
 */
export function sameProcess(chosen: KillCandidate, now: ProcessIdentity | null): boolean {
  if (now === null) return false;
  return (
    now.pid === chosen.pid &&
    now.startTime === chosen.startTime &&
    now.exe === chosen.exe &&
    now.containerId === chosen.containerId &&
    now.argv.length === chosen.argv.length &&
    now.argv.every((a, i) => a === chosen.argv[i])
  );
}
