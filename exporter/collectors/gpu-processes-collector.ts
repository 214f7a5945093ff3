import type { Logger } from 'pino';
import type { GpuConfig, OllamaTargetConfig } from '../../shared/config/types.js';
import type { DockerApi } from '../../shared/docker/docker-api.js';
import { createInspectContainerById, type InspectContainerById } from '../../shared/docker/inspect-container-by-id.js';
import { attributeGpuProcesses, type GpuComputeApp } from '../../shared/attribution/attribute-gpu-processes.js';
import type { GpuAttribution, GpuProcess } from '../../shared/attribution/gpu-attribution.js';
import { NvidiaSmiError } from '../../shared/gpu/run-nvidia-smi.js';
import { PROCESS_ROLES } from '../../shared/proc/classify-process-role.js';
import type { readProcessIdentity } from '../../shared/proc/read-process-identity.js';
import { CollectError, type CollectContext, type Collector, type MetricSink } from '../collector.js';

/** What the diagnosis reads: per target, the VRAM its processes hold, its runners and its orphan runners. */
export type GpuProcessesSnapshot = GpuAttribution;
export type { GpuProcess, OrphanRunner, TargetGpuProcesses } from '../../shared/attribution/gpu-attribution.js';

export interface GpuProcessesDeps {
  /** The driver's compute-process list (host PIDs), e.g. nvidia-smi --query-compute-apps. */
  readonly queryComputeApps: (signal: AbortSignal) => Promise<readonly GpuComputeApp[]>;
  /** Every GPU's uuid, so an idle GPU gets an explicit 0; without it only GPUs with processes are known. */
  readonly listGpuUuids?: (signal: AbortSignal) => Promise<readonly string[]>;
  readonly docker: DockerApi;
  readonly targets: readonly OllamaTargetConfig[];
  readonly log: Logger;
  /** Defaults to a cached inspect over `docker`. */
  readonly inspectContainerById?: InspectContainerById;
  readonly readProcessIdentity?: typeof readProcessIdentity;
  /** Added to the nvidia-smi timeout for the run's deadline: Docker calls follow the query. Default 5 s. */
  readonly dockerTimeoutMs?: number;
}

// Removed containers remembered per target: enough for many recreations, small enough to never matter.
const PAST_CONTAINERS = 64;

/**
 * The `gpu_processes` collector: who holds the GPU. Each compute process is traced PID -> /proc cgroup -> container
 * (confirmed by Docker) -> Ollama target, and classified by role. Publishes VRAM per container and per target,
 * process counts by role, orphan runners, and (opt-in, capped per GPU) one series per process.
 */
export function createGpuProcessesCollector(cfg: GpuConfig, deps: GpuProcessesDeps): Collector<GpuProcessesSnapshot> {
  const inspect = deps.inspectContainerById ?? createInspectContainerById(deps.docker);
  const pastTargetContainers = new Map<string, string>();

  function remember(snapshot: GpuAttribution): void {
    for (const t of snapshot.targets) {
      for (const c of t.containers) {
        pastTargetContainers.delete(c.id);
        pastTargetContainers.set(c.id, t.target);
      }
    }
    for (const id of pastTargetContainers.keys()) {
      if (pastTargetContainers.size <= PAST_CONTAINERS) break;
      pastTargetContainers.delete(id);
    }
  }

  async function collect(ctx: CollectContext): Promise<GpuProcessesSnapshot> {
    let apps: readonly GpuComputeApp[];
    let gpuUuids: readonly string[] | undefined;
    try {
      [apps, gpuUuids] = await Promise.all([
        deps.queryComputeApps(ctx.signal),
        deps.listGpuUuids?.(ctx.signal).catch((err: unknown) => {
          // Only the explicit zeros of idle GPUs depend on it: not worth failing the run.
          ctx.signal.throwIfAborted();
          deps.log.warn({ err: String(err) }, 'cannot list GPUs; idle GPUs get no process count this time');
          return undefined;
        }),
      ]);
    } catch (err) {
      if (err instanceof NvidiaSmiError) throw new CollectError(err.reason, err.message, { cause: err });
      throw err;
    }
    const snapshot = await attributeGpuProcesses(
      { apps, gpuUuids, targets: deps.targets, procRoot: cfg.proc_root, signal: ctx.signal, pastTargetContainers },
      {
        docker: deps.docker,
        inspectContainerById: inspect,
        readProcessIdentity: deps.readProcessIdentity,
        log: deps.log,
      },
    );
    remember(snapshot);
    return snapshot;
  }

  return {
    name: 'gpu_processes',
    intervalMs: cfg.interval_ms,
    timeoutMs: cfg.timeout_ms + (deps.dockerTimeoutMs ?? 5000),
    collect,
    render: (snapshot, sink) => renderGpuProcesses(snapshot, sink, cfg),
  };
}

