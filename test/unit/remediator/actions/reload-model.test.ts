// reload follows Ollama's real unload semantics (server/sched.go expireRunner/processCompleted, v0.33.0-rc2): the
// unload request answers at once, the runner goes only when its requests in flight finish; the load follows that,
// and the step is done only when the model is listed again, resident and not past its expiry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig, OllamaTargetConfig } from '../../../../shared/config/types.js';
import type { ActionRequest } from '../../../../remediator/actions/action.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import { startLocalServer, type RecordedRequest } from '../../../helpers/local-server.js';
import { startFakeDockerEngine } from '../../../helpers/fake-docker-engine.js';
import { testDeps } from '../../../helpers/action-test-deps.js';

const model: ModelConfig = {
  name: 'llama3.2:3b',
  keep_alive: -1,
  keep_warm: true,
  min_vram_ratio: 0.9,
  options: {},
  targets: [],
};

interface World {
  /** /api/ps polls during which the model stays listed "Stopping" after the unload (requests still in flight). */
  busyPolls: number;
  unloadHangs: boolean;
  /** What /api/ps shows after the load: listed in VRAM, listed past expiry, or not at all. */
  afterLoad: 'resident' | 'stopping' | 'absent';
}

async function fakeOllama(t: import('node:test').TestContext, w: World) {
  let phase: 'loaded' | 'unloading' | 'gone' | 'reloaded' = 'loaded';
  const entry = (expires: string) => ({
    name: model.name,
    model: model.name,
    size: 4e9,
    size_vram: 4e9,
    digest: 'abc',
    expires_at: expires,
  });
  const server = await startLocalServer((req: RecordedRequest, res) => {
    const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/ps') {
      let models: unknown[] = [];
      if (phase === 'loaded') models = [entry('2318-01-01T00:00:00Z')];
      else if (phase === 'unloading') {
        // expireRunner set expires_at to now; the runner stays until its requests finish.
        models = [entry(new Date(Date.now() - 1000).toISOString())];
        if (--w.busyPolls <= 0) phase = 'gone';
      } else if (phase === 'reloaded' && w.afterLoad !== 'absent')
        models = [entry(w.afterLoad === 'stopping' ? '2001-01-01T00:00:00Z' : '2318-01-01T00:00:00Z')];
      res.end(JSON.stringify({ models }));
    } else if (req.url === '/api/generate') {
      if (body.keep_alive === 0) {
        if (w.unloadHangs) return; // never answers
        phase = w.busyPolls > 0 ? 'unloading' : 'gone';
        res.end(JSON.stringify({ model: body.model, response: '', done: true, done_reason: 'unload' }));
      } else {
        phase = 'reloaded';
        res.end(JSON.stringify({ model: body.model, response: '', done: true, done_reason: 'load' }));
      }
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  t.after(() => server.close());
  const target: OllamaTargetConfig = { name: 'main', url: server.url, headers: {} };
  return { server, target };
}

async function run(t: import('node:test').TestContext, w: World, over: Partial<ActionRequest> = {}) {
  const o = await fakeOllama(t, w);
  const engine = await startFakeDockerEngine(() => undefined);
  t.after(() => engine.close());
  const req: ActionRequest = {
    action: 'reload',
    target: o.target,
    model,
    dryRun: false,
    signal: AbortSignal.timeout(20_000),
    incidentId: 'inc-1',
    ...over,
  };
  const result = await runAction(req, testDeps(engine.docker));
  const generates = o.server.requests
    .filter((r) => r.url === '/api/generate')
    .map((r) => (JSON.parse(r.body) as { keep_alive: unknown }).keep_alive);
  return { result, generates };
}

test('a busy model: loads only after /api/ps stops listing it (its requests finished), then done', async (t) => {
  const { result, generates } = await run(t, { busyPolls: 3, unloadHangs: false, afterLoad: 'resident' });
  assert.equal(result.outcome, 'done', result.detail);
  assert.deepEqual(generates, [0, -1], 'unload, then load');
  assert.match(result.detail, /unloaded, loaded again .* listed and resident/);
});

test('a model that never unloads (requests never finish) within the deadline: failed, nothing loaded', async (t) => {
  const { result, generates } = await run(
    t,
    { busyPolls: 1e9, unloadHangs: false, afterLoad: 'resident' },
    { deadlineMs: 300 },
  );
  assert.equal(result.outcome, 'failed');
  assert.equal(result.unchanged, true);
  assert.deepEqual(generates, [0], 'no load into a runner that is still there');
  assert.match(result.detail, /still lists it, past its expiry, after 300 ms/);
});

test('an unload request that gets no answer: the server is stuck (serverStuck), nothing loaded', async (t) => {
  const { result, generates } = await run(
    t,
    { busyPolls: 0, unloadHangs: true, afterLoad: 'resident' },
    { deadlineMs: 400 },
  );
  assert.equal(result.outcome, 'failed');
  assert.match(result.serverStuck ?? '', /unload request \(keep_alive 0\) timed out after 400 ms/);
  assert.deepEqual(generates, [0]);
});

test('not done when the reloaded model is not listed, or listed past its expiry', async (t) => {
  for (const afterLoad of ['absent', 'stopping'] as const) {
    const { result } = await run(t, { busyPolls: 0, unloadHangs: false, afterLoad });
    assert.equal(result.outcome, 'failed', afterLoad);
    assert.match(result.detail, afterLoad === 'absent' ? /not listed by \/api\/ps/ : /past its expiry/);
  }
});
