import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { GpuAttribution } from '../../shared/attribution/gpu-attribution.js';
import type { OllamaTargetConfig } from '../../shared/config/types.js';
import type { DockerApi } from '../../shared/docker/docker-api.js';
import type { DockerContainer } from '../../shared/docker/docker-container.js';
import { resolveTargetContainers } from '../../shared/docker/resolve-target-containers.js';
import type { RunnerObservation } from '../../shared/diagnosis/target-observation.js';
import { classifyProcessRole } from '../../shared/proc/classify-process-role.js';
import { judgeRunnerProgress, type RunnerTrack } from '../../shared/proc/judge-runner-progress.js';
import { parseRunnerArgv } from '../../shared/proc/parse-runner-argv.js';
import { readBootTimeMs, readProcessCounters, startedAtMs } from '../../shared/proc/read-process-counters.js';
import { parseCmdline, readProcessIdentity, type ProcessIdentity } from '../../shared/proc/read-process-identity.js';
import { CollectError, type CollectContext, type Collector, type MetricSink } from '../collector.js';

/** The runner and discovery processes of each target whose processes this exporter can see. */
export interface RunnersSnapshot {
  readonly atMs: number;
  /** Targets with a container selector whose containers were resolved and are visible in proc_root. */
  readonly targets: readonly TargetRunners[];
}

export interface TargetRunners {
  readonly target: string;
  readonly runners: readonly RunnerObservation[];
  /** Ollama's GPU discovery processes running now: never runners, never to be signalled. */
  readonly discoveryPids: readonly number[];
}

/** The target's runner serving this model blob (`sha256-<hex>`); null when none or when the target is not seen. */
export function runnerFor(
  snapshot: RunnersSnapshot | undefined,
  target: string,
  blob: string | null,
): RunnerObservation | null {
  if (!snapshot || blob === null) return null;
  const runners = snapshot.targets.find((t) => t.target === target)?.runners ?? [];
  return runners.find((r) => r.modelBlob === blob) ?? null;
}

/** What the GPU shows of one host PID: its VRAM (summed over GPUs) and, where NVML reports it, its SM share. */
export interface PidOnGpu {
  readonly vramBytes: number;
  /** The highest SM utilization NVML sampled for it on any GPU lately (0-1); null: not reported (nvidia-smi). */
  readonly smRatio: number | null;
}

/** Each host PID's VRAM and SM share from a gpu_processes snapshot; undefined without one. */
export function gpuByPid(gpu: GpuAttribution | undefined): ReadonlyMap<number, PidOnGpu> | undefined {
  if (!gpu) return undefined;
  const out = new Map<number, PidOnGpu>();
  for (const p of gpu.processes) {
    const was = out.get(p.pid);
    const sm = p.smUtilizationRatio ?? null;
    out.set(p.pid, {
      vramBytes: (was?.vramBytes ?? 0) + (p.usedMemoryBytes ?? 0),
      smRatio: was?.smRatio == null ? sm : sm === null ? was.smRatio : Math.max(was.smRatio, sm),
    });
  }
  return out;
}

export interface RunnersCollectorOptions {
  /** The ollama collector's interval: runner evidence is judged against /api/ps at the same pace. */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** gpu.proc_root: the host's /proc as this process sees it. */
  readonly procRoot: string;
}

export interface RunnersDeps {
  readonly docker: DockerApi;
  readonly targets: readonly OllamaTargetConfig[];
  readonly log: Logger;
  /** VRAM and SM share per host PID from the latest gpu_processes snapshot; undefined when that source is off or failing. */
  readonly gpuByPid?: () => ReadonlyMap<number, PidOnGpu> | undefined;
}

/** argv[0] names that can be an Ollama server, runner or discovery process: the cheap first filter of the scan. */
const CANDIDATE = /(?:^|\/)(?:ollama|ollama_llama_server|llama-server)$/;
const SCAN_BATCH = 64;

/**
 * The `runners` collector: finds each target's Ollama processes in proc_root by the container cgroup of the target's
 * containers, keeps the model runners and the GPU discovery processes (shared/proc/classify-process-role.ts), and
 * judges each runner's progress (CPU time, RSS, reads, VRAM) against its earlier samples. A target whose main
 * container process is not visible here with its cgroup (no host PID view, private cgroup namespace) is left out:
 * "no runner seen" must never mean "no runner".
 */
