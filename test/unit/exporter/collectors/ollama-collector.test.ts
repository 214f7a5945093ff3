import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createOllamaCollector,
  expiryUnset,
  type OllamaSnapshot,
} from '../../../../exporter/collectors/ollama-collector.js';
import type { Labels, MetricSink } from '../../../../exporter/collector.js';
import { PromSink } from '../../../../exporter/metrics/prom-sink.js';
import { checkMetricNames } from '../../../lint/metric-name-rules.js';
import type { ModelConfig, OllamaTargetConfig } from '../../../../shared/config/types.js';
import { OllamaError } from '../../../../shared/ollama/ollama-error.js';
import { closedPort, json, startLocalServer } from '../../../helpers/local-server.js';
import { OllamaClient } from '../../../../shared/ollama/ollama-client.js';
import { modelRequestFields } from '../../../../shared/ollama/model-request-fields.js';
import { startOllamaSim } from '../../../sim/ollama-sim.js';

interface Sample {
  name: string;
  type: string;
  help: string;
  labels: Labels;
  value: number;
}

class RecordingSink implements MetricSink {
  readonly samples: Sample[] = [];
  gauge(name: string, help: string, labels: Labels, value: number): void {
    this.samples.push({ name, type: 'gauge', help, labels, value });
  }
  counter(name: string, help: string, labels: Labels, value: number): void {
    this.samples.push({ name, type: 'counter', help, labels, value });
  }
  get(name: string, labels: Labels): number | undefined {
    return this.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      ?.value;
  }
  names(): Set<string> {
    return new Set(this.samples.map((s) => s.name));
  }
}

const model = (name: string, extra: Partial<ModelConfig> = {}): ModelConfig => ({
  name,
  keep_alive: -1,
  keep_warm: true,
  min_vram_ratio: 1,
  options: {},
  targets: [],
  ...extra,
});
const target = (name: string, url: string): OllamaTargetConfig => ({ name, url, headers: {} });
const cfg = { ollama_interval_ms: 15_000, ollama_timeout_ms: 300 };
const NOW = Date.parse('2026-11-25T12:00:00Z');
const ctx = (signal = new AbortController().signal) => ({ signal, now: () => NOW });
const iso = (offsetS: number): string => new Date(NOW + offsetS * 1000).toISOString();

