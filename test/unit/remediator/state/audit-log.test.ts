// The audit log rotates by size while running: a bounded number of files, every record whole and in exactly one
// of them, none lost when records arrive while a rotation is under way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AUDIT_FILE, AuditLog, rotatedAuditFile } from '../../../../remediator/state/audit-log.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const now = () => Date.parse('2026-06-01T00:00:00Z');
const MAX = 2048;
// ~110 bytes a record with its ts: about 18 per file.
const entry = (seq: number) => ({ kind: 'decision' as const, decision: 'skipped' as const, reason: 'cooldown', seq });

/** The files oldest first (audit.N ... audit.1, audit.jsonl), each parsed line by line (a split record throws). */
async function readAll(dir: string): Promise<{ files: string[]; seqs: number[][] }> {
  const rotated = (await readdir(dir))
    .flatMap((f) => {
      const m = /^audit\.(\d+)\.jsonl$/.exec(f);
      return m ? [Number(m[1])] : [];
    })
    .sort((a, b) => b - a)
    .map(rotatedAuditFile);
  const files = [...rotated, AUDIT_FILE];
  const seqs: number[][] = [];
  for (const f of files) {
    const text = await readFile(join(dir, f), 'utf8');
    assert.ok(text === '' || text.endsWith('\n'), `${f} ends on a record boundary`);
    seqs.push(
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    );
  }
  return { files, seqs };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test('writes past the size rotate while running; the files stay bounded and hold the newest records, each once', async () => {
  const t = await tempDir('audit-rotate');
  try {
    const log = await AuditLog.open(t.dir, now, { maxBytes: MAX, keepFiles: 3 });
    for (let i = 0; i < 200; i++) await log.write(entry(i));
    await log.close();
    const { files, seqs } = await readAll(t.dir);
    assert.deepEqual(files, ['audit.3.jsonl', 'audit.2.jsonl', 'audit.1.jsonl', 'audit.jsonl']);
    for (const f of files) assert.ok((await stat(join(t.dir, f))).size <= MAX, `${f} within the size`);
    const kept = seqs.flat();
    assert.deepEqual(kept, range(200 - kept.length, 200), 'the newest records, in order, none twice, no gap');
    assert.ok(
      seqs.slice(0, 3).every((s) => s.length >= 15),
      'rotated files are full, not rotated early',
    );
  } finally {
    await t.remove();
  }
});

test('records written while a rotation is under way are neither lost nor duplicated, and keep their order', async () => {
  const t = await tempDir('audit-concurrent');
  try {
    const log = await AuditLog.open(t.dir, now, { maxBytes: MAX, keepFiles: 1000 });
    let seq = 0;
    // Bursts of concurrent writes, each burst crossing several rotations, plus single writes in between.
    for (let burst = 0; burst < 3; burst++) {
      await Promise.all(range(0, 60).map(() => log.write(entry(seq++))));
      await log.write(entry(seq++));
    }
    await log.close();
    const { files, seqs } = await readAll(t.dir);
    assert.deepEqual(seqs.flat(), range(0, seq), `${seq} records across ${files.length} files`);
    assert.ok(files.length >= 9, `${files.length} files: each burst crossed rotations`);
    for (const f of files) assert.ok((await stat(join(t.dir, f))).size <= MAX, `${f} within the size`);
  } finally {
    await t.remove();
  }
});

test('at start-up a full audit.jsonl is rotated; files beyond keep_files (a larger old setting) are deleted', async () => {
  const t = await tempDir('audit-startup');
  try {
    const line = (seq: number) => JSON.stringify({ ts: 'x', kind: 'alert', seq }) + '\n';
    await writeFile(join(t.dir, AUDIT_FILE), range(0, 100).map(line).join(''));
    await writeFile(join(t.dir, rotatedAuditFile(1)), line(-1));
    await writeFile(join(t.dir, rotatedAuditFile(7)), line(-7));
    await writeFile(join(t.dir, 'audit-2025-01-01T00-00-00-000Z.jsonl'), line(-100)); // 0.1.0's start-up rename
    const log = await AuditLog.open(t.dir, now, { maxBytes: 1024, keepFiles: 2 });
    await log.write(entry(100));
    await log.close();
    const { files, seqs } = await readAll(t.dir);
    assert.deepEqual(files, ['audit.2.jsonl', 'audit.1.jsonl', 'audit.jsonl']);
    assert.deepEqual(seqs, [[-1], range(0, 100), [100]]);
    assert.ok((await readdir(t.dir)).includes('audit-2025-01-01T00-00-00-000Z.jsonl'), "0.1.0's files are left alone");
  } finally {
    await t.remove();
  }
});

test('a rotation that fails is reported and writing goes on in audit.jsonl, losing nothing', async () => {
  const t = await tempDir('audit-rotate-fails');
  try {
    // audit.1.jsonl is a non-empty directory: it can be neither replaced nor deleted.
    await mkdir(join(t.dir, rotatedAuditFile(1)));
    await writeFile(join(t.dir, rotatedAuditFile(1), 'x'), '');
    const errors: string[] = [];
    const log = await AuditLog.open(t.dir, now, {
      maxBytes: MAX,
      keepFiles: 1,
      onRotateError: (err) => errors.push(err.message),
    });
    await Promise.all(range(0, 60).map((i) => log.write(entry(i))));
    await log.close();
    assert.equal(errors.length, 1, 'one report; retried only after a minute');
    const text = await readFile(join(t.dir, AUDIT_FILE), 'utf8');
    assert.deepEqual(
      text
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
      range(0, 60),
    );
    await assert.rejects(log.write(entry(60)), /closed/);
  } finally {
    await t.remove();
  }
});
