import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DurableAppender } from '../journal/durable-appender.js';

export type Decision = 'acted' | 'skipped' | 'deferred' | 'dropped' | 'escalated';

/**
 * One line of the audit log. `kind` says what happened (an alert arrived, a decision was taken, a step's intent or
 * result, a verification, an incident closed, a crash recovery, the breaker, a scheduled job); `decision` is present
 * on the lines that decide about acting.
 */
export interface AuditEntry {
  readonly kind: 'alert' | 'decision' | 'intent' | 'result' | 'verify' | 'close' | 'recovery' | 'breaker' | 'schedule';
  readonly decision?: Decision;
  readonly reason?: string;
  readonly incident?: string;
  readonly rule?: string;
  readonly target?: string;
  readonly alert?: {
    readonly fingerprint: string;
    readonly startsAt: string;
    readonly status: string;
    readonly alertname?: string;
  };
  readonly dry_run?: boolean;
  readonly action?: string;
  readonly model?: string;
  readonly calls?: readonly string[];
  readonly result?: string;
  readonly detail?: string;
  readonly duration_ms?: number;
  readonly [extra: string]: unknown;
}

export const AUDIT_FILE = 'audit.jsonl';
const ROTATE_BYTES = 64 * 1024 * 1024;

/** Append-only JSON lines, fsynced (grouped): an intent line is on disk before the step it announces starts. */
export class AuditLog {
  private constructor(
    private readonly appender: DurableAppender,
    private readonly now: () => number,
  ) {}

  /** Opens `audit.jsonl` in `dir`; an oversized one is first renamed aside (audit-<time>.jsonl), never truncated. */
  static async open(dir: string, now: () => number): Promise<AuditLog> {
    const path = join(dir, AUDIT_FILE);
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (size > ROTATE_BYTES)
      await rename(path, join(dir, `audit-${new Date(now()).toISOString().replace(/[:.]/g, '-')}.jsonl`));
    return new AuditLog(await DurableAppender.open(path), now);
  }

  write(entry: AuditEntry): Promise<void> {
    return this.appender.append([JSON.stringify({ ts: new Date(this.now()).toISOString(), ...entry })]);
  }

  close(): Promise<void> {
    return this.appender.close();
  }
}
