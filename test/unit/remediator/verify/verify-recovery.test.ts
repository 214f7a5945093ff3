import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig, OllamaTargetConfig } from '../../../../shared/config/types.js';
import type { ComputeApp } from '../../../../shared/gpu/parse-compute-apps.js';
import { verifyRecovery } from '../../../../remediator/verify/verify-recovery.js';
import { startLocalServer } from '../../../helpers/local-server.js';
import { startFakeDockerEngine } from '../../../helpers/fake-docker-engine.js';
import { FakeProc } from '../../../helpers/fake-proc.js';
import { testDeps } from '../../../helpers/action-test-deps.js';

const GIB = 1024 ** 3;
const TARGET = '1'.repeat(64);
const model: ModelConfig = {
  name: 'qwen3:8b',
  keep_alive: '24h',
  keep_warm: true,
  min_vram_ratio: 0.9,
  options: { num_ctx: 4096 },
  targets: [],
};

async function setup(t: import('node:test').TestContext, opts: { hang?: boolean; sizeVram?: number }) {
  const generateBodies: Record<string, unknown>[] = [];
  const ollama = await startLocalServer((req, res) => {
    if (req.url === '/api/generate') {
      generateBodies.push(JSON.parse(req.body) as Record<string, unknown>);
      if (opts.hang) return; // never answers: the deadline must end it
      res.setHeader('content-type', 'application/x-ndjson');
      res.end(
        '{"response":"Hel","done":false}\n{"response":"","done":true,"done_reason":"length","load_duration":1200000}\n',
      );
    } else if (req.url === '/api/version') {
      res.setHeader('content-type', 'application/json');
      res.end('{"version":"0.12.3"}');
    } else if (req.url === '/api/ps') {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          models: [
            { name: model.name, model: model.name, size: 6 * GIB, size_vram: opts.sizeVram ?? 6 * GIB, digest: 'd' },
          ],
        }),
      );
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  const engine = await startFakeDockerEngine((r) => {
    if (r.path === '/containers/json')
      return { status: 200, json: [{ Id: TARGET, Names: ['/ollama'], Labels: {}, State: 'running' }] };
    if (r.path === `/containers/${TARGET}/json`) {
      return {
        status: 200,
        json: {
          Id: TARGET,
          Name: '/ollama',
          Image: 'i',
          Config: { Image: 'ollama/ollama', Labels: {} },
          State: { Running: true, Pid: 100, StartedAt: '2026-01-01T00:00:00Z', Status: 'running' },
        },
      };
    }
    return undefined;
  });
  const proc = await FakeProc.create();
  await proc.add(100, {
    comm: 'ollama',
    ppid: 1,
    startTime: 1,
    argv: ['/bin/ollama', 'serve'],
    exe: '/bin/ollama',
    containerId: TARGET,
    nsPids: [100, 1],
  });
  await proc.add(101, {
    comm: 'ollama',
    ppid: 100,
    startTime: 2,
    argv: ['/usr/bin/ollama', 'runner', '--model', '/b', '--port', '1'],
    exe: '/usr/bin/ollama',
    containerId: TARGET,
    nsPids: [101, 7],
  });
  await proc.add(300, {
    comm: 'ollama',
    ppid: 1,
    startTime: 3,
    argv: ['/usr/bin/ollama', 'runner', '--model', '/b', '--port', '2'],
    exe: '/usr/bin/ollama',
    containerId: '9'.repeat(64),
    nsPids: [300, 7],
  });
  t.after(async () => {
    await ollama.close();
    await engine.close();
    await proc.dispose();
  });
  const target: OllamaTargetConfig = {
    name: 'main',
    url: ollama.url,
    headers: {},
    container: { kind: 'container', name: 'ollama' },
  };
  return { target, engine, proc, generateBodies };
}

const opts = () => ({ signal: AbortSignal.timeout(20_000), loadTimeoutMs: 2_000, firstTokenTimeoutMs: 2_000 });

