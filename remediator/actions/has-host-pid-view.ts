import { readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The kernel's initial PID namespace always has this inode (PROC_PID_INIT_INO, fixed since Linux 3.8). */
const INIT_PID_NS = 'pid:[4026531836]';

/**
 * Does `procRoot` show the host's PIDs, the only ones nvidia-smi reports (the driver ignores PID namespaces)? Read
 * from `<procRoot>/1/ns/pid`: PID 1 of a /proc mounted from the host lives in the initial namespace. Anything else
 * (a container's own /proc) would make a GPU PID name a different process, so killing must not even be attempted.
 */
export async function hasHostPidView(procRoot: string): Promise<{ readonly ok: boolean; readonly reason: string }> {
  const path = join(procRoot, '1', 'ns', 'pid');
  try {
    const ns = await readlink(path);
    return ns === INIT_PID_NS
      ? { ok: true, reason: `${path} is the initial PID namespace` }
      : { ok: false, reason: `${procRoot} is not the host's /proc (${path} -> ${ns}, not ${INIT_PID_NS}): mount the host /proc and set gpu.proc_root, or run with pid: host` };
  } catch (err) {
    return { ok: false, reason: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}): cannot prove ${procRoot} shows host PIDs` };
  }
}
