import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCgroupContainerId } from './parse-cgroup-container-id.js';
import { parseCmdline } from './parse-cmdline.js';
import { parseNsPids } from './parse-ns-pids.js';
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
