import type { HeldGpuMemory } from './attribute-gpu-memory.js';

export interface ProbeEvidence {
  readonly ok: boolean;
  readonly error?: string;
  readonly totalMs?: number;
  /** Nanoseconds, from the final chunk: large = the probe had to load the model. */
  readonly loadDurationNs?: number;
}

export type PsEvidence =
  | { readonly listed: false; readonly error?: string }
  | { readonly listed: true; readonly size: number; readonly sizeVram: number };

export type GpuEvidence =
  ({ readonly available: true } & HeldGpuMemory) | { readonly available: false; readonly reason: string };

export interface RecoveryJudgement {
  readonly healthy: boolean;
  readonly detail: string;
  /** Which evidence decided on VRAM: nvidia-smi processes of the target, or only Ollama's own /api/ps numbers. */
  readonly vramSource: 'gpu_processes' | 'api_ps' | 'none';
}

const GIB = 1024 ** 3;

function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(2)} GiB`;
}

/**
 * Pure: is the target healthy again after a step? The inference probe must answer; /api/ps must place at least
 * min_vram_ratio of the model in VRAM; and when GPU process data exists, the memory the target's processes really
 * hold must reach min_vram_ratio x the model's size too (/api/ps numbers are fixed at load time and keep saying
 * "100% GPU" after the GPU is gone: ollama#12323).
 */
export function judgeRecovery(
  model: string,
  minVramRatio: number,
  probe: ProbeEvidence,
  ps: PsEvidence,
  gpu: GpuEvidence,
): RecoveryJudgement {
  if (!probe.ok)
    return {
      healthy: false,
      detail: `inference probe on ${model} failed: ${probe.error ?? 'unknown error'}`,
      vramSource: 'none',
    };
  if (!ps.listed) {
    return {
      healthy: false,
      detail: `probe answered but /api/ps does not list ${model}${ps.error ? ` (${ps.error})` : ''}`,
      vramSource: 'none',
    };
  }
  const required = minVramRatio * ps.size;
  const probeText = `probe answered in ${probe.totalMs ?? '?'} ms`;
  if (ps.sizeVram < required) {
    return {
      healthy: false,
      detail: `${probeText}, but /api/ps places only ${gib(ps.sizeVram)} of ${gib(ps.size)} in VRAM (< ${minVramRatio} x size): running on the CPU`,
      vramSource: 'api_ps',
    };
  }
  if (!gpu.available) {
    return {
      healthy: true,
      detail: `${probeText}; /api/ps size_vram ${gib(ps.sizeVram)} >= ${minVramRatio} x ${gib(ps.size)} (no GPU process data: ${gpu.reason}; /api/ps alone cannot see a lost GPU)`,
      vramSource: 'api_ps',
    };
  }
  if (gpu.processes.length > 0 && gpu.unknownMemory === gpu.processes.length) {
    return {
      healthy: true,
      detail: `${probeText}; /api/ps size_vram ${gib(ps.sizeVram)} >= ${minVramRatio} x ${gib(ps.size)} (nvidia-smi gives no per-process memory here)`,
      vramSource: 'api_ps',
    };
  }
  const pids = gpu.processes.map((p) => p.pid).join(', ') || 'none';
  if (gpu.heldBytes < required) {
    return {
      healthy: false,
      detail: `${probeText}, but the target's GPU processes (${pids}) hold ${gib(gpu.heldBytes)} < ${minVramRatio} x ${gib(ps.size)} although /api/ps says ${gib(ps.sizeVram)} in VRAM: GPU not really used`,
      vramSource: 'gpu_processes',
    };
  }
  return {
    healthy: true,
    detail: `${probeText}; the target's GPU processes (${pids}) hold ${gib(gpu.heldBytes)} >= ${minVramRatio} x ${gib(ps.size)}`,
    vramSource: 'gpu_processes',
  };
}

/** Verification never waits less than this for a model to answer after a step. */
export const MIN_VERIFY_LOAD_MS = 30_000;

/**
 * How long verification waits for the model to load and answer after a step: 1.5 x its measured cold load time
 * (the observation's configured[].loadSeconds), at least 30 s; the configured default when it was never measured.
 * A 40 s model is judged within a minute instead of after the full default of minutes.
 */
export function verifyLoadDeadlineMs(loadSeconds: number | null | undefined, defaultMs: number): number {
  if (loadSeconds === null || loadSeconds === undefined || !(loadSeconds > 0)) return defaultMs;
  return Math.max(MIN_VERIFY_LOAD_MS, Math.ceil(1.5 * loadSeconds * 1000));
}
