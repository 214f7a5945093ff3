import { readdir, readFile } from 'node:fs/promises';
import { parseProcStat } from '../../shared/proc/parse-proc-stat.js';
import { readProcessIdentity } from '../../shared/proc/read-process-identity.js';

/** Host PIDs whose parent is `ppid`, from the real /proc. */
export async function childrenOf(ppid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (parseProcStat(await readFile(`/proc/${name}/stat`, 'utf8')).ppid === ppid) out.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return out.sort((a, b) => a - b);
}

/** argv of a live PID (empty when gone). */
export async function argvOf(pid: number): Promise<string[]> {
  return (await readProcessIdentity('/proc', pid))?.argv.slice() ?? [];
}

/**
 * Still the very process recorded (same start time), not gone, not a reused PID, and not a zombie: a killed process
 * stays in /proc until its parent reaps it, which may take a moment when the parent is busy.
 */
export async function stillAlive(pid: number, startTime: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').then(parseProcStat, () => null);
  return stat !== null && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X';
}
