import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ndjson, post, withSim } from '../../helpers/with-sim.js';

test('pull streams manifest, per-layer progress, verify, write, cleanup, success; the model is then local', async (t) => {
  const { sim } = await withSim(t);
  const started = Date.now();
  const res = await post(sim, '/api/pull', { model: 'gpt-oss:20b' });
  assert.ok(Date.now() - started < 1000, 'fast by default');
  assert.equal(res.status, 200);
  const lines = ndjson(res.text);
  assert.deepEqual(lines[0], { status: 'pulling manifest' });
  const layers = lines.filter((l) => typeof l.digest === 'string');
  assert.ok(layers.every((l) => l.status === `pulling ${l.digest.slice(7, 19)}` && typeof l.total === 'number'));
  const perLayer = new Map<string, number>();
  for (const l of layers) perLayer.set(l.digest, Math.max(perLayer.get(l.digest) ?? 0, l.completed ?? 0));
  const total = [...new Set(layers.map((l) => `${l.digest}:${l.total}`))].reduce(
    (s, k) => s + Number(k.split(':').at(-1)),
    0,
  );
  assert.ok(total > 13e9 && total < 14e9);
  assert.ok(
    layers.every((l) => perLayer.get(l.digest) === l.total || l.completed === undefined || l.completed <= l.total),
  );
  assert.deepEqual(
    lines.slice(-4).map((l) => l.status),
    ['verifying sha256 digest', 'writing manifest', 'removing any unused layers', 'success'],
  );
  assert.equal((await post(sim, '/api/show', { model: 'gpt-oss:20b' })).status, 200);
});

test('pull errors: unknown model is an error line after HTTP 200; stream:false gives 500; bad name 400', async (t) => {
  const { sim } = await withSim(t);
  const res = await post(sim, '/api/pull', { model: 'no-such-model:7b' });
  assert.equal(res.status, 200);
  assert.deepEqual(ndjson(res.text), [
    { status: 'pulling manifest' },
    { error: 'pull model manifest: file does not exist' },
  ]);
  const single = await post(sim, '/api/pull', { model: 'no-such-model:7b', stream: false });
  assert.deepEqual([single.status, single.json()], [500, { error: 'pull model manifest: file does not exist' }]);
  const ok = await post(sim, '/api/pull', { model: 'qwen2.5:0.5b', stream: false });
  assert.deepEqual([ok.status, ok.json()], [200, { status: 'success' }]);
  assert.equal((await post(sim, '/api/pull', { model: 'bad name' })).status, 400);
});

test('a pull that fails mid-stream resumes from the bytes already completed', async (t) => {
  const { sim } = await withSim(t);
  await sim.control.setPullFault({ mode: 'error', afterBytes: 1_000_000_000 });
  const first = ndjson((await post(sim, '/api/pull', { model: 'llama3' })).text);
  assert.deepEqual(first.at(-1), { error: 'max retries exceeded: EOF' });
  const reached = Math.max(...first.filter((l) => l.completed !== undefined).map((l) => l.completed));
  assert.equal(reached, 1_000_000_000);
  assert.equal((await post(sim, '/api/show', { model: 'llama3' })).status, 404);

  const second = ndjson((await post(sim, '/api/pull', { model: 'llama3' })).text);
  const firstLayer = second.find((l) => typeof l.digest === 'string');
  assert.equal(firstLayer.completed, 1_000_000_000, 'resumed, not restarted');
  assert.equal(second.at(-1).status, 'success');
});

test('a stalled pull stops sending progress without closing, and goes on when the stall is cleared', async (t) => {
  const { sim } = await withSim(t);
  await sim.control.setPullFault({ mode: 'stall', afterBytes: 500_000_000 });
  const res = await fetch(sim.url + '/api/pull', { method: 'POST', body: JSON.stringify({ model: 'llama3' }) });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const readMore = async (ms: number) => {
    const timeout = new Promise<'idle'>((r) => setTimeout(() => r('idle'), ms));
    for (;;) {
      const next = await Promise.race([reader.read(), timeout]);
      if (next === 'idle') return 'idle';
      if (next.done) return 'done';
      text += decoder.decode(next.value);
    }
  };
  assert.equal(await readMore(200), 'idle');
  const seen = ndjson(text);
  assert.equal(Math.max(...seen.filter((l) => l.completed !== undefined).map((l) => l.completed)), 500_000_000);
  await sim.control.setPullFault(null);
  assert.equal(await readMore(3000), 'done');
  assert.equal(ndjson(text).at(-1).status, 'success');
});
