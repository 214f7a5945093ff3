import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyCgroup, type ContainerRuntime } from './parse-cgroup-container-id.js';
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
  /**
   * Full 64-hex id of the container whose cgroup holds the process; not yet checked with Docker. Null when no cgroup
   * segment carries such an id, which alone does NOT mean the host (LXC, nspawn, Podman's cgroupfs layout name none):
   * that is `onHost`.
   */
  readonly containerId: string | null;
  /** The container runtime its cgroup path names (see classifyCgroup); null when none does. */
  readonly runtime: ContainerRuntime | null;
  /**
   * Provably a host process: its cgroup path names no container runtime, machine or container id, and it lives in
   * the PID namespace of `procRoot` itself (one NSpid entry; every container runtime gives its processes their own).
   */
  readonly onHost: boolean;
  /** PID in each nested PID namespace, outermost first; its last entry is the PID inside a container. */
  readonly nsPids: readonly number[];
}

/** The process exited (or never existed) between our reads. */
function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOENT' || code === 'ESRCH';
}

async function readOptionalLink(io: ProcReader, path: string): Promise<string | null> {
  try {
    return await io.readlink(path);
  } catch {
    // EACCES without CAP_SYS_PTRACE over the process, ENOENT for kernel threads and zombies: argv[0] still stands
    // in for the role, and the second stat read below tells whether the process itself is gone.
    return null;
  }
}

/** The two calls the reader makes, injectable so a test can change the process between them. */
export interface ProcReader {
  readFile(path: string): Promise<Buffer>;
  readlink(path: string): Promise<string>;
}

const realProc: ProcReader = { readFile: (path) => readFile(path), readlink: (path) => readlink(path) };

/**
 * Reads one process's identity from `<procRoot>/<pid>/{stat,cmdline,exe,cgroup,status}`. Returns null when the
 * process is gone, including when its PID was reused while we read (stat's start time changed), so callers that
 * later signal it (the remediator) can compare `startTime` right before acting.
 */
export async function readProcessIdentity(
  procRoot: string,
  pid: number,
  io: ProcReader = realProc,
): Promise<ProcessIdentity | null> {
  // Only a plain positive integer may become a path segment.
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  const dir = join(procRoot, String(pid));
  try {
    const text = async (name: string) => (await io.readFile(join(dir, name))).toString('utf8');
    const before = parseProcStat(await text('stat'));
    const [cmdline, exe, cgroup, status, after] = await Promise.all([
      io.readFile(join(dir, 'cmdline')),
      readOptionalLink(io, join(dir, 'exe')),
      text('cgroup'),
      text('status'),
      text('stat'),
    ]);
    // The files were read one by one: a PID that died and was reused meanwhile mixes two processes' answers.
    if (parseProcStat(after).startTime !== before.startTime) return null;
    const placement = classifyCgroup(cgroup);
    const nsPids = parseNsPids(status);
    return {
      pid,
      ppid: before.ppid,
      startTime: before.startTime,
      exe,
      argv: parseCmdline(cmdline),
      comm: before.comm,
      containerId: placement.containerId,
      runtime: placement.runtime,
      onHost: placement.runtime === null && nsPids.length === 1,
      nsPids,
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
