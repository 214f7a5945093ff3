// The exporter's HTTP surface: readiness before and after the first collection, liveness, the landing page,
// unknown paths, and the cap on concurrent scrapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForUrl } from '../../../helpers/wait-for-url.js';
import { startExporterHarness } from '../../../helpers/start-exporter-harness.js';

const WARM = 'qwen2.5:0.5b';

test('/readyz is 503 naming what is pending before the first collection and 200 after; /healthz always 200', async (t) => {
  const h = await startExporterHarness({ start: false, simModels: [WARM], models: [{ name: WARM, keep_warm: true }] });
  t.after(() => h.close());

  const early = await h.get('/readyz');
  assert.equal(early.status, 503);
  for (const c of ['gpu', 'ollama', 'probe'])
    assert.match(early.body, new RegExp(`\\b${c}\\b`), `names the pending ${c} collector`);
  const live = await h.get('/healthz');
  assert.equal(live.status, 200, 'alive before anything was collected');
  // The Prometheus-style aliases answer the same.
  assert.deepEqual(await h.get('/-/ready').then((r) => [r.status, r.body]), [early.status, early.body]);
  assert.deepEqual(await h.get('/-/healthy').then((r) => [r.status, r.body]), [200, 'ok\n']);
  // Metrics already answer: every collector reads 0 and no source series is invented.
  const m = await h.metrics();
  for (const c of ['gpu', 'ollama', 'probe']) assert.equal(m.get('sentinel_collector_success', { collector: c }), 0);
  assert.equal(m.has('sentinel_gpus'), false);
  assert.equal(m.has('sentinel_ollama_up'), false);
  assert.equal(JSON.parse((await h.get('/api/state')).body).ready, false);

  h.exporter.scheduler.start();
  const ready = await waitForUrl(`${h.url}/readyz`, 15_000);
  assert.equal(ready.status, 200);
  assert.equal(JSON.parse((await h.get('/api/state')).body).ready, true);
  assert.equal((await h.get('/healthz')).status, 200);
  assert.equal((await h.get('/-/ready')).status, 200);
});

test('landing page links every endpoint and shows each collector; unknown paths get 404 with a hint', async (t) => {
  const h = await startExporterHarness({ simModels: [WARM], models: [{ name: WARM, keep_warm: true }] });
  t.after(() => h.close());
  await waitForUrl(`${h.url}/readyz`, 15_000);
  await h.waitForMetrics('every collector ok', (m) =>
    ['gpu', 'ollama', 'probe'].every((c) => m.get('sentinel_collector_success', { collector: c }) === 1),
  );

  const page = await h.get('/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  for (const href of ['/metrics', '/api/state', '/healthz', '/readyz'])
    assert.ok(page.body.includes(`href="${href}"`), `links ${href}`);
  assert.match(page.body, /e2e/, 'shows the version');
  for (const c of ['gpu', 'ollama', 'probe']) assert.match(page.body, new RegExp(`<td>${c}</td><td>ok</td>`));

  const missing = await h.get('/nope');
  assert.equal(missing.status, 404);
  assert.match(missing.body, /\/metrics/);
});

test('max_concurrent_scrapes 1: parallel scrapes get 200 or 503 with the reason, nothing else; the slot is always given back', async (t) => {
  // node_metrics makes each scrape do more async work, so parallel scrapes really overlap.
  const h = await startExporterHarness({ exporter: { max_concurrent_scrapes: 1, node_metrics: true } });
  t.after(() => h.close());
  await h.waitForMetrics('a GPU reading', (m) => m.get('sentinel_gpus') === 1);

  const sent = 3 * 16;
  const statuses = new Map<number, number>();
  const reasons = new Set<string>();
  for (let round = 0; round < 3; round++) {
    const answers = await Promise.all(Array.from({ length: 16 }, () => h.get('/metrics')));
    for (const a of answers) {
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      if (a.status === 503) reasons.add(a.body.trim());
      if (a.status === 200) assert.match(a.body, /^sentinel_build_info\{/m, 'a served scrape is complete');
    }
  }
  assert.deepEqual(
    [...statuses.keys()].filter((s) => s !== 200 && s !== 503),
    [],
    `only 200 and 503: ${JSON.stringify([...statuses])}`,
  );
  assert.equal((statuses.get(200) ?? 0) + (statuses.get(503) ?? 0), sent);
  assert.ok((statuses.get(200) ?? 0) >= 1);
  if (reasons.size === 0) t.diagnostic('no scrape overlapped this time: the 503 body was not seen');
  for (const r of reasons) assert.match(r, /too many concurrent scrapes \(limit 1\)/);
  // Every in-flight slot was released: one at a time, all are served.
  for (let i = 0; i < 5; i++) assert.equal((await h.get('/metrics')).status, 200);
});
