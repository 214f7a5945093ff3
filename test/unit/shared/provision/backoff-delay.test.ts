import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../../../../shared/provision/backoff-delay.js';

const policy = { initialMs: 1000, maxMs: 30_000 };

test('doubles per retry, jittered within the upper half of the step', () => {
  for (const [retry, ceiling] of [[0, 1000], [1, 2000], [2, 4000], [3, 8000]] as const) {
    assert.equal(backoffDelay(retry, policy, () => 0), ceiling / 2, `retry ${retry}, lowest jitter`);
    assert.equal(backoffDelay(retry, policy, () => 0.999999), ceiling, `retry ${retry}, highest jitter`);
  }
});

test('never exceeds the cap, even after jitter and for huge retry numbers', () => {
  for (const retry of [5, 6, 10, 100, 10_000]) {
    const high = backoffDelay(retry, policy, () => 0.999999);
    const low = backoffDelay(retry, policy, () => 0);
    assert.equal(high, 30_000);
    assert.equal(low, 15_000);
  }
});

test('out-of-range random values and negative retries are clamped', () => {
  assert.equal(backoffDelay(-3, policy, () => 0), 500);
  assert.equal(backoffDelay(0, policy, () => 7), 1000);
  assert.equal(backoffDelay(0, policy, () => -1), 500);
});

test('default randomness stays within bounds', () => {
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(2, policy);
    assert.ok(d >= 2000 && d <= 4000, `delay ${d}`);
  }
});
