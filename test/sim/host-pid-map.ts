import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive } from '../../shared/proc/read-process-identity.js';

/**
 * PIDs as the GPU driver reports them. NVML lives in the host kernel and names every GPU process by its host PID,
 * also for a process in a container's own PID namespace (a Swarm task: Swarm has no `pid: host`). A simulator inside
 * such a container only knows its namespace's PIDs; given the host's /proc (mounted by the test, as the driver
 * "sees" it), this finds the host PID of each: the process whose status `NSpid:` line ends with the inner PID and
 * whose cmdline equals the inner process's. Without a host /proc every PID is its own (the simulator runs in the
 * host's PID namespace).
 */
export interface HostPidMap {
  /** The host PID of a PID of this namespace; undefined while it cannot be found (the process is gone). */
  toHost(pid: number): number | undefined;
  /** Whether a PID as the driver reports it still runs. */
  alive(hostPid: number): boolean;
}

export function createHostPidMap(hostProc: string | undefined, ownProc = '/proc'): HostPidMap {
  if (!hostProc) return { toHost: (pid) => pid, alive };
  const known = new Map<number, number>();
  return {
    toHost(pid) {
      const cmdline = readOr(join(ownProc, String(pid), 'cmdline'));
      if (cmdline === undefined) {
        known.delete(pid);
        return undefined;
      }
      const cached = known.get(pid);
      if (cached !== undefined && readOr(join(hostProc, String(cached), 'cmdline')) === cmdline) return cached;
      for (const entry of readdirSync(hostProc)) {
        if (!/^\d+$/.test(entry)) continue;
        const status = readOr(join(hostProc, entry, 'status'));
        if (status === undefined || innerPid(status) !== pid) continue;
        if (readOr(join(hostProc, entry, 'cmdline')) !== cmdline) continue;
        known.set(pid, Number(entry));
        return Number(entry);
      }
      return undefined;
    },
    alive: (hostPid) => existsSync(join(hostProc, String(hostPid))),
  };
}

/** The innermost PID of a /proc/<pid>/status text when the process is in a nested PID namespace, else undefined. */
export function innerPid(status: string): number | undefined {
  const line = /^NSpid:\s+(.*)$/m.exec(status)?.[1];
  const pids = line?.trim().split(/\s+/).map(Number) ?? [];
  return pids.length >= 2 ? pids[pids.length - 1] : undefined;
}

function readOr(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
