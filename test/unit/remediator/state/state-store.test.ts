import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AuditLog } from '../../../../remediator/state/audit-log.js';
import { emptyState, type PersistedState } from '../../../../remediator/state/persisted-state.js';
import { StateStore, STATE_FILE } from '../../../../remediator/state/state-store.js';
import { writeFileAtomic } from '../../../../remediator/state/write-file-atomic.js';
import { tempDir } from '../../../helpers/temp-dir.js';

describe('state on disk', () => {
  it('writes atomically: no temporary file is left, the content is whole', async () => {
    const t = await tempDir('atomic');
    try {
      const path = join(t.dir, 'x.json');
      await writeFileAtomic(path, '{"a":1}');
      await writeFileAtomic(path, '{"a":2}');
      assert.equal(await readFile(path, 'utf8'), '{"a":2}');
      assert.deepEqual(await readdir(t.dir), ['x.json']);
    } finally {
      await t.remove();
    }
  });

  it('loads what it saved; a missing file is an empty state; a damaged one is an error, not a silent reset', async () => {
    const t = await tempDir('store');
    try {
      assert.deepEqual(await StateStore.load(t.dir), emptyState());
      let n = 0;
      const snap = (): PersistedState => ({ ...emptyState(), appliedSeq: ++n });
      const seen: number[] = [];
      const store = new StateStore(t.dir, snap, async (s) => void seen.push(s.appliedSeq));
      await store.save();
      assert.equal((await StateStore.load(t.dir)).appliedSeq, 1);
      // A burst of saves while one is writing collapses into one more write, which sees the newest snapshot.
      await Promise.all(Array.from({ length: 50 }, () => store.save()));
      assert.ok(store.saves <= 3, `${store.saves} writes for 51 saves`);
      assert.equal((await StateStore.load(t.dir)).appliedSeq, n);
      assert.equal(seen.at(-1), n, 'afterSave sees what was written');
      await writeFile(join(t.dir, STATE_FILE), '{"version": 1, "appl');
      await assert.rejects(StateStore.load(t.dir), SyntaxError);
      await writeFile(join(t.dir, STATE_FILE), '{"version": 7}');
      await assert.rejects(StateStore.load(t.dir), /unsupported state version/);
    } finally {
      await t.remove();
    }
  });

  it('audit lines are JSON with a timestamp, durable when write resolves', async () => {
    const t = await tempDir('audit');
    try {
      const log = await AuditLog.open(t.dir, () => Date.parse('2026-06-01T00:00:00Z'));
      await Promise.all([
        log.write({ kind: 'decision', decision: 'skipped', reason: 'cooldown' }),
        log.write({ kind: 'alert', detail: 'a\nb' }),
      ]);
      await log.close();
      const lines = (await readFile(join(t.dir, 'audit.jsonl'), 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.length, 2);
      assert.equal(lines[0]!.ts, '2026-06-01T00:00:00.000Z');
      assert.equal(lines[1]!.detail, 'a\nb');
    } finally {
      await t.remove();
    }
  });
});
