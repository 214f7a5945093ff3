/**
 * The simulator's scheduler semantics (README "Version profiles", rows 1, 2 and 4): slots, the load queue, expires_at
 * while busy, keep_alive 0 after in-flight requests. Each test spawns real runner processes (~0.3 s each).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alive } from '../../../shared/proc/read-process-identity.js';
import { post, withSim } from '../../helpers/with-sim.js';

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

for (const version of PROFILES) {
  test(`row 1 (${version}): a request for a loaded model waits for a slot without limit, never 503; 503 only while the load queue is full`, async (t) => {
    const { sim } = await withSim(t, { version, models: ['qwen2.5:0.5b', 'llama3', 'llama3.1:8b'], maxQueue: 1 });
    await post(sim, '/api/generate', { model: 'qwen2.5:0.5b' });
    await sim.control.configure({ tokenDelayMs: 25 });
    const long = post(sim, '/api/generate', gen('qwen2.5:0.5b', { options: { num_predict: 12 } }));
    await waitFor(() => sim.snapshot().runners[0]!.busySlots === 1);
    // Two more than maxQueue: none is refused, they queue for the runner's only slot.
    const waiting = [1, 2].map(() => post(sim, '/api/generate', gen('qwen2.5:0.5b', { options: { num_predict: 1 } })));
    await waitFor(() => sim.snapshot().runners[0]!.slotWaiters === 2);
    const [r] = sim.snapshot().runners;
    assert.deepEqual([r!.slots, r!.busySlots, r!.activity, r!.refCount], [1, 1, 'generating', 3]);
    for (const res of [await long, ...(await Promise.all(waiting))]) assert.equal(res.status, 200, res.text);

    // Loads queue one at a time: the first is being loaded, the second waits in the queue (maxQueue 1), a third is refused.
    await sim.control.configure({ tokenDelayMs: 0, loadDelayMs: 300 });
    const first = post(sim, '/api/generate', { model: 'llama3' });
    await waitFor(() => sim.snapshot().runners.some((x) => x.name === 'llama3:latest'));
    const second = post(sim, '/api/generate', { model: 'llama3.1:8b' });
    await waitFor(() => sim.snapshot().loadQueue === 1);
    const third = await post(sim, '/api/generate', { model: 'nomic-embed-text' });
    assert.equal(third.status, 404, 'not local: refused before the queue');
    await sim.control.addModel('tinyllama');
    const busy = await post(sim, '/api/generate', { model: 'tinyllama' });
    assert.deepEqual(
      [busy.status, busy.json()],
      [503, { error: 'server busy, please try again.  maximum pending requests exceeded' }],
    );
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
    assert.equal(sim.snapshot().loadQueue, 0);
  });
}

test('row 1: numParallel slots serve requests together; the next one waits for a free slot', async (t) => {
  const { sim } = await withSim(t, { models: ['qwen2.5:0.5b'], numParallel: 2, tokenDelayMs: 20 });
  const reqs = [1, 2, 3].map(() => post(sim, '/api/generate', gen('qwen2.5:0.5b', { options: { num_predict: 8 } })));
  await waitFor(() => sim.snapshot().runners[0]?.busySlots === 2);
  assert.equal(sim.snapshot().runners[0]!.slotWaiters, 1);
  for (const r of await Promise.all(reqs)) assert.equal(r.status, 200);
});

test('row 2: expires_at is frozen while requests run (in the past = "Stopping..."), the busy model is not unloaded, and reset when the last one ends', async (t) => {
  const { sim } = await withSim(t, { version: '0.33.0', models: ['qwen2.5:0.5b'] });
  await post(sim, '/api/generate', { model: 'qwen2.5:0.5b', keep_alive: '150ms' });
  const pid = sim.snapshot().runners[0]!.pid!;
  await sim.control.configure({ tokenDelayMs: 40 });
  const running = post(sim, '/api/generate', gen('qwen2.5:0.5b', { options: { num_predict: 10 } }));
  await new Promise((r) => setTimeout(r, 300));
  const [busy] = await ps(sim.url);
  assert.ok(Date.parse(busy.expires_at) < Date.now(), 'past expiry while busy');
  assert.ok(alive(pid), 'a busy model past expiry is not unloaded');
  assert.equal((await running).status, 200);
  const [after] = await ps(sim.url);
  const left = Date.parse(after.expires_at) - Date.now();
  assert.ok(left > 50 && left <= 150, `reset to now + keep_alive when the last request ended (${left} ms)`);
  await waitFor(() => !alive(pid));
});

test('row 4: keep_alive 0 answers at once; the unload waits for the in-flight request', async (t) => {
  const { sim } = await withSim(t, { version: '0.33.0', models: ['qwen2.5:0.5b'] });
  await post(sim, '/api/generate', { model: 'qwen2.5:0.5b' });
  const pid = sim.snapshot().runners[0]!.pid!;
  await sim.control.configure({ tokenDelayMs: 30 });
  const running = post(sim, '/api/generate', gen('qwen2.5:0.5b', { options: { num_predict: 10 } }));
  await waitFor(() => sim.snapshot().runners[0]!.busySlots === 1);
  const unload = await post(sim, '/api/generate', { model: 'qwen2.5:0.5b', keep_alive: 0 });
  assert.equal(unload.json().done_reason, 'unload');
  assert.ok(alive(pid), 'still running its request');
  assert.ok(Date.parse((await ps(sim.url))[0].expires_at) <= Date.now());
  assert.equal((await running).status, 200, 'the request finished normally');
  await waitFor(() => !alive(pid));
  assert.deepEqual(await ps(sim.url), []);
});
