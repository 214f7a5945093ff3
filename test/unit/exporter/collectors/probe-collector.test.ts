import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import {
  createProbeCollector,
  PROBE_RESULTS,
  type ProbeSnapshot,
} from '../../../../exporter/collectors/probe-collector.js';
import type { Labels, MetricSink } from '../../../../exporter/collector.js';
import { PromSink } from '../../../../exporter/metrics/prom-sink.js';
import { checkMetricNames } from '../../../lint/metric-name-rules.js';
import type { ModelConfig, OllamaTargetConfig } from '../../../../shared/config/types.js';
import { json, startLocalServer, type RecordedRequest } from '../../../helpers/local-server.js';
import { startOllamaSim } from '../../../sim/ollama-sim.js';
import { OllamaClient } from '../../../../shared/ollama/ollama-client.js';

class RecordingSink implements MetricSink {
  readonly samples: { name: string; labels: Labels; value: number }[] = [];
  gauge(name: string, _help: string, labels: Labels, value: number): void {
    this.samples.push({ name, labels, value });
  }
  counter(name: string, _help: string, labels: Labels, value: number): void {
    this.samples.push({ name, labels, value });
  }
  get(name: string, labels: Labels): number | undefined {
    return this.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      ?.value;
  }
}

const model = (name: string, extra: Partial<ModelConfig> = {}): ModelConfig => ({
  name,
  keep_alive: '30m',
  keep_warm: true,
  min_vram_ratio: 1,
  options: { num_ctx: 8192, num_gpu: 99 },
  targets: [],
  ...extra,
});
const target = (url: string): OllamaTargetConfig => ({ name: 'gpu0', url, headers: {} });
const cfg = {
  probe_interval_ms: 60_000,
  probe_load_timeout_ms: 400,
  probe_first_token_timeout_ms: 150,
  probe_prompt: 'Say OK.',
  probe_oom_hold_ms: 1_800_000,
  ollama_timeout_ms: 500,
};
const ctx = (signal = new AbortController().signal) => ({ signal, now: Date.now });
const FUTURE = new Date(Date.now() + 3600_000).toISOString();
const PAST = new Date(Date.now() - 60_000).toISOString();

const stream = (res: ServerResponse, final: Record<string, unknown>): void => {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  res.write(JSON.stringify({ response: 'OK', done: false }) + '\n');
  res.end(JSON.stringify({ response: '', done: true, done_reason: 'length', ...final }) + '\n');
};

/** Behaviour by model name; the names say what each one does. */
let hungWarmAnswered = 0;

function fakeOllama(req: RecordedRequest, res: ServerResponse): void {
  if (req.url === '/api/ps') {
    return json(res, 200, {
      models: ['good:latest', 'hung-warm:latest', 'slow-cpu:latest']
        .map((name) => ({ name, model: name, size: 10, size_vram: 10, expires_at: FUTURE }))
        .concat([{ name: 'stopping:latest', model: 'stopping:latest', size: 10, size_vram: 10, expires_at: PAST }]),
    });
  }
  const body = JSON.parse(req.body) as { model: string };
  // hung-warm answers its first probe, then its runner hangs
  if (body.model === 'hung-warm:latest' && hungWarmAnswered++ === 0)
    return stream(res, { load_duration: 5_000_000, eval_count: 1, eval_duration: 20_000_000 });
  switch (body.model) {
    case 'good:latest':
      return stream(res, {
        load_duration: 5_000_000,
        eval_count: 1,
        eval_duration: 20_000_000,
        prompt_eval_count: 10,
        prompt_eval_duration: 10_000_000,
      });
    case 'cold:latest':
      return void setTimeout(
        () => stream(res, { load_duration: 3_200_000_000, eval_count: 1, eval_duration: 10_000_000 }),
        30,
      );
    case 'busy:latest':
      return json(res, 503, { error: 'server busy, please try again.  maximum pending requests exceeded' });
    case 'missing:latest':
      return json(res, 404, { error: 'model "missing:latest" not found, try pulling it first' });
    case 'oom:latest':
      return json(res, 500, { error: 'llama runner process has terminated: CUDA error: out of memory' });
    case 'hung-after-headers:latest':
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      return void res.flushHeaders();
    default:
      // slow-load, hung-warm, stopping: say nothing
      return;
  }
}

