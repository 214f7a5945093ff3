import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ndjson, post, withSim } from '../../helpers/with-sim.js';

test('liveness endpoints answer GET and HEAD like Ollama', async (t) => {
  const { sim } = await withSim(t, { version: '0.12.6' });
  const root = await fetch(sim.url + '/');
  assert.deepEqual([root.status, await root.text()], [200, 'Ollama is running']);
  const head = await fetch(sim.url + '/', { method: 'HEAD' });
  assert.deepEqual([head.status, await head.text()], [200, '']);
  assert.deepEqual(await (await fetch(sim.url + '/api/version')).json(), { version: '0.12.6' });
  for (const p of ['/api/version', '/api/tags']) {
    const h = await fetch(sim.url + p, { method: 'HEAD' });
    assert.equal(h.status, 200, p);
  }
  // routes.go registers only GET /api/ps and gin has HandleMethodNotAllowed on (0.12.6 and 0.33).
  assert.equal((await fetch(sim.url + '/api/ps', { method: 'HEAD' })).status, 405);
  const wrong = await fetch(sim.url + '/api/generate');
  assert.deepEqual([wrong.status, await wrong.text()], [405, '405 method not allowed']);
  const missing = await fetch(sim.url + '/api/nothing');
  assert.deepEqual([missing.status, await missing.text()], [404, '404 page not found']);
});

