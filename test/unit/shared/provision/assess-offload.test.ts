import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningModel } from '../../../../shared/ollama/parse-ps.js';
import { assessOffload } from '../../../../shared/provision/assess-offload.js';

const entry = (size: number, size_vram: number): RunningModel => ({
  name: 'm:1',
  model: 'm:1',
  size,
  size_vram,
  digest: 'd',
  stopping: false,
});

test('all in VRAM is healthy', () => {
  assert.deepEqual(assessOffload(entry(1000, 1000), 0.9), { ok: true, kind: 'gpu', ratio: 1 });
});

test('mostly in VRAM above the minimum is healthy but marked partial', () => {
  const v = assessOffload(entry(1000, 950), 0.9);
  assert.equal(v.ok, true);
  assert.equal(v.kind, 'partial');
  assert.equal(v.ratio, 0.95);
});

test('below the minimum is a partial offload failure naming both numbers', () => {
  const v = assessOffload(entry(1000, 450), 0.9);
  assert.equal(v.ok, false);
  assert.equal(v.kind, 'partial');
  assert.equal(v.ratio, 0.45);
  assert.match(v.problem!, /only 45% in VRAM/);
  assert.match(v.problem!, /at least 90%/);
});

test('size_vram 0 is the CPU fallback', () => {
  const v = assessOffload(entry(1000, 0), 0);
  assert.equal(v.ok, false, 'even with min ratio 0: a model on the CPU alone is never accepted');
  assert.equal(v.kind, 'cpu');
  assert.match(v.problem!, /100% on the CPU/);
});

test('missing from /api/ps or size 0 cannot be judged', () => {
  assert.equal(assessOffload(undefined, 0.9).kind, 'missing');
  assert.equal(assessOffload(undefined, 0.9).ok, false);
  assert.equal(assessOffload(entry(0, 0), 0.9).kind, 'unknown');
});

test('size_vram above size (Ollama shows "Unknown") is capped at 1', () => {
  assert.equal(assessOffload(entry(1000, 1200), 1).ratio, 1);
});
