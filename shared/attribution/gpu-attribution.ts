import type { DockerContainer } from '../docker/docker-container.js';
import type { ProcessRole } from '../proc/classify-process-role.js';

/**
 * How sure we are about a GPU process's container:
 * - `container`: its cgroup names a container and Docker confirms it (the name is Docker's);
 * - `host`: provably on the host: its cgroup names no container runtime and it shares the host's PID namespace;
 * - `unconfirmed`: in a container Docker does not confirm (removed, another engine or runtime such as LXC, nspawn or
 *   Podman, or Docker failing);
 * - `exited`: the process was gone (or not visible from this PID namespace) before /proc could be read.
 */
export const ATTRIBUTIONS = ['container', 'host', 'unconfirmed', 'exited'] as const;
export type Attribution = (typeof ATTRIBUTIONS)[number];

/** One row of the GPU's compute-process list, with who the process is. A process on two GPUs gives two rows. */
export interface GpuProcess {
  readonly gpuUuid: string;
  /** Host PID. */
  readonly pid: number;
  /** As nvidia-smi names it (the executable path). */
  readonly processName: string;
  /** Null when the driver cannot tell (MIG without permission). */
  readonly usedMemoryBytes: number | null;
  /** NVML only: SM activity over the last sample period, 0-1; absent under nvidia-smi, MIG or vGPU. */
  readonly smUtilizationRatio?: number;
  readonly role: ProcessRole;
  readonly attribution: Attribution;
  /** From the cgroup, even when Docker does not confirm it. */
  readonly containerId: string | null;
  /** Docker's name when confirmed, else "". */
  readonly containerName: string;
  /** Name of the Ollama target whose container holds it (now or, for a removed container, when last seen). */
  readonly target: string | null;
  readonly ppid: number | null;
  /** /proc/<pid>/stat field 22 at attribution: re-check it before signalling the PID. */
  readonly startTime: number | null;
  /** A runner with no live server of its target as parent, or whose container is gone. */
  readonly orphan: boolean;
}

/** A runner no server owns: what the remediator may kill, after re-checking pid + startTime. */
export interface OrphanRunner {
  readonly pid: number;
  readonly startTime: number | null;
  /** Summed over the GPUs it holds. */
  readonly memoryBytes: number;
  readonly gpuUuids: readonly string[];
  readonly containerId: string | null;
  readonly why: 'container_gone' | 'parent_not_server';
}

/** Per Ollama target with a container selector that could be resolved. */
export interface TargetGpuProcesses {
  readonly target: string;
  /** Its running containers now. */
  readonly containers: readonly DockerContainer[];
  /** VRAM held by all its processes, summed over GPUs (rows without a memory reading add nothing). */
  readonly memoryBytes: number;
  readonly processes: readonly GpuProcess[];
  /** Rows of role ollama_runner. */
  readonly runners: readonly GpuProcess[];
  readonly orphanRunners: readonly OrphanRunner[];
}

export interface GpuAttribution {
  /** Every GPU to report, including idle ones when the caller listed them. */
  readonly gpuUuids: readonly string[];
  readonly processes: readonly GpuProcess[];
  /** One entry per target that has a container selector and whose containers were resolved this time. */
  readonly targets: readonly TargetGpuProcesses[];
  /** Targets whose containers could not be resolved (Docker failing): their usage is unknown, not zero. */
  readonly unresolvedTargets: readonly string[];
}
