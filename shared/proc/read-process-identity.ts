import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCgroupContainerId } from './parse-cgroup-container-id.js';
import { parseProcStat } from './parse-proc-stat.js';

/** Who a PID is, as far as /proc can tell. `pid` + `startTime` name one process for good (PIDs get reused). */
export interface ProcessIdentity {
  /** PID in the namespace of `procRoot` (the host's, when the host /proc is mounted). */
  readonly pid: number;
  readonly ppid: number;
  /** /proc/<pid>/stat field 22, in clock ticks after boot. */
  readonly startTime: number;
  /** Target of /proc/<pid>/exe, seen from the process's own mount namespace; null when not readable (not root). */
  readonly exe: string | null;
  readonly argv: readonly string[];
  /** Kernel name of the executable, at most 15 bytes. */
  readonly comm: string;
  /** Full 64-hex id of the container whose cgroup holds the process; null on the host. Not yet checked with Docker. */
  readonly containerId: string | null;
  /** PID in each nested PID namespace, outermost first; its last entry is the PID inside a container. */
  readonly nsPids: readonly number[];
}

/** The process exited (or never existed) between our reads. */
function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

async function readOptionalLink(path: string): Promise<string | null> {
  try {
    return await readlink(path);
  } catch {
    // EACCES without CAP_SYS_PTRACE over the process, ENOENT for kernel threads and zombies: argv[0] still stands
    // in for the role, and the second stat read below tells whether the process itself is gone.
    return null;
  }
}

/**
 * Reads one process's identity from `<procRoot>/<pid>/{stat,cmdline,exe,cgroup,status}`. Returns null when the
 * process is gone, including when its PID was reused while we read (stat's start time changed), so callers that
 * later signal it (the remediator) can compare `startTime` right before acting.
 */
export async function readProcessIdentity(procRoot: string, pid: number): Promise<ProcessIdentity | null> {
  // Only a plain positive integer may become a path segment.
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  const dir = join(procRoot, String(pid));
  try {
    const before = parseProcStat(await readFile(join(dir, 'stat'), 'utf8'));
    const [cmdline, exe, cgroup, status, after] = await Promise.all([
      readFile(join(dir, 'cmdline')),
      readOptionalLink(join(dir, 'exe')),
      readFile(join(dir, 'cgroup'), 'utf8'),
      readFile(join(dir, 'status'), 'utf8'),
      readFile(join(dir, 'stat'), 'utf8'),
    ]);
    if (parseProcStat(after).startTime !== before.startTime) return null;
    return {
      pid,
      ppid: before.ppid,
      startTime: before.startTime,
      exe,
      argv: parseCmdline(cmdline),
      comm: before.comm,
      containerId: parseCgroupContainerId(cgroup),
      nsPids: parseNsPids(status),
    };
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/**
 * argv from the bytes of `/proc/<pid>/cmdline`: NUL-terminated arguments. Empty for kernel threads and zombies.
 * A process that rewrites its own argv (setproctitle) may leave one space-joined string: that is what it asked to
 * show, so it is kept as is.
 */
export function parseCmdline(raw: Buffer | string): string[] {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text.length === 0) return [];
  const parts = text.split('\0');
  // The final NUL terminates the last argument; it does not start an empty one.
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * The `NSpid:` line of `/proc/<pid>/status`: the PID in each nested PID namespace, outermost (the reader's view)
 * first, innermost (what the process sees as its own PID, e.g. 1 for a container's init) last. Empty on kernels
 * before 4.1, which lack the line.
 */
export function parseNsPids(statusText: string): number[] {
  const match = /^NSpid:\s*(.*)$/m.exec(statusText);
  if (!match) return [];
  return match[1]!
    .trim()
    .split(/\s+/)
    .filter((s) => s !== '')
    .map(Number)
    .filter((n) => Number.isInteger(n));
}

/**
 * Whether a PID names a live process, by signal 0 (nothing is sent). EPERM means it exists but is not ours to signal,
 * so it counts as alive. A zombie counts as alive too (it still holds its PID until reaped). Never true for 0 or a
 * negative number, which would probe a process group instead.
 */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
