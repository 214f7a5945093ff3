import assert from 'node:assert/strict';
import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DurableAppender } from '../../../../remediator/journal/durable-appender.js';
import { tempDir } from '../../../helpers/temp-dir.js';

describe('DurableAppender', () => {
  it('shares fsyncs between concurrent appends and keeps every line whole and in order', async () => {
    const t = await tempDir('appender');
    try {
      const a = await DurableAppender.open(join(t.dir, 'log.jsonl'));
      await Promise.all(Array.from({ length: 200 }, (_, i) => a.append([JSON.stringify({ i })])));
      assert.ok(a.syncs >= 1 && a.syncs < 200, `expected grouped fsyncs, got ${a.syncs} for 200 appends`);
      await a.close();
      const lines = (await readFile(join(t.dir, 'log.jsonl'), 'utf8')).trimEnd().split('\n');
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as { i: number }).i),
        Array.from({ length: 200 }, (_, i) => i),
      );
    } finally {
      await t.remove();
    }
  });

  it('rejects appends when the disk is full (a real ENOSPC from /dev/full)', async () => {
    const t = await tempDir('appender-full');
    try {
      const path = join(t.dir, 'full.jsonl');
      await symlink('/dev/full', path);
      const a = await DurableAppender.open(path);
      await assert.rejects(a.append(['{"x":1}']), (err: NodeJS.ErrnoException) => err.code === 'ENOSPC');
      await assert.rejects(Promise.all([a.append(['{"x":2}']), a.append(['{"x":3}'])]), /ENOSPC/);
      await a.close();
    } finally {
      await t.remove();
    }
  });

  it('projectedSize counts the batch being written, not only the queue and the durable bytes', async () => {
    const t = await tempDir('appender-size');
    try {
      const a = await DurableAppender.open(join(t.dir, 'x.jsonl'));
      const first = a.append(['0123456789']); // starts writing at once: no longer queued, not yet durable
      assert.equal(a.projectedSize, 11);
      const second = a.append(['abc']);
      assert.equal(a.projectedSize, 15);
      await Promise.all([first, second]);
      assert.equal(a.projectedSize, 15);
      assert.equal(a.size, 15);
      await a.close();
    } finally {
      await t.remove();
    }
  });

  it('refuses appends after close', async () => {
    const t = await tempDir('appender-closed');
    try {
      const a = await DurableAppender.open(join(t.dir, 'x.jsonl'));
      await a.close();
      await assert.rejects(a.append(['{}']), /closed/);
    } finally {
      await t.remove();
    }
  });
});
