import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, RetriesFailed, runWithRetries } from '../../../../shared/provision/run-with-retries.js';

const policy = { initialMs: 1000, maxMs: 30_000 };

test('doubles per retry, jittered within the upper half of the step', () => {
  for (const [retry, ceiling] of [
    [0, 1000],
    [1, 2000],
    [2, 4000],
    [3, 8000],
  ] as const) {
    assert.equal(
      backoffDelay(retry, policy, () => 0),
      ceiling / 2,
      `retry ${retry}, lowest jitter`,
    );
    assert.equal(
      backoffDelay(retry, policy, () => 0.999999),
      ceiling,
      `retry ${retry}, highest jitter`,
    );
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
  assert.equal(
    backoffDelay(-3, policy, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(0, policy, () => 7),
    1000,
  );
  assert.equal(
    backoffDelay(0, policy, () => -1),
    500,
  );
});

test('default randomness stays within bounds', () => {
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(2, policy);
    assert.ok(d >= 2000 && d <= 4000, `delay ${d}`);
  }
});

const backoff = { initialMs: 100, maxMs: 1_000 };

function recorder() {
  const sleeps: number[] = [];
  return { sleeps, sleep: async (ms: number) => void sleeps.push(ms) };
}

test('returns the value and the attempt count after transient failures, sleeping with backoff', async () => {
  const { sleeps, sleep } = recorder();
  const failures: Array<{ attempt: number; retryInMs?: number }> = [];
  let calls = 0;
  const result = await runWithRetries(
    async (attempt) => {
      calls++;
      assert.equal(attempt, calls);
      if (attempt < 3) throw new Error(`fail ${attempt}`);
      return 'ok';
    },
    {
      retries: 5,
      backoff,
      isPermanent: () => false,
      sleep,
      random: () => 0.999999,
      onFailure: (e) =>
        failures.push({ attempt: e.attempt, ...(e.retryInMs !== undefined ? { retryInMs: e.retryInMs } : {}) }),
    },
  );
  assert.deepEqual(result, { value: 'ok', attempts: 3 });
  assert.deepEqual(sleeps, [100, 200]);
  assert.deepEqual(failures, [
    { attempt: 1, retryInMs: 100 },
    { attempt: 2, retryInMs: 200 },
  ]);
});

test('gives up after retries + 1 attempts with the last error', async () => {
  const { sleeps, sleep } = recorder();
  let calls = 0;
  await assert.rejects(
    runWithRetries(
      async () => {
        calls++;
        throw new Error(`boom ${calls}`);
      },
      { retries: 2, backoff, isPermanent: () => false, sleep, random: () => 0 },
    ),
    (err: unknown) => {
      assert.ok(err instanceof RetriesFailed);
      assert.equal(err.attempts, 3);
      assert.equal(err.permanent, false);
      assert.equal((err.last as Error).message, 'boom 3');
      return true;
    },
  );
  assert.equal(calls, 3);
  assert.equal(sleeps.length, 2);
});

test('a permanent error stops at once', async () => {
  const { sleeps, sleep } = recorder();
  let calls = 0;
  const seen: boolean[] = [];
  await assert.rejects(
    runWithRetries(
      async () => {
        calls++;
        throw new Error('file does not exist');
      },
      { retries: 5, backoff, isPermanent: () => true, sleep, onFailure: (e) => seen.push(e.permanent) },
    ),
    (err: unknown) => err instanceof RetriesFailed && err.permanent && err.attempts === 1,
  );
  assert.equal(calls, 1);
  assert.deepEqual(sleeps, []);
  assert.deepEqual(seen, [true]);
});

test('a shutdown during the (one-minute) backoff rejects with the abort at once, not RetriesFailed', async () => {
  const controller = new AbortController();
  const run = runWithRetries(
    async () => {
      throw new Error('refused');
    },
    { retries: 5, backoff: { initialMs: 60_000, maxMs: 60_000 }, isPermanent: () => false, signal: controller.signal },
  );
  setTimeout(() => controller.abort(new Error('SIGTERM')), 20);
  await assert.rejects(run, (err: unknown) => !(err instanceof RetriesFailed));
});
