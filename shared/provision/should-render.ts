import type { ProgressState } from './progress-state.js';

/** What was last shown, to decide whether the next update is worth a write. */
export interface LastRender {
  readonly atMs: number;
  readonly status: string;
}

/**
 * Throttle: redraw when the status changes (a new layer, "verifying sha256 digest") or when `minIntervalMs` passed.
 * A terminal uses a short interval (a live bar); logs use init.progress_interval so docker logs stay readable.
 */
export function shouldRender(last: LastRender | undefined, state: ProgressState, nowMs: number, minIntervalMs: number): boolean {
  if (last === undefined) return true;
  if (state.status !== last.status) return true;
  return nowMs - last.atMs >= minIntervalMs;
}
