import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProbeCollector } from '../../../../exporter/collectors/probe-collector.js';
import type { RunnersView } from '../../../../exporter/collectors/runner-watch.js';
import type { ModelConfig, OllamaTargetConfig } from '../../../../shared/config/types.js';
import type { RunnerObservation } from '../../../../shared/diagnosis/target-observation.js';
import { json, startLocalServer } from '../../../helpers/local-server.js';

const model: ModelConfig = {
  name: 'm:latest',
  keep_alive: '30m',
  keep_warm: true,
  min_vram_ratio: 1,
  options: {},
  targets: [],
};
const target = (url: string): OllamaTargetConfig => ({ name: 'gpu0', url, headers: {} });
const cfg = {
  probe_interval_ms: 60_000,
  probe_load_timeout_ms: 600,
  probe_first_token_timeout_ms: 300,
  probe_prompt: 'Say OK.',
  probe_oom_hold_ms: 1_800_000,
  ollama_timeout_ms: 500,
};
const ctx = () => ({ signal: new AbortController().signal, now: Date.now });
const BLOB = 'sha256-' + 'a'.repeat(64);
const runner = (progress: RunnerObservation['progress'], slots: number | null = 1): RunnerObservation => ({
  pid: 4242,
  modelBlob: BLOB,
  slots,
  vramBytes: 10,
  progress,
  flatForMs: progress === 'flat' ? 60_000 : 0,
  startedAtMs: 0,
});
const resident = { models: [{ name: 'm:latest', model: 'm:latest', size: 10, size_vram: 10, digest: 'd' }] };

test('a busy single-slot runner is not probed: skipped, streak kept, busy clock started', async () => {
  let generates = 0;
  const server = await startLocalServer((req, res) => {
    if (req.url === '/api/ps') return json(res, 200, resident);
    generates++;
    json(res, 500, { error: 'boom' });
  });
  try {
    let view: RunnersView = { atMs: Date.now(), runners: [runner('progressing')] };
    const c = createProbeCollector([target(server.url)], [model], cfg, {
      runnersOf: () => view,
      blobOf: () => BLOB,
    });
    const first = (await c.collect(ctx())).probes[0]!;
    assert.equal(first.result, 'skipped');
    assert.equal(generates, 0, 'no request took the only slot');
    assert.equal(first.consecutiveFailures, 0);
    assert.ok(first.busySinceMs !== null);
    const second = (await c.collect(ctx())).probes[0]!;
    assert.equal(second.busySinceMs, first.busySinceMs, 'the busy clock keeps its start');
    assert.equal(second.runs.skipped, 2);
    // Several slots: the probe takes a free one and still runs.
    view = { atMs: Date.now(), runners: [runner('progressing', 4)] };
    const third = (await c.collect(ctx())).probes[0]!;
    assert.equal(third.result, 'error');
    assert.equal(generates, 1);
    assert.equal(third.busySinceMs, null);
  } finally {
    await server.close();
  }
});

test('a timed-out probe records whether its runner progressed while it waited', async () => {
  let generates = 0;
  const server = await startLocalServer((req, res) => {
    if (req.url === '/api/ps') return json(res, 200, resident);
    // The first probe of each collector answers (the model is proven resident), later ones never do: headers
    // come with the first token in Ollama.
    if (generates++ % 2 === 0) {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(JSON.stringify({ response: 'OK', done: true, eval_count: 1, eval_duration: 1e6 }) + '\n');
      return;
    }
    res.on('close', () => res.destroy());
  });
  try {
    for (const [progress, expected] of [
      ['progressing', true],
      ['flat', false],
    ] as const) {
      // The runners snapshot taken during the wait (fresh: newer than the probe's start). Before it: flat, so the
      // probe is sent; the slot count is above one so a busy runner does not skip it.
      const view = (): RunnersView => ({ atMs: Date.now(), runners: [runner(progress, 2)] });
      const c = createProbeCollector([target(server.url)], [model], cfg, { runnersOf: view, blobOf: () => BLOB });
      assert.equal((await c.collect(ctx())).probes[0]!.result, 'ok');
      const p = (await c.collect(ctx())).probes[0]!;
      assert.equal(p.result, 'timeout');
      assert.equal(p.runnerBusyDuringWait, expected, progress);
      assert.equal(p.busySinceMs !== null, expected, 'waiting behind users starts the busy clock');
    }
    // Not visible: unknown, the old rule applies in the diagnosis.
    const blind = createProbeCollector([target(server.url)], [model], cfg);
    await blind.collect(ctx());
    const p = (await blind.collect(ctx())).probes[0]!;
    assert.equal(p.result, 'timeout');
    assert.equal(p.runnerBusyDuringWait, null);
  } finally {
    await server.close();
  }
});

