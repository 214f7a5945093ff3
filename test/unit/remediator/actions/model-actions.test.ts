import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig, OllamaTargetConfig } from '../../../../shared/config/types.js';
import type { ActionRequest } from '../../../../remediator/actions/action.js';
import { actionHappened } from '../../../../remediator/actions/action-happened.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import { closedPort, startLocalServer, type RecordedRequest } from '../../../helpers/local-server.js';
import { startFakeDockerEngine } from '../../../helpers/fake-docker-engine.js';
import { testDeps } from '../../../helpers/action-test-deps.js';

const model: ModelConfig = {
  name: 'llama3.2:3b',
  keep_alive: -1,
  keep_warm: true,
  min_vram_ratio: 0.9,
  options: { num_ctx: 8192, num_batch: 256 },
  targets: [],
};

/** A small Ollama: /api/ps, load/unload through /api/generate, /api/show, a streamed /api/pull. */
async function fakeOllama(t: import('node:test').TestContext, opts: { loaded: boolean; present: boolean }) {
  const state = { ...opts };
  const server = await startLocalServer((req: RecordedRequest, res) => {
    const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/ps') {
      const models = state.loaded
        ? [
            {
              name: model.name,
              model: model.name,
              size: 4e9,
              size_vram: 4e9,
              digest: 'abc',
              expires_at: '2318-01-01T00:00:00Z',
            },
          ]
        : [];
      res.end(JSON.stringify({ models }));
    } else if (req.url === '/api/generate') {
      const unload = body.keep_alive === 0;
      state.loaded = !unload;
      res.end(JSON.stringify({ model: body.model, response: '', done: true, done_reason: unload ? 'unload' : 'load' }));
    } else if (req.url === '/api/show') {
      res.statusCode = state.present ? 200 : 404;
      res.end(JSON.stringify(state.present ? { details: {} } : { error: `model '${String(body.model)}' not found` }));
    } else if (req.url === '/api/pull') {
      res.setHeader('content-type', 'application/x-ndjson');
      state.present = true;
      res.end('{"status":"pulling manifest"}\n{"status":"success"}\n');
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  t.after(() => server.close());
  const target: OllamaTargetConfig = { name: 'main', url: server.url, headers: {} };
  return { server, state, target };
}

async function deps(t: import('node:test').TestContext) {
  const engine = await startFakeDockerEngine(() => undefined);
  t.after(() => engine.close());
  return testDeps(engine.docker);
}

function request(
  action: ActionRequest['action'],
  target: OllamaTargetConfig,
  over: Partial<ActionRequest> = {},
): ActionRequest {
  return { action, target, model, dryRun: false, signal: AbortSignal.timeout(20_000), incidentId: 'inc-3', ...over };
}

const generates = (reqs: RecordedRequest[]) =>
  reqs.filter((r) => r.url === '/api/generate').map((r) => JSON.parse(r.body) as Record<string, unknown>);

test('warm_up loads with exactly the configured keep_alive and options', async (t) => {
  const o = await fakeOllama(t, { loaded: false, present: true });
  const d = await deps(t);
  assert.equal(await actionHappened('warm_up', { model: model.name }, o.target, d), false);
  const result = await runAction(request('warm_up', o.target), d);
  assert.equal(result.outcome, 'done', result.detail);
  assert.deepEqual(generates(o.server.requests), [
    { model: 'llama3.2:3b', keep_alive: -1, options: { num_ctx: 8192, num_batch: 256 }, stream: false },
  ]);
  assert.match(result.detail, /loaded llama3.2:3b on main in \d+ ms \(done_reason load/);
  assert.equal(await actionHappened('warm_up', result.before!, o.target, d), true);
});

test('reload unloads (keep_alive 0), waits until /api/ps drops it, loads with the same fields', async (t) => {
  const o = await fakeOllama(t, { loaded: true, present: true });
  const d = await deps(t);
  const result = await runAction(request('reload', o.target), d);
  assert.equal(result.outcome, 'done', result.detail);
  assert.deepEqual(generates(o.server.requests), [
    { model: 'llama3.2:3b', keep_alive: 0, stream: false },
    { model: 'llama3.2:3b', keep_alive: -1, options: { num_ctx: 8192, num_batch: 256 }, stream: false },
  ]);
  assert.match(result.detail, /unloaded, loaded again/);
  assert.equal(
    await actionHappened('reload', result.before!, o.target, d),
    null,
    'loaded now: cannot tell whether it was reloaded',
  );
  o.state.loaded = false;
  assert.equal(await actionHappened('reload', result.before!, o.target, d), false);
});

test('dry-runs only read', async (t) => {
  const o = await fakeOllama(t, { loaded: true, present: false });
  const d = await deps(t);
  for (const action of ['warm_up', 'reload', 'pull_model'] as const) {
    const result = await runAction(request(action, o.target, { dryRun: true }), d);
    assert.equal(result.outcome, 'skipped', `${action}: ${result.detail}`);
    assert.match(result.detail, /^dry-run: would/);
    assert.ok(
      result.calls.some((c) => c.startsWith('would POST')),
      action,
    );
  }
  assert.deepEqual([...new Set(o.server.requests.map((r) => r.url))].sort(), ['/api/ps', '/api/show']);
});

test('pull_model: present = skipped; missing = a strict pull; happened = present now', async (t) => {
  const o = await fakeOllama(t, { loaded: false, present: true });
  const d = await deps(t);
  const present = await runAction(request('pull_model', o.target), d);
  assert.equal(present.outcome, 'skipped');
  o.state.present = false;
  assert.equal(await actionHappened('pull_model', { model: model.name }, o.target, d), false);
  const pulled = await runAction(request('pull_model', o.target), d);
  assert.equal(pulled.outcome, 'done', pulled.detail);
  assert.match(pulled.detail, /llama3.2:3b pulled on main/);
  assert.equal(await actionHappened('pull_model', pulled.before!, o.target, d), true);
});

test('model actions without a model fail clearly; an unreachable Ollama fails with the reason', async (t) => {
  const d = await deps(t);
  const target: OllamaTargetConfig = { name: 'down', url: `http://127.0.0.1:${await closedPort()}`, headers: {} };
  const { model: _m, ...noModel } = request('warm_up', target);
  const r1 = await runAction(noModel as ActionRequest, d);
  assert.equal(r1.outcome, 'failed');
  assert.match(r1.detail, /needs a model/);
  const r2 = await runAction(request('warm_up', target), d);
  assert.equal(r2.outcome, 'failed');
  assert.match(r2.detail, /refused|unreachable|ECONNREFUSED/);
});
