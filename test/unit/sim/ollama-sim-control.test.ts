import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive } from '../../../shared/proc/read-process-identity.js';
import { readGpuState } from '../../sim/gpu-state.js';
import { fakeNvidiaSmi, defaultFixturesDir } from '../../sim/fake-nvidia-smi.js';
import { prepareOllamaExecutableDir } from '../../sim/prepare-ollama-executable-dir.js';
import { SimControl } from '../../sim/sim-control.js';
import { post, withSim } from '../../helpers/with-sim.js';

test('forced answers hit one endpoint N times; the request log shows what clients sent', async (t) => {
  const { sim } = await withSim(t, { models: ['llama3'] });
  await sim.control.forceAnswer({ endpoint: '/api/generate', status: 503, count: 1 });
  const busy = await post(sim, '/api/generate', { model: 'llama3', keep_alive: -1, options: { num_ctx: 8192 } });
  assert.deepEqual(
    [busy.status, busy.json()],
    [503, { error: 'server busy, please try again.  maximum pending requests exceeded' }],
  );
  assert.equal((await post(sim, '/api/generate', { model: 'llama3' })).status, 200);
  await sim.control.forceAnswer({ endpoint: '*', status: 500, message: 'boom' });
  assert.deepEqual(await (await fetch(sim.url + '/api/version')).json(), { error: 'boom' });
  await sim.control.clearForcedAnswers();
  assert.equal((await fetch(sim.url + '/api/version')).status, 200);

  const log = await sim.control.requests();
  const first = log.find((r) => r.path === '/api/generate')!;
  assert.deepEqual(first.body, { model: 'llama3', keep_alive: -1, options: { num_ctx: 8192 } });
  assert.equal(first.method, 'POST');
  await sim.control.clearRequests();
  assert.deepEqual(await sim.control.requests(), []);
});

test('hung generate: no answer until the fault is cleared, while /api/version still answers', async (t) => {
  const { sim } = await withSim(t, { models: ['qwen2.5:0.5b'] });
  await sim.control.setHangGenerate('headers');
  const pending = fetch(sim.url + '/api/generate', {
    method: 'POST',
    body: JSON.stringify({ model: 'qwen2.5:0.5b', prompt: 'x', stream: false }),
  });
  const res = await pending; // headers arrive...
  assert.equal(res.status, 200);
  const body = res.text();
  const early = await Promise.race([body.then(() => 'answered'), new Promise((r) => setTimeout(() => r('hung'), 200))]);
  assert.equal(early, 'hung');
  assert.equal((await fetch(sim.url + '/api/version')).status, 200);
  await sim.control.setHangGenerate(false);
  assert.equal(JSON.parse(await body).done, true);

  await sim.control.setHangGenerate('nothing');
  const ac = new AbortController();
  const nothing = fetch(sim.url + '/api/generate', {
    method: 'POST',
    body: JSON.stringify({ model: 'qwen2.5:0.5b', prompt: 'x' }),
    signal: ac.signal,
  });
  const r2 = await Promise.race([
    nothing.then(() => 'headers'),
    new Promise((r) => setTimeout(() => r('nothing'), 200)),
  ]);
  assert.equal(r2, 'nothing');
  ac.abort();
  await assert.rejects(nothing);
});

test('flaky connections are destroyed; the control token guards /_sim/', async (t) => {
  const { sim } = await withSim(t, { controlToken: 's3cret' });
  const noToken = await fetch(sim.url + '/_sim/state');
  assert.equal(noToken.status, 401);
  await sim.control.flakyConnections(1);
  await assert.rejects(fetch(sim.url + '/api/version'));
  assert.equal((await fetch(sim.url + '/api/version')).status, 200);
  await assert.rejects(new SimControl(sim.url, 'wrong').state(), /401/);
});

test('"GPU lost inside the container" reaches the in-container nvidia-smi through the state file only', async (t) => {
  const { sim, gpuFile } = await withSim(t);
  await sim.control.setContainerGpuLost(true);
  const state = readGpuState(gpuFile);
  assert.equal(state.containerNvmlLost, true);
  const ctx = { fixturesDir: defaultFixturesDir(), now: new Date() };
  assert.equal(fakeNvidiaSmi(['-L'], state, { ...ctx, inContainer: true }).exitCode, 255);
  assert.equal(fakeNvidiaSmi(['-L'], state, { ...ctx, inContainer: false }).exitCode, 0);
  await sim.control.reset();
  assert.equal(readGpuState(gpuFile).containerNvmlLost, false);
});

test('models can be added and removed through the control API', async (t) => {
  const { sim } = await withSim(t);
  await sim.control.addModel('custom/thing:1b', 123_456);
  const tags = (await (await fetch(sim.url + '/api/tags')).json()) as { models: any[] };
  assert.deepEqual(
    tags.models.map((m) => [m.name, m.size]),
    [['custom/thing:1b', 123_456]],
  );
  await sim.control.removeModel('custom/thing:1b');
  assert.equal((await post(sim, '/api/show', { model: 'custom/thing:1b' })).status, 404);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

test('the CLI runs as `ollama serve`, starts late with --start-delay-ms, and SIGTERM stops it and its runners', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-cli-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const exe = prepareOllamaExecutableDir(join(dir, 'bin'), {
    simMainPath: fileURLToPath(new URL('../../sim/ollama-sim-main.js', import.meta.url)),
  });
  const port = await freePort();
  const child = spawn(
    exe.executable,
    [
      'serve',
      '--port',
      String(port),
      '--models',
      'qwen2.5:0.5b',
      '--start-delay-ms',
      '300',
      '--gpu-state',
      join(dir, 'gpu.state'),
    ],
    {
      cwd: exe.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  t.after(() => {
    child.kill('SIGKILL');
  });
  child.stderr.resume();
  assert.deepEqual(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean), [
    exe.executable,
    'serve',
    '--port',
    String(port),
    '--models',
    'qwen2.5:0.5b',
    '--start-delay-ms',
    '300',
    '--gpu-state',
    join(dir, 'gpu.state'),
  ]);
  assert.equal(readlinkSync(`/proc/${child.pid}/exe`), exe.executable);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/`), 'not listening during the start delay');
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  assert.equal(await (await fetch(url + '/')).text(), 'Ollama is running');
  await fetch(url + '/api/generate', { method: 'POST', body: JSON.stringify({ model: 'qwen2.5:0.5b' }) });
  const state = await new SimControl(url).state();
  const runnerPid = state.runners[0]!.pid!;
  assert.equal(readlinkSync(`/proc/${runnerPid}/exe`), exe.executable, 'runners come from the same folder');
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.equal(alive(runnerPid), false, 'runner stopped with the server');
  assert.equal(readGpuState(join(dir, 'gpu.state')).procs.length, 0);
});
