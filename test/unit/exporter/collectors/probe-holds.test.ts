import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evictedByLoad,
  holdAfterProbe,
  judgeHold,
  type HoldState,
} from '../../../../exporter/collectors/probe-holds.js';

const fresh = (): HoldState => ({ oomHeldUntilMs: null, oomWhileListed: false, evictedBy: null });
const set = (...names: string[]) => new Set(names);

test('an out-of-memory error holds the model until the hold ends; any other error does not', () => {
  const s = fresh();
  holdAfterProbe(
    s,
    'error',
    'POST /api/generate: HTTP 500: llama runner process has terminated: CUDA error: out of memory',
    1000,
    60_000,
  );
  assert.equal(s.oomHeldUntilMs, 61_000);
  assert.deepEqual(judgeHold(s, 'big:latest', set(), 30_000), { hold: true, why: 'out_of_memory', untilMs: 61_000 });
  // Over: one more try, and the hold is gone until the next out-of-memory.
  assert.deepEqual(judgeHold(s, 'big:latest', set(), 61_000), { hold: false });
  assert.equal(s.oomHeldUntilMs, null);

  const other = fresh();
  holdAfterProbe(other, 'error', 'HTTP 500: unexpected EOF', 1000, 60_000);
  holdAfterProbe(other, 'timeout', undefined, 1000, 60_000);
  assert.equal(other.oomHeldUntilMs, null);
});

test('a held model that something else loaded fits after all: the hold ends and it is probed', () => {
  const s = fresh();
  s.oomHeldUntilMs = 10_000;
  s.evictedBy = { model: 'a:latest', atMs: 1 };
  assert.deepEqual(judgeHold(s, 'Big:Latest', set('big:latest', 'a:latest'), 5000), { hold: false });
  assert.deepEqual(s, fresh());
});

test('evicted by another keep_warm model: held while that one is loaded (or nothing is known), free once it is gone', () => {
  const s = fresh();
  s.evictedBy = { model: 'a:latest', atMs: 1 };
  assert.deepEqual(judgeHold(s, 'b:latest', set('a:latest'), 5), { hold: true, why: 'evicted', untilMs: null });
  assert.deepEqual(judgeHold(s, 'b:latest', null, 5), { hold: true, why: 'evicted', untilMs: null });
  assert.deepEqual(judgeHold(s, 'b:latest', set(), 5), { hold: false });
  assert.equal(s.evictedBy, null);
});

test('evictedByLoad: the other keep_warm models listed before the load and not after it', () => {
  const keepWarm = ['a:latest', 'B:8b', 'c:latest', 'loaded:latest'];
  assert.deepEqual(
    evictedByLoad(
      keepWarm,
      'loaded:latest',
      set('a:latest', 'b:8b', 'c:latest', 'other:latest'),
      set('loaded:latest', 'c:latest'),
    ),
    ['a:latest', 'B:8b'],
  );
  // The model itself reloaded (other options) is no eviction; unknown listings say nothing.
  assert.deepEqual(evictedByLoad(keepWarm, 'loaded:latest', set('loaded:latest'), set()), []);
  assert.deepEqual(evictedByLoad(keepWarm, 'loaded:latest', null, set()), []);
  assert.deepEqual(evictedByLoad(keepWarm, 'loaded:latest', set('a:latest'), null), []);
});

test('an out-of-memory at run time (the model listed): its listing ends the hold only once it was seen unlisted', () => {
  const s = fresh();
  const oom = 'llama runner process has terminated: CUDA error: out of memory';
  holdAfterProbe(s, 'error', oom, 1000, 60_000, true);
  // 0.12 keeps the dead runner listed: the same runner, not proof that it fits.
  assert.deepEqual(judgeHold(s, 'm:latest', set('m:latest'), 2000), {
    hold: true,
    why: 'out_of_memory',
    untilMs: 61_000,
  });
  assert.deepEqual(judgeHold(s, 'm:latest', set(), 3000), { hold: true, why: 'out_of_memory', untilMs: 61_000 });
  // Unlisted, then listed again: something loaded it, and it fits.
  assert.deepEqual(judgeHold(s, 'm:latest', set('m:latest'), 4000), { hold: false });
  assert.equal(s.oomHeldUntilMs, null);
  // And once the hold is over, one more try even while it is still listed.
  holdAfterProbe(s, 'error', oom, 5000, 60_000, true);
  assert.deepEqual(judgeHold(s, 'm:latest', set('m:latest'), 65_000), { hold: false });
});
