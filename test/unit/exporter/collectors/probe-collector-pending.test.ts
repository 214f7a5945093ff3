// A probe still in flight past its first-token deadline: published as pending (not ok, not a failure), with every
// measurement of the previous probe withdrawn, while the other probes of the same run publish as they finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProbeCollector, type ProbeSnapshot } from '../../../../exporter/collectors/probe-collector.js';
import { PromSink } from '../../../../exporter/metrics/prom-sink.js';
import { checkMetricNames } from '../../../lint/metric-name-rules.js';
import type { ModelConfig, OllamaTargetConfig } from '../../../../shared/config/types.js';
import { json, startLocalServer } from '../../../helpers/local-server.js';
import { RecordingSink } from '../../../helpers/recording-sink.js';
import { waitFor } from '../../../helpers/wait-for.js';

const model = (name: string): ModelConfig => ({
  name,
  keep_alive: '30m',
  keep_warm: true,
  min_vram_ratio: 1,
  options: {},
  targets: [],
});
const target = (url: string): OllamaTargetConfig => ({ name: 'gpu0', url, headers: {} });
const FIRST_TOKEN_MS = 100;
// Pending starts 1 s after the first-token deadline; the load deadline must be longer for a probe to get there.
const LOAD_MS = 1600;
const cfg = {
  probe_interval_ms: 60_000,
  probe_load_timeout_ms: LOAD_MS,
  probe_first_token_timeout_ms: FIRST_TOKEN_MS,
  probe_prompt: 'Say OK.',
  probe_oom_hold_ms: 1_800_000,
  ollama_timeout_ms: 500,
};
const FUTURE = new Date(Date.now() + 3600_000).toISOString();

const stream = (res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  res.write(JSON.stringify({ response: 'OK', done: false }) + '\n');
  res.end(JSON.stringify({ response: '', done: true, load_duration: 5e6, eval_count: 1, eval_duration: 2e7 }) + '\n');
};

