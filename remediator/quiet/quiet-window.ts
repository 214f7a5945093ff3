import cron, { type ScheduledTask } from 'node-cron';
import type { QuietWindowConfig } from '../remediator-section.js';

const MINUTE = 60_000;
/** How far ahead the end of a window is searched; a window that never ends within it is reported as such. */
export const WINDOW_END_SEARCH_MS = 8 * 24 * 60 * MINUTE;

/**
 * A quiet window: node-cron expressions read in an IANA zone, at minute granularity; a minute is quiet when any
 * expression matches its first second. The window ends at the first following minute that matches none. All
 * arithmetic is on UTC instants and each minute is matched in local time, so DST gaps and repeats come out right.
 * The node-cron tasks are only used for `match` and never started.
 */
export class QuietWindow {
  readonly #tasks: ScheduledTask[];

  constructor(
    readonly name: string,
    readonly config: QuietWindowConfig,
  ) {
    this.#tasks = config.cron.map((expr, i) =>
      cron.createTask(expr, () => undefined, { timezone: config.timezone, name: `quiet-${name}-${i}` }),
    );
  }

  /** Is the minute containing `at` (ms since epoch) quiet? */
  isQuiet(at: number): boolean {
    const minute = new Date(Math.floor(at / MINUTE) * MINUTE);
    return this.#tasks.some((t) => t.match(minute));
  }

  /** Start of the first minute after `at` that is not quiet; null when none within the search bound. */
  endAfter(at: number): number | null {
    const first = Math.floor(at / MINUTE) * MINUTE + MINUTE;
    for (let t = first; t <= first + WINDOW_END_SEARCH_MS; t += MINUTE) if (!this.isQuiet(t)) return t;
    return null;
  }

  /** Removes the tasks from node-cron's registry. */
  destroy(): void {
    for (const t of this.#tasks) void t.destroy();
  }
}
