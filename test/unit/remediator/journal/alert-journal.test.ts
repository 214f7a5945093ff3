import assert from 'node:assert/strict';
import { appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AlertJournal } from '../../../../remediator/journal/alert-journal.js';
import { DedupCache } from '../../../../remediator/journal/dedup-cache.js';
import type { JournalRecord } from '../../../../remediator/journal/journal-record.js';
import { tempDir } from '../../../helpers/temp-dir.js';

function rec(i: number): Omit<JournalRecord, 'seq'> {
  return {
    receivedAt: 1000 + i,
    fingerprint: `fp${i}`,
    status: 'firing',
    startsAt: '2026-01-01T00:00:00Z',
    endsAt: '0001-01-01T00:00:00Z',
    labels: { ollama: 'main', i: String(i) },
    receiver: 'r',
    groupKey: 'g',
    target: 'main',
    rule: 'r1',
  };
}

describe('AlertJournal', () => {
  it('numbers records, replays those after the applied seq on reopen, and continues the numbering', async () => {
    const t = await tempDir('journal');
    try {
      const first = await AlertJournal.open(t.dir, 1 << 20, 0);
      assert.deepEqual(first.pending, []);
      const written = await first.journal.append([rec(1), rec(2), rec(3)]);
      assert.deepEqual(
        written.map((r) => r.seq),
        [1, 2, 3],
      );
      await first.journal.close();

      const again = await AlertJournal.open(t.dir, 1 << 20, 1);
      assert.deepEqual(
        again.pending.map((r) => [r.seq, r.fingerprint]),
        [
          [2, 'fp2'],
          [3, 'fp3'],
        ],
      );
      assert.deepEqual(again.pending[0]!.labels, { ollama: 'main', i: '2' });
      const more = await again.journal.append([rec(4)]);
      assert.equal(more[0]!.seq, 4);
      await again.journal.close();
    } finally {
      await t.remove();
    }
  });

  it('skips a torn last line left by a crash and never appends after it', async () => {
    const t = await tempDir('journal-torn');
    try {
      const j = await AlertJournal.open(t.dir, 1 << 20, 0);
      await j.journal.append([rec(1)]);
      await j.journal.close();
      const [segment] = await readdir(t.dir);
      await appendFile(join(t.dir, segment!), '{"seq":2,"fingerp');
      const reopened = await AlertJournal.open(t.dir, 1 << 20, 0);
      assert.equal(reopened.damagedLines, 1);
      assert.deepEqual(
        reopened.pending.map((r) => r.seq),
        [1],
      );
      const next = await reopened.journal.append([rec(2)]);
      assert.equal(next[0]!.seq, 2);
      await reopened.journal.close();
      const third = await AlertJournal.open(t.dir, 1 << 20, 0);
      assert.deepEqual(
        third.pending.map((r) => r.seq),
        [1, 2],
      );
      await third.journal.close();
    } finally {
      await t.remove();
    }
  });

  it('rolls segments by size and deletes only fully applied ones', async () => {
    const t = await tempDir('journal-roll');
    try {
      const { journal } = await AlertJournal.open(t.dir, 4096, 0);
      for (let i = 1; i <= 60; i++) await journal.append([rec(i)]);
      const segments = (await readdir(t.dir)).sort();
      assert.ok(segments.length >= 3, `expected several segments, got ${segments.join(', ')}`);
      assert.equal(await journal.compact(0), 0);
      const removed = await journal.compact(60);
      assert.equal(removed, segments.length - 1, 'every segment but the one being written goes');
      await journal.close();
      const reopened = await AlertJournal.open(t.dir, 4096, 60);
      assert.deepEqual(reopened.pending, []);
      assert.equal(reopened.journal.nextSeq, 61);
      await reopened.journal.close();
    } finally {
      await t.remove();
    }
  });
});

describe('DedupCache', () => {
  it('forgets the oldest keys beyond its capacity', () => {
    const c = new DedupCache(3);
    for (const k of ['a', 'b', 'c', 'd']) c.add(k);
    assert.equal(c.has('a'), false);
    assert.equal(c.has('d'), true);
    assert.equal(c.size, 3);
  });
});