test('/api/tags lists local models with disk sizes and details; names normalise', async (t) => {
  const { sim } = await withSim(t, { models: ['llama3', 'gpt-oss:20b', 'nomic-embed-text'] });
  const tags = (await (await fetch(sim.url + '/api/tags')).json()) as { models: any[] };
  const names = tags.models.map((m) => m.name).sort();
  assert.deepEqual(names, ['gpt-oss:20b', 'llama3:latest', 'nomic-embed-text:latest']);
  const oss = tags.models.find((m) => m.name === 'gpt-oss:20b');
  assert.ok(oss.size > 13e9 && oss.size < 14e9, 'gpt-oss:20b is about 13.8 GB');
  assert.match(oss.digest, /^[0-9a-f]{64}$/);
  assert.match(oss.modified_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.deepEqual(Object.keys(oss.details).sort(), [
    'families',
    'family',
    'format',
    'parameter_size',
    'parent_model',
    'quantization_level',
  ]);
});

test('generate: load, streamed tokens, non-streamed answer with nanosecond durations, unload', async (t) => {
  const { sim } = await withSim(t, { models: ['qwen2.5:0.5b'] });
  const load = await post(sim, '/api/generate', { model: 'qwen2.5:0.5b' });
  assert.equal(load.status, 200);
  const loaded = load.json();
  assert.deepEqual([loaded.done, loaded.done_reason, loaded.response], [true, 'load', '']);
  assert.equal(loaded.load_duration, undefined, 'a load answer carries no durations');

  const streamed = await post(sim, '/api/generate', {
    model: 'qwen2.5:0.5b',
    prompt: 'why is the sky blue?',
    options: { num_predict: 4 },
  });
  const lines = ndjson(streamed.text);
  assert.equal(lines.length, 5);
  assert.ok(lines.slice(0, 4).every((l) => l.done === false && typeof l.response === 'string' && l.response !== ''));
  const final = lines[4];
  assert.deepEqual([final.done, final.done_reason, final.eval_count], [true, 'length', 4]);
  for (const k of ['total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_duration']) {
    assert.ok(Number.isInteger(final[k]) && final[k] > 0, k);
  }
  assert.ok(final.load_duration < 5e6, 'warm model: load_duration in the sub-5ms range (nanoseconds)');
  assert.ok((final.eval_count / final.eval_duration) * 1e9 > 100, 'GPU speed');

  const single = await post(sim, '/api/generate', {
    model: 'qwen2.5:0.5b',
    prompt: 'hi',
    stream: false,
    options: { num_predict: 3 },
  });
  const body = single.json();
  assert.equal(body.done, true);
  assert.equal(body.response.split(' ').length, 3);

  const unload = (await post(sim, '/api/generate', { model: 'qwen2.5:0.5b', keep_alive: 0 })).json();
  assert.deepEqual([unload.done, unload.done_reason], [true, 'unload']);
  assert.deepEqual(await (await fetch(sim.url + '/api/ps')).json(), { models: [] });
});

test('chat has the same load/unload/answer semantics', async (t) => {
  const { sim } = await withSim(t, { models: ['qwen2.5:0.5b'] });
  const load = (await post(sim, '/api/chat', { model: 'qwen2.5:0.5b', messages: [] })).json();
  assert.deepEqual([load.done_reason, load.message], ['load', { role: 'assistant', content: '' }]);
  const answer = (
    await post(sim, '/api/chat', {
      model: 'qwen2.5:0.5b',
      messages: [{ role: 'user', content: 'hello' }],
      stream: false,
      options: { num_predict: 2 },
    })
  ).json();
  assert.equal(answer.message.role, 'assistant');
  assert.equal(answer.eval_count, 2);
  const unload = (await post(sim, '/api/chat', { model: 'qwen2.5:0.5b', messages: [], keep_alive: 0 })).json();
  assert.equal(unload.done_reason, 'unload');
});

test('request errors: missing body, bad keep_alive, unknown model, embedding-only model', async (t) => {
  const { sim } = await withSim(t, { models: ['llama3', 'nomic-embed-text'] });
  const empty = await post(sim, '/api/generate', '');
  assert.deepEqual([empty.status, empty.json()], [400, { error: 'missing request body' }]);
  const noModel = await post(sim, '/api/generate', { prompt: 'x' });
  assert.deepEqual([noModel.status, noModel.json()], [400, { error: 'model is required' }]);
  const unitless = await post(sim, '/api/generate', { model: 'llama3', keep_alive: '3600' });
  assert.deepEqual([unitless.status, unitless.json()], [400, { error: 'time: missing unit in duration "3600"' }]);
  const unknown = await post(sim, '/api/generate', { model: 'mistral', prompt: 'x' });
  assert.deepEqual(
    [unknown.status, unknown.json()],
    [404, { error: 'model "mistral" not found, try pulling it first' }],
  );
  const embed = await post(sim, '/api/generate', { model: 'nomic-embed-text', prompt: 'x' });
  assert.equal(embed.status, 400);
  assert.match(embed.json().error, /does not support generate/);
});

test('show, copy, delete, create: success and 404s', async (t) => {
  const { sim } = await withSim(t, { models: ['llama3'] });
  const show = await post(sim, '/api/show', { model: 'llama3' });
  assert.equal(show.status, 200);
  const info = show.json();
  assert.equal(info.details.family, 'llama');
  assert.equal(info.model_info['llama.context_length'], 8192);
  assert.deepEqual(info.capabilities, ['completion']);
  assert.deepEqual(
    [
      (await post(sim, '/api/show', { model: 'nope' })).status,
      (await post(sim, '/api/show', { model: 'nope' })).json(),
    ],
    [404, { error: "model 'nope' not found" }],
  );

  assert.equal((await post(sim, '/api/copy', { source: 'llama3', destination: 'llama3-copy' })).status, 200);
  assert.equal((await post(sim, '/api/copy', { source: 'ghost', destination: 'x' })).status, 404);

  const created = await post(sim, '/api/create', { model: 'my-llama', from: 'llama3', system: 'You are terse.' });
  const statuses = ndjson(created.text).map((l) => l.status);
  assert.equal(created.status, 200);
  assert.ok(statuses.some((s) => s.startsWith('using existing layer sha256:')));
  assert.ok(statuses.some((s) => s.startsWith('creating new layer sha256:')));
  assert.deepEqual(statuses.slice(-2), ['writing manifest', 'success']);
  const mine = (await post(sim, '/api/show', { model: 'my-llama' })).json();
  assert.equal(mine.system, 'You are terse.');
  const badCreate = ndjson((await post(sim, '/api/create', { model: 'x', from: 'ghost' })).text);
  assert.ok(badCreate.at(-1).error);

  const names = async () =>
    ((await (await fetch(sim.url + '/api/tags')).json()) as { models: any[] }).models.map((m) => m.name).sort();
  assert.deepEqual(await names(), ['llama3-copy:latest', 'llama3:latest', 'my-llama:latest']);
  const del = await post(sim, '/api/delete', { model: 'llama3-copy' }, 'DELETE');
  assert.deepEqual([del.status, del.text], [200, '']);
  const again = await post(sim, '/api/delete', { model: 'llama3-copy' }, 'DELETE');
  assert.deepEqual([again.status, again.json()], [404, { error: "model 'llama3-copy' not found" }]);
  assert.deepEqual(await names(), ['llama3:latest', 'my-llama:latest']);
});
