import { readdir, readFile } from 'node:fs/promises';
import { parseProcStat } from '../../shared/proc/parse-proc-stat.js';
import { readProcessIdentity } from '../../shared/proc/read-process-identity.js';
import { waitFor } from './wait-for.js';

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

/** The one `ollama serve` that `shPid` (a container's sh PID 1) started, and its `runners` children, once all run. */
export async function serveTree(shPid: number, runners: number): Promise<{ serve: number; kids: number[] }> {
  return waitFor(
    async () => {
      const serves: number[] = [];
      for (const p of await childrenOf(shPid)) if ((await argvOf(p)).includes('serve')) serves.push(p);
      if (serves.length !== 1) return undefined;
      const kids = await childrenOf(serves[0]!);
      return kids.length === runners ? { serve: serves[0]!, kids } : undefined;
    },
    { timeoutMs: 30_000, what: `ollama serve under PID ${shPid} with ${runners} runner(s)` },
  );
}
