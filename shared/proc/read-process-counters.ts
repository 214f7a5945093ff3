import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProcIo, type ProcIo } from './parse-proc-io.js';
import { parseProcStat, USER_HZ } from './parse-proc-stat.js';

/** How much work a process has done so far: the counters that tell a working process from a stuck one. */
export interface ProcessCounters {
  /** /proc/<pid>/stat field 22 (ticks after boot): the counters belong to this very process only. */
  readonly startTime: number;
  /** utime + stime, in seconds. */
  readonly cpuSeconds: number;
  /** Resident memory (VmRSS of /proc/<pid>/status, page-size independent; stat's rss pages x 4 KiB otherwise). */
  readonly rssBytes: number;
  /**
   * /proc/<pid>/io; null when unreadable: the file needs ptrace access (PTRACE_MODE_READ_FSCREDS), which root without
   * CAP_SYS_PTRACE lacks for other users' processes (EACCES), and some kernels lack task IO accounting.
   */
  readonly io: ProcIo | null;
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** `VmRSS:` of /proc/<pid>/status in bytes; null when absent (kernel threads, zombies). */
export function parseVmRssBytes(statusText: string): number | null {
  const m = /^VmRSS:\s*(\d+)\s*kB\s*$/m.exec(statusText);
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * Reads one process's counters from `<procRoot>/<pid>/{stat,status,io}`. Null when the process is gone, or when its
 * PID now names another process than `startTime` says (pass the identity's start time to rule out PID reuse).
 */
export async function readProcessCounters(
  procRoot: string,
  pid: number,
  startTime?: number,
): Promise<ProcessCounters | null> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  const dir = join(procRoot, String(pid));
  try {
    const [statText, statusText, io] = await Promise.all([
      readFile(join(dir, 'stat'), 'utf8'),
      readFile(join(dir, 'status'), 'utf8'),
      readFile(join(dir, 'io'), 'utf8').then(parseProcIo, () => null),
    ]);
    const stat = parseProcStat(statText);
    if (startTime !== undefined && stat.startTime !== startTime) return null;
    return {
      startTime: stat.startTime,
      cpuSeconds: (stat.utimeTicks + stat.stimeTicks) / USER_HZ,
      rssBytes: parseVmRssBytes(statusText) ?? stat.rssPages * 4096,
      io,
    };
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/**
 * Boot time of the host whose /proc this is, in ms since the epoch: now less /proc/uptime (10 ms resolution); null when
 * unreadable. Not /proc/stat's `btime`: that is truncated to the second, which puts a process's start up to 1 s early,
 * enough to date a runner before a probe answer it did not give (a load would pass for a loaded model).
 */
export async function readBootTimeMs(procRoot: string, now: () => number = Date.now): Promise<number | null> {
  try {
    const uptime = Number((await readFile(join(procRoot, 'uptime'), 'utf8')).split(/\s+/)[0]);
    // The clock read after the file, never before: on a loaded host the read can land seconds after the call, and a
    // clock read first would date the boot, and every process start, that much too early.
    const nowMs = now();
    return Number.isFinite(uptime) && uptime > 0 ? Math.round(nowMs - uptime * 1000) : null;
  } catch {
    return null;
  }
}

/**
 * How far two derivations of one process's start (startedAtMs) may differ: the boot time is re-derived from
 * /proc/uptime on every read, and on a loaded host the read can land seconds late.
 */
export const START_TIME_TOLERANCE_MS = 5000;

/** Start of a process in ms since the epoch, from its stat start time (ticks after boot) and the boot time. */
export function startedAtMs(bootTimeMs: number, startTimeTicks: number): number {
  return bootTimeMs + Math.round((startTimeTicks * 1000) / USER_HZ);
}
