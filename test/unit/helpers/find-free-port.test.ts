import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { findFreePort } from '../../helpers/find-free-port.js';

test('returns a port that can then be bound on 127.0.0.1', async () => {
  const port = await findFreePort();
  assert.ok(port > 0 && port < 65536);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('does not return a port that is in use', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const busy = (server.address() as { port: number }).port;
    const ports = await Promise.all(Array.from({ length: 5 }, () => findFreePort()));
    assert.ok(!ports.includes(busy));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