test('a probe cut by the API going away (refused) is not counted as a failure', async () => {
  const server = await startLocalServer((req, res) => json(res, 200, { models: [] }));
  const url = server.url;
  await server.close();
  const c = createProbeCollector([target(url)], [model], cfg);
  const snap = await c.collect(ctx());
  assert.deepEqual(snap.probes, [], 'nothing recorded: api_down covers it');
});

test('a resident model reloaded under its probe: loading while its runner is seen loading (or unseen), hung once it sits still', async () => {
  let generates = 0;
  const fixed = Date.now() + 600_000;
  let loading = false;
  const server = await startLocalServer((req, res) => {
    // A resident runner's expires_at stands still; a loading model's reads "now + keep_alive" (sched.go
    // loadedModels), which moves.
    if (req.url === '/api/ps')
      return json(res, 200, {
        models: [{ ...resident.models[0], expires_at: new Date(loading ? Date.now() + 600_000 : fixed).toISOString() }],
      });
    // The first probe of each collector answers (proven resident); later ones set off a reload (as a model unloaded
    // between /api/ps and the request does) and send no headers.
    loading = generates++ % 2 === 1;
    if (!loading) {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(JSON.stringify({ response: 'OK', done: true, eval_count: 1, eval_duration: 1e6 }) + '\n');
      return;
    }
    res.on('close', () => res.destroy());
  });
  try {
    for (const [seen, expected] of [
      ['progressing', 'loading'],
      ['unseen', 'loading'],
      ['flat', 'timeout'],
    ] as const) {
      const view = (): RunnersView | null =>
        seen === 'unseen' ? null : { atMs: Date.now(), runners: [runner(seen, 2)] };
      const c = createProbeCollector([target(server.url)], [model], cfg, { runnersOf: view, blobOf: () => BLOB });
      assert.equal((await c.collect(ctx())).probes[0]!.result, 'ok');
      const p = (await c.collect(ctx())).probes[0]!;
      assert.equal(p.reason, 'load_timeout');
      assert.equal(p.result, expected, `runner ${seen}`);
    }
  } finally {
    await server.close();
  }
});

test('a cold load that keeps progressing is waited for past the load deadline (leaving would make Ollama abort it); a flat one is left', async () => {
  // Ollama answers the cold model's generate once loaded: here after 2 s, four load deadlines.
  let closedEarly = 0;
  const server = await startLocalServer((req, res) => {
    if (req.url === '/api/ps') return json(res, 200, { models: [] });
    res.on('close', () => {
      if (!res.writableEnded) closedEarly++;
    });
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(JSON.stringify({ response: 'OK', done: true, load_duration: 2e9 }) + '\n');
    }, 2_000);
  });
  try {
    const loadStarted = Date.now();
    const fresh =
      (progress: RunnerObservation['progress'], flatForMs: number): (() => RunnersView) =>
      () => ({
        atMs: Date.now(),
        runners: [{ ...runner(progress), flatForMs, startedAtMs: loadStarted + 100 }],
      });
    // The runner the load started keeps moving (0.30+: not matched by blob yet, started after the probe began).
    const moving = createProbeCollector([target(server.url)], [model], cfg, {
      runnersOf: fresh('progressing', 0),
      blobOf: () => null,
    });
    const ok = (await moving.collect(ctx())).probes[0]!;
    assert.equal(ok.result, 'ok', 'waited for the load to finish');
    assert.equal(closedEarly, 0, 'the probe never left the load');
    // Flat for longer than a load deadline: the probe stops waiting at its deadline, as before.
    const flat = createProbeCollector([target(server.url)], [model], cfg, {
      runnersOf: fresh('flat', 60_000),
      blobOf: () => null,
    });
    const started = Date.now();
    const left = (await flat.collect(ctx())).probes[0]!;
    assert.equal(left.result, 'loading');
    assert.ok(Date.now() - started < 1_500, 'one load deadline, not the load');
    // A runner older than the probe (another model's, or one that made no move) does not keep it waiting either.
    const old = createProbeCollector([target(server.url)], [model], cfg, {
      runnersOf: () => ({
        atMs: Date.now(),
        runners: [{ ...runner('progressing'), startedAtMs: loadStarted - 60_000 }],
      }),
      blobOf: () => null,
    });
    assert.equal((await old.collect(ctx())).probes[0]!.result, 'loading');
  } finally {
    await server.close();
  }
});
