import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { alive } from '../../../shared/proc/read-process-identity.js';
import { readGpuState, updateGpuState } from '../../sim/gpu-state.js';
import { post, withSim } from '../../helpers/with-sim.js';

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ps = async (url: string) => ((await (await fetch(url + '/api/ps')).json()) as { models: any[] }).models;

test('a loaded model is a real `ollama runner --model B --port N` process recorded in the GPU state, gone after unload', async (t) => {
  const { sim, gpuFile } = await withSim(t, { models: ['llama3'] });
  await post(sim, '/api/generate', { model: 'llama3', keep_alive: '10m' });
  const [runner] = (await sim.control.state()).runners;
  assert.ok(runner?.pid);
  const pid = runner.pid;
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  assert.equal(cmdline[0], `${sim.executableDir}/ollama`);
  assert.deepEqual(cmdline.slice(1, 3), ['runner', '--model']);
  assert.match(cmdline[3]!, /\/blobs\/sha256-[0-9a-f]{64}$/);
  assert.deepEqual(cmdline.slice(4), ['--port', String(runner.port)]);
  assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'ollama');
  assert.equal(readlinkSync(`/proc/${pid}/exe`), `${sim.executableDir}/ollama`);
  const health = await fetch(`http://127.0.0.1:${runner.port}/health`);
  assert.equal(health.status, 200);

  const [model] = await ps(sim.url);
  assert.equal(model.size_vram, model.size, 'fits on an idle H100');
  assert.equal(model.context_length, 4096);
  const proc = readGpuState(gpuFile).procs.find((p) => p.pid === pid);
  assert.ok(proc);
  assert.equal(proc.usedMiB, Math.round(model.size_vram / 1048576));
  assert.equal(proc.name, `${sim.executableDir}/ollama`);
  assert.ok(Date.parse(model.expires_at) - Date.now() > 9 * 60_000, 'keep_alive 10m');

  await post(sim, '/api/generate', { model: 'llama3', keep_alive: 0 });
  await waitFor(() => !alive(pid));
  assert.equal(readGpuState(gpuFile).procs.length, 0);
});

test('keep_alive expiry unloads by timer; a request without keep_alive keeps the runner duration; -1 = forever', async (t) => {
  const { sim, gpuFile } = await withSim(t, { models: ['qwen2.5:0.5b', 'llama3'] });
  await post(sim, '/api/generate', { model: 'qwen2.5:0.5b', keep_alive: '150ms' });
  const pid = (await sim.control.state()).runners[0]!.pid!;
  await post(sim, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'hi', options: { num_predict: 1 } }); // no keep_alive
  await waitFor(() => !alive(pid), 2000);
  assert.deepEqual(await ps(sim.url), []);
  assert.equal(readGpuState(gpuFile).procs.length, 0);

  await post(sim, '/api/generate', { model: 'llama3', keep_alive: -1 });
  await post(sim, '/api/generate', { model: 'qwen2.5:0.5b', keep_alive: '1h' });
  const models = await ps(sim.url);
  assert.deepEqual(
    models.map((m) => m.name),
    ['llama3:latest', 'qwen2.5:0.5b'],
    'sorted by expires_at, latest first',
  );
  assert.ok(
    new Date(models[0].expires_at).getUTCFullYear() - new Date().getUTCFullYear() >= 290,
    'forever is ~292 years ahead',
  );
});

test('changed runner options force a reload; the same options reuse the runner', async (t) => {
  const { sim } = await withSim(t, { models: ['llama3'] });
  await post(sim, '/api/generate', { model: 'llama3', options: { num_ctx: 8192 } });
  const first = (await sim.control.state()).runners[0]!;
  const warm = (
    await post(sim, '/api/generate', {
      model: 'llama3',
      prompt: 'x',
      stream: false,
      options: { num_ctx: 8192, num_predict: 1 },
    })
  ).json();
  assert.equal((await sim.control.state()).runners[0]!.pid, first.pid);
  assert.ok(warm.load_duration < 5e6);
  const cold = (
    await post(sim, '/api/generate', { model: 'llama3', prompt: 'x', stream: false, options: { num_predict: 1 } })
  ).json();
  const second = (await sim.control.state()).runners[0]!;
  assert.notEqual(second.pid, first.pid, 'default num_ctx differs: reload');
  assert.equal(second.numCtx, 4096);
  assert.ok(cold.load_duration > warm.load_duration);
  await waitFor(() => !alive(first.pid!));
});