test('a healthy target: up, version, loaded models with VRAM ratio, expiry, context length and presence', async () => {
  const server = await startLocalServer((req, res) => {
    if (req.method === 'HEAD') return void res.writeHead(200).end();
    if (req.url === '/api/version') return json(res, 200, { version: '0.12.3' });
    if (req.url === '/api/ps')
      return json(res, 200, {
        models: [
          {
            name: 'gpt-oss:20b',
            model: 'gpt-oss:20b',
            size: 14e9,
            size_vram: 14e9,
            expires_at: iso(3600),
            context_length: 8192,
          },
          { name: 'llama3:latest', model: 'llama3:latest', size: 8e9, size_vram: 2e9, expires_at: iso(-40) },
          { name: 'other:7b', model: 'other:7b', size: 5e9, size_vram: 0, expires_at: iso(60) },
        ],
      });
    if (req.url === '/api/tags')
      return json(res, 200, { models: [{ name: 'gpt-oss:20b' }, { name: 'llama3:latest' }, { name: 'other:7b' }] });
  });
  try {
    const collector = createOllamaCollector(
      [target('gpu0', server.url)],
      [model('gpt-oss:20b'), model('llama3:latest'), model('qwen3:8b'), model('elsewhere:1b', { targets: ['gpu9'] })],
      cfg,
    );
    assert.equal(collector.name, 'ollama');
    assert.ok(collector.timeoutMs > cfg.ollama_timeout_ms, 'per-call deadlines end before the scheduler kills the run');
    const snap = await collector.collect(ctx());
    // Every family keeps one label set and passes prom-client (what /metrics uses).
    const prom = new PromSink();
    collector.render(snap, prom);
    const exposition = await prom.registry().metrics();
    assert.match(exposition, /# HELP sentinel_/);
    assert.deepEqual(checkMetricNames(exposition), [], 'project naming rules');
    const sink = new RecordingSink();
    collector.render(snap, sink);
    const t = { target: 'gpu0' };
    assert.equal(sink.get('sentinel_ollama_up', t), 1);
    for (const stage of ['head', 'version', 'ps', 'tags'])
      assert.equal(sink.get('sentinel_ollama_stage_success', { ...t, stage }), 1);
    assert.equal(sink.get('sentinel_ollama_info', { ...t, version: '0.12.3' }), 1);
    assert.equal(sink.get('sentinel_ollama_models_loaded', t), 3);
    assert.equal(sink.get('sentinel_ollama_models_available', t), 3);

    const gpt = { ...t, model: 'gpt-oss:20b' };
    assert.equal(sink.get('sentinel_ollama_model_loaded', gpt), 1);
    assert.equal(sink.get('sentinel_ollama_model_vram_ratio', gpt), 1);
    assert.equal(sink.get('sentinel_ollama_model_expires_in_seconds', gpt), 3600);
    assert.equal(sink.get('sentinel_ollama_model_context_length', gpt), 8192);
    assert.equal(sink.get('sentinel_ollama_model_stopping', gpt), 0);

    const llama = { ...t, model: 'llama3:latest' };
    assert.equal(sink.get('sentinel_ollama_model_vram_ratio', llama), 0.25, 'partial offload');
    assert.equal(sink.get('sentinel_ollama_model_stopping', llama), 1, 'expires_at in the past');
    assert.equal(sink.get('sentinel_ollama_model_expires_in_seconds', llama), -40);
    assert.equal(sink.get('sentinel_ollama_model_context_length', llama), undefined, 'absent when the server omits it');

    assert.equal(
      sink.get('sentinel_ollama_model_vram_bytes', { ...t, model: 'other:7b' }),
      0,
      'unconfigured models from /api/ps are shown too',
    );
    assert.equal(sink.get('sentinel_ollama_model_loaded', { ...t, model: 'qwen3:8b' }), 0, 'configured but not loaded');
    assert.equal(sink.get('sentinel_ollama_model_present', { ...t, model: 'qwen3:8b' }), 0);
    assert.equal(sink.get('sentinel_ollama_model_present', gpt), 1);
    assert.ok(
      !sink.samples.some((s) => s.labels.model === 'elsewhere:1b'),
      'models of other targets are not published here',
    );
    for (const s of sink.samples) assert.ok(s.help.length > 10, `${s.name} has HELP`);

    const snapTarget = (snap as OllamaSnapshot).targets[0]!;
    assert.deepEqual(
      snapTarget.configured.map((c) => [c.model, c.present, c.loaded]),
      [
        ['gpt-oss:20b', true, true],
        ['llama3:latest', true, true],
        ['qwen3:8b', false, false],
      ],
    );
  } finally {
    await server.close();
  }
});

test('HEAD works but /api/ps hangs: the stage fails with its reason, the rest is published', async () => {
  const server = await startLocalServer((req, res) => {
    if (req.method === 'HEAD') return void res.writeHead(200).end();
    if (req.url === '/api/version') return json(res, 200, { version: '0.20.5' });
    if (req.url === '/api/tags') return json(res, 200, { models: [] });
    // /api/ps never answers
  });
  try {
    const collector = createOllamaCollector([target('gpu0', server.url)], [model('gpt-oss:20b')], cfg);
    const snap = await collector.collect(ctx());
    const sink = new RecordingSink();
    collector.render(snap, sink);
    const t = { target: 'gpu0' };
    assert.equal(sink.get('sentinel_ollama_up', t), 1);
    assert.equal(sink.get('sentinel_ollama_stage_success', { ...t, stage: 'ps' }), 0);
    assert.equal(sink.get('sentinel_ollama_stage_errors_total', { ...t, stage: 'ps', reason: 'timeout' }), 1);
    assert.equal(sink.get('sentinel_ollama_model_loaded', { ...t, model: 'gpt-oss:20b' }), undefined, 'unknown, not 0');
    assert.equal(sink.get('sentinel_ollama_model_present', { ...t, model: 'gpt-oss:20b' }), 0);
    assert.equal(snap.targets[0]!.loaded, null);
    // The error counter is kept across runs.
    const again = new RecordingSink();
    collector.render(await collector.collect(ctx()), again);
    assert.equal(again.get('sentinel_ollama_stage_errors_total', { ...t, stage: 'ps', reason: 'timeout' }), 2);
  } finally {
    await server.close();
  }
});

test('one target down does not hide the others', async () => {
  const port = await closedPort();
  const server = await startLocalServer((req, res) => {
    if (req.method === 'HEAD') return void res.writeHead(200).end();
    if (req.url === '/api/version') return json(res, 200, { version: '1.0.0' });
    json(res, 200, { models: null });
  });
  try {
    const collector = createOllamaCollector(
      [target('down', `http://127.0.0.1:${port}`), target('up', server.url)],
      [],
      cfg,
    );
    const sink = new RecordingSink();
    collector.render(await collector.collect(ctx()), sink);
    assert.equal(sink.get('sentinel_ollama_up', { target: 'down' }), 0);
    assert.equal(
      sink.get('sentinel_ollama_stage_errors_total', { target: 'down', stage: 'head', reason: 'refused' }),
      1,
    );
    assert.equal(sink.get('sentinel_ollama_info', { target: 'down' }), undefined);
    assert.equal(sink.get('sentinel_ollama_up', { target: 'up' }), 1);
    assert.equal(sink.get('sentinel_ollama_models_loaded', { target: 'up' }), 0);
  } finally {
    await server.close();
  }
});

test('an aborted run throws a CollectError; a non-Ollama error is a bug and propagates', async () => {
  const controller = new AbortController();
  controller.abort();
  const fail = (): Promise<never> => Promise.reject(new OllamaError('aborted', 'aborted'));
  const aborted = createOllamaCollector([target('t', 'http://127.0.0.1:1')], [], cfg, {
    clientFor: () => ({ head: fail, version: fail, ps: fail, tags: fail }),
  });
  await assert.rejects(aborted.collect(ctx(controller.signal)), { name: 'CollectError', reason: 'timeout' });

  const bug = (): Promise<never> => Promise.reject(new TypeError('undefined is not a function'));
  const buggy = createOllamaCollector([target('t', 'http://127.0.0.1:1')], [], cfg, {
    clientFor: () => ({ head: bug, version: fail, ps: fail, tags: fail }),
  });
  await assert.rejects(buggy.collect(ctx()), TypeError);
});

test('against the Ollama simulator: keep_alive honoured, CPU fallback, partial offload and stuck Stopping are visible', async () => {
  const sim = await startOllamaSim({
    models: ['llama3:latest', 'qwen2.5:0.5b', 'gpt-oss:20b', 'llama3.1:8b'],
    version: '0.12.6',
  });
  try {
    const client = new OllamaClient(target('sim', sim.url));
    const pinned = model('llama3:latest', { keep_alive: -1, options: { num_ctx: 2048 } });
    const tenMinutes = model('qwen2.5:0.5b', { keep_alive: '10m' });
    const onCpu = model('gpt-oss:20b', { min_vram_ratio: 0.9 });
    const partial = model('llama3.1:8b', { min_vram_ratio: 0.9 });
    await client.load(pinned.name, modelRequestFields(pinned));
    await client.load(tenMinutes.name, modelRequestFields(tenMinutes));
    await sim.control.setCpuFallback(true);
    await client.load(onCpu.name, modelRequestFields(onCpu));
    await sim.control.setCpuFallback(false);
    await sim.control.setPartialOffload(0.5);
    await client.load(partial.name, modelRequestFields(partial));
    await sim.control.setPartialOffload(null);

    const collector = createOllamaCollector(
      [target('sim', sim.url)],
      [pinned, tenMinutes, onCpu, partial, model('absent:latest')],
      {
        ...cfg,
        ollama_timeout_ms: 2000,
      },
    );
    const live = { signal: new AbortController().signal, now: Date.now };
    let sink = new RecordingSink();
    collector.render(await collector.collect(live), sink);
    const l = (m: string) => ({ target: 'sim', model: m });
    assert.equal(sink.get('sentinel_ollama_info', { target: 'sim', version: '0.12.6' }), 1);
    assert.ok(
      sink.get('sentinel_ollama_model_expires_in_seconds', l('llama3:latest'))! > 200 * 365 * 86400,
      'keep_alive -1 = forever',
    );
    assert.equal(sink.get('sentinel_ollama_model_context_length', l('llama3:latest')), 2048, 'num_ctx as sent');
    const tenMin = sink.get('sentinel_ollama_model_expires_in_seconds', l('qwen2.5:0.5b'))!;
    assert.ok(tenMin > 590 && tenMin <= 600, `keep_alive 10m gives ${tenMin}`);
    assert.equal(sink.get('sentinel_ollama_model_vram_ratio', l('llama3:latest')), 1);
    assert.equal(sink.get('sentinel_ollama_model_vram_bytes', l('gpt-oss:20b')), 0, 'CPU fallback shows as vram 0');
    assert.equal(sink.get('sentinel_ollama_model_vram_ratio', l('gpt-oss:20b')), 0);
    const ratio = sink.get('sentinel_ollama_model_vram_ratio', l('llama3.1:8b'))!;
    assert.ok(ratio > 0.45 && ratio < 0.55, `partial offload ratio ${ratio}`);
    assert.equal(sink.get('sentinel_ollama_model_present', l('absent:latest')), 0);
    assert.equal(sink.get('sentinel_ollama_model_loaded', l('absent:latest')), 0);

    await sim.control.setStopping('qwen2.5:0.5b', true);
    sink = new RecordingSink();
    collector.render(await collector.collect(live), sink);
    assert.equal(sink.get('sentinel_ollama_model_stopping', l('qwen2.5:0.5b')), 1);
    assert.ok(sink.get('sentinel_ollama_model_expires_in_seconds', l('qwen2.5:0.5b'))! <= 0);
    await sim.control.setStopping('qwen2.5:0.5b', false);

    await sim.control.forceAnswer({ endpoint: '/api/ps', status: 500, message: 'boom' });
    sink = new RecordingSink();
    collector.render(await collector.collect(live), sink);
    assert.equal(sink.get('sentinel_ollama_up', { target: 'sim' }), 1);
    assert.equal(sink.get('sentinel_ollama_stage_success', { target: 'sim', stage: 'ps' }), 0);
    assert.equal(sink.get('sentinel_ollama_stage_errors_total', { target: 'sim', stage: 'ps', reason: 'http_500' }), 1);
  } finally {
    await sim.close();
  }
});

test('expires_at that moved with the clock between two reads is an expiry Ollama has not set yet (a load, or its first request)', () => {
  const prev = { expiresAtMs: NOW + 300_000, readAtMs: NOW };
  // PsHandler reports now + keep_alive for a runner without expiry: it moves as far as the clock did.
  assert.equal(expiryUnset(prev, { expiresAtMs: NOW + 302_100 }, NOW + 2_000), true);
  // Set: it stays put, or jumps once when a request ends (expiry = end + keep_alive).
  assert.equal(expiryUnset(prev, { expiresAtMs: NOW + 300_000 }, NOW + 2_000), false);
  assert.equal(expiryUnset(prev, { expiresAtMs: NOW + 600_000 }, NOW + 2_000), false);
  // Not known: no earlier read, none with expires_at, or reads too close together to tell.
  assert.equal(expiryUnset(undefined, { expiresAtMs: NOW }, NOW), null);
  assert.equal(expiryUnset(prev, {}, NOW + 2_000), null);
  assert.equal(expiryUnset(prev, { expiresAtMs: NOW + 300_500 }, NOW + 500), null);
});

test('against the simulator (0.12): a loading model has no expiry set until its first request ends; a resident one has', async () => {
  const sim = await startOllamaSim({ version: '0.12.6', loadDelayMs: 4_000, models: ['llama3:latest'] });
  let now = Date.now();
  const clock = () => now;
  try {
    const collector = createOllamaCollector([target('sim', sim.url)], [model('llama3:latest')], cfg);
    const client = new OllamaClient(target('sim', sim.url), { timeoutMs: 10_000 });
    const load = client.generate(
      { ...modelRequestFields(model('llama3:latest')), prompt: 'hi', options: { num_predict: 1 } },
      { loadTimeoutMs: 10_000, firstTokenTimeoutMs: 10_000 },
    );
    const read = async () => {
      now = Date.now();
      const snap = await collector.collect({ signal: new AbortController().signal, now: clock });
      return snap.targets[0]!.loaded?.find((m) => m.model === 'llama3:latest');
    };
    await waitForLoaded(read);
    await new Promise((r) => setTimeout(r, 1_200));
    assert.equal((await read())?.expiryUnset, true, 'loading: expires_at moves with the clock');
    await load;
    await read();
    await new Promise((r) => setTimeout(r, 1_200));
    assert.equal((await read())?.expiryUnset, false, 'loaded, first request done: expiry set');
  } finally {
    await sim.close();
  }
});

async function waitForLoaded(read: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await read()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the model never appeared in /api/ps');
}
