// The exporter against the Ollama simulator: what /api/ps, /api/tags and the GPU say is visible as series and as
// the diagnosis conditions the remediator acts on. Each test injects one fault and ends healthy again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { findFreePort } from '../../../helpers/find-free-port.js';
import { startOllamaSim } from '../../../sim/ollama-sim.js';
import type { Exposition } from '../../../helpers/parse-exposition.js';
import { startExporterHarness, type ExporterHarness } from '../../../helpers/start-exporter-harness.js';

const WARM = 'qwen2.5:0.5b';
const COLD = 'llama3:latest';
let h: ExporterHarness;
let sparePort: number;

before(async () => {
  sparePort = await findFreePort();
  h = await startExporterHarness({
    simModels: [WARM, COLD],
    models: [
      { name: WARM, keep_warm: true, targets: ['main'] },
      { name: 'llama3', targets: ['main'] },
    ],
    // Nothing listens here until a test starts a second simulator on it.
    extraTargets: [{ name: 'spare', url: `http://127.0.0.1:${sparePort}` }],
    exporter: { collector_gpu_processes: true },
  });
  await waitHealthy('the first probe to load the keep_warm model');
});
after(() => h?.close());

const cond = (m: Exposition, condition: string, target = 'main') =>
  m.get('sentinel_ollama_condition', { target, condition });
const l = (model: string, target = 'main') => ({ target, model });
const probeRuns = (m: Exposition) => m.all('sentinel_probe_runs_total', l(WARM)).reduce((a, s) => a + s.value, 0);

function waitHealthy(what = 'healthy again'): Promise<Exposition> {
  return h.waitForMetrics(
    what,
    (m) =>
      cond(m, 'healthy') === 1 &&
      m.get('sentinel_probe_success', l(WARM)) === 1 &&
      m.get('sentinel_ollama_model_loaded', l(WARM)) === 1,
    15_000,
  );
}

/** The finding of /api/state behind a condition, so the series and the document the remediator reads agree. */
async function finding(
  condition: string,
): Promise<{ condition: string; model?: string; action: string; detail: string } | undefined> {
  const state = JSON.parse((await h.get('/api/state')).body) as {
    targets: Record<
      string,
      { diagnosis: { findings: { condition: string; model?: string; action: string; detail: string }[] } }
    >;
  };
  return state.targets.main!.diagnosis.findings.find((f) => f.condition === condition);
}

test('healthy baseline: up, every stage, the keep_warm model loaded on the GPU and probed, no condition but healthy', async () => {
  await waitHealthy();
  // While a model loads, /api/ps shows the default keep_alive; the probe's own (-1 = forever) applies once it answered.
  const forever = 100 * 365 * 86400;
  const m = await h.waitForMetrics(
    'keep_alive -1 in /api/ps',
    (x) => x.get('sentinel_ollama_model_expires_in_seconds', l(WARM))! > forever,
  );
  assert.equal(m.get('sentinel_ollama_up', { target: 'main' }), 1);
  for (const stage of ['head', 'version', 'ps', 'tags'])
    assert.equal(m.get('sentinel_ollama_stage_success', { target: 'main', stage }), 1, stage);
  assert.equal(m.get('sentinel_ollama_model_vram_ratio', l(WARM)), 1);
  assert.equal(m.get('sentinel_ollama_model_loaded', l(COLD)), 0, 'configured but not loaded: an explicit 0');
  assert.equal(m.get('sentinel_ollama_model_present', l(COLD)), 1);
  const held = m
    .all('sentinel_ollama_condition', { target: 'main' })
    .filter((s) => s.value === 1)
    .map((s) => s.labels.condition);
  assert.deepEqual(held, ['healthy']);
  // Every model series is the simulator's own record of the runner.
  const sim = await h.sim.control.state();
  const runner = sim.runners.find((r) => r.name === WARM)!;
  assert.equal(m.get('sentinel_ollama_model_size_bytes', l(WARM)), runner.size);
  assert.equal(m.get('sentinel_ollama_model_vram_bytes', l(WARM)), runner.sizeVram);
  assert.equal(m.get('sentinel_ollama_model_context_length', l(WARM)), runner.numCtx);
  assert.equal(m.get('sentinel_ollama_models_loaded', { target: 'main' }), sim.runners.length);
  assert.equal(m.get('sentinel_ollama_models_available', { target: 'main' }), sim.localModels.length);
  assert.equal(m.all('sentinel_ollama_info', { target: 'main' })[0]?.labels.version, sim.version);
  // The runner the probe loaded is a real process on the (fake) GPU: the driver view agrees with /api/ps.
  // A runner fills the GPU in steps while it loads (as real ones allocate): wait for the last step to be sampled.
  const mib = 1048576;
  const full = Math.round(runner.sizeVram / mib) * mib; // in whole MiB, as nvidia-smi reports it
  const traced = await h.waitForMetrics(
    'the runner traced with all of its VRAM',
    (x) => x.get('sentinel_gpu_process_memory_used_bytes', { pid: String(runner.pid) }) === full,
  );
  assert.equal(
    traced.all('sentinel_gpu_process_memory_used_bytes', { pid: String(runner.pid) })[0]!.labels.role,
    'ollama_runner',
  );
});

