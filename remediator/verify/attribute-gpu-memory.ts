import type { ComputeApp } from '../../shared/gpu/parse-compute-apps.js';
import { classifyProcessRole, type ProcessRole } from '../../shared/proc/classify-process-role.js';
import type { ProcessIdentity } from '../../shared/proc/read-process-identity.js';

/** Whose GPU processes count: the target's containers, or (target installed on the host) Ollama outside containers. */
export type GpuOwner = { readonly kind: 'containers'; readonly ids: ReadonlySet<string> } | { readonly kind: 'host' };

export interface HeldGpuMemory {
  /** Sum of nvidia-smi's used memory over the target's processes whose memory is known. */
  readonly heldBytes: number;
  readonly processes: {
    readonly pid: number;
    readonly role: ProcessRole;
    readonly bytes: number | null;
    readonly gpuUuid: string;
  }[];
  /** Target processes nvidia-smi could not give a memory figure for ([N/A]). */
  readonly unknownMemory: number;
}

/**
 * Pure: the GPU memory actually held by the target's processes. nvidia-smi gives host PIDs; /proc (cgroup) says which
 * container each belongs to. On the host, only Ollama's own processes count (anything else may be someone else's).
 */
export function attributeGpuMemory(
  apps: readonly ComputeApp[],
  identities: ReadonlyMap<number, ProcessIdentity | null>,
  owner: GpuOwner,
): HeldGpuMemory {
  let heldBytes = 0;
  let unknownMemory = 0;
  const processes: HeldGpuMemory['processes'][number][] = [];
  for (const app of apps) {
    const id = identities.get(app.pid);
    if (!id) continue;
    const role = classifyProcessRole(id.argv, id.exe);
    const mine =
      owner.kind === 'containers'
        ? id.containerId !== null && owner.ids.has(id.containerId)
        : id.onHost && role !== 'other';
    if (!mine) continue;
    processes.push({ pid: app.pid, role, bytes: app.usedMemoryBytes ?? null, gpuUuid: app.gpuUuid });
    if (app.usedMemoryBytes === undefined) unknownMemory++;
    else heldBytes += app.usedMemoryBytes;
  }
  return { heldBytes, processes, unknownMemory };
}
