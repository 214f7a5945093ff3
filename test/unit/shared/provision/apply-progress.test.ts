import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyProgress, SPEED_WINDOW_MS } from '../../../../shared/provision/apply-progress.js';
import { newProgressState } from '../../../../shared/provision/progress-state.js';

const A = 'sha256:aaaaaaaaaaaaaaaaaaaa';
const B = 'sha256:bbbbbbbbbbbbbbbbbbbb';

test('tracks each layer by digest and keeps the latest status', () => {
  let s = newProgressState('gpt-oss:20b', 'pull', 1000);
  s = applyProgress(s, { status: 'pulling manifest' }, 1000);
  assert.equal(s.status, 'pulling manifest');
  assert.deepEqual(s.layers, []);
  // A layer's first line carries no `completed`.
  s = applyProgress(s, { status: 'pulling aaaaaaaaaaaa', digest: A, total: 1000 }, 1100);
  s = applyProgress(s, { status: 'pulling aaaaaaaaaaaa', digest: A, total: 1000, completed: 400 }, 1200);
  s = applyProgress(s, { status: 'pulling bbbbbbbbbbbb', digest: B, total: 50, completed: 50 }, 1300);
  s = applyProgress(s, { status: 'verifying sha256 digest' }, 1400);
  assert.equal(s.status, 'verifying sha256 digest');
  assert.deepEqual(s.layers, [
    { digest: A, total: 1000, completed: 400 },
    { digest: B, total: 50, completed: 50 },
  ]);
});

test('does not mutate the previous state (pure)', () => {
  const s0 = newProgressState('m:1', 'pull', 0);
  const s1 = applyProgress(s0, { status: 'pulling x', digest: A, total: 10, completed: 5 }, 10);
  assert.deepEqual(s0.layers, []);
  assert.deepEqual(s0.samples, []);
  assert.equal(s0.status, 'starting');
  assert.equal(s1.layers.length, 1);
});

test('clamps completed to [0, total] and ignores lines without a usable total', () => {
  let s = newProgressState('m:1', 'pull', 0);
  s = applyProgress(s, { digest: A, total: 100, completed: 250 }, 1);
  s = applyProgress(s, { digest: B, total: 100, completed: -4 }, 2);
  s = applyProgress(s, { digest: 'sha256:c', total: 0, completed: 0 }, 3);
  s = applyProgress(s, { digest: 'sha256:d', total: 'big', completed: 3 }, 4);
  assert.deepEqual(
    s.layers.map((l) => [l.digest, l.completed]),
    [[A, 100], [B, 0]],
  );
});

test('samples closer than the spacing replace each other; old ones leave the window but a baseline stays', () => {
  let s = newProgressState('m:1', 'pull', 0);
  for (let t = 0; t <= 30_000; t += 50) s = applyProgress(s, { digest: A, total: 1e12, completed: t * 1000 }, t);
  assert.ok(s.samples.length <= SPEED_WINDOW_MS / 250 + 3, `kept ${s.samples.length} samples`);
  const first = s.samples[0]!;
  const last = s.samples[s.samples.length - 1]!;
  assert.equal(last.atMs, 30_000);
  assert.ok(first.atMs <= 30_000 - SPEED_WINDOW_MS, 'a sample at or before the window start is kept as baseline');
  assert.ok(s.samples[1]!.atMs > 30_000 - SPEED_WINDOW_MS, 'only one sample older than the window');
});
