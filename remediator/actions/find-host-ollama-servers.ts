import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyProcessRole } from '../../shared/proc/classify-process-role.js';
import { parseCmdline, readProcessIdentity } from '../../shared/proc/read-process-identity.js';

/**
 * PIDs of every `ollama serve` outside any container, for a target installed on the host: its runners are owned by
 * it only when it is the one such server. cmdline is read first so only candidates cost a full identity read.
 */
export async function findHostOllamaServers(procRoot: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir(procRoot)) {
    if (!/^[1-9]\d*$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = parseCmdline(await readFile(join(procRoot, entry, 'cmdline')));
    } catch {
      continue; // exited while we listed
    }
    if (classifyProcessRole(argv, null) !== 'ollama_server') continue;
    const identity = await readProcessIdentity(procRoot, Number(entry)).catch(() => null);
    if (identity && identity.containerId === null && classifyProcessRole(identity.argv, identity.exe) === 'ollama_server') {
      pids.push(identity.pid);
    }
  }
  return pids.sort((a, b) => a - b);
}