test('past its first-token deadline a cold probe is pending: no success, no stale speed, the wait counted; then its result', async () => {
  let hang = false;
  const server = await startLocalServer((req, res) => {
    // slow is not resident (the load deadline applies); fast is, so it is probed while slow's load is still to come.
    if (req.url === '/api/ps')
      return json(res, 200, {
        models: [
          { name: 'fast:latest', model: 'fast:latest', size: 10, size_vram: 10, expires_at: '2999-01-01T00:00:00Z' },
        ],
      });
    const body = JSON.parse(req.body) as { model: string };
    if (body.model === 'slow:latest' && hang) return; // silent until the load deadline
    stream(res);
  });
  try {
    const collector = createProbeCollector([target(server.url)], [model('slow:latest'), model('fast:latest')], cfg);
    const published: ProbeSnapshot[] = [];
    const ctx = {
      signal: new AbortController().signal,
      now: Date.now,
      publish: (s: ProbeSnapshot) => published.push(s),
    };
    const first = await collector.collect(ctx);
    const before = first.probes.find((p) => p.model === 'slow:latest')!;
    assert.equal(before.result, 'ok');

    hang = true;
    published.length = 0;
    const started = Date.now();
    const run = collector.collect(ctx);
    const pendingSnap = await waitFor(() => published.find((s) => s.probes.some((p) => p.result === 'pending')), {
      timeoutMs: 3000,
      intervalMs: 10,
      what: 'a pending snapshot',
    });
    const tookMs = Date.now() - started;
    assert.ok(tookMs >= FIRST_TOKEN_MS + 1000 - 50 && tookMs < LOAD_MS, `pending after ${tookMs} ms`);
    const slow = pendingSnap.probes.find((p) => p.model === 'slow:latest')!;
    assert.deepEqual(
      { ...slow, atMs: 0, inFlightSinceMs: 0 },
      {
        target: 'gpu0',
        model: 'slow:latest',
        result: 'pending',
        consecutiveFailures: 0,
        wasLoaded: false,
        ttfbSeconds: null,
        durationSeconds: null,
        loadDurationSeconds: null,
        tokensPerSecond: null,
        runnerBusyDuringWait: null,
        busySinceMs: null,
        lastSuccessMs: before.lastSuccessMs,
        runs: before.runs,
        coldLoads: 0,
        coldLoadSeconds: [],
        atMs: 0,
        inFlightSinceMs: 0,
      },
    );
    assert.ok(slow.inFlightSinceMs! >= started && slow.inFlightSinceMs! <= started + 50);
    const fast = pendingSnap.probes.find((p) => p.model === 'fast:latest')!;
    assert.equal(fast.result, 'ok');
    assert.equal(fast.inFlightSinceMs, null, 'a probe that finished is published at once, not at the end of the run');
    assert.ok(fast.atMs > before.atMs);

    const sink = new RecordingSink();
    collector.render(pendingSnap, sink, slow.inFlightSinceMs! + 2500);
    const l = { target: 'gpu0', model: 'slow:latest' };
    assert.equal(sink.value('sentinel_probe_success', l), undefined, 'pending is neither success nor failure');
    assert.equal(sink.value('sentinel_probe_result', { ...l, result: 'pending' }), 1);
    assert.equal(sink.value('sentinel_probe_result', { ...l, result: 'ok' }), 0, 'the old ok is not current');
    assert.equal(sink.value('sentinel_probe_in_flight_seconds', l), 2.5);
    assert.equal(sink.value('sentinel_probe_consecutive_failures', l), 0);
    for (const gone of ['ttfb_seconds', 'duration_seconds', 'load_duration_seconds', 'tokens_per_second'])
      assert.equal(sink.value(`sentinel_probe_${gone}`, l), undefined, gone);
    assert.equal(sink.value('sentinel_probe_last_success_timestamp_seconds', l), before.lastSuccessMs! / 1000);
    assert.equal(sink.find('sentinel_probe_runs_total', { ...l, result: 'pending' }).length, 0, 'no run finished');
    assert.equal(sink.value('sentinel_probe_in_flight_seconds', { target: 'gpu0', model: 'fast:latest' }), 0);
    const prom = new PromSink();
    collector.render(pendingSnap, prom, Date.now());
    assert.deepEqual(checkMetricNames(await prom.registry().metrics()), [], 'project naming rules');

    const done = await run;
    const after = done.probes.find((p) => p.model === 'slow:latest')!;
    assert.equal(after.result, 'loading', 'the real result, once the load deadline is over');
    assert.equal(after.consecutiveFailures, 1, 'only the finished probe counts');
    assert.equal(after.inFlightSinceMs, null);
    const end = new RecordingSink();
    collector.render(done, end, Date.now());
    assert.equal(end.value('sentinel_probe_in_flight_seconds', l), 0);
    assert.equal(end.value('sentinel_probe_result', { ...l, result: 'pending' }), 0);
  } finally {
    await server.close();
  }
});

test('a resident model never shows pending: its probe ends as timeout at the first-token deadline', async () => {
  let answered = 0;
  const server = await startLocalServer((req, res) => {
    if (req.url === '/api/ps')
      return json(res, 200, { models: [{ name: 'warm:latest', model: 'warm:latest', expires_at: FUTURE }] });
    if (answered++ === 0) return stream(res);
  });
  try {
    const collector = createProbeCollector([target(server.url)], [model('warm:latest')], cfg);
    const published: ProbeSnapshot[] = [];
    const ctx = {
      signal: new AbortController().signal,
      now: Date.now,
      publish: (s: ProbeSnapshot) => published.push(s),
    };
    assert.equal((await collector.collect(ctx)).probes[0]!.result, 'ok');
    const hung = await collector.collect(ctx);
    assert.equal(hung.probes[0]!.result, 'timeout');
    await sleep(FIRST_TOKEN_MS + 1100); // a stray pending timer would fire by now
    assert.deepEqual(
      published.flatMap((s) => s.probes.map((p) => p.result)).filter((r) => r === 'pending'),
      [],
      'no flicker through pending before a real timeout',
    );
  } finally {
    await server.close();
  }
});