export function createRunnersCollector(opts: RunnersCollectorOptions, deps: RunnersDeps): Collector<RunnersSnapshot> {
  const withSelector = deps.targets.filter((t) => t.container !== undefined);
  const tracks = new Map<number, RunnerTrack>();
  let bootTimeMs: number | null = null;

  /** Visible from here: the container's main PID shows in proc_root inside the container's own cgroup. */
  async function visible(c: DockerContainer): Promise<boolean> {
    if (c.pid <= 0) return false;
    return (await readProcessIdentity(opts.procRoot, c.pid).catch(() => null))?.containerId === c.id;
  }

  async function candidates(): Promise<ProcessIdentity[]> {
    const names = (await readdir(opts.procRoot)).filter((n) => /^\d+$/.test(n));
    const found: ProcessIdentity[] = [];
    // In batches: thousands of concurrent reads would hold as many descriptors open (EMFILE drops processes).
    for (let i = 0; i < names.length; i += SCAN_BATCH) {
      const batch = await Promise.all(
        names.slice(i, i + SCAN_BATCH).map(async (name) => {
          const argv = await readFile(join(opts.procRoot, name, 'cmdline')).then(parseCmdline, () => []);
          if (!CANDIDATE.test(argv[0] ?? '')) return null;
          return readProcessIdentity(opts.procRoot, Number(name)).catch(() => null);
        }),
      );
      for (const id of batch) if (id) found.push(id);
    }
    return found;
  }

  async function observe(
    id: ProcessIdentity,
    atMs: number,
    gpu: ReadonlyMap<number, PidOnGpu> | undefined,
    smReported: boolean,
  ) {
    const counters = await readProcessCounters(opts.procRoot, id.pid, id.startTime).catch(() => null);
    if (!counters) return null; // exited meanwhile
    const onGpu = gpu?.get(id.pid);
    const vramBytes = gpu ? (onGpu?.vramBytes ?? 0) : null;
    const verdict = judgeRunnerProgress(tracks.get(id.pid), id.startTime, {
      atMs,
      cpuSeconds: counters.cpuSeconds,
      rssBytes: counters.rssBytes,
      rchar: counters.io?.rchar ?? null,
      readBytes: counters.io?.readBytes ?? null,
      vramBytes,
      gpuSmRatio: smReported ? (onGpu?.smRatio ?? 0) : null,
    });
    tracks.set(id.pid, verdict.track);
    const runner: RunnerObservation = {
      pid: id.pid,
      ...parseRunnerArgv(id.argv),
      vramBytes,
      progress: verdict.progress,
      flatForMs: verdict.flatForMs,
      memoryGrowing: verdict.memoryGrowing,
      startedAtMs: bootTimeMs ? startedAtMs(bootTimeMs, id.startTime) : null,
    };
    return runner;
  }

  async function collect(ctx: CollectContext): Promise<RunnersSnapshot> {
    const atMs = ctx.now();
    // Each time: the wall clock may have been stepped since (NTP), and a wrong boot time misdates every runner.
    bootTimeMs = await readBootTimeMs(opts.procRoot, () => ctx.now());
    const resolved = await Promise.all(
      withSelector.map(async (t) => {
        try {
          const containers = await resolveTargetContainers(deps.docker, t.container!, ctx.signal);
          const seen = await Promise.all(containers.map(visible));
          if (seen.includes(false)) return null;
          return { target: t.name, ids: new Set(containers.map((c) => c.id)) };
        } catch (err) {
          ctx.signal.throwIfAborted();
          deps.log.warn({ target: t.name, err: String(err) }, 'cannot resolve the containers of an Ollama target');
          return undefined;
        }
      }),
    );
    if (withSelector.length > 0 && resolved.every((r) => r === undefined)) {
      throw new CollectError('docker', 'the containers of no Ollama target could be listed');
    }
    const scopes = resolved.filter((r): r is { target: string; ids: Set<string> } => !!r);
    const processes = scopes.length > 0 ? await candidates() : [];
    const gpu = deps.gpuByPid?.();
    // NVML reports only processes that ran lately: one not in a snapshot that has shares was idle on the GPU.
    const smReported = gpu !== undefined && [...gpu.values()].some((x) => x.smRatio !== null);
    const live = new Set<number>();
    const targets = await Promise.all(
      scopes.map(async ({ target, ids }) => {
        const mine = processes.filter((p) => p.containerId !== null && ids.has(p.containerId));
        const discoveryPids = mine
          .filter((p) => classifyProcessRole(p.argv, p.exe) === 'ollama_discovery')
          .map((p) => p.pid)
          .sort((a, b) => a - b);
        const runners = (
          await Promise.all(
            mine
              .filter((p) => classifyProcessRole(p.argv, p.exe) === 'ollama_runner')
              .map((p) => (live.add(p.pid), observe(p, atMs, gpu, smReported))),
          )
        )
          .filter((r): r is RunnerObservation => r !== null)
          .sort((a, b) => a.pid - b.pid);
        return { target, runners, discoveryPids };
      }),
    );
    // Exited runners' tracks go; a PID that comes back is another process (start time) and starts over anyway.
    for (const pid of tracks.keys()) if (!live.has(pid)) tracks.delete(pid);
    return { atMs, targets };
  }

  return {
    name: 'runners',
    intervalMs: opts.intervalMs,
    timeoutMs: opts.timeoutMs,
    collect,
    render: renderRunners,
  };
}

const PROGRESS = ['progressing', 'flat', 'unknown'] as const;

function renderRunners(s: RunnersSnapshot, sink: MetricSink): void {
  for (const t of s.targets) {
    const target = t.target;
    for (const progress of PROGRESS) {
      sink.gauge(
        'sentinel_ollama_runners',
        "Model runner processes in the Ollama target's containers, by what their CPU, RSS, reads and VRAM did since the last progress (unknown: first sample).",
        { target, progress },
        t.runners.filter((r) => r.progress === progress).length,
      );
    }
    sink.gauge(
      'sentinel_ollama_runner_flat_seconds',
      'Longest time any runner of the Ollama target has made no progress (0 when none is flat); idle runners are flat too.',
      { target },
      Math.max(0, ...t.runners.map((r) => (r.progress === 'flat' ? r.flatForMs : 0))) / 1000,
    );
    sink.gauge(
      'sentinel_ollama_discovery_processes',
      "Ollama GPU discovery processes running in the target's containers (never runners, never signalled).",
      { target },
      t.discoveryPids.length,
    );
  }
}
