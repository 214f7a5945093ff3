/**
 * The simulator's version profiles (README "Version profiles"): each row of issue 9 that the sim models, on both
 * profiles where Ollama 0.12.6 and 0.33 differ (the scheduler rows 1, 2, 4: ollama-sim-queue.test.ts). Each test
 * spawns real runner processes (~0.3 s each on an idle machine), hence the file's few seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { alive } from '../../../shared/proc/read-process-identity.js';
import { defaultH100State, readGpuState, writeGpuState } from '../../sim/gpu-state.js';
import { defaultContextLength, simProfile, versionAtLeast } from '../../sim/sim-profile.js';
import { ndjson, post, withSim } from '../../helpers/with-sim.js';

const PROFILES = ['0.12.6', '0.33.0'] as const;

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ps = async (url: string) => ((await (await fetch(url + '/api/ps')).json()) as { models: any[] }).models;
const gen = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  prompt: 'why is the sky blue?',
  stream: false,
  ...extra,
});

test('profiles: chosen by version; default context 4k before 0.15.5, then 4k/32k/256k by VRAM', () => {
  assert.equal(simProfile('0.12.6').name, '0.12');
  assert.equal(simProfile('0.29.9').name, '0.12');
  assert.equal(simProfile('0.30.0').name, '0.33');
  assert.equal(simProfile('0.33.0-rc2').name, '0.33');
  assert.equal(simProfile('0.32.3').psLocksRunners, false);
  assert.equal(simProfile('0.32.4').psLocksRunners, true);
  assert.ok(versionAtLeast('v0.15.5', '0.15.5') && !versionAtLeast('0.15.4', '0.15.5'));
  const p33 = simProfile('0.33.0');
  assert.equal(defaultContextLength(simProfile('0.12.6'), 81559), 4096);
  assert.equal(defaultContextLength(p33, 81559), 262144);
  assert.equal(defaultContextLength(p33, 47 * 1024), 262144);
  assert.equal(defaultContextLength(p33, 47 * 1024 - 1), 32768);
  assert.equal(defaultContextLength(p33, 23 * 1024), 32768);
  assert.equal(defaultContextLength(p33, 16 * 1024), 4096);
});

for (const version of PROFILES) {
  test(`row 8 (${version}): a loading model ${version === '0.12.6' ? 'is listed with its planned size_vram' : 'is not listed; /api/ps answers'}; its VRAM grows in steps`, async (t) => {
    const { sim, gpuFile } = await withSim(t, { version, models: ['llama3'], loadDelayMs: 400 });
    const loading = post(sim, '/api/generate', { model: 'llama3' });
    await waitFor(() => (sim.snapshot().runners[0]?.vramNowMiB ?? 0) > 0);
    const snap = sim.snapshot().runners[0]!;
    assert.equal(snap.loading, true);
    assert.equal(snap.activity, 'loading');
    const proc = readGpuState(gpuFile).procs.find((p) => p.pid === snap.pid);
    assert.ok(proc && proc.usedMiB < Math.round(snap.sizeVram / 1048576), 'the runner holds part of its VRAM so far');
    const started = Date.now();
    const models = await ps(sim.url);
    assert.ok(Date.now() - started < 200, '/api/ps answers during the load');
    if (version === '0.12.6') {
      assert.equal(snap.listed, true);
      assert.deepEqual(
        models.map((m) => [m.name, m.size_vram]),
        [['llama3:latest', snap.sizeVram]],
      );
    } else {
      assert.equal(snap.listed, false);
      assert.deepEqual(models, []);
    }
    assert.equal((await loading).status, 200);
    const done = sim.snapshot().runners[0]!;
    assert.equal(done.vramNowMiB, Math.round(done.sizeVram / 1048576));
    assert.equal(readGpuState(gpuFile).procs.find((p) => p.pid === done.pid)?.usedMiB, done.vramNowMiB);
    assert.equal((await ps(sim.url)).length, 1);
  });
}

for (const version of PROFILES) {
  test(`row 3 (${version}): crashRunner kills the runner; /api/ps keeps it with its old size_vram; the next request reloads`, async (t) => {
    const { sim, gpuFile } = await withSim(t, { version, models: ['qwen2.5:0.5b'] });
    await post(sim, '/api/generate', { model: 'qwen2.5:0.5b', keep_alive: -1 });
    const [before] = await ps(sim.url);
    const pid = sim.snapshot().runners[0]!.pid!;
    const snap = await sim.control.crashRunner('qwen2.5:0.5b');
    assert.equal(snap.runners[0]!.dead, true);
    assert.ok(!alive(pid));
    assert.deepEqual(await ps(sim.url), [before], 'listed as before, never with -1');
    assert.equal(readGpuState(gpuFile).procs.length, 0, 'the driver freed its memory');
    const res = await post(sim, '/api/generate', gen('qwen2.5:0.5b', { options: { num_predict: 1 } }));
    assert.equal(res.status, 200);
    assert.ok(res.json().load_duration > 1_000_000, 'a cold load');
    const [runner] = sim.snapshot().runners;
    assert.ok(runner!.pid !== pid && !runner!.dead);
  });
}

test('row 5: oomOnLoad uses the profile text or oomText; 0.33 retries an OOM load once with a smaller automatic context', async (t) => {
  const old = await withSim(t, { version: '0.12.6', models: ['llama3'] });
  await old.sim.control.setOomOnLoad(1);
  const r12 = await post(old.sim, '/api/generate', { model: 'llama3' });
  assert.deepEqual(
    [r12.status, r12.json().error],
    [500, 'llama runner process has terminated: CUDA error: out of memory'],
  );
  await old.sim.control.setOomOnLoad(1, 'model requires more system memory (9.0 GiB) than is available (4.0 GiB)');
  const text = await post(old.sim, '/api/generate', { model: 'llama3' });
  assert.equal(text.json().error, 'model requires more system memory (9.0 GiB) than is available (4.0 GiB)');

  const cur = await withSim(t, { version: '0.33.0', models: ['llama3.1:8b'] });
  await cur.sim.control.setOomOnLoad(1);
  const retried = await post(cur.sim, '/api/generate', { model: 'llama3.1:8b' });
  assert.equal(retried.status, 200, 'the one retry succeeded');
  assert.equal((await ps(cur.sim.url))[0].context_length, 32768, '131072 (auto, capped) → 32768');
  await cur.sim.control.setOomOnLoad(2);
  const failed = await post(cur.sim, '/api/generate', { model: 'llama3.1:8b', options: { num_ctx: 8192 } });
  assert.deepEqual(
    [failed.status, failed.json().error],
    [500, 'llama-server process has terminated: exit status 1: cudaMalloc failed: out of memory'],
  );
});

test('row 5, at run time: 0.33 expires every loaded runner on an out-of-memory (pinned too); on 0.12 the runner dies and stays listed', async (t) => {
  const cur = await withSim(t, { version: '0.33.0', models: ['llama3', 'qwen2.5:0.5b'] });
  assert.equal((await post(cur.sim, '/api/generate', { model: 'qwen2.5:0.5b', keep_alive: -1 })).status, 200);
  assert.equal((await post(cur.sim, '/api/generate', { model: 'llama3', keep_alive: -1 })).status, 200);
  await cur.sim.control.setOomOnGenerate(1);
  const oom = await post(cur.sim, '/api/generate', gen('llama3'));
  assert.deepEqual(
    [oom.status, oom.json().error],
    [500, 'llama-server process has terminated: exit status 1: cudaMalloc failed: out of memory'],
  );
  await waitFor(async () => (await ps(cur.sim.url)).length === 0);
  assert.equal((await post(cur.sim, '/api/generate', gen('llama3'))).status, 200, 'the next request loads it again');

  const old = await withSim(t, { version: '0.12.6', models: ['llama3', 'qwen2.5:0.5b'] });
  assert.equal((await post(old.sim, '/api/generate', { model: 'qwen2.5:0.5b', keep_alive: -1 })).status, 200);
  assert.equal((await post(old.sim, '/api/generate', { model: 'llama3', keep_alive: -1 })).status, 200);
  const pid = old.sim.snapshot().runners.find((r) => r.name === 'llama3:latest')!.pid!;
  await old.sim.control.setOomOnGenerate(1);
  const died = await post(old.sim, '/api/generate', gen('llama3'));
  assert.deepEqual(
    [died.status, died.json().error],
    [500, 'llama runner process has terminated: CUDA error: out of memory'],
  );
  await waitFor(() => !alive(pid));
  assert.deepEqual(
    (await ps(old.sim.url)).map((m: { name: string }) => m.name).sort(),
    ['llama3:latest', 'qwen2.5:0.5b'],
    'nothing else expires; the dead runner stays listed',
  );
});

test('a model that does not fit beside a loaded one evicts it, waiting for its requests; alone it would be offloaded in part', async (t) => {
  // 0.12.6: its 4096-token default context keeps each model alone under the limit (the scheduler part is the same).
  const { sim } = await withSim(t, { version: '0.12.6', models: ['llama3', 'llama3.1:8b'], tokenDelayMs: 20 });
  await sim.control.configure({ vramLimitMiB: 8000 });
  assert.equal((await post(sim, '/api/generate', { model: 'llama3', keep_alive: -1 })).status, 200);
  const busy = post(sim, '/api/generate', gen('llama3', { options: { num_predict: 20 } }));
  await waitFor(() => sim.snapshot().runners.some((r) => r.name === 'llama3:latest' && r.activity === 'generating'));
  const other = await post(sim, '/api/generate', gen('llama3.1:8b'));
  assert.equal(other.status, 200);
  assert.equal((await busy).status, 200, 'the busy one finished its request before it was evicted');
  const listed = await ps(sim.url);
  assert.deepEqual(
    listed.map((m: { name: string; size: number; size_vram: number }) => [m.name, m.size_vram === m.size]),
    [['llama3.1:8b', true]],
    'evicted, not squeezed into a partial offload',
  );
});

test('row 9: without num_ctx the context is 4096 (0.12) or by VRAM (0.33, capped at the model); unset on both sides never reloads', async (t) => {
  const old = await withSim(t, { version: '0.12.6', models: ['llama3.1:8b'] });
  await post(old.sim, '/api/generate', { model: 'llama3.1:8b' });
  assert.equal((await ps(old.sim.url))[0].context_length, 4096);

  const cur = await withSim(t, { version: '0.33.0', models: ['llama3.1:8b', 'qwen2.5:0.5b'] });
  assert.equal(cur.sim.snapshot().defaultNumCtx, 262144, 'an 80 GB H100');
  await post(cur.sim, '/api/generate', { model: 'llama3.1:8b' });
  const [m] = await ps(cur.sim.url);
  assert.equal(m.context_length, 131072, 'capped at the model context');
  assert.ok(m.size > 4_920_753_328 + 131072 * 131_072, 'the KV cache for 131072 tokens is in size');
  const pid = cur.sim.snapshot().runners[0]!.pid;
  await post(cur.sim, '/api/generate', gen('llama3.1:8b', { options: { num_predict: 1 } }));
  assert.equal(cur.sim.snapshot().runners[0]!.pid, pid, 'unset num_ctx on both sides: same runner');
  await post(cur.sim, '/api/generate', gen('llama3.1:8b', { options: { num_predict: 1, num_ctx: 8192 } }));
  assert.notEqual(cur.sim.snapshot().runners.find((r) => r.name === 'llama3.1:8b')!.pid, pid, 'num_ctx set: reload');

  const small = defaultH100State();
  small.gpus[0]!.memoryTotalMiB = 24 * 1024;
  const smallFile = join(mkdtempSync(join(tmpdir(), 'sim-24g-')), 'gpu.state');
  t.after(() => rmSync(dirname(smallFile), { recursive: true, force: true }));
  writeGpuState(smallFile, small);
  const mid = await withSim(t, { version: '0.33.0', gpuStateFile: smallFile });
  assert.equal(mid.sim.snapshot().defaultNumCtx, 32768, 'a 24 GB GPU');
});

for (const version of PROFILES) {
  test(`row 10 (${version}): names keep their stored case and compare case-insensitively; name@digest is not a name`, async (t) => {
    const { sim } = await withSim(t, { version, models: ['MyModel:Latest'] });
    await sim.control.addModel('mymodel:latest'); // same name: keeps the stored case
    const tags = (await (await fetch(sim.url + '/api/tags')).json()) as { models: any[] };
    assert.deepEqual(
      tags.models.map((m) => m.name),
      ['MyModel:Latest'],
    );
    assert.equal((await post(sim, '/api/generate', { model: 'mymodel' })).status, 200);
    assert.deepEqual(
      (await ps(sim.url)).map((m) => m.name),
      ['MyModel:Latest'],
    );
    const digest = await post(sim, '/api/generate', { model: `mymodel@sha256:${'a'.repeat(64)}` });
    if (version === '0.12.6')
      assert.deepEqual(
        [digest.status, digest.json().error],
        [404, `model 'mymodel@sha256:${'a'.repeat(64)}' not found`],
      );
    else assert.deepEqual([digest.status, digest.json().error], [400, 'invalid model name']);
  });
}

test('row 11: /api/create with a missing base pulls it inside the stream (its own success first), then creates', async (t) => {
  const { sim } = await withSim(t, { version: '0.33.0' });
  const res = await post(sim, '/api/create', { model: 'mine', from: 'qwen2.5:0.5b', system: 'be brief' });
  const lines = ndjson(res.text).map((l) => l.status ?? `error: ${l.error}`);
  assert.equal(lines[0], 'pulling manifest');
  const firstSuccess = lines.indexOf('success');
  assert.ok(firstSuccess > 0 && firstSuccess < lines.length - 1, 'the pull has its own success line');
  assert.deepEqual(lines.slice(firstSuccess - 3, firstSuccess), [
    'verifying sha256 digest',
    'writing manifest',
    'removing any unused layers',
  ]);
  assert.match(lines[firstSuccess + 1]!, /^using existing layer sha256:/);
  assert.deepEqual(lines.slice(-2), ['writing manifest', 'success']);
  assert.deepEqual(sim.snapshot().localModels.sort(), ['mine:latest', 'qwen2.5:0.5b']);
  const missing = await post(sim, '/api/create', { model: 'other', from: 'no-such-model' });
  assert.deepEqual(
    ndjson(missing.text).map((l) => l.status ?? `error: ${l.error}`),
    ['pulling manifest', 'error: pull model manifest: file does not exist'],
  );
});

test('runner activity: generating raises GPU util and the SM share of its runner; hangGenerate = hung (GPU idle); spinGenerate = spinning (GPU busy); stallLoad freezes a load', async (t) => {
  const { sim, gpuFile } = await withSim(t, { version: '0.33.0', models: ['qwen2.5:0.5b', 'llama3'] });
  await post(sim, '/api/generate', { model: 'qwen2.5:0.5b' });
  const util = () => readGpuState(gpuFile).gpus[0]!.utilizationGpuPct;
  const activity = () => sim.snapshot().runners.find((r) => r.name === 'qwen2.5:0.5b')!.activity;
  assert.equal(activity(), 'idle');
  await sim.control.configure({ tokenDelayMs: 30 });
  const running = post(sim, '/api/generate', gen('qwen2.5:0.5b', { options: { num_predict: 8 } }));
  await waitFor(() => activity() === 'generating' && util() > 0);
  // The runner's own share of the SMs, for per-process readers (the fake NVML's process utilization).
  const pid = sim.snapshot().runners.find((r) => r.name === 'qwen2.5:0.5b')!.pid;
  const smPct = () => readGpuState(gpuFile).procs.find((p) => p.pid === pid)?.smPct ?? 0;
  assert.equal(smPct(), util());
  await running;
  await waitFor(() => activity() === 'idle' && util() === 0);
  assert.equal(smPct(), 0);

  for (const [fault, want, busyGpu] of [
    ['hang', 'hung', false],
    ['spin', 'spinning', true],
  ] as const) {
    const ac = new AbortController();
    await sim.control.setFaults(fault === 'hang' ? { hangGenerate: 'nothing' } : { spinGenerate: true });
    const stuck = fetch(sim.url + '/api/generate', {
      method: 'POST',
      body: JSON.stringify(gen('qwen2.5:0.5b')),
      signal: ac.signal,
    }).catch(() => undefined);
    await waitFor(() => activity() === want);
    assert.equal(util() > 0, busyGpu, `${fault}: GPU util`);
    assert.equal(smPct() > 0, busyGpu, `${fault}: the runner's SM share`);
    ac.abort();
    await stuck;
    await waitFor(() => activity() === 'idle' && sim.snapshot().runners[0]!.refCount === 0);
    await sim.control.reset();
  }

  await sim.control.setStallLoad(true);
  const load = post(sim, '/api/generate', { model: 'llama3' });
  await waitFor(() => sim.snapshot().runners.find((r) => r.name === 'llama3:latest')?.activity === 'hung');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(sim.snapshot().runners.find((r) => r.name === 'llama3:latest')!.vramNowMiB, 0, 'no progress');
  await sim.control.setStallLoad(false);
  assert.equal((await load).status, 200);
});

for (const version of ['0.12.6', '0.33.0'])
  test(`${version}: a load stalled from its start runs a runner that never works (nothing it could hand back later)`, async (t) => {
    const { sim } = await withSim(t, { version, models: ['llama3'] });
    await sim.control.setStallLoad(true);
    const load = post(sim, '/api/generate', { model: 'llama3', prompt: 'hi', stream: false });
    const runner = () => sim.snapshot().runners.find((r) => r.name === 'llama3:latest');
    await waitFor(() => runner()?.pid !== undefined);
    // Still from its first instant: the process was started hung, not told so after a first stretch of loading work
    // (the 0.12 runner, a Node process, would hand heap back seconds later: progress to the exporter, not a stall).
    const env = readFileSync(`/proc/${runner()!.pid}/environ`, 'utf8').split('\0');
    assert.ok(env.includes('SENTINEL_FAKE_ACTIVITY=hung'), env.filter((e) => e.startsWith('SENTINEL_')).join(' '));
    assert.equal(runner()!.activity, 'hung');
    await sim.control.setStallLoad(false);
    assert.equal((await load).status, 200, 'the load goes on once the stall is lifted');
    assert.equal(runner()!.loading, false);
  });

for (const [version, timeoutText] of [
  ['0.12.6', 'timed out waiting for llama runner to start - progress 0.00 - '],
  ['0.33.0', 'timed out waiting for llama-server to start - '],
] as const) {
  test(`${version}: a stalled load ends when its request goes away, or after OLLAMA_LOAD_TIMEOUT with no progress (WaitUntilRunning)`, async (t) => {
    const { sim, gpuFile } = await withSim(t, { version, models: ['llama3'], loadTimeout: '1s' });
    const runner = () => sim.snapshot().runners.find((r) => r.name === 'llama3:latest');
    await sim.control.setStallLoad(true);
    // The client that started the load leaves: the load is aborted and its runner stopped (llm/server.go:
    // "client connection closed before server finished loading, aborting load").
    const ac = new AbortController();
    const gone = fetch(sim.url + '/api/generate', {
      method: 'POST',
      body: JSON.stringify({ model: 'llama3', prompt: 'hi', stream: false }),
      signal: ac.signal,
    }).catch(() => undefined);
    await waitFor(() => runner()?.activity === 'hung');
    const pid = runner()!.pid;
    ac.abort();
    await gone;
    await waitFor(() => runner() === undefined);
    await waitFor(() => !readGpuState(gpuFile).procs.some((p) => p.pid === pid));
    // A client that waits: Ollama gives up after the load timeout with no progress, with its own error.
    const started = Date.now();
    const timedOut = await post(sim, '/api/generate', { model: 'llama3', prompt: 'hi', stream: false });
    assert.equal(timedOut.status, 500);
    assert.deepEqual(timedOut.json(), { error: timeoutText });
    assert.ok(Date.now() - started >= 1000, 'not before the load timeout');
    assert.equal(runner(), undefined, 'the runner is gone with the failed load');
    // Progress moves the deadline: a load slower than the timeout as a whole, never flat for that long, succeeds.
    await sim.control.setStallLoad(false);
    await sim.control.configure({ loadDelayMs: 2_500 });
    assert.equal((await post(sim, '/api/generate', { model: 'llama3', prompt: 'hi', stream: false })).status, 200);
  });
}
