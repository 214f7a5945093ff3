import type { RunningModel } from '../ollama/parse-ps.js';

export interface OffloadVerdict {
  readonly ok: boolean;
  /** gpu: enough in VRAM; partial: some layers on the CPU; cpu: nothing on the GPU; missing/unknown: cannot tell. */
  readonly kind: 'gpu' | 'partial' | 'cpu' | 'missing' | 'unknown';
  /** size_vram / size, capped at 1. */
  readonly ratio?: number;
  readonly problem?: string;
}

/**
 * Judges where a loaded model sits from /api/ps, the way `ollama ps` derives PROCESSOR: size_vram 0 is "100% CPU"
 * (the silent CPU fallback when the container lost its GPU), 0 < size_vram < size a partial offload.
 */
export function assessOffload(entry: RunningModel | undefined, minRatio: number): OffloadVerdict {
  if (entry === undefined) {
    return {
      ok: false,
      kind: 'missing',
      problem: 'not listed in /api/ps right after loading (unloaded at once? check its keep_alive)',
    };
  }
  if (!(entry.size > 0))
    return { ok: false, kind: 'unknown', problem: '/api/ps reports size 0, so its place (GPU or CPU) is unknown' };
  const ratio = Math.min(1, Math.max(0, entry.size_vram / entry.size));
  const needs = `needs at least ${percent(minRatio)}`;
  if (entry.size_vram <= 0) {
    return {
      ok: false,
      kind: 'cpu',
      ratio: 0,
      problem: `runs 100% on the CPU (no GPU memory used; GPU not visible to Ollama?), ${needs} on the GPU`,
    };
  }
  if (ratio < minRatio) {
    return {
      ok: false,
      kind: 'partial',
      ratio,
      problem: `only ${percent(ratio)} in VRAM (partial offload, the rest on the CPU), ${needs}`,
    };
  }
  return { ok: true, kind: ratio >= 1 ? 'gpu' : 'partial', ratio };
}

function percent(ratio: number): string {
  return `${Math.floor(ratio * 1000) / 10}%`;
}
