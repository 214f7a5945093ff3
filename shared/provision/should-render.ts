import type { ProgressState } from './progress-state.js';

/** What was last shown, to decide whether the next update is worth a write. */
export interface LastRender {
  readonly atMs: number;
  readonly status: string;
}

/**
 * Throttle: redraw when the step changes ("pulling manifest" → downloading → "verifying sha256 digest") or when
 * `minIntervalMs` passed. Moving from one layer to the next is not a new step (a pull has several small layers, and
 * a line for each would bury the useful ones in docker logs). The final "success" is left to the result line.
 * A terminal uses a short interval (a live bar); logs use init.progress_interval.
 */
export function shouldRender(last: LastRender | undefined, state: ProgressState, nowMs: number, minIntervalMs: number): boolean {
  if (state.status === 'success') return false;
  if (last === undefined) return true;
  if (step(state.status) !== step(last.status)) return true;
  return nowMs - last.atMs >= minIntervalMs;
}

function step(status: string): string {
  const m = /^(pulling|using existing layer|creating new layer) (sha256:)?[0-9a-f]{6,}/.exec(status);
  return m ? m[1]! : status;
}