test('classifies every outcome and sends keep_alive and options exactly, plus num_predict 1', async () => {
  const server = await startLocalServer(fakeOllama);
  try {
    const names = [
      'good',
      'cold',
      'busy',
      'missing',
      'oom',
      'hung-after-headers',
      'hung-warm',
      'slow-load',
      'stopping',
    ];
    const models = names
      .map((n) => model(`${n}:latest`))
      .concat([model('not-warm:latest', { keep_warm: false }), model('other:latest', { targets: ['gpu9'] })]);
    const collector = createProbeCollector([target(server.url)], models, cfg);
    assert.equal(collector.name, 'probe');
    const snap = await collector.collect(ctx());
    const result = Object.fromEntries(snap.probes.map((p) => [p.model.replace(':latest', ''), p.result]));
    assert.deepEqual(result, {
      good: 'ok',
      cold: 'ok',
      busy: 'busy',
      missing: 'not_found',
      oom: 'error',
      'hung-after-headers': 'timeout',
      'hung-warm': 'ok',
      'slow-load': 'loading',
      stopping: 'loading',
    });

    const generated = server.requests
      .filter((r) => r.url === '/api/generate')
      .map((r) => JSON.parse(r.body) as Record<string, unknown>);
    assert.equal(generated.length, names.length, 'models without keep_warm or of other targets are never touched');
    for (const body of generated) {
      assert.deepEqual(
        { ...body, model: undefined },
        {
          model: undefined,
          keep_alive: '30m',
          prompt: 'Say OK.',
          options: { num_ctx: 8192, num_gpu: 99, num_predict: 1 },
          stream: true,
        },
      );
    }

    const good = snap.probes.find((p) => p.model === 'good:latest')!;
    assert.equal(good.wasLoaded, true);
    assert.equal(good.loadDurationSeconds, 0.005);
    assert.equal(good.tokensPerSecond, 50);
    assert.ok(!('promptTokensPerSecond' in good), 'no prompt rate: cached prompt tokens inflate it');
    assert.ok(good.ttfbSeconds !== null && good.durationSeconds !== null && good.ttfbSeconds <= good.durationSeconds);
    assert.equal(good.coldLoads, 0);
    const cold = snap.probes.find((p) => p.model === 'cold:latest')!;
    assert.equal(cold.wasLoaded, false);
    assert.equal(cold.coldLoads, 1, 'load_duration 3.2 s is a cold load');
    const oom = snap.probes.find((p) => p.model === 'oom:latest')!;
    assert.equal(oom.reason, 'http_500');
    assert.match(oom.message ?? '', /out of memory/);

    // A model that answered before and is still resident gets only the first-token deadline: silence is a hang.
    // One merely listed by /api/ps (it may still be loading) got the load deadline above ("slow-load" is not listed).
    const again = await collector.collect(ctx());
    assert.equal(again.probes.find((p) => p.model === 'hung-warm:latest')!.result, 'timeout');
    assert.equal(again.probes.find((p) => p.model === 'good:latest')!.result, 'ok');

    // Every family keeps one label set and passes prom-client (what /metrics uses).
    const prom = new PromSink();
    collector.render(snap, prom);
    const exposition = await prom.registry().metrics();
    assert.match(exposition, /# HELP sentinel_/);
    assert.deepEqual(checkMetricNames(exposition), [], 'project naming rules');
    const sink = new RecordingSink();
    collector.render(snap, sink);
    const l = { target: 'gpu0', model: 'busy:latest' };
    assert.equal(sink.get('sentinel_probe_success', l), 0);
    for (const r of PROBE_RESULTS)
      assert.equal(sink.get('sentinel_probe_result', { ...l, result: r }), r === 'busy' ? 1 : 0);
    assert.equal(sink.get('sentinel_probe_runs_total', { ...l, result: 'busy' }), 1);
    assert.equal(sink.get('sentinel_probe_consecutive_failures', l), 1);
    assert.equal(sink.get('sentinel_probe_cold_loads_total', { target: 'gpu0', model: 'cold:latest' }), 1);
    assert.equal(sink.get('sentinel_probe_success', { target: 'gpu0', model: 'good:latest' }), 1);
    assert.ok(
      sink.get('sentinel_probe_last_success_timestamp_seconds', { target: 'gpu0', model: 'good:latest' })! > 1.7e9,
    );
    assert.equal(sink.get('sentinel_probe_last_success_timestamp_seconds', l), undefined, 'never succeeded');
    assert.equal(sink.get('sentinel_probe_ttfb_seconds', l), undefined);
  } finally {
    await server.close();
  }
});

test('consecutive failures and run counters are kept across runs; a success resets the streak', async () => {
  let healthy = false;
  const server = await startLocalServer((req, res) => {
    if (req.url === '/api/ps') return json(res, 200, { models: [] });
    if (healthy) return stream(res, { load_duration: 1_000_000 });
    json(res, 500, { error: 'boom' });
  });
  try {
    const collector = createProbeCollector([target(server.url)], [model('m:latest')], cfg);
    const streak = async (): Promise<ProbeSnapshot['probes'][number]> => (await collector.collect(ctx())).probes[0]!;
    assert.equal((await streak()).consecutiveFailures, 1);
    assert.equal((await streak()).consecutiveFailures, 2);
    healthy = true;
    const ok = await streak();
    assert.equal(ok.consecutiveFailures, 0);
    assert.deepEqual(ok.runs, { ok: 1, loading: 0, busy: 0, timeout: 0, not_found: 0, error: 2, skipped: 0 });
    assert.ok(ok.lastSuccessMs !== null);
  } finally {
    await server.close();
  }
});

test('/api/ps failing gives every model the load deadline; the run still probes', async () => {
  const server = await startLocalServer((req, res) => {
    if (req.url === '/api/ps') return json(res, 500, { error: 'x' });
    stream(res, {});
  });
  try {
    const snap = await createProbeCollector([target(server.url)], [model('m:latest')], cfg).collect(ctx());
    assert.equal(snap.probes[0]!.result, 'ok');
    assert.equal(snap.probes[0]!.wasLoaded, null);
  } finally {
    await server.close();
  }
});

test('the run respects the collector signal: aborted runs throw and record nothing', async () => {
  const server = await startLocalServer((req, res) => {
    if (req.url === '/api/ps') return json(res, 200, { models: [] });
    // never answers generate
  });
  try {
    const collector = createProbeCollector([target(server.url)], [model('a:latest'), model('b:latest')], {
      ...cfg,
      probe_load_timeout_ms: 60_000,
    });
    assert.ok(collector.timeoutMs >= 60_000 + 2 * cfg.probe_first_token_timeout_ms);
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(collector.collect(ctx(controller.signal)), { name: 'CollectError', reason: 'timeout' });
    assert.ok(Date.now() - started < 2000, 'both probes stopped with the signal');
  } finally {
    await server.close();
  }
});

test('no keep_warm model means no request at all', async () => {
  const server = await startLocalServer((_req, res) => json(res, 200, { models: [] }));
  try {
    const snap = await createProbeCollector(
      [target(server.url)],
      [model('x:latest', { keep_warm: false })],
      cfg,
    ).collect(ctx());
    assert.equal(snap.probes.length, 0);
    assert.equal(server.requests.length, 0);
  } finally {
    await server.close();
  }
});

test('against the Ollama simulator: exact options and keep_alive, no reload when warm, hang, 503, 404 and slow load', async () => {
  const sim = await startOllamaSim({ models: ['llama3:latest', 'qwen2.5:0.5b', 'llama3.1:8b'] });
  try {
    const t = { name: 'sim', url: sim.url, headers: {} };
    const pinned = model('llama3:latest', { keep_alive: -1, options: { num_ctx: 2048, num_batch: 256 } });
    const cold = model('qwen2.5:0.5b', { keep_alive: '10m', options: {} });
    const untouched = model('llama3.1:8b', { keep_warm: false });
    const missing = model('missing:latest');
    const simCfg = { ...cfg, probe_load_timeout_ms: 5000, probe_first_token_timeout_ms: 400, ollama_timeout_ms: 2000 };
    const collector = createProbeCollector([t], [pinned, cold, untouched, missing], simCfg);
    const run = async () => Object.fromEntries((await collector.collect(ctx())).probes.map((p) => [p.model, p]));

    let r = await run();
    assert.equal(r['llama3:latest']!.result, 'ok');
    assert.equal(r['qwen2.5:0.5b']!.result, 'ok');
    assert.equal(r['missing:latest']!.result, 'not_found');
    assert.equal(r['llama3:latest']!.wasLoaded, false);
    const generates = (await sim.control.requests())
      .filter((q) => q.path === '/api/generate')
      .map((q) => q.body as Record<string, unknown>);
    assert.deepEqual(
      generates.find((b) => b.model === 'llama3:latest'),
      {
        model: 'llama3:latest',
        keep_alive: -1,
        options: { num_ctx: 2048, num_batch: 256, num_predict: 1 },
        prompt: 'Say OK.',
        stream: true,
      },
    );
    assert.equal(generates.find((b) => b.model === 'qwen2.5:0.5b')!.keep_alive, '10m');
    assert.ok(!generates.some((b) => b.model === 'llama3.1:8b'), 'keep_warm false is never probed');

    const state = await sim.control.state();
    const pinnedRunner = state.runners.find((x) => x.name === 'llama3:latest')!;
    assert.equal(pinnedRunner.numCtx, 2048);
    assert.ok(Date.parse(pinnedRunner.expiresAt) > Date.now() + 100 * 365 * 86400_000, 'keep_alive -1 honoured');

    // Same options again: the resident runner is reused, not reloaded.
    r = await run();
    assert.equal(r['llama3:latest']!.wasLoaded, true);
    assert.equal(r['llama3:latest']!.result, 'ok');
    assert.ok(r['llama3:latest']!.loadDurationSeconds! < 0.1, 'warm: load_duration in milliseconds');
    assert.equal(
      (await sim.control.state()).runners.find((x) => x.name === 'llama3:latest')!.pid,
      pinnedRunner.pid,
      'same runner process',
    );
    assert.ok(r['llama3:latest']!.tokensPerSecond! > 0);
    assert.equal(r['missing:latest']!.consecutiveFailures, 2);

    await sim.control.setHangGenerate('nothing');
    r = await run();
    assert.equal(r['llama3:latest']!.result, 'timeout', 'resident model, zero bytes: hung runner');
    assert.equal(r['llama3:latest']!.reason, 'load_timeout');
    await sim.control.setHangGenerate('headers');
    r = await run();
    assert.equal(r['llama3:latest']!.result, 'timeout');
    assert.equal(r['llama3:latest']!.reason, 'first_token_timeout');
    assert.equal(r['llama3:latest']!.consecutiveFailures, 2);
    await sim.control.setHangGenerate(false);

    await sim.control.forceAnswer({ endpoint: '/api/generate', status: 503 });
    r = await run();
    assert.equal(r['llama3:latest']!.result, 'busy');
    await sim.control.clearForcedAnswers();
    r = await run();
    assert.equal(r['llama3:latest']!.result, 'ok');
    assert.equal(r['llama3:latest']!.consecutiveFailures, 0);

    // Cold model with a load slower than the load deadline.
    await sim.control.expire('qwen2.5:0.5b');
    await sim.control.setLoadDelay(1500);
    const impatient = createProbeCollector([t], [cold], { ...simCfg, probe_load_timeout_ms: 300 });
    const slow = (await impatient.collect(ctx())).probes[0]!;
    assert.equal(slow.wasLoaded, false);
    assert.equal(slow.result, 'loading');
    await sim.control.setLoadDelay(20);
  } finally {
    await sim.close();
  }
});

test('a resident model unloaded between the round’s /api/ps and its probe: a slow load is loading, not a hung runner', async () => {
  const sim = await startOllamaSim({ models: ['qwen2.5:0.5b'] });
  try {
    const t = { name: 'sim', url: sim.url, headers: {} };
    const m = model('qwen2.5:0.5b', { keep_alive: '10m', options: {} });
    let unloadFirst = false;
    // A cold load may take its time (a runner process starts on a busy machine); a resident model gets 400 ms.
    const simCfg = {
      ...cfg,
      probe_load_timeout_ms: 10_000,
      probe_first_token_timeout_ms: 400,
      ollama_timeout_ms: 2000,
    };
    const collector = createProbeCollector([t], [m], simCfg, {
      clientFor: (target, timeoutMs) => {
        const real = new OllamaClient(target, { timeoutMs });
        return {
          ps: (o) => real.ps(o),
          // keep_alive ran out (or another model evicted it) just after the round read /api/ps
          generate: async (req, o) => {
            if (unloadFirst) await sim.control.expire(m.name);
            return real.generate(req, o);
          },
        };
      },
    });
    const run = async () => (await collector.collect(ctx())).probes[0]!;
    await sim.control.setLoadDelay(20);
    assert.equal((await run()).result, 'ok');
    assert.equal((await run()).wasLoaded, true, 'resident, and seen answering: proven');

    unloadFirst = true;
    await sim.control.setLoadDelay(2000);
    const r = await run();
    assert.equal(r.wasLoaded, true);
    assert.equal(r.reason, 'load_timeout', 'the first-token deadline of a resident model ran out');
    assert.equal(r.result, 'loading', 'its runner was replaced meanwhile: a load, not a hang');

    // The same deadline with the runner left in place is a hang (once the slow load has finished and answered).
    unloadFirst = false;
    let last = await run();
    for (let i = 0; i < 40 && last.result !== 'ok'; i++) {
      assert.equal(last.result, 'loading', 'only loading until the slow load is done');
      await new Promise((resolve) => setTimeout(resolve, 200));
      last = await run();
    }
    assert.equal(last.result, 'ok');
    await sim.control.setHangGenerate('nothing');
    assert.equal((await run()).result, 'timeout');
    // Users whose requests hang too and who give up now and then: their requests ending move nothing the probe's
    // own request holds, so it is still a hang.
    let users = true;
    const user = (async () => {
      while (users) {
        await fetch(`${sim.url}/api/generate`, {
          method: 'POST',
          body: JSON.stringify({ model: m.name, prompt: 'hi', keep_alive: '10m' }),
          signal: AbortSignal.timeout(120),
        }).catch(() => undefined);
      }
    })();
    try {
      assert.equal((await run()).result, 'timeout');
      assert.equal((await run()).result, 'timeout');
    } finally {
      users = false;
      await user;
    }
    await sim.control.setHangGenerate(false);
  } finally {
    await sim.close();
  }
});
