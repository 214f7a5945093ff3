import type { Logger } from 'pino';
import type { OllamaTargetConfig } from '../../shared/config/types.js';
import { isDockerNotFound, type DockerApi } from '../../shared/docker/docker-api.js';
import type { DockerContainer } from '../../shared/docker/docker-container.js';
import { readDockerStats } from '../../shared/docker/read-docker-stats.js';
import { resolveTargetContainers } from '../../shared/docker/resolve-target-containers.js';
import { defaultCgroupRoot, readCgroupUsage, type ContainerUsage } from '../../shared/proc/read-cgroup-usage.js';
import { CollectError, type CollectContext, type Collector, type MetricSink } from '../collector.js';

export interface ContainersSnapshot {
  /** Targets with a container selector, in configuration order. */
  readonly targets: readonly {
    readonly target: string;
    readonly containers: readonly { readonly container: DockerContainer; readonly usage: ContainerUsage | null }[];
  }[];
}

export interface ContainersCollectorOptions {
  /** exporter.containers_interval_ms */
  readonly intervalMs: number;
  /** Deadline of one run (Docker calls); docker.timeout_ms is the natural value. */
  readonly timeoutMs: number;
  /** gpu.proc_root: where the containers' main PIDs are looked up. */
  readonly procRoot: string;
  /** Host cgroup mount as seen here; defaults to the sys/fs/cgroup beside procRoot. */
  readonly cgroupRoot?: string;
}

export interface ContainersDeps {
  readonly docker: DockerApi;
  readonly targets: readonly OllamaTargetConfig[];
  readonly log: Logger;
}

/**
 * The `containers` collector: CPU, memory and block IO of each Ollama target's running containers. Read straight
 * from the container's cgroup files when this process can see them (cheap, no daemon call), else from one
 * one-shot Docker stats call per container. A target whose containers cannot be listed fails the run: without
 * Docker there is nothing this collector can say.
 */
export function createContainersCollector(
  opts: ContainersCollectorOptions,
  deps: ContainersDeps,
): Collector<ContainersSnapshot> {
  const cgroupRoot = opts.cgroupRoot ?? defaultCgroupRoot(opts.procRoot);
  const withSelector = deps.targets.filter((t) => t.container !== undefined);

  async function usageOf(c: DockerContainer, signal: AbortSignal): Promise<ContainerUsage | null> {
    const direct = await readCgroupUsage({ procRoot: opts.procRoot, cgroupRoot, pid: c.pid, containerId: c.id });
    if (direct) return direct;
    try {
      return await readDockerStats(deps.docker, c.id, signal);
    } catch (err) {
      signal.throwIfAborted();
      // Stopped or removed since listing: its usage is simply unknown this time.
      if (!isDockerNotFound(err)) deps.log.warn({ container: c.name, err: String(err) }, 'docker stats failed');
      return null;
    }
  }

  async function collect(ctx: CollectContext): Promise<ContainersSnapshot> {
    const targets = await Promise.all(
      withSelector.map(async (t) => {
        let containers: DockerContainer[];
        try {
          containers = await resolveTargetContainers(deps.docker, t.container!, ctx.signal);
        } catch (err) {
          ctx.signal.throwIfAborted();
          throw new CollectError('docker', `listing the containers of target ${t.name}: ${String(err)}`, {
            cause: err,
          });
        }
        return {
          target: t.name,
          containers: await Promise.all(
            containers.map(async (container) => ({ container, usage: await usageOf(container, ctx.signal) })),
          ),
        };
      }),
    );
    return { targets };
  }

  return {
    name: 'containers',
    intervalMs: opts.intervalMs,
    timeoutMs: opts.timeoutMs,
    collect,
    render: renderContainers,
  };
}

function renderContainers(s: ContainersSnapshot, sink: MetricSink): void {
  for (const t of s.targets) {
    const target = t.target;
    sink.gauge(
      'sentinel_ollama_container_running',
      "Running containers of the Ollama target's container selector (0 = none running).",
      { target },
      t.containers.length,
    );
    for (const { container: c, usage } of t.containers) {
      const labels = { target, container: c.name };
      sink.gauge(
        'sentinel_ollama_container_info',
        'Identity of a running container of the Ollama target (always 1).',
        { ...labels, id: c.id, image: c.image },
        1,
      );
      if (c.startedAt !== null)
        sink.gauge(
          'sentinel_ollama_container_start_time_seconds',
          'Unix time the container last started; counters reset then.',
          labels,
          c.startedAt,
        );
      if (!usage) continue;
      sink.counter(
        'sentinel_ollama_container_cpu_seconds_total',
        'CPU time (user + system) used by all processes of the container.',
        labels,
        usage.cpuSeconds,
      );
      sink.gauge(
        'sentinel_ollama_container_memory_bytes',
        'Memory working set of the container: usage minus inactive file cache, as docker stats shows it.',
        labels,
        usage.memoryBytes,
      );
      sink.counter(
        'sentinel_ollama_container_io_read_bytes_total',
        'Bytes the container read from block devices.',
        labels,
        usage.ioReadBytes,
      );
      sink.counter(
        'sentinel_ollama_container_io_write_bytes_total',
        'Bytes the container wrote to block devices.',
        labels,
        usage.ioWriteBytes,
      );
    }
  }
}