test('a target that does not answer: up 0, api_down, refused counted; the other target is unaffected; up again when it answers', async (t) => {
  let m = await h.waitForMetrics(
    'spare down',
    (x) => x.get('sentinel_ollama_up', { target: 'spare' }) === 0 && cond(x, 'api_down', 'spare') === 1,
  );
  assert.ok(m.get('sentinel_ollama_stage_errors_total', { target: 'spare', stage: 'head', reason: 'refused' })! >= 1);
  assert.equal(m.get('sentinel_ollama_stage_success', { target: 'spare', stage: 'ps' }), 0);
  assert.equal(cond(m, 'healthy', 'spare'), 0);
  assert.equal(m.get('sentinel_ollama_up', { target: 'main' }), 1, 'one target down hides no other');
  assert.equal(cond(m, 'healthy'), 1);

  const spare = await startOllamaSim({ port: sparePort, models: [] });
  t.after(() => spare.close());
  m = await h.waitForMetrics(
    'spare up',
    (x) => x.get('sentinel_ollama_up', { target: 'spare' }) === 1 && cond(x, 'healthy', 'spare') === 1,
  );
  assert.equal(cond(m, 'api_down', 'spare'), 0);
  assert.equal(m.get('sentinel_ollama_info', { target: 'spare', version: '0.12.6' }), 1);
});

test('CPU fallback: vram 0, ratio 0, condition model_on_cpu with action restart; back on the GPU after a reload', async () => {
  await h.sim.control.setCpuFallback(true);
  await h.sim.control.expire(WARM); // the probe loads it again, now on the CPU
  const m = await h.waitForMetrics('model_on_cpu', (x) => cond(x, 'model_on_cpu') === 1);
  assert.equal(m.get('sentinel_ollama_model_vram_bytes', l(WARM)), 0);
  assert.equal(m.get('sentinel_ollama_model_vram_ratio', l(WARM)), 0);
  assert.ok(m.get('sentinel_ollama_model_size_bytes', l(WARM))! > 0);
  assert.equal(cond(m, 'healthy'), 0);
  const f = await finding('model_on_cpu');
  assert.equal(f?.model, WARM);
  assert.equal(f?.action, 'restart');

  await h.sim.control.setCpuFallback(false);
  await h.sim.control.expire(WARM);
  const back = await waitHealthy();
  assert.equal(back.get('sentinel_ollama_model_vram_ratio', l(WARM)), 1);
});

test('partial offload below min_vram_ratio: ratio between 0 and 1, condition partial_offload', async () => {
  await h.sim.control.setPartialOffload(0.5);
  await h.sim.control.expire(WARM);
  const m = await h.waitForMetrics('partial_offload', (x) => cond(x, 'partial_offload') === 1);
  const ratio = m.get('sentinel_ollama_model_vram_ratio', l(WARM))!;
  assert.ok(ratio > 0 && ratio < 0.9, `ratio ${ratio} below the default min_vram_ratio 0.9`);
  assert.equal(
    m.get('sentinel_ollama_model_vram_bytes', l(WARM)),
    Math.round(ratio * m.get('sentinel_ollama_model_size_bytes', l(WARM))!),
  );
  assert.equal((await finding('partial_offload'))?.model, WARM);

  await h.sim.control.setPartialOffload(null);
  await h.sim.control.expire(WARM);
  await waitHealthy();
});

test('"Stopping" (past expires_at) without visible runner activity is not model_stopping yet: busy looks the same; gone once it unloads', async () => {
  await loadAsAUser(COLD);
  await h.waitForMetrics('llama3 loaded', (x) => x.get('sentinel_ollama_model_loaded', l(COLD)) === 1);
  await h.sim.control.setStopping(COLD, true);
  const m = await h.waitForMetrics('Stopping shown', (x) => x.get('sentinel_ollama_model_stopping', l(COLD)) === 1);
  assert.ok(m.get('sentinel_ollama_model_expires_in_seconds', l(COLD))! <= 0);
  // Ollama does not refresh expires_at while requests run (sched.go useLoadedRunner): without the runner's activity
  // the diagnosis waits out RUNNER_BUSY_LIMIT_MS before calling it stuck (diagnose-target-runners.test covers both).
  assert.equal(cond(m, 'model_stopping'), 0);

  await h.sim.control.setStopping(COLD, false); // unloads it
  const back = await h.waitForMetrics(
    'llama3 unloaded',
    (x) => x.get('sentinel_ollama_model_loaded', l(COLD)) === 0 && cond(x, 'healthy') === 1,
  );
  assert.equal(back.get('sentinel_ollama_model_stopping', l(COLD)), undefined);
});

