// init's human-facing progress on stderr: a pure state folded from Ollama's NDJSON progress lines, its totals, speed
// and ETA, the throttle and the text for one moment, and the thin reporter that writes it (a live bar on a terminal,
// plain lines in docker logs). The two formatters at the end are shared by the summary and init's own lines.

/** One layer (blob) of a pull as Ollama reports it: `pulling <digest>` with total and completed bytes. */
export interface LayerProgress {
  readonly digest: string;
  readonly total: number;
  readonly completed: number;
}

/** Completed bytes at a moment, for the speed estimate. */
export interface ProgressSample {
  readonly atMs: number;
  readonly bytes: number;
}

/** Everything the progress renderer needs: a pure value, updated by applyProgress. */
export interface ProgressState {
  readonly model: string;
  readonly phase: 'pull' | 'create';
  /** Last status line from Ollama ("pulling manifest", "pulling 6e4c38e1172f", "verifying sha256 digest"...). */
  readonly status: string;
  readonly layers: readonly LayerProgress[];
  /** Recent samples only (a sliding window), so the speed follows the current rate, not the average. */
  readonly samples: readonly ProgressSample[];
  readonly startedAtMs: number;
  /** 1 for the first try; a retry starts a fresh state with the next number. */
  readonly attempt: number;
}

export function newProgressState(model: string, phase: 'pull' | 'create', nowMs: number, attempt = 1): ProgressState {
  return { model, phase, status: 'starting', layers: [], samples: [], startedAtMs: nowMs, attempt };
}

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
  const etaMs =
    bytesPerSecond !== undefined && bytesPerSecond > 0 && totalBytes > 0
      ? (remaining * 1000) / bytesPerSecond
      : undefined;
  return {
    totalBytes,
    completedBytes,
    ...(totalBytes > 0 ? { fraction: Math.min(1, completedBytes / totalBytes) } : {}),
    ...(bytesPerSecond !== undefined ? { bytesPerSecond } : {}),
    ...(etaMs !== undefined ? { etaMs } : {}),
    elapsedMs,
  };
}

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
export function shouldRender(
  last: LastRender | undefined,
  state: ProgressState,
  nowMs: number,
  minIntervalMs: number,
): boolean {
  if (state.status === 'success') return false;
  if (last === undefined) return true;
  if (step(state.status) !== step(last.status)) return true;
  return nowMs - last.atMs >= minIntervalMs;
}

function step(status: string): string {
  const m = /^(pulling|using existing layer|creating new layer) (sha256:)?[0-9a-f]{6,}/.exec(status);
  return m ? m[1]! : status;
}

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
    if (percent !== undefined)
      parts.push(`${percent} (${formatBytes(t.completedBytes)} of ${formatBytes(t.totalBytes)})`);
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

/** Where human-facing output goes: stderr in the command, a buffer in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressReporterOptions {
  readonly stream: ProgressStream;
  /** Plain lines are written at most this often per model (status changes always get a line). */
  readonly intervalMs: number;
  readonly prefix?: string;
  readonly now?: () => number;
  /** Redraw limit for the terminal bar. */
  readonly ttyIntervalMs?: number;
}

/**
 * Thin I/O around the pure renderer: keeps the state of the one pull or create in progress and writes it to the
 * stream, throttled. On a terminal the bar is redrawn in place with "\r"; other lines (retries, results) clear it
 * first, and it is redrawn on the next update.
 */
export class ProgressReporter {
  private state: ProgressState | undefined;
  private last: LastRender | undefined;
  private barShown = false;
  private readonly now: () => number;
  private readonly tty: boolean;

  constructor(private readonly opts: ProgressReporterOptions) {
    this.now = opts.now ?? Date.now;
    this.tty = opts.stream.isTTY === true;
  }

  /** A new pull or create (or a new attempt of one) begins. */
  start(model: string, phase: 'pull' | 'create', attempt = 1): void {
    this.clearBar();
    this.state = newProgressState(model, phase, this.now(), attempt);
    this.last = undefined;
  }

  update(event: ProgressEvent): void {
    if (this.state === undefined) return;
    const now = this.now();
    this.state = applyProgress(this.state, event, now);
    const interval = this.tty ? (this.opts.ttyIntervalMs ?? 150) : this.opts.intervalMs;
    if (!shouldRender(this.last, this.state, now, interval)) return;
    this.draw(now);
  }

  /** Ends the current bar (a final redraw plus newline on a terminal). */
  finish(): void {
    if (this.state !== undefined && this.tty && this.barShown) {
      this.draw(this.now());
      this.opts.stream.write('\n');
      this.barShown = false;
    }
    this.state = undefined;
    this.last = undefined;
  }

  /** A standalone line (attempt failures, results); never mixed into the bar. */
  line(text: string): void {
    this.clearBar();
    this.opts.stream.write(`${text}\n`);
  }

  private draw(now: number): void {
    const state = this.state!;
    const mode = {
      tty: this.tty,
      ...(this.opts.stream.columns !== undefined ? { columns: this.opts.stream.columns } : {}),
      ...(this.opts.prefix !== undefined ? { prefix: this.opts.prefix } : {}),
    };
    const text = renderProgress(state, now, mode);
    if (this.tty) {
      this.opts.stream.write(`\r${text}\x1b[K`);
      this.barShown = true;
    } else this.opts.stream.write(`${text}\n`);
    this.last = { atMs: now, status: state.status };
  }

  private clearBar(): void {
    if (!this.barShown) return;
    this.opts.stream.write('\r\x1b[K');
    this.barShown = false;
  }
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** Decimal units, as Ollama's own CLI prints model sizes ("13 GB"), with 3 significant digits. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  let value = bytes;
  let unit = 0;
  while (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Short human duration for progress and summaries: "850ms", "4.2s", "3m07s", "1h02m". */
export function formatDurationMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const totalSeconds = Math.floor(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  return `${minutes}m${String(seconds).padStart(2, '0')}s`;
}
