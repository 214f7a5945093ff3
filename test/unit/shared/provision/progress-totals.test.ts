import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyProgress } from '../../../../shared/provision/apply-progress.js';
import { newProgressState } from '../../../../shared/provision/progress-state.js';
import { progressTotals } from '../../../../shared/provision/progress-totals.js';

const A = 'sha256:aaaa';

test('nothing known yet: no fraction, no speed, elapsed from the start', () => {
  const t = progressTotals(newProgressState('m:1', 'pull', 5_000), 7_500);
  assert.equal(t.totalBytes, 0);
  assert.equal(t.fraction, undefined);
  assert.equal(t.bytesPerSecond, undefined);
  assert.equal(t.etaMs, undefined);
  assert.equal(t.elapsedMs, 2_500);
});

test('steady 100 MB/s: speed and ETA follow from the samples', () => {
  let s = newProgressState('m:1', 'pull', 0);
  for (let ms = 0; ms <= 4_000; ms += 500) s = applyProgress(s, { digest: A, total: 1e9, completed: ms * 100_000 }, ms);
  const t = progressTotals(s, 4_000);
  assert.equal(t.completedBytes, 400_000_000);
  assert.equal(t.fraction, 0.4);
  assert.equal(t.bytesPerSecond, 100_000_000);
  assert.equal(t.etaMs, 6_000);
});

test('a stalled download shows its speed falling instead of freezing', () => {
  let s = newProgressState('m:1', 'pull', 0);
  for (let ms = 0; ms <= 2_000; ms += 500) s = applyProgress(s, { digest: A, total: 1e9, completed: ms * 100_000 }, ms);
  const moving = progressTotals(s, 2_000).bytesPerSecond!;
  const stalled = progressTotals(s, 6_000).bytesPerSecond!;
  assert.equal(moving, 100_000_000);
  assert.ok(stalled < moving / 2, `speed after 4 s without progress: ${stalled}`);
});

test('too short a span gives no speed (a single burst would show nonsense)', () => {
  let s = newProgressState('m:1', 'pull', 0);
  s = applyProgress(s, { digest: A, total: 1e9, completed: 0 }, 0);
  s = applyProgress(s, { digest: A, total: 1e9, completed: 5e8 }, 300);
  assert.equal(progressTotals(s, 300).bytesPerSecond, undefined);
});

test('complete: fraction 1 and zero time left', () => {
  let s = newProgressState('m:1', 'pull', 0);
  s = applyProgress(s, { digest: A, total: 100, completed: 0 }, 0);
  s = applyProgress(s, { digest: A, total: 100, completed: 100 }, 1_000);
  const t = progressTotals(s, 1_000);
  assert.equal(t.fraction, 1);
  assert.equal(t.etaMs, 0);
});
