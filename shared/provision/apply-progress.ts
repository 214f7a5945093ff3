import type { LayerProgress, ProgressSample, ProgressState } from './progress-state.js';

/** The fields of one NDJSON progress line that matter here. */
export interface ProgressEvent {
  readonly status?: unknown;
  readonly digest?: unknown;
  readonly total?: unknown;
  readonly completed?: unknown;
}

/** Speed is measured over this much recent time. */
export const SPEED_WINDOW_MS = 10_000;
/** Samples closer together than this replace each other (Ollama reports many times a second). */
const SAMPLE_SPACING_MS = 250;

/** Folds one progress line into the state (pure: returns a new state). */
export function applyProgress(state: ProgressState, event: ProgressEvent, nowMs: number): ProgressState {
  const status = typeof event.status === 'string' && event.status !== '' ? event.status : state.status;
  let layers = state.layers;
  const total = finite(event.total);
  if (typeof event.digest === 'string' && event.digest !== '' && total !== undefined && total > 0) {
    // `completed` is absent on a layer's first line; a resumed pull reports what is already on disk.
    const completed = Math.min(total, Math.max(0, finite(event.completed) ?? 0));
    const layer: LayerProgress = { digest: event.digest, total, completed };
    const index = layers.findIndex((l) => l.digest === event.digest);
    layers = index === -1 ? [...layers, layer] : layers.map((l, i) => (i === index ? layer : l));
  }
  const bytes = layers.reduce((sum, l) => sum + l.completed, 0);
  const last = state.samples[state.samples.length - 1];
  let samples: ProgressSample[];
  if (last !== undefined && nowMs - last.atMs < SAMPLE_SPACING_MS && state.samples.length > 1) {
    samples = [...state.samples.slice(0, -1), { atMs: nowMs, bytes }];
  } else samples = [...state.samples, { atMs: nowMs, bytes }];
  // Keep one sample at or before the window's start as the baseline.
  while (samples.length > 2 && samples[1]!.atMs <= nowMs - SPEED_WINDOW_MS) samples.shift();
  return { ...state, status, layers, samples };
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
