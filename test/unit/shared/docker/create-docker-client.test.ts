import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createDockerClient, parseDockerHost } from '../../../../shared/docker/create-docker-client.js';
import type { DockerApi } from '../../../../shared/docker/docker-api.js';

/** A stand-in Engine answering GET /containers/json, or never answering when `hang` is set. */
function fakeEngine(hang = false): { server: Server; paths: string[] } {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    if (hang) return; // never answers: the client's timeout must end the request
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify([{ Id: 'a'.repeat(64), Names: ['/ollama'], Labels: {}, State: 'running' }]));
  });
  return { server, paths };
}

function listen(server: Server, where: string | number): Promise<void> {
  return new Promise((resolve) => server.listen(where as never, '127.0.0.1', () => resolve()));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

test('createDockerClient: unix:// host reaches that socket, whatever DOCKER_HOST says', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-docker-'));
  const socket = join(dir, 'docker.sock');
  const { server, paths } = fakeEngine();
  await new Promise<void>((resolve) => server.listen(socket, () => resolve()));
  const saved = process.env.DOCKER_HOST;
  // A misleading environment must not redirect the configured client (docker-modem reads it for its defaults).
  process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
  t.after(async () => {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
    await close(server);
    await rm(dir, { recursive: true, force: true });
  });
  const docker: DockerApi = createDockerClient({ host: `unix://${socket}`, timeout_ms: 2000 });
  const list = await docker.listContainers({ filters: { status: ['running'] } });
  assert.deepEqual(
    list.map((c) => c.Names),
    [['/ollama']],
  );
  assert.match(paths[0]!, /^\/containers\/json\?/);
});

test('createDockerClient: tcp:// host on 127.0.0.1 and a free port', async (t) => {
  const { server, paths } = fakeEngine();
  await listen(server, 0);
  t.after(() => close(server));
  const port = (server.address() as AddressInfo).port;
  const docker = createDockerClient({ host: `tcp://127.0.0.1:${port}`, timeout_ms: 2000 });
  const list = await docker.listContainers({});
  assert.equal(list.length, 1);
  assert.equal(paths.length, 1);
});

test('createDockerClient: a daemon that never answers fails after timeout_ms', async (t) => {
  const { server } = fakeEngine(true);
  await listen(server, 0);
  t.after(() => close(server));
  const port = (server.address() as AddressInfo).port;
  const docker = createDockerClient({ host: `tcp://127.0.0.1:${port}`, timeout_ms: 150 });
  const started = Date.now();
  await assert.rejects(docker.listContainers({}));
  assert.ok(Date.now() - started < 2000, 'timed out promptly');
});

test('createDockerClient: an AbortSignal ends a call before the timeout', async (t) => {
  const { server } = fakeEngine(true);
  await listen(server, 0);
  t.after(() => close(server));
  const port = (server.address() as AddressInfo).port;
  const docker = createDockerClient({ host: `tcp://127.0.0.1:${port}`, timeout_ms: 60_000 });
  await assert.rejects(docker.listContainers({ abortSignal: AbortSignal.timeout(100) }));
});

test('parseDockerHost: unix socket URL and bare path', () => {
  assert.deepEqual(parseDockerHost('unix:///var/run/docker.sock'), {
    kind: 'unix',
    socketPath: '/var/run/docker.sock',
  });
  assert.deepEqual(parseDockerHost('/run/user/1000/docker.sock'), {
    kind: 'unix',
    socketPath: '/run/user/1000/docker.sock',
  });
});

test('parseDockerHost: tcp, http and https with explicit ports, IPv6 in brackets', () => {
  assert.deepEqual(parseDockerHost('tcp://127.0.0.1:2375'), {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 2375,
    protocol: 'http',
  });
  assert.deepEqual(parseDockerHost('https://docker.example:2376/'), {
    kind: 'tcp',
    host: 'docker.example',
    port: 2376,
    protocol: 'https',
  });
  assert.deepEqual(parseDockerHost('tcp://[::1]:2375'), { kind: 'tcp', host: '::1', port: 2375, protocol: 'http' });
});

test('parseDockerHost: rejects what it cannot reach unambiguously', () => {
  assert.throws(() => parseDockerHost('unix://relative.sock'), /absolute/);
  assert.throws(() => parseDockerHost('tcp://127.0.0.1'), /tcp:\/\/HOST:PORT/);
  assert.throws(() => parseDockerHost('ssh://me@host'), /expected/);
  assert.throws(() => parseDockerHost('tcp://127.0.0.1:0'), /range/);
  assert.throws(() => parseDockerHost(''), /expected/);
});
