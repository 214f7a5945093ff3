import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { findFreePort } from '../../helpers/find-free-port.js';
import { waitFor } from '../../helpers/wait-for.js';
import { waitForUrl } from '../../helpers/wait-for-url.js';

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

test('waits through refused connections and 503s until the URL answers 200', async () => {
  const port = await findFreePort();
  let hits = 0;
  const server = createServer((_req, res) => {
    hits += 1;
    res.statusCode = hits < 3 ? 503 : 200;
    res.end(hits < 3 ? 'starting' : 'ready');
  });
  // Listen only later: the first attempts see ECONNREFUSED.
  const timer = setTimeout(() => void listen(server, port), 300);
  try {
    const answer = await waitForUrl(`http://127.0.0.1:${port}/-/ready`, 10_000, { intervalMs: 50 });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, 'ready');
    assert.equal(hits, 3);
  } finally {
    clearTimeout(timer);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('times out naming the URL and the last answer', async () => {
  const server = createServer((_req, res) => {
    res.statusCode = 500;
    res.end('broken');
  });
  const port = await listen(server);
  try {
    await assert.rejects(waitForUrl(`http://127.0.0.1:${port}/x`, 400, { intervalMs: 50 }), (error: Error) => {
      assert.match(error.message, /timed out after 400 ms waiting for http:\/\/127\.0\.0\.1:\d+\/x/);
      assert.match(error.message, /HTTP 500 broken/);
      return true;
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('accept() decides which answer counts', async () => {
  const server = createServer((_req, res) => {
    res.statusCode = 404;
    res.end('nope');
  });
  const port = await listen(server);
  try {
    const answer = await waitForUrl(`http://127.0.0.1:${port}/`, 5000, { accept: (r) => r.status === 404 });
    assert.equal(answer.body, 'nope');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('waitFor returns the first truthy value and reports the last error on timeout', async () => {
  let calls = 0;
  assert.equal(
    await waitFor(() => (++calls >= 3 ? `after ${calls}` : undefined), { timeoutMs: 5000, intervalMs: 10 }),
    'after 3',
  );
  await assert.rejects(
    waitFor(
      () => {
        throw new Error('still broken');
      },
      { timeoutMs: 100, intervalMs: 10, what: 'the thing' },
    ),
    /timed out after 100 ms waiting for the thing; last error: still broken/,
  );
});
