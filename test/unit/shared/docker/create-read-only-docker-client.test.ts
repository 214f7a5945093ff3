import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createReadOnlyDockerClient,
  DockerEngineError,
} from '../../../../shared/docker/create-read-only-docker-client.js';
import { isDockerNotFound } from '../../../../shared/docker/docker-api.js';
import { resolveTargetContainers } from '../../../../shared/docker/resolve-target-containers.js';
import { readDockerStats } from '../../../../shared/docker/read-docker-stats.js';
import { startFakeDockerEngine, type EngineReply, type EngineRequest } from '../../../helpers/fake-docker-engine.js';
import { hexId } from '../../../helpers/fake-docker-api.js';

const ID = hexId('ollama');
const LABELS = { 'com.docker.compose.project': 'ai', 'com.docker.compose.service': 'ollama' };

/** The Engine's answers for one running compose container, as a daemon of API 1.4x writes them (fields trimmed). */
function engineRoutes(req: EngineRequest): EngineReply {
  if (req.method !== 'GET') return { status: 405, json: { message: 'read-only fake' } };
  if (req.path === '/containers/json')
    return { status: 200, json: [{ Id: ID, Names: ['/ai-ollama-1'], Labels: LABELS, State: 'running' }] };
  if (req.path === `/containers/${ID}/json`)
    return {
      status: 200,
      json: {
        Id: ID,
        Name: '/ai-ollama-1',
        Image: `sha256:${'f'.repeat(64)}`,
        Config: { Image: 'ollama/ollama:0.12.3', Labels: LABELS },
        State: { Running: true, Pid: 4242, StartedAt: '2026-11-22T10:00:00.123456789Z', Status: 'running' },
      },
    };
  if (req.path === `/containers/${ID}/stats`)
    return {
      status: 200,
      json: {
        cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 } },
        memory_stats: { usage: 1_000_000, stats: { inactive_file: 200_000 } },
        blkio_stats: { io_service_bytes_recursive: null },
      },
    };
  if (req.path === '/info')
    return { status: 200, json: { Name: 'gpu-1', Swarm: { NodeID: 'n0d3', LocalNodeState: 'active' } } };
  if (req.path.startsWith('/containers/'))
    return { status: 404, json: { message: `No such container: ${req.path.split('/')[2]}` } };
  return undefined;
}

test('read-only client: the reads attribution and container metrics make, over a unix socket, all GET', async (t) => {
  const engine = await startFakeDockerEngine(engineRoutes);
  t.after(() => engine.close());
  const docker = createReadOnlyDockerClient({ host: `unix://${engine.socketPath}`, timeout_ms: 2000 });

  const found = await resolveTargetContainers(docker, { kind: 'compose', project: 'ai', service: 'ollama' });
  assert.deepEqual(
    found.map((c) => [c.name, c.pid, c.image]),
    [['ai-ollama-1', 4242, 'ollama/ollama:0.12.3']],
  );
  const usage = await readDockerStats(docker, ID);
  assert.deepEqual(usage, { cpuSeconds: 3, memoryBytes: 800_000, ioReadBytes: 0, ioWriteBytes: 0, source: 'docker' });
  const info = await docker.info();
  assert.deepEqual([info.Name, info.Swarm?.NodeID, info.Swarm?.LocalNodeState], ['gpu-1', 'n0d3', 'active']);

  // dockerode's encoding: filters as JSON, stats as one sample without the daemon's second read.
  const list = engine.requests[0]!;
  assert.equal(list.path, '/containers/json');
  assert.equal(list.query.get('all'), 'false');
  assert.deepEqual(JSON.parse(list.query.get('filters')!), {
    label: ['com.docker.compose.project=ai', 'com.docker.compose.service=ollama'],
    status: ['running'],
  });
  const stats = engine.requests.find((r) => r.path.endsWith('/stats'))!;
  assert.deepEqual(Object.fromEntries(stats.query), { stream: 'false', 'one-shot': 'true' });
  assert.deepEqual(
    engine.requests.map((r) => `${r.method} ${r.path}`),
    ['GET /containers/json', `GET /containers/${ID}/json`, `GET /containers/${ID}/stats`, 'GET /info'],
  );
});

