import type { Logger } from '../../shared/log/create-logger.js';
import type { AuditEntry, AuditLog } from './audit-log.js';

interface Item {
  readonly seq: number;
  /** When it happened (clock ms). */
  readonly at: number;
  readonly entry: AuditEntry;
}

/** Lines kept while they cannot be written; beyond it the oldest are dropped (and counted in the log). */
const MAX_UNWRITTEN = 10_000;

/**
 * The engine's way to the audit log. A line that cannot be written (the disk is full) is not lost: it is kept with
 * the time it happened and written, before anything newer, by the next write or by `flush()` (at shutdown), so once
 * there is space again the log is complete and in order, every step's intent followed by its result.
 */
export class AuditBacklog {
  #unwritten: Item[] = [];
  #seq = 0;
  #dropped = 0;

  constructor(
    private readonly log: Pick<AuditLog, 'write'>,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  /** Writes the kept lines, then `entry`; false when `entry` could not be written now (it is kept). */
  async write(entry: AuditEntry): Promise<boolean> {
    const item = { seq: ++this.#seq, at: this.now(), entry };
    return !(await this.#write([...this.#unwritten.splice(0), item])).some((i) => i.seq === item.seq);
  }

  /** Writes the kept lines, if any. */
  async flush(): Promise<void> {
    if (this.#unwritten.length > 0) await this.#write(this.#unwritten.splice(0));
  }

  /** Queued together, so they share one fsync and keep their order; returns those that failed (kept again). */
  async #write(items: Item[]): Promise<Item[]> {
    const results = await Promise.allSettled(items.map((i) => this.log.write(i.entry)));
    // A kept line carries the time it happened, not the time it is finally written.
    const failed = items
      .filter((_, i) => results[i]!.status === 'rejected')
      .map((i) => ('ts' in i.entry ? i : { ...i, entry: { ts: new Date(i.at).toISOString(), ...i.entry } }));
    if (failed.length === 0) return [];
    // Concurrent writers may have kept lines meanwhile: order by when each line happened.
    this.#unwritten = [...this.#unwritten, ...failed].sort((a, b) => a.seq - b.seq);
    const excess = this.#unwritten.length - MAX_UNWRITTEN;
    if (excess > 0) {
      this.#unwritten.splice(0, excess);
      this.#dropped += excess;
    }
    const reason = (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason as Error;
    this.logger.error(
      { err: reason.message, kept: this.#unwritten.length, dropped: this.#dropped },
      'cannot write the audit log: the lines are kept and written once it works again',
    );
    return failed;
  }
}
