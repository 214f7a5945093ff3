import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OllamaClient } from '../../../../shared/ollama/ollama-client.js';
import { OllamaError } from '../../../../shared/ollama/ollama-error.js';
import { waitForOllama } from '../../../../shared/provision/wait-for-ollama.js';
import { findFreePort } from '../../../helpers/find-free-port.js';
import { startOllamaSim } from '../../../sim/ollama-sim.js';
import { closedPort, json, startLocalServer } from '../../../helpers/local-server.js';

const backoff = { initialMs: 40, maxMs: 200 };
const client = (url: string) => new OllamaClient({ name: 'sim', url, headers: {} });

test('slow start: keeps trying with backoff and succeeds once Ollama listens', async () => {
  const port = await findFreePort();
  const simStarting = startOllamaSim({ port, startDelayMs: 700 });
  try {
    const failures: Array<{ attempt: number; reason: string; retryInMs?: number }> = [];
    const result = await waitForOllama(client(`http://127.0.0.1:${port}`), {
      timeoutMs: 20_000,
      backoff,
      onAttemptFailed: (e) =>
        failures.push({
          attempt: e.attempt,
          reason: e.error.reason,
          ...(e.retryInMs !== undefined ? { retryInMs: e.retryInMs } : {}),
        }),
    });
    assert.equal(result.ok, true);
    assert.ok(result.ok && result.version === '0.12.6');
    assert.ok(failures.length >= 1, 'at least one refused attempt before the sim listened');
    assert.equal(result.attempts, failures.length + 1);
    assert.ok(
      failures.every((f) => f.reason === 'refused' && f.retryInMs !== undefined && f.retryInMs <= backoff.maxMs),
    );
    assert.deepEqual(
      failures.map((f) => f.attempt),
      failures.map((_, i) => i + 1),
    );
  } finally {
    await (await simStarting).close();
  }
});

test('never starts: gives up at the deadline after a last attempt, reporting each attempt', async () => {
  const port = await closedPort();
  const seen: Array<number | undefined> = [];
  const result = await waitForOllama(client(`http://127.0.0.1:${port}`), {
    timeoutMs: 400,
    backoff,
    onAttemptFailed: (e) => seen.push(e.retryInMs),
  });
  assert.equal(result.ok, false);
  assert.ok(!result.ok && result.error.reason === 'refused' && result.gaveUpEarly === false);
  assert.equal(result.attempts, seen.length);
  assert.ok(seen.length >= 3, `attempts: ${seen.length}`);
  assert.equal(seen[seen.length - 1], undefined, 'the last report says no retry follows');
  assert.ok(seen.slice(0, -1).every((ms) => ms !== undefined));
});

test('a timeout of 0 makes exactly one attempt', async () => {
  const port = await closedPort();
  const result = await waitForOllama(client(`http://127.0.0.1:${port}`), { timeoutMs: 0, backoff });
  assert.equal(result.attempts, 1);
  assert.equal(result.ok, false);
});

test('flaky connections: dropped sockets are retried', async () => {
  const sim = await startOllamaSim();
  try {
    await sim.control.flakyConnections(2);
    const reasons: string[] = [];
    const result = await waitForOllama(client(sim.url), {
      timeoutMs: 10_000,
      backoff,
      onAttemptFailed: (e) => reasons.push(e.error.reason),
    });
    assert.equal(result.ok, true);
    assert.equal(result.attempts, 3);
    assert.deepEqual(reasons, ['reset', 'reset']);
  } finally {
    await sim.close();
  }
});

test('401 from an authenticating proxy ends the wait early: waiting cannot fix credentials', async () => {
  const server = await startLocalServer((_req, res) => json(res, 401, { error: 'unauthorized' }));
  try {
    const result = await waitForOllama(client(server.url), { timeoutMs: 60_000, backoff });
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.gaveUpEarly && result.error.reason === 'http_401');
    assert.equal(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

test('503 while starting up is waited out', async () => {
  let calls = 0;
  const server = await startLocalServer((_req, res) =>
    ++calls <= 2 ? json(res, 503, { error: 'starting' }) : json(res, 200, { version: '0.30.1' }),
  );
  try {
    const result = await waitForOllama(client(server.url), { timeoutMs: 10_000, backoff });
    assert.ok(result.ok && result.version === '0.30.1' && result.attempts === 3);
  } finally {
    await server.close();
  }
});

test('shutdown during the wait rejects instead of reporting unreachable', async () => {
  const port = await closedPort();
  const controller = new AbortController();
  const waiting = waitForOllama(client(`http://127.0.0.1:${port}`), {
    timeoutMs: 60_000,
    backoff: { initialMs: 30_000, maxMs: 30_000 },
    signal: controller.signal,
    onAttemptFailed: () => controller.abort(new Error('SIGTERM')),
  });
  await assert.rejects(waiting, (err: unknown) => !(err instanceof OllamaError) || err.reason === 'aborted');
});
