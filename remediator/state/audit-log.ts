import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DurableAppender } from '../journal/durable-appender.js';
import { fsyncDir } from '../journal/fsync-dir.js';

export type Decision = 'acted' | 'skipped' | 'deferred' | 'dropped' | 'escalated' | 'continued';

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
  /**
   * On decisions: when the observation they were taken on was sampled (ISO 8601; absent when undated). Added in
   * 0.2: older lines lack it.
   */
  readonly observedAt?: string;
  readonly [extra: string]: unknown;
}

export const AUDIT_FILE = 'audit.jsonl';
/** audit.1.jsonl is the newest rotated file, audit.<keepFiles>.jsonl the oldest kept. */
export const rotatedAuditFile = (n: number): string => `audit.${n}.jsonl`;
const ROTATED = /^audit\.(\d+)\.jsonl$/;
/** After a rotation failed (e.g. a rename refused), writing goes on in the same file and rotation is retried later. */
const ROTATE_RETRY_MS = 60_000;

export interface AuditLogOptions {
  /** audit.jsonl is rotated before a record would take it past this size (a record is never split). */
  readonly maxBytes: number;
  /** Rotated files kept (audit.1.jsonl ... audit.<keepFiles>.jsonl); the oldest beyond them is deleted. */
  readonly keepFiles: number;
  /** Told about a rotation that failed; writing goes on in the current file. */
  readonly onRotateError?: (err: Error) => void;
}

export const AUDIT_DEFAULTS: AuditLogOptions = { maxBytes: 64 * 1024 * 1024, keepFiles: 5 };

/**
 * Append-only JSON lines, fsynced (grouped): an intent line is on disk before the step it announces starts. Rotated
 * by size while running, between records: the file is closed once every record queued for it is durable, the rotated
 * files shift by one (audit.jsonl -> audit.1.jsonl -> audit.2.jsonl ...), the directory is fsynced, and records that
 * arrived meanwhile go, in order, to the new audit.jsonl. A rename moves a whole file, so every record is in exactly
 * one file; only the oldest file beyond `keepFiles` is ever deleted.
 */
export class AuditLog {
  #appender: DurableAppender | null;
  #rotating: Promise<void> | null = null;
  #retryRotationAtMs = 0;
  #closed = false;

  private constructor(
    appender: DurableAppender,
    private readonly dir: string,
    private readonly opts: AuditLogOptions,
    private readonly now: () => number,
  ) {
    this.#appender = appender;
  }

  /** Opens `audit.jsonl` in `dir`, rotating it first when it is already full. */
  static async open(dir: string, now: () => number, opts: AuditLogOptions = AUDIT_DEFAULTS): Promise<AuditLog> {
    const path = join(dir, AUDIT_FILE);
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (size >= opts.maxBytes) await shiftRotated(dir, opts.keepFiles);
    return new AuditLog(await DurableAppender.open(path), dir, opts, now);
  }

  async write(entry: AuditEntry): Promise<void> {
    if (this.#closed) throw new Error(`${join(this.dir, AUDIT_FILE)} is closed`);
    const line = JSON.stringify({ ts: new Date(this.now()).toISOString(), ...entry });
    const bytes = Buffer.byteLength(line) + 1;
    for (;;) {
      // Waiters resume in the order they came, so records keep their order across a rotation.
      if (this.#rotating) {
        await this.#rotating;
        continue;
      }
      const appender = this.#appender;
      if (appender === null || this.#full(appender, bytes)) {
        this.#rotating = this.#rotate(appender).finally(() => {
          this.#rotating = null;
        });
        continue;
      }
      return appender.append([line]);
    }
  }

  /** Waits for a rotation under way, then for every queued record, and closes the file. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#rotating) await this.#rotating.catch(() => undefined);
    await this.#appender?.close();
  }

  #full(appender: DurableAppender, bytes: number): boolean {
    const size = appender.projectedSize;
    return size > 0 && size + bytes > this.opts.maxBytes && this.now() >= this.#retryRotationAtMs;
  }

  /** Never rejects: a failed rotation leaves writing in audit.jsonl (reopened if need be) and is retried later. */
  async #rotate(full: DurableAppender | null): Promise<void> {
    try {
      if (full) {
        this.#appender = null;
        await full.close(); // resolves once every record queued for the old file is durable in it
        await shiftRotated(this.dir, this.opts.keepFiles);
      }
    } catch (err) {
      this.#retryRotationAtMs = this.now() + ROTATE_RETRY_MS;
      this.opts.onRotateError?.(err as Error);
    }
    try {
      this.#appender = await DurableAppender.open(join(this.dir, AUDIT_FILE));
    } catch (err) {
      // Writes are refused until the file opens again (the next write retries): no step acts without its record.
      this.opts.onRotateError?.(err as Error);
      throw err;
    }
  }
}

/**
 * audit.<n>.jsonl -> audit.<n+1>.jsonl from the oldest kept down, then audit.jsonl -> audit.1.jsonl, and the
 * directory fsynced. Files numbered beyond keepFiles (left by a larger setting) are deleted.
 */
async function shiftRotated(dir: string, keepFiles: number): Promise<void> {
  const numbers = (await readdir(dir)).flatMap((f) => {
    const m = ROTATED.exec(f);
    return m ? [Number(m[1])] : [];
  });
  for (const n of numbers.filter((x) => x >= keepFiles)) await rm(join(dir, rotatedAuditFile(n)), { force: true });
  for (let n = keepFiles - 1; n >= 1; n--)
    await renameIfThere(join(dir, rotatedAuditFile(n)), join(dir, rotatedAuditFile(n + 1)));
  await renameIfThere(join(dir, AUDIT_FILE), join(dir, rotatedAuditFile(1)));
  await fsyncDir(dir);
}

async function renameIfThere(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
