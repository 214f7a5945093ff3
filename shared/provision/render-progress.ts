import { formatBytes } from './format-bytes.js';
import { formatDurationMs } from './format-duration-ms.js';
import { progressTotals } from './progress-totals.js';
import type { ProgressState } from './progress-state.js';

export interface RenderMode {
  /** A terminal gets a one-line bar redrawn in place; anything else (docker logs) gets plain sentences. */
  readonly tty: boolean;
  /** Terminal width; the bar line is cut to fit so a redraw never wraps. */
  readonly columns?: number;
  /** Put before the text, e.g. "init main: ". */
  readonly prefix?: string;
}

/**
 * The progress text for one moment, without "\r" or "\n" (the caller decides how to place it). A pure function of
 * the state and the clock, so every figure is testable.
 */
export function renderProgress(state: ProgressState, nowMs: number, mode: RenderMode): string {
  const t = progressTotals(state, nowMs);
  const prefix = mode.prefix ?? '';
  const verb = state.phase === 'create' ? 'create' : 'pull';
  const retry = state.attempt > 1 ? ` (attempt ${state.attempt})` : '';
  const status = shorten(state.status, 40);
  const speed = t.bytesPerSecond !== undefined ? `${formatBytes(t.bytesPerSecond)}/s` : undefined;
  // Under a second the estimate is noise (the last small layers), so it is not shown.
  const eta = t.etaMs !== undefined && t.etaMs >= 1000 ? formatDurationMs(t.etaMs) : undefined;
  const percent = t.fraction !== undefined ? `${Math.floor(t.fraction * 100)}%` : undefined;

  if (!mode.tty) {
    const parts = [`${prefix}${verb} ${state.model}${retry}: ${status}`];
    if (percent !== undefined) parts.push(`${percent} (${formatBytes(t.completedBytes)} of ${formatBytes(t.totalBytes)})`);
    if (speed !== undefined) parts.push(`at ${speed}`);
    if (eta !== undefined && t.fraction !== undefined && t.fraction < 1) parts.push(`ETA ${eta}`);
    parts.push(`${formatDurationMs(t.elapsedMs)} elapsed`);
    return parts.join(', ');
  }

  // 0 or absent means the width is unknown (some pseudo-terminals): assume the classic 80.
  const columns = mode.columns !== undefined && mode.columns > 0 ? Math.max(20, mode.columns) : 80;
  const head = `${prefix}${state.model}${retry}`;
  if (percent === undefined) return fit(`${head}  ${status}  ${formatDurationMs(t.elapsedMs)}`, columns);
  const tail = [
    percent.padStart(4),
    `${formatBytes(t.completedBytes)}/${formatBytes(t.totalBytes)}`,
    speed ?? '',
    eta !== undefined && (t.fraction ?? 0) < 1 ? `ETA ${eta}` : formatDurationMs(t.elapsedMs),
  ]
    .filter((s) => s !== '')
    .join('  ');
  // The bar takes what is left, between 10 and 30 cells; on a very narrow terminal it is dropped.
  const room = columns - 1 - head.length - tail.length - 6;
  const width = Math.min(30, room);
  if (width < 10) return fit(`${head}  ${tail}`, columns);
  const filled = Math.round((t.fraction ?? 0) * width);
  return fit(`${head}  [${'#'.repeat(filled)}${'.'.repeat(width - filled)}]  ${tail}`, columns);
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** One column is kept free: writing into the last column makes some terminals wrap before the next "\r". */
function fit(text: string, columns: number): string {
  return text.length > columns - 1 ? text.slice(0, columns - 1) : text;
}
