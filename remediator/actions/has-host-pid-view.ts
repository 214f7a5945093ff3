import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseProcStat } from '../../shared/proc/parse-proc-stat.js';

/** The kernel's initial PID namespace always has this inode (PROC_PID_INIT_INO, fixed since Linux 3.8). */
const INIT_PID_NS = 'pid:[4026531836]';

/**
 * Does `procRoot` show the host's PIDs, the only ones nvidia-smi reports (the driver ignores PID namespaces)? A GPU
 * PID looked up in a container's own /proc would name a different process, so killing must not even be attempted.
 * 1. `<procRoot>/1/ns/pid` names the initial namespace (reading it needs ptrace rights over PID 1, often denied);
 * 2. else kernel threads: kthreadd is PID 2 with parent 0 only in the initial namespace (no other namespace sees
 *    kernel threads), and /proc/<pid>/stat is world-readable.
 */
export async function hasHostPidView(
  procRoot: string,
  ownPid: number = process.pid,
): Promise<{ readonly ok: boolean; readonly reason: string }> {
  // kill(2) acts in OUR PID namespace: a host /proc mounted into a container without `pid: host` shows host PIDs
  // that mean other processes here. procfs resolves `self` in the namespace it was mounted for, so it names our
  // own PID only when that namespace is ours.
  const selfPath = join(procRoot, 'self');
  try {
    const self = await readlink(selfPath);
    if (self !== String(ownPid)) {
      return {
        ok: false,
        reason: `${procRoot} belongs to another PID namespace than this process (${selfPath} -> ${self}, our PID is ${ownPid}): signals would reach other processes; run with pid: host and gpu.proc_root=/proc`,
      };
    }
  } catch (err) {
    return {
      ok: false,
      reason: `cannot read ${selfPath} (${(err as NodeJS.ErrnoException).code ?? String(err)}): cannot prove signals reach the PIDs read there`,
    };
  }
  const nsPath = join(procRoot, '1', 'ns', 'pid');
  let nsProblem: string;
  try {
    const ns = await readlink(nsPath);
    if (ns === INIT_PID_NS) return { ok: true, reason: `${nsPath} is the initial PID namespace` };
    return {
      ok: false,
      reason: `${procRoot} is not the host's /proc (${nsPath} -> ${ns}, not ${INIT_PID_NS}): mount the host /proc and set gpu.proc_root, or run with pid: host`,
    };
  } catch (err) {
    nsProblem = `cannot read ${nsPath} (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  const statPath = join(procRoot, '2', 'stat');
  try {
    const stat = parseProcStat(await readFile(statPath, 'utf8'));
    if (stat.comm === 'kthreadd' && stat.ppid === 0)
      return {
        ok: true,
        reason: `${statPath} is kthreadd: kernel threads are visible only in the initial PID namespace`,
      };
    return {
      ok: false,
      reason: `${nsProblem}, and PID 2 there is not kthreadd: ${procRoot} does not show host PIDs (mount the host /proc, or run with pid: host)`,
    };
  } catch (err) {
    return {
      ok: false,
      reason: `${nsProblem}, and no ${statPath} (${(err as NodeJS.ErrnoException).code ?? String(err)}): cannot prove ${procRoot} shows host PIDs`,
    };
  }
}
