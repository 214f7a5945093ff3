import type { ModelConfig, OllamaTargetConfig } from '../shared/config/types.js';
import type { GpuObservation, ProbeObservation, TargetObservation } from '../shared/diagnosis/target-observation.js';
import type { GpuSnapshot } from './collectors/gpu-collector.js';
import type { OllamaSnapshot } from './collectors/ollama-collector.js';
import { runnerFor, type RunnersSnapshot } from './collectors/runners-collector.js';
import { DEFAULT_LOAD_STALL_TIMEOUT_MS } from '../shared/config/validate-targets.js';

/** What the diagnosis needs from the process-attribution snapshot, per target. */
export interface TargetGpuUsage {
  readonly target: string;
  readonly memoryBytes: number;
  readonly orphanRunners: readonly { readonly pid: number; readonly memoryBytes: number }[];
}

export interface ObservationSources {
  readonly targets: readonly OllamaTargetConfig[];
  readonly models: readonly ModelConfig[];
  /** Undefined = that source is failing or turned off: its facts are unknown, not zero. */
  readonly gpu: GpuSnapshot | undefined;
  readonly gpuError: string | null;
  readonly ollama: OllamaSnapshot | undefined;
  readonly probes:
    | readonly (ProbeObservation & {
        readonly target: string;
        /** The probe's last few measured cold loads (load_duration above the cold threshold), seconds. */
        readonly coldLoadSeconds?: readonly number[];
      })[]
    | undefined;
  readonly gpuUsage: readonly TargetGpuUsage[] | undefined;
  /** Runner processes; a target absent from it (or no snapshot) has runners and discovery PIDs unknown (null). */
  readonly runners?: RunnersSnapshot | undefined;
}

/** Joins the latest snapshots into one observation per target; pure, so the state endpoint and tests share it. */
export function buildObservations(src: ObservationSources): TargetObservation[] {
  const gpus: GpuObservation[] | null = src.gpu
    ? [
        ...src.gpu.gpus.map((g) => ({
          uuid: g.uuid,
          lost: false,
          eccUncorrectedVolatile: g.eccUncorrectedVolatile ?? null,
          memoryUsedBytes: g.memoryUsedBytes ?? null,
        })),
        ...[...src.gpu.lost]
          .filter(([, lost]) => lost)
          .map(([uuid]) => ({ uuid, lost: true, eccUncorrectedVolatile: null, memoryUsedBytes: null })),
      ]
    : null;
  return src.targets.map((t) => {
    const o = src.ollama?.targets.find((x) => x.target === t.name);
    const usage = src.gpuUsage?.find((u) => u.target === t.name);
    const procs = src.runners?.targets.find((r) => r.target === t.name);
    const configured = src.models
      .filter((m) => m.targets.length === 0 || m.targets.includes(t.name))
      .map((m) => ({
        model: m.name,
        present: o?.configured.find((c) => c.model === m.name)?.present ?? null,
        minVramRatio: m.min_vram_ratio,
        keepWarm: m.keep_warm,
        cpuByDesign: m.min_vram_ratio === 0 || m.options.num_gpu === 0,
        loadSeconds: longestColdLoad(src.probes, t.name, m.name),
      }));
    return {
      target: t.name,
      // When /api/ps, /api/version and HEAD were sampled (the probe is event-driven and not counted): diagnoses of
      // the same sample share their previous one, so a cross-source finding needs a newer sample to be confirmed.
      observedAtMs: src.ollama?.atMs ?? null,
      version: o?.version ?? null,
      apiUp: o ? o.up : null,
      psOk: o ? o.stages.ps.ok : null,
      psFailure: o && !o.stages.ps.ok ? (o.stages.ps.reason ?? 'error') : null,
      loaded: (o?.loaded ?? []).map((m) => ({
        model: m.model,
        sizeBytes: m.sizeBytes,
        vramBytes: m.vramBytes,
        stopping: m.stopping,
        expiresInSeconds: m.expiresInSeconds,
        expiryUnset: m.expiryUnset,
        runnerPid: runnerFor(src.runners, t.name, m.blob)?.pid ?? null,
      })),
      configured,
      probes: (src.probes ?? [])
        .filter((p) => p.target === t.name)
        .map(({ target: _t, coldLoadSeconds: _c, ...p }) => p),
      gpuMemoryBytes: usage ? usage.memoryBytes : null,
      orphanRunners: usage ? usage.orphanRunners : null,
      runners: procs ? procs.runners : null,
      discoveryPids: procs ? procs.discoveryPids : null,
      loadStallLimitSeconds: (t.load_stall_timeout_ms ?? DEFAULT_LOAD_STALL_TIMEOUT_MS) / 1000,
      gpus,
      gpuCollectorError: src.gpuError,
      containerGpuAccess: null, // only the remediator can exec into the container
    };
  });
}

/** The longest of the model's recently measured cold loads on the target (null: none measured). */
function longestColdLoad(probes: ObservationSources['probes'], target: string, model: string): number | null {
  const p = probes?.find((x) => x.target === target && x.model === model);
  return p?.coldLoadSeconds && p.coldLoadSeconds.length > 0 ? Math.max(...p.coldLoadSeconds) : null;
}
