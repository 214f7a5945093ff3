import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DurableAppender } from './durable-appender.js';
import { fsyncDir } from './fsync-dir.js';
import type { JournalRecord } from './journal-record.js';

const SEGMENT_RE = /^journal-(\d{16})\.jsonl$/;

export interface OpenedJournal {
  readonly journal: AlertJournal;
  /** Records after `afterSeq`, in order: accepted before a crash but not yet applied. */
  readonly pending: JournalRecord[];
  /** Lines that could not be read (a torn last line after a crash, or damage); skipped. */
  readonly damagedLines: number;
}

/**
 * Append-only alert journal in segments `journal-<first seq>.jsonl`. Every append is fsynced (grouped) before it
 * resolves, which is what lets the webhook answer 2xx only for alerts that will survive a crash. Segments whose
 * records are all applied to the saved state are deleted by `compact`.
 */
export class AlertJournal {
  #nextSeq: number;
  /** fsyncs of the segments already closed (a segment's appender counts its own). */
  #syncsBefore = 0;
  #current: DurableAppender;
  #segments: { first: number; path: string }[];
  #rolling: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    nextSeq: number,
    current: DurableAppender,
    segments: { first: number; path: string }[],
  ) {
    this.#nextSeq = nextSeq;
    this.#current = current;
    this.#segments = segments;
  }

  static async open(dir: string, segmentBytes: number, afterSeq: number): Promise<OpenedJournal> {
    await mkdir(dir, { recursive: true });
    const segments = (await readdir(dir))
      .map((name) => ({ m: name.match(SEGMENT_RE), name }))
      .filter((s) => s.m)
      .map((s) => ({ first: Number(s.m![1]), path: join(dir, s.name) }))
      .sort((a, b) => a.first - b.first);
    const pending: JournalRecord[] = [];
    let damagedLines = 0;
    let maxSeq = afterSeq;
    for (const seg of segments) {
      for (const line of (await readFile(seg.path, 'utf8')).split('\n')) {
        if (line === '') continue;
        let rec: JournalRecord;
        try {
          rec = JSON.parse(line) as JournalRecord;
          if (!Number.isInteger(rec.seq) || typeof rec.fingerprint !== 'string') throw new Error('not a record');
        } catch {
          damagedLines++;
          continue;
        }
        if (rec.seq > maxSeq) maxSeq = rec.seq;
        if (rec.seq > afterSeq) pending.push(rec);
      }
    }
    pending.sort((a, b) => a.seq - b.seq);
    const nextSeq = Math.max(maxSeq + 1, segments.length ? segments[segments.length - 1]!.first : 1);
    // Always start a fresh segment: the last one may end in a torn line from the crash.
    const first = { first: nextSeq, path: join(dir, segmentName(nextSeq)) };
    const current = await DurableAppender.open(first.path);
    if (!segments.some((s) => s.path === first.path)) segments.push(first);
    return { journal: new AlertJournal(dir, segmentBytes, nextSeq, current, segments), pending, damagedLines };
  }

  /** Assigns sequence numbers and resolves once the records are durable. Throws when the disk refuses. */
  async append(records: readonly Omit<JournalRecord, 'seq'>[]): Promise<JournalRecord[]> {
    if (this.#rolling) await this.#rolling;
    else if (this.#current.projectedSize >= this.segmentBytes) {
      this.#rolling = this.#roll().finally(() => (this.#rolling = undefined));
      await this.#rolling;
    }
    const withSeq = records.map((r) => ({ seq: this.#nextSeq++, ...r }));
    await this.#current.append(withSeq.map((r) => JSON.stringify(r)));
    return withSeq;
  }

  /** The seq the next record will get. */
  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** fsyncs so far, over every segment this process wrote. */
  get syncs(): number {
    return this.#syncsBefore + this.#current.syncs;
  }

  /** Deletes segments whose every record is at or below `appliedSeq` (never the one being written). */
  async compact(appliedSeq: number): Promise<number> {
    let removed = 0;
    while (this.#segments.length > 1 && this.#segments[1]!.first - 1 <= appliedSeq) {
      const old = this.#segments.shift()!;
      await unlink(old.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      removed++;
    }
    if (removed > 0) await fsyncDir(this.dir);
    return removed;
  }

  async close(): Promise<void> {
    await this.#current.close();
  }

  async #roll(): Promise<void> {
    const old = this.#current;
    this.#syncsBefore += old.syncs;
    const seg = { first: this.#nextSeq, path: join(this.dir, segmentName(this.#nextSeq)) };
    this.#current = await DurableAppender.open(seg.path);
    this.#segments.push(seg);
    await old.close();
  }
}

function segmentName(first: number): string {
  return `journal-${String(first).padStart(16, '0')}.jsonl`;
}
