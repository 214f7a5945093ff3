// GET /api/state?target=NAME&fresh=1 on the real wiring: the target is sampled again now (ollama and gpu started
// together, not the probe), the observation says when, and an unknown target is a 404 with a reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startExporterHarness } from '../../../helpers/start-exporter-harness.js';

test('fresh=1 collects the target now and dates the observation; unknown target 404; no target 400', async (t) => {
  // Scheduled runs only once at start (long intervals): anything newer must come from the fresh request.
  const h = await startExporterHarness({
    timing: { gpuIntervalMs: 600_000, ollamaIntervalMs: 600_000, probeIntervalMs: 600_000 },
  });
  t.after(() => h.close());
  await h.waitForMetrics('first collection', (m) =>
    ['ollama', 'gpu'].every((c) => m.get('sentinel_collector_success', { collector: c }) === 1),
  );
  const runs = () =>
    Object.fromEntries(h.exporter.scheduler.statuses().map((s) => [s.name, s.runs] as const)) as Record<string, number>;
  const before = runs();

  const asked = Date.now();
  const r = await h.get('/api/state?target=main&fresh=1&wait_ms=5000');
  assert.equal(r.status, 200);
  const doc = JSON.parse(r.body) as {
    targets: Record<string, { observation: { observedAtMs: number; apiUp: boolean }; diagnosis: { status: string } }>;
  };
  const o = doc.targets.main!.observation;
  assert.ok(o.observedAtMs >= asked && o.observedAtMs <= Date.now(), `observedAtMs ${o.observedAtMs} after ${asked}`);
  assert.equal(o.apiUp, true);
  const after = runs();
  assert.equal(after.ollama, before.ollama! + 1, 'ollama sampled again');
  assert.equal(after.gpu, before.gpu! + 1, 'gpu sampled again');

  const unknown = await h.get('/api/state?target=nope&fresh=1');
  assert.equal(unknown.status, 404);
  assert.match(JSON.parse(unknown.body).error as string, /no target named "nope"/);
  assert.equal((await h.get('/api/state?fresh=1')).status, 400);
  const plain = JSON.parse((await h.get('/api/state')).body) as { targets: Record<string, unknown> };
  assert.ok(plain.targets.main, 'without fresh=1 the cached document, as before');
});
