import { applyProgress, type ProgressEvent } from './apply-progress.js';
import { newProgressState, type ProgressState } from './progress-state.js';
import { renderProgress } from './render-progress.js';
import { shouldRender, type LastRender } from './should-render.js';

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
    const mode = { tty: this.tty, ...(this.opts.stream.columns !== undefined ? { columns: this.opts.stream.columns } : {}), ...(this.opts.prefix !== undefined ? { prefix: this.opts.prefix } : {}) };
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