test('read-only client: the Engine status and message reach the caller; 404 reads as "gone"', async (t) => {
  const engine = await startFakeDockerEngine((req) =>
    req.path === '/info' ? { status: 500, json: { message: 'daemon is shutting down' } } : engineRoutes(req),
  );
  t.after(() => engine.close());
  const docker = createReadOnlyDockerClient({ host: engine.socketPath, timeout_ms: 2000 });
  const gone = hexId('gone');
  const notFound = await docker
    .getContainer(gone)
    .inspect()
    .then(
      () => assert.fail('inspect of an unknown id resolved'),
      (err: unknown) => err,
    );
  assert.ok(notFound instanceof DockerEngineError);
  assert.equal(isDockerNotFound(notFound), true);
  assert.equal(notFound.message, `(HTTP code 404) no such container - No such container: ${gone}`);
  await assert.rejects(docker.info(), (err: DockerEngineError) => {
    assert.equal(err.statusCode, 500);
    assert.equal(isDockerNotFound(err), false);
    assert.match(err.message, /^\(HTTP code 500\) server error - daemon is shutting down$/);
    return true;
  });
});

test('read-only client: an id cannot leave its path segment', async (t) => {
  const engine = await startFakeDockerEngine(engineRoutes);
  t.after(() => engine.close());
  const docker = createReadOnlyDockerClient({ host: `unix://${engine.socketPath}`, timeout_ms: 2000 });
  await assert.rejects(docker.getContainer('../../info?x=').inspect(), (err) => isDockerNotFound(err));
  assert.deepEqual(
    engine.requests.map((r) => `${r.method} ${r.path}`),
    ['GET /containers/..%2F..%2Finfo%3Fx%3D/json'],
  );
});

/** A TCP stand-in Engine: `answer` writes the response (or nothing, to hang). */
async function tcpEngine(answer: (res: ServerResponse) => void): Promise<{ server: Server; host: string }> {
  const server = createServer((_req, res) => answer(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, host: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

test('read-only client: tcp:// host, and DOCKER_HOST in the environment does not redirect it', async (t) => {
  const { server, host } = await tcpEngine((res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ Name: 'tcp-engine' }));
  });
  const saved = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = 'tcp://127.0.0.1:1';
  t.after(async () => {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
    await close(server);
  });
  const info = await createReadOnlyDockerClient({ host, timeout_ms: 2000 }).info();
  assert.equal(info.Name, 'tcp-engine');
});

test('read-only client: a daemon that never answers fails after timeout_ms, naming the setting', async (t) => {
  const { server, host } = await tcpEngine(() => undefined);
  t.after(() => close(server));
  const started = Date.now();
  await assert.rejects(
    createReadOnlyDockerClient({ host, timeout_ms: 150 }).listContainers({}),
    /GET \/containers\/json on the Docker Engine at tcp:\/\/127\.0\.0\.1:\d+: no answer for 150 ms \(docker\.timeout\)/,
  );
  assert.ok(Date.now() - started < 2000, 'timed out promptly');
});

test('read-only client: an AbortSignal ends a call before the timeout, also while the body is arriving', async (t) => {
  const { server, host } = await tcpEngine(() => undefined);
  const { server: slow, host: slowHost } = await tcpEngine((res) => {
    res.setHeader('content-type', 'application/json');
    res.write('{"Name": "half an answer'); // headers sent, the body never finishes
  });
  t.after(async () => {
    await close(server);
    await close(slow);
  });
  await assert.rejects(
    createReadOnlyDockerClient({ host, timeout_ms: 60_000 }).listContainers({ abortSignal: AbortSignal.timeout(100) }),
    { name: 'AbortError' },
  );
  await assert.rejects(
    createReadOnlyDockerClient({ host: slowHost, timeout_ms: 60_000 }).info({ abortSignal: AbortSignal.timeout(100) }),
    { name: 'AbortError' },
  );
});

test('read-only client: a 200 that is not JSON is an error saying so, not a value', async (t) => {
  const { server, host } = await tcpEngine((res) => res.end('<html>proxy login</html>'));
  t.after(() => close(server));
  await assert.rejects(createReadOnlyDockerClient({ host, timeout_ms: 2000 }).info(), /the answer is not JSON: <html>/);
});

test('read-only client: the object offers reads only', () => {
  const docker = createReadOnlyDockerClient({ host: 'unix:///nonexistent/docker.sock', timeout_ms: 1000 });
  assert.deepEqual(Object.keys(docker).sort(), ['getContainer', 'info', 'listContainers']);
  assert.deepEqual(Object.keys(docker.getContainer(ID)).sort(), ['inspect', 'stats']);
  assert.equal(Object.isFrozen(docker), true);
});
