// Two keep_warm models that do not fit on the GPU together, end to end (real exporter, simulator with a VRAM limit):
// the probe's load of one evicts the other once; the evicted one is then not reloaded while the first stays loaded,
// so the two never take turns evicting each other, and the diagnosis escalates it as keep_warm_evicted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Exposition } from '../../../helpers/parse-exposition.js';
import { startExporterHarness, type ExporterHarness } from '../../../helpers/start-exporter-harness.js';

const A = 'llama3:latest';
const B = 'llama3.1:8b';
/** Each one alone (~5.2 GiB with its 4096-token KV cache) fits; both do not. */
const VRAM_LIMIT_MIB = 8000;
const PROBE_INTERVAL_MS = 300;
let h: ExporterHarness;

before(async () => {
  h = await startExporterHarness({
    simModels: [A, B],
    models: [
      { name: A, keep_warm: true },
      { name: B, keep_warm: true },
    ],
    timing: { probeIntervalMs: PROBE_INTERVAL_MS, probeFirstTokenTimeoutMs: 1000, probeLoadTimeoutMs: 5000 },
    start: false,
  });
  await h.sim.control.configure({ vramLimitMiB: VRAM_LIMIT_MIB });
  h.exporter.scheduler.start();
});
after(() => h?.close());

const evictedCondition = (m: Exposition) =>
  m.get('sentinel_ollama_condition', { target: 'main', condition: 'keep_warm_evicted' }) === 1;
const loaded = (m: Exposition, model: string) => m.get('sentinel_ollama_model_loaded', { target: 'main', model });

test('the probe stops at the first eviction: the evicted keep_warm model is not reloaded over the other, and humans are told', async () => {
  await h.waitForMetrics('keep_warm_evicted', evictedCondition, 20_000);
  const state = JSON.parse((await h.get('/api/state')).body) as {
    targets: {
      main: { diagnosis: { findings: { condition: string; model?: string; detail: string; action: string }[] } };
    };
  };
  const finding = state.targets.main.diagnosis.findings.find((f) => f.condition === 'keep_warm_evicted')!;
  const evicted = finding.model!;
  const kept = evicted === A ? B : A;
  assert.ok([A, B].includes(evicted), evicted);
  assert.equal(finding.action, 'escalate');
  assert.match(finding.detail, new RegExp(`evicted when the probe loaded ${kept.replace('.', '\\.')}`));
  await h.waitForMetrics(`${kept} loaded, ${evicted} not`, (x) => loaded(x, kept) === 1 && loaded(x, evicted) === 0);

  // Ten probe intervals: no request for the evicted model (each would evict the other: ping-pong), the kept one stays.
  const generates = async (model: string) =>
    (await h.sim.control.requests()).filter(
      (r) => r.path === '/api/generate' && (r.body as { model?: string }).model === model,
    ).length;
  const before = await generates(evicted);
  await new Promise((r) => setTimeout(r, 10 * PROBE_INTERVAL_MS));
  assert.equal(
    await generates(evicted),
    before,
    `${evicted} was not sent a request while ${kept} is loaded:\n${JSON.stringify(
      (await h.sim.control.requests()).map((r) => [r.path, (r.body as { model?: string } | undefined)?.model]),
    )}\n${(await h.get('/api/state')).body}`,
  );
  const later = await h.metrics();
  assert.equal(later.get('sentinel_ollama_model_loaded', { target: 'main', model: kept }), 1);
  assert.equal(later.get('sentinel_ollama_model_loaded', { target: 'main', model: evicted }), 0);
  assert.equal(later.get('sentinel_ollama_condition', { target: 'main', condition: 'keep_warm_evicted' }), 1);

  // With room for both, the hold ends as soon as the evicted model is loaded again by anyone.
  await h.sim.control.configure({ vramLimitMiB: null });
  const res = await fetch(`${h.sim.url}/api/generate`, {
    method: 'POST',
    body: JSON.stringify({ model: evicted, prompt: '', stream: false }),
  });
  assert.equal(res.status, 200);
  await h.waitForMetrics(
    'both loaded and healthy',
    (x) =>
      x.get('sentinel_ollama_condition', { target: 'main', condition: 'healthy' }) === 1 &&
      x.get('sentinel_ollama_model_loaded', { target: 'main', model: evicted }) === 1 &&
      x.get('sentinel_ollama_model_loaded', { target: 'main', model: kept }) === 1,
    20_000,
  );
});