test('healthy when the probe answers and the target runner holds the VRAM; the probe keeps the model fields', async (t) => {
  const s = await setup(t, {});
  const apps: ComputeApp[] = [
    { gpuUuid: 'G0', pid: 101, processName: '/usr/bin/ollama', usedMemoryBytes: 5.6 * GIB },
    { gpuUuid: 'G0', pid: 300, processName: '/usr/bin/ollama', usedMemoryBytes: 20 * GIB },
  ];
  const deps = testDeps(s.engine.docker, { procRoot: s.proc.root, queryComputeApps: async () => apps });
  const v = await verifyRecovery(s.target, model, deps, opts());
  assert.equal(v.healthy, true, v.detail);
  assert.equal(v.evidence.vramSource, 'gpu_processes');
  assert.match(v.detail, /GPU processes \(101\) hold 5\.60 GiB >= 0\.9 x 6\.00 GiB/);
  assert.deepEqual(s.generateBodies, [
    { model: 'qwen3:8b', prompt: 'Hi', keep_alive: '24h', options: { num_ctx: 4096, num_predict: 1 }, stream: true },
  ]);
});

test('unhealthy when another container holds the memory and the target holds nothing (GPU lost, ps still says 100%)', async (t) => {
  const s = await setup(t, {});
  const apps: ComputeApp[] = [{ gpuUuid: 'G0', pid: 300, processName: '/usr/bin/ollama', usedMemoryBytes: 20 * GIB }];
  const v = await verifyRecovery(
    s.target,
    model,
    testDeps(s.engine.docker, { procRoot: s.proc.root, queryComputeApps: async () => apps }),
    opts(),
  );
  assert.equal(v.healthy, false);
  assert.match(v.detail, /hold 0\.00 GiB/);
});

test('a hung probe is unhealthy within its deadline', async (t) => {
  const s = await setup(t, { hang: true });
  const v = await verifyRecovery(s.target, model, testDeps(s.engine.docker, { procRoot: s.proc.root }), {
    ...opts(),
    loadTimeoutMs: 300,
  });
  assert.equal(v.healthy, false);
  assert.equal(v.evidence.probe.ok, false);
  assert.match(v.detail, /load_timeout|no response headers/);
});

test('nvidia-smi failing falls back to /api/ps and says so', async (t) => {
  const s = await setup(t, {});
  const deps = testDeps(s.engine.docker, {
    procRoot: s.proc.root,
    queryComputeApps: async () => {
      throw new Error('nvidia-smi timed out');
    },
  });
  const v = await verifyRecovery(s.target, model, deps, opts());
  assert.equal(v.healthy, true);
  assert.equal(v.evidence.vramSource, 'api_ps');
  assert.match(v.detail, /no GPU process data: nvidia-smi timed out/);
});

test('right after a restart, an API that is not listening yet is waited for instead of judged unhealthy', async (t) => {
  const { createServer } = await import('node:http');
  const { findFreePort } = await import('../../../helpers/find-free-port.js');
  const port = await findFreePort();
  // Nothing listens on the port for the first 600 ms (connection refused), then a healthy Ollama does.
  const server = createServer((req, res) => {
    res.setHeader('content-type', req.url === '/api/generate' ? 'application/x-ndjson' : 'application/json');
    if (req.url === '/api/version') res.end('{"version":"0.12.3"}');
    else if (req.url === '/api/generate')
      res.end('{"response":"","done":true,"done_reason":"length","load_duration":1200000}\n');
    else if (req.url === '/api/ps')
      res.end(
        JSON.stringify({
          models: [{ name: model.name, model: model.name, size: 6 * GIB, size_vram: 6 * GIB, digest: 'd' }],
        }),
      );
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  const late = setTimeout(() => server.listen(port, '127.0.0.1'), 600);
  t.after(() => {
    clearTimeout(late);
    server.close();
  });
  const target: OllamaTargetConfig = { name: 'main', url: `http://127.0.0.1:${port}`, headers: {} };
  const deps = testDeps({} as never, { procRoot: '/nonexistent', queryComputeApps: async () => [] });
  const v = await verifyRecovery(target, model, deps, {
    signal: new AbortController().signal,
    loadTimeoutMs: 10_000,
    firstTokenTimeoutMs: 2_000,
  });
  assert.equal(v.evidence.probe.ok, true, v.detail);
  assert.equal(v.evidence.ps.listed, true);
});