test('not enough free VRAM gives a partial offload; CPU fallback gives size_vram 0 and no GPU process', async (t) => {
  const { sim, gpuFile } = await withSim(t, { models: ['llama3', 'qwen2.5:0.5b'] });
  await updateGpuState(gpuFile, (s) => {
    s.gpus[0]!.memoryOtherUsedMiB = 81079 - 3000;
  }); // a foreign user holds most VRAM
  await post(sim, '/api/generate', { model: 'llama3' });
  const [m] = await ps(sim.url);
  assert.ok(m.size_vram > 0 && m.size_vram < m.size, 'partial offload');
  const slow = (
    await post(sim, '/api/generate', { model: 'llama3', prompt: 'x', stream: false, options: { num_predict: 2 } })
  ).json();

  await sim.control.setCpuFallback(true);
  await post(sim, '/api/generate', { model: 'qwen2.5:0.5b' });
  const q = (await ps(sim.url)).find((x) => x.name === 'qwen2.5:0.5b');
  assert.equal(q.size_vram, 0);
  const qPid = (await sim.control.state()).runners.find((r) => r.name === 'qwen2.5:0.5b')!.pid;
  assert.ok(alive(qPid!), 'the runner still exists, on CPU');
  assert.equal(
    readGpuState(gpuFile).procs.some((p) => p.pid === qPid),
    false,
  );
  const cpu = (
    await post(sim, '/api/generate', { model: 'qwen2.5:0.5b', prompt: 'x', stream: false, options: { num_predict: 2 } })
  ).json();
  assert.ok((cpu.eval_count / cpu.eval_duration) * 1e9 < 400 / 10, 'CPU speed is far below GPU speed');
  assert.ok(slow.eval_count / slow.eval_duration < 140 / 1e9);
});

test('ps lie: size_vram = size while the GPU state has no process; undone by reset', async (t) => {
  const { sim, gpuFile } = await withSim(t, { models: ['llama3'] });
  await sim.control.setCpuFallback(true);
  await post(sim, '/api/generate', { model: 'llama3' });
  await sim.control.setPsLie(true);
  const [m] = await ps(sim.url);
  assert.equal(m.size_vram, m.size);
  assert.equal(readGpuState(gpuFile).procs.length, 0);
  await sim.control.reset();
  assert.equal((await ps(sim.url))[0].size_vram, 0);
});

test('OOM on load: 500 with the CUDA text and no runner left; stuck "Stopping" keeps an expired entry', async (t) => {
  const { sim } = await withSim(t, { models: ['llama3'] });
  await sim.control.setOomOnLoad(1);
  const oom = await post(sim, '/api/generate', { model: 'llama3', prompt: 'x' });
  assert.deepEqual(
    [oom.status, oom.json()],
    [500, { error: 'llama runner process has terminated: CUDA error: out of memory' }],
  );
  assert.deepEqual(await ps(sim.url), []);
  assert.equal((await sim.control.state()).runners.length, 0);

  await post(sim, '/api/generate', { model: 'llama3' });
  const pid = (await sim.control.state()).runners[0]!.pid!;
  await sim.control.setStopping('llama3', true);
  const [m] = await ps(sim.url);
  assert.ok(Date.parse(m.expires_at) < Date.now(), 'expires_at in the past');
  assert.ok(alive(pid));
  await sim.control.setStopping('llama3', false);
  await waitFor(() => !alive(pid));
  assert.deepEqual(await ps(sim.url), []);
});

test('a runner killed from outside stays in /api/ps with its size_vram; its GPU process goes; the next request reloads', async (t) => {
  const { sim, gpuFile } = await withSim(t, { models: ['llama3'] });
  await post(sim, '/api/generate', { model: 'llama3' });
  const before = await ps(sim.url);
  const pid = (await sim.control.state()).runners[0]!.pid!;
  process.kill(pid, 'SIGKILL');
  await waitFor(() => readGpuState(gpuFile).procs.length === 0);
  await waitFor(async () => (await sim.control.state()).runners[0]?.dead === true);
  const after = await ps(sim.url);
  assert.deepEqual(
    after.map((m) => [m.name, m.size_vram]),
    before.map((m) => [m.name, m.size_vram]),
  );
  await post(sim, '/api/generate', { model: 'llama3' });
  const [runner] = (await sim.control.state()).runners;
  assert.ok(runner && runner.pid !== pid && !runner.dead, 'reloaded in a new process');
  assert.equal(readGpuState(gpuFile).procs.length, 1);
});

test('close stops every runner and clears their GPU processes', async (t) => {
  const { sim, gpuFile } = await withSim(t, { models: ['llama3', 'qwen2.5:0.5b'] });
  await post(sim, '/api/generate', { model: 'llama3' });
  await post(sim, '/api/generate', { model: 'qwen2.5:0.5b' });
  const pids = (await sim.control.state()).runners.map((r) => r.pid!);
  assert.equal(pids.length, 2);
  assert.equal(readGpuState(gpuFile).procs.length, 2);
  await sim.close();
  assert.ok(pids.every((p) => !alive(p)));
  assert.equal(readGpuState(gpuFile).procs.length, 0);
});
