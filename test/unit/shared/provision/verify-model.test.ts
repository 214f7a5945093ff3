import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../../../shared/config/types.js';
import { OllamaClient } from '../../../../shared/ollama/ollama-client.js';
import { verifyModel, findRunningModel } from '../../../../shared/provision/verify-model.js';
import { startOllamaSim, type OllamaSim } from '../../../sim/ollama-sim.js';
import { json, startLocalServer } from '../../../helpers/local-server.js';
import type { RunningModel } from '../../../../shared/ollama/parse-ps.js';

const model = (name: string, extra: Partial<ModelConfig> = {}): ModelConfig => ({
  name,
  keep_alive: '5m',
  keep_warm: false,
  min_vram_ratio: 0.9,
  options: { num_ctx: 2048 },
  targets: [],
  ...extra,
});

async function withSim(fn: (sim: OllamaSim, client: OllamaClient) => Promise<void>): Promise<void> {
  const sim = await startOllamaSim({ models: ['qwen2.5:0.5b', 'llama3:latest', 'nomic-embed-text:latest'] });
  try {
    await fn(sim, new OllamaClient({ name: 'sim', url: sim.url, headers: {} }));
  } finally {
    await sim.close();
  }
}

const loaded = async (sim: OllamaSim) => (await sim.control.state()).runners.map((r) => r.name).sort();

test('on the GPU: loads with the configured fields, answers one token, then unloads a model that is not keep_warm', () =>
  withSim(async (sim, client) => {
    const result = await verifyModel(client, model('qwen2.5:0.5b'), { timeoutMs: 10_000 });
    assert.equal(result.ok, true, result.problem);
    assert.equal(result.offload?.kind, 'gpu');
    assert.equal(result.offload?.ratio, 1);
    assert.equal(result.unloaded, true);
    assert.equal(result.wasResident, false);
    assert.ok(result.loadMs !== undefined && result.generateMs !== undefined);
    assert.deepEqual(await loaded(sim), []);
    const generates = (await sim.control.requests())
      .filter((r) => r.path === '/api/generate')
      .map((r) => r.body as Record<string, unknown>);
    assert.equal(generates.length, 3, 'load, one-token answer, unload');
    assert.deepEqual(generates[0], {
      model: 'qwen2.5:0.5b',
      keep_alive: '5m',
      options: { num_ctx: 2048 },
      stream: false,
    });
    assert.deepEqual(generates[1]!.options, { num_ctx: 2048, num_predict: 1 });
    assert.equal(generates[1]!.keep_alive, '5m');
    assert.deepEqual(generates[2], { model: 'qwen2.5:0.5b', keep_alive: 0, stream: false });
  }));

test('keep_warm: stays loaded with its keep_alive (-1 is sent as a number)', () =>
  withSim(async (sim, client) => {
    const result = await verifyModel(client, model('llama3:latest', { keep_warm: true, keep_alive: -1 }), {
      timeoutMs: 10_000,
    });
    assert.equal(result.ok, true, result.problem);
    assert.equal(result.unloaded, false);
    assert.deepEqual(await loaded(sim), ['llama3:latest']);
    const first = (await sim.control.requests()).find((r) => r.path === '/api/generate')!.body as Record<
      string,
      unknown
    >;
    assert.equal(first.keep_alive, -1);
  }));

test('verifying one model does not push out another: the non-keep_warm one is unloaded after its check', () =>
  withSim(async (sim, client) => {
    await verifyModel(client, model('llama3:latest', { keep_warm: true, keep_alive: -1 }), { timeoutMs: 10_000 });
    await verifyModel(client, model('qwen2.5:0.5b'), { timeoutMs: 10_000 });
    assert.deepEqual(await loaded(sim), ['llama3:latest']);
  }));

test('a model someone else had loaded is left loaded, even when not keep_warm', () =>
  withSim(async (sim, client) => {
    await client.load('qwen2.5:0.5b', { keep_alive: '5m', options: { num_ctx: 2048 } });
    const result = await verifyModel(client, model('qwen2.5:0.5b'), { timeoutMs: 10_000 });
    assert.equal(result.ok, true, result.problem);
    assert.equal(result.wasResident, true);
    assert.equal(result.unloaded, false);
    assert.deepEqual(await loaded(sim), ['qwen2.5:0.5b']);
  }));

