import type { ProgressState } from './progress-state.js';

export interface ProgressTotals {
  /** Sum of the known layers' sizes; 0 before the first layer is announced. */
  readonly totalBytes: number;
  readonly completedBytes: number;
  /** 0..1, or undefined while nothing is known. */
  readonly fraction?: number;
  /** Recent download rate; undefined until enough time has passed to measure one. */
  readonly bytesPerSecond?: number;
  readonly etaMs?: number;
  readonly elapsedMs: number;
}

/** Minimum span of samples before a speed is shown (a single burst would show nonsense). */
const MIN_SPAN_MS = 500;

/**
 * Totals, speed and ETA at `nowMs`. The speed runs from the oldest sample in the window up to now (not to the last
 * sample), so a stalled download shows its rate falling towards zero instead of freezing at the last value.
 */
export function progressTotals(state: ProgressState, nowMs: number): ProgressTotals {
  const totalBytes = state.layers.reduce((sum, l) => sum + l.total, 0);
  const completedBytes = state.layers.reduce((sum, l) => sum + l.completed, 0);
  const elapsedMs = Math.max(0, nowMs - state.startedAtMs);
  const first = state.samples[0];
  const last = state.samples[state.samples.length - 1];
  let bytesPerSecond: number | undefined;
  if (first !== undefined && last !== undefined && nowMs - first.atMs >= MIN_SPAN_MS) {
    bytesPerSecond = Math.max(0, ((last.bytes - first.bytes) * 1000) / (nowMs - first.atMs));
  }
  const remaining = Math.max(0, totalBytes - completedBytes);
  const etaMs = bytesPerSecond !== undefined && bytesPerSecond > 0 && totalBytes > 0 ? (remaining * 1000) / bytesPerSecond : undefined;
  return {
    totalBytes,
    completedBytes,
    ...(totalBytes > 0 ? { fraction: Math.min(1, completedBytes / totalBytes) } : {}),
    ...(bytesPerSecond !== undefined ? { bytesPerSecond } : {}),
    ...(etaMs !== undefined ? { etaMs } : {}),
    elapsedMs,
  };
}