test('keep_alive expiry of a model that is not keep_warm: it just leaves /api/ps; no condition, and the exporter never loads it back', async () => {
  await loadAsAUser(COLD);
  await h.waitForMetrics(
    'llama3 loaded',
    (x) => x.get('sentinel_ollama_model_loaded', l(COLD)) === 1 && cond(x, 'healthy') === 1,
  );
  await h.sim.control.clearRequests();
  await h.sim.control.expire(COLD);
  const gone = await h.waitForMetrics('llama3 unloaded', (x) => x.get('sentinel_ollama_model_loaded', l(COLD)) === 0);
  assert.equal(cond(gone, 'healthy'), 1, 'an idle model timing out is normal');
  assert.equal(gone.get('sentinel_ollama_model_present', l(COLD)), 1);
  // Two more probe runs and many health runs later, still nobody asked for it.
  const runs = probeRuns(gone);
  const later = await h.waitForMetrics('two more probe runs', (x) => probeRuns(x) >= runs + 2);
  assert.equal(later.get('sentinel_ollama_model_loaded', l(COLD)), 0);
  assert.equal(cond(later, 'healthy'), 1);
  const asked = (await h.sim.control.requests()).filter(
    (r) => r.method === 'POST' && /^\/api\/(generate|chat)$/.test(r.path),
  );
  const models = asked.map((r) => (r.body as { model?: string }).model);
  assert.ok(models.includes(WARM), 'the probe kept running meanwhile (so the check below means something)');
  assert.deepEqual(
    models.filter((x) => x !== WARM),
    [],
    'no generate or chat for any model that is not keep_warm',
  );
  assert.equal(
    (await h.sim.control.state()).runners.some((r) => r.name === COLD),
    false,
  );
});

test('flaky connections: failed stages are counted with a bounded reason, then every stage recovers', async () => {
  const sum = (m: Exposition) =>
    m.all('sentinel_ollama_stage_errors_total', { target: 'main' }).reduce((a, s) => a + s.value, 0);
  const before = sum(await h.metrics());
  await h.sim.control.flakyConnections(4);
  const m = await h.waitForMetrics('stage errors counted', (x) => sum(x) > before);
  for (const s of m.all('sentinel_ollama_stage_errors_total', { target: 'main' }))
    assert.match(s.labels.reason!, /^[a-z0-9_]+$/);
  const back = await h.waitForMetrics('every stage back', (x) =>
    ['head', 'version', 'ps', 'tags'].every(
      (stage) => x.get('sentinel_ollama_stage_success', { target: 'main', stage }) === 1,
    ),
  );
  assert.ok(sum(back) >= sum(m), 'errors_total never goes down');
  await waitHealthy();
});

test('vram_mismatch: /api/ps claims VRAM that no GPU process holds (the condition needs the target attributed to its container)', async (t) => {
  await h.sim.control.setPsLie(true);
  t.after(() => h.sim.control.setPsLie(false));
  const runner = (await h.sim.control.state()).runners.find((r) => r.name === WARM)!;
  const uuid = (await h.metrics()).all('sentinel_gpu_info')[0]!.labels.uuid!;
  const m = await h.waitForMetrics(
    'the GPU empty while /api/ps claims VRAM',
    (x) => x.get('sentinel_gpu_processes', { uuid }) === 0 && x.get('sentinel_ollama_model_vram_ratio', l(WARM)) === 1,
  );
  const claimed = m.get('sentinel_ollama_model_vram_bytes', l(WARM))!;
  assert.equal(claimed, m.get('sentinel_ollama_model_size_bytes', l(WARM)), '/api/ps says all of it is in VRAM');
  assert.ok(
    m.get('sentinel_gpu_memory_used_bytes', { uuid })! < claimed,
    'the driver says the GPU holds less than that',
  );
  assert.equal(
    m.get('sentinel_gpu_process_memory_used_bytes', { pid: String(runner.pid) }),
    undefined,
    'the runner is no GPU process',
  );
  if (m.has('sentinel_ollama_gpu_memory_used_bytes')) {
    assert.equal(cond(m, 'vram_mismatch'), 1);
  } else {
    // Attribution per target needs a container selector and Docker (not available to unit tests): without that
    // evidence the diagnosis must not claim a mismatch. The Docker-based integration tests cover the condition itself.
    t.diagnostic(
      'no per-target GPU attribution here (no container selector / Docker): vram_mismatch checked as "not claimed without evidence"',
    );
    assert.equal(cond(m, 'vram_mismatch'), 0);
  }
  await h.sim.control.setPsLie(false);
  await h.waitForMetrics('the runner back on the GPU', (x) => x.get('sentinel_gpu_processes', { uuid }) === 1);
});

/** What a user's request does: loads the model with its own keep_alive, outside the exporter. */
async function loadAsAUser(model: string): Promise<void> {
  const res = await fetch(`${h.sim.url}/api/generate`, {
    method: 'POST',
    body: JSON.stringify({ model, keep_alive: '30m' }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, await res.text());
}