test('partial offload below min_vram_ratio fails at the offload step and is unloaded', () =>
  withSim(async (sim, client) => {
    await sim.control.setPartialOffload(0.6);
    const result = await verifyModel(client, model('qwen2.5:0.5b'), { timeoutMs: 10_000 });
    assert.equal(result.ok, false);
    assert.equal(result.stage, 'offload');
    assert.equal(result.offload?.kind, 'partial');
    assert.match(result.problem!, /only 6\d(\.\d)?% in VRAM/);
    assert.equal(result.unloaded, true);
    assert.deepEqual(await loaded(sim), []);
    // No answer is asked of a model that failed placement.
    assert.equal((await sim.control.requests()).filter((r) => r.path === '/api/generate').length, 2);
  }));

test('partial offload within a lower min_vram_ratio passes', () =>
  withSim(async (sim, client) => {
    await sim.control.setPartialOffload(0.6);
    const result = await verifyModel(client, model('qwen2.5:0.5b', { min_vram_ratio: 0.5 }), { timeoutMs: 10_000 });
    assert.equal(result.ok, true, result.problem);
  }));

test('CPU fallback fails at the offload step', () =>
  withSim(async (sim, client) => {
    await sim.control.setCpuFallback(true);
    const result = await verifyModel(client, model('qwen2.5:0.5b'), { timeoutMs: 10_000 });
    assert.equal(result.ok, false);
    assert.equal(result.offload?.kind, 'cpu');
    assert.match(result.problem!, /100% on the CPU/);
  }));

test("out of memory while loading fails at the load step with Ollama's message", () =>
  withSim(async (sim, client) => {
    await sim.control.setOomOnLoad(1);
    const result = await verifyModel(client, model('qwen2.5:0.5b'), { timeoutMs: 10_000 });
    assert.equal(result.ok, false);
    assert.equal(result.stage, 'load');
    assert.match(result.problem!, /CUDA error: out of memory/);
  }));

test('a failed one-token answer fails at the generate step', async () => {
  let resident = false;
  const server = await startLocalServer((req, res) => {
    if (req.url === '/api/show') return json(res, 200, { capabilities: ['completion'] });
    if (req.url === '/api/ps')
      return json(res, 200, {
        models: resident ? [{ name: 'm:1', model: 'm:1', size: 100, size_vram: 100, digest: 'd' }] : [],
      });
    const body = JSON.parse(req.body) as { prompt?: string; keep_alive?: unknown };
    if (body.prompt === undefined) {
      resident = body.keep_alive !== 0;
      return json(res, 200, { model: 'm:1', done: true, done_reason: resident ? 'load' : 'unload' });
    }
    return json(res, 500, { error: 'llama runner process has terminated: exit status 2' });
  });
  try {
    const client = new OllamaClient({ name: 'fake', url: server.url, headers: {} });
    const result = await verifyModel(client, model('m:1'), { timeoutMs: 5_000 });
    assert.equal(result.ok, false);
    assert.equal(result.stage, 'generate');
    assert.match(result.problem!, /exit status 2/);
    assert.equal(result.unloaded, true);
    assert.equal(resident, false);
  } finally {
    await server.close();
  }
});

test('an embedding-only model is reported as not verified instead of failing (it cannot load through generate)', () =>
  withSim(async (sim, client) => {
    const result = await verifyModel(client, model('nomic-embed-text:latest'), { timeoutMs: 10_000 });
    assert.equal(result.ok, true);
    assert.match(result.skipped!, /not verified: its capabilities \(embedding\) lack completion/);
    assert.equal((await sim.control.requests()).filter((r) => r.path === '/api/generate').length, 0);
  }));

test('a model missing from the server fails at the load step without trying to load it', () =>
  withSim(async (sim, client) => {
    const result = await verifyModel(client, model('gpt-oss:20b'), { timeoutMs: 10_000 });
    assert.equal(result.ok, false);
    assert.equal(result.stage, 'load');
    assert.match(result.problem!, /not present/);
    assert.equal((await sim.control.requests()).filter((r) => r.path === '/api/generate').length, 0);
  }));

const running = (name: string, model = name): RunningModel => ({
  name,
  model,
  size: 1,
  size_vram: 1,
  digest: '',
  stopping: false,
});

test('matches the normalised name, whatever spelling /api/ps uses', () => {
  const list = [
    running('qwen2.5:0.5b'),
    running('registry.ollama.ai/library/llama3:latest', 'llama3'),
    running('Gpt-OSS:20B'),
  ];
  assert.equal(findRunningModel(list, 'llama3:latest'), list[1]);
  assert.equal(findRunningModel(list, 'gpt-oss:20b'), list[2]);
  assert.equal(findRunningModel(list, 'qwen2.5:0.5b'), list[0]);
});

test('a different tag is a different model', () => {
  assert.equal(findRunningModel([running('llama3:8b')], 'llama3:latest'), undefined);
  assert.equal(findRunningModel([], 'llama3:latest'), undefined);
});
