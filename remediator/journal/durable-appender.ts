import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fsyncDir } from './fsync-dir.js';

interface Waiter {
  readonly data: string;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * Appends lines to one file and resolves each append only once its bytes are fsynced. Appends that arrive while a
 * write is in progress are batched into the next write, so concurrent callers share one fsync (group commit).
 * A failed write is rolled back (truncated to the last durable size) so no torn line merges with the next record.
 */
export class DurableAppender {
  #queue: Waiter[] = [];
  #flushing = false;
  #size = 0;
  /** Bytes of the batch being written and fsynced: neither queued nor durable yet. */
  #writing = 0;
  #closed = false;
  /** fsyncs done, to prove batching in tests and benchmarks. */
  syncs = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Opens (creating if needed) for appending; a newly created file's directory entry is made durable too. */
  static async open(path: string): Promise<DurableAppender> {
    const handle = await open(path, 'a');
    const appender = new DurableAppender(path, handle);
    appender.#size = (await handle.stat()).size;
    if (appender.#size === 0) await fsyncDir(dirname(path));
    return appender;
  }

  /** Bytes durably in the file. */
  get size(): number {
    return this.#size;
  }

  /** Bytes durable, being written or queued: what the file will hold once the queue is written. */
  get projectedSize(): number {
    return this.#size + this.#writing + this.#queue.reduce((n, w) => n + Buffer.byteLength(w.data), 0);
  }

  /** Appends complete lines (each gets a trailing newline); resolves when they are on disk. */
  append(lines: readonly string[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error(`${this.path} is closed`));
    if (lines.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ data: lines.map((l) => `${l}\n`).join(''), resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      const buf = Buffer.from(batch.map((w) => w.data).join(''));
      this.#writing = buf.length;
      try {
        let written = 0;
        while (written < buf.length) {
          const { bytesWritten } = await this.handle.write(buf, written, buf.length - written, null);
          written += bytesWritten;
        }
        await this.handle.datasync();
        this.syncs++;
        this.#size += buf.length;
        for (const w of batch) w.resolve();
      } catch (err) {
        // Drop whatever part of the batch reached the file: a later successful write must start on a line boundary.
        await this.handle.truncate(this.#size).catch(() => undefined);
        for (const w of batch) w.reject(err as Error);
      } finally {
        this.#writing = 0;
      }
    }
    this.#flushing = false;
  }

  /** Waits for queued appends, then closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#flushing || this.#queue.length > 0) await new Promise((r) => setImmediate(r));
    await this.handle.close();
  }
}