function renderGpuProcesses(
  s: GpuProcessesSnapshot,
  sink: MetricSink,
  cfg: Pick<GpuConfig, 'processes' | 'max_processes_per_gpu'>,
): void {
  for (const uuid of s.gpuUuids) {
    sink.gauge(
      'sentinel_gpu_processes',
      'Compute processes on the GPU (0 when idle).',
      { uuid },
      s.processes.filter((p) => p.gpuUuid === uuid).length,
    );
  }

  // Per container: the stable aggregate (dcgm-exporter sums per pod); PIDs only in the opt-in series below.
  const perContainer = new Map<
    string,
    { labels: { uuid: string; container: string; attribution: string }; bytes: number }
  >();
  for (const p of s.processes) {
    if (p.usedMemoryBytes === null) continue;
    const labels = { uuid: p.gpuUuid, container: p.containerName, attribution: p.attribution };
    const key = JSON.stringify(labels);
    const entry = perContainer.get(key) ?? { labels, bytes: 0 };
    entry.bytes += p.usedMemoryBytes;
    perContainer.set(key, entry);
  }
  for (const { labels, bytes } of perContainer.values()) {
    sink.gauge(
      'sentinel_gpu_container_memory_used_bytes',
      'GPU memory used by the compute processes of one container (container="" for host processes, ids Docker does not know, and processes gone before they could be traced; see attribution).',
      labels,
      bytes,
    );
  }

  for (const t of s.targets) {
    const target = t.target;
    sink.gauge(
      'sentinel_ollama_gpu_memory_used_bytes',
      "GPU memory used by the processes in the Ollama target's containers, per the driver.",
      { target },
      t.memoryBytes,
    );
    for (const role of PROCESS_ROLES) {
      const pids = new Set(t.processes.filter((p) => p.role === role).map((p) => p.pid));
      sink.gauge(
        'sentinel_ollama_gpu_processes',
        "GPU compute processes in the Ollama target's containers, by role.",
        { target, role },
        pids.size,
      );
    }
    sink.gauge(
      'sentinel_ollama_gpu_orphan_runners',
      'Ollama runner processes holding GPU memory that no server of the target owns (parent gone or container removed).',
      { target },
      t.orphanRunners.length,
    );
    sink.gauge(
      'sentinel_ollama_gpu_orphan_runner_memory_bytes',
      'GPU memory held by orphan Ollama runners of the target.',
      { target },
      t.orphanRunners.reduce((a, o) => a + o.memoryBytes, 0),
    );
  }

  if (!cfg.processes) return;
  for (const uuid of s.gpuUuids) {
    // Rows are sorted by memory, largest first: the cap keeps the processes that matter.
    const rows = s.processes.filter((p) => p.gpuUuid === uuid);
    const kept = rows.slice(0, cfg.max_processes_per_gpu);
    sink.gauge(
      'sentinel_gpu_processes_dropped',
      'Compute processes of the GPU left out of sentinel_gpu_process_memory_used_bytes by max_processes_per_gpu.',
      { uuid },
      rows.length - kept.length,
    );
    for (const p of kept) renderProcess(p, sink);
  }
}

function renderProcess(p: GpuProcess, sink: MetricSink): void {
  const labels = {
    uuid: p.gpuUuid,
    pid: String(p.pid),
    container: p.containerName,
    role: p.role,
    process_name: p.processName,
    attribution: p.attribution,
  };
  if (p.smUtilizationRatio !== undefined) {
    sink.gauge(
      'sentinel_gpu_process_sm_utilization_ratio',
      'SM activity of one compute process over the last NVML sample period, 0-1 (0 = idle; NVML backend only, absent under MIG or vGPU; opt-in: the pid label churns).',
      labels,
      p.smUtilizationRatio,
    );
  }
  if (p.usedMemoryBytes === null) return;
  sink.gauge(
    'sentinel_gpu_process_memory_used_bytes',
    'GPU memory used by one compute process (opt-in: the pid label churns).',
    labels,
    p.usedMemoryBytes,
  );
}
