// The inference probe end to end: every way a one-token generate can fail shows as its result, its streak and, once
// the streak is long enough to rule out a one-off, the diagnosis condition. Each test ends with the probe ok again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PROBE_FAILURES_NEEDED } from '../../../../shared/diagnosis/diagnose-target.js';
import type { Exposition } from '../../../helpers/parse-exposition.js';
import { startExporterHarness, type ExporterHarness } from '../../../helpers/start-exporter-harness.js';

const WARM = 'qwen2.5:0.5b';
const FIRST_TOKEN_MS = 500;
const LOAD_MS = 1500;
/** Ten probe intervals: long enough to see that nothing is sent meanwhile. */
const OOM_HOLD_MS = 3000;
let h: ExporterHarness;

before(async () => {
  h = await startExporterHarness({
    simModels: [WARM],
    models: [{ name: WARM, keep_warm: true }],
    timing: { probeIntervalMs: 300, probeFirstTokenTimeoutMs: FIRST_TOKEN_MS, probeLoadTimeoutMs: LOAD_MS },
    exporter: { probe_oom_hold: `${OOM_HOLD_MS}ms` },
  });
  await waitOk('the first probe');
});
after(() => h?.close());

const l = { target: 'main', model: WARM };
const cond = (m: Exposition, condition: string) => m.get('sentinel_ollama_condition', { target: 'main', condition });
const result = (m: Exposition) => m.all('sentinel_probe_result', l).find((s) => s.value === 1)?.labels.result;
const streak = (m: Exposition) => m.get('sentinel_probe_consecutive_failures', l) ?? 0;

function waitOk(what = 'the probe ok again'): Promise<Exposition> {
  return h.waitForMetrics(what, (m) => m.get('sentinel_probe_success', l) === 1 && cond(m, 'healthy') === 1, 15_000);
}

/**
 * Scrapes until the streak reaches `until`, checking on every scrape that the condition is held exactly when the
 * streak is long enough (one failure is "unknown": wait for another), and returns every (result, streak) seen.
 */
async function watchStreak(
  expected: string,
  condition: string,
  until: number,
): Promise<{ seen: { result: string | undefined; streak: number }[]; last: Exposition }> {
  const seen: { result: string | undefined; streak: number }[] = [];
  // waitFor treats a throw as "not yet", so violations are collected here and asserted after the wait.
  const wrong: string[] = [];
  const last = await h.waitForMetrics(
    `${expected} streak of ${until}`,
    (m) => {
      const r = result(m);
      const n = streak(m);
      if (r === expected) {
        seen.push({ result: r, streak: n });
        if (cond(m, condition) !== (n >= PROBE_FAILURES_NEEDED ? 1 : 0))
          wrong.push(`${condition}=${cond(m, condition)} at streak ${n}`);
        if (n < PROBE_FAILURES_NEEDED && cond(m, 'unknown') !== 1)
          wrong.push(`unknown=${cond(m, 'unknown')} at streak ${n}: one ${expected} is not yet a diagnosis`);
        if (m.get('sentinel_probe_success', l) !== 0)
          wrong.push(`success ${m.get('sentinel_probe_success', l)} with result ${r}`);
      }
      return r === expected && n >= until;
    },
    15_000,
  );
  assert.deepEqual(wrong, []);
  const streaks = seen.map((s) => s.streak);
  assert.deepEqual(
    streaks,
    [...streaks].sort((a, b) => a - b),
    'the streak only counts up while failing',
  );
  return { seen, last };
}

test('hung generate: result timeout, consecutive failures counting up, probe_hung from the second one (action reload)', async () => {
  await h.sim.control.setHangGenerate('headers');
  try {
    const { last } = await watchStreak('timeout', 'probe_hung', 3);
    assert.ok(last.get('sentinel_probe_runs_total', { ...l, result: 'timeout' })! >= 3);
    assert.equal(
      last.get('sentinel_ollama_up', { target: 'main' }),
      1,
      'the API keeps answering while inference hangs',
    );
  } finally {
    await h.sim.control.setHangGenerate(false);
  }
  const ok = await waitOk();
  assert.equal(streak(ok), 0, 'a success resets the streak');
  assert.equal(cond(ok, 'probe_hung'), 0);
});

test('503 (queue full): result busy and server_busy at once; ok again when cleared', async () => {
  await h.sim.control.forceAnswer({ endpoint: '/api/generate', status: 503 });
  try {
    const m = await h.waitForMetrics('busy', (x) => result(x) === 'busy');
    assert.equal(cond(m, 'server_busy'), 1, 'overloaded is not broken: no streak needed');
    assert.equal(cond(m, 'probe_failing'), 0);
  } finally {
    await h.sim.control.clearForcedAnswers();
  }
  await waitOk();
});

test('model deleted: probe not_found, present 0, model_missing (action pull); ok again once it is back', async () => {
  // Removed first: unloaded first, the next probe could load it again in between and it would stay listed.
  await h.sim.control.removeModel(WARM);
  await h.sim.control.expire(WARM);
  try {
    const m = await h.waitForMetrics(
      'not_found',
      // The probe answers on its own schedule, /api/ps and /api/tags on the collector's: wait for both to have seen it.
      (x) =>
        result(x) === 'not_found' &&
        x.get('sentinel_ollama_model_present', l) === 0 &&
        x.get('sentinel_ollama_model_loaded', l) === 0,
    );
    assert.equal(cond(m, 'model_missing'), 1);
    const state = JSON.parse((await h.get('/api/state')).body) as {
      targets: { main: { diagnosis: { findings: { condition: string; action: string }[] } } };
    };
    assert.equal(state.targets.main.diagnosis.findings.find((f) => f.condition === 'model_missing')?.action, 'pull');
  } finally {
    await h.sim.control.addModel(WARM);
  }
  await waitOk();
});

test('CUDA out of memory on load: out_of_memory at the first failure, never probe_failing; not loaded again until the hold ends or something else loads it', async () => {
  const generates = async () =>
    (await h.sim.control.requests()).filter(
      (r) => r.path === '/api/generate' && (r.body as { model?: string }).model === WARM,
    ).length;
  await h.sim.control.setOomOnLoad(-1);
  try {
    await h.sim.control.expire(WARM);
    const first = await h.waitForMetrics('the first out-of-memory', (m) => result(m) === 'error');
    const firstAt = Date.now();
    // Every OOM form is a diagnosis at once: a reload would only repeat it.
    assert.equal(cond(first, 'out_of_memory'), 1);
    assert.equal(cond(first, 'probe_failing'), 0);
    assert.equal(streak(first), 1);
    const state = JSON.parse((await h.get('/api/state')).body) as {
      targets: { main: { diagnosis: { findings: { condition: string; detail: string }[] } } };
    };
    assert.match(
      state.targets.main.diagnosis.findings.find((f) => f.condition === 'out_of_memory')!.detail,
      /out of memory.*the probe does not load qwen2\.5:0\.5b again before \S+ unless something else loads it/,
    );
    // Held: over several probe intervals no request that would load it again (on 0.30+ each would first evict
    // every other model), and the finding stays, so the alert fires once.
    const sent = await generates();
    await new Promise((r) => setTimeout(r, OOM_HOLD_MS / 2));
    assert.equal(await generates(), sent, 'no probe was sent while held');
    assert.equal(cond(await h.metrics(), 'out_of_memory'), 1);
    // After the hold, one more try (the GPU may have been freed meanwhile): still out of memory, held again.
    const second = await h.waitForMetrics('the try after the hold', (m) => streak(m) >= 2, OOM_HOLD_MS + 10_000);
    assert.ok(Date.now() - firstAt >= OOM_HOLD_MS - 500, `retried ${Date.now() - firstAt} ms after the first OOM`);
    assert.equal(cond(second, 'out_of_memory'), 1);
    assert.equal(cond(second, 'probe_failing'), 0, 'out of memory is told apart from other errors');
  } finally {
    await h.sim.control.setOomOnLoad(0);
  }
  // Something else loads it (a user, an operator): it fits now, so the hold ends at the next probe.
  const res = await fetch(`${h.sim.url}/api/generate`, {
    method: 'POST',
    body: JSON.stringify({ model: WARM, prompt: '', stream: false }),
  });
  assert.equal(res.status, 200);
  await waitOk();
});

test('slow load beyond the load deadline: result loading (never timeout or probe_hung), probe_failing after two', async () => {
  await h.sim.control.setLoadDelay(LOAD_MS * 4);
  try {
    await h.sim.control.expire(WARM);
    const seen: string[] = [];
    let hung = 0;
    await h.waitForMetrics(
      'loading twice',
      (m) => {
        const r = result(m);
        if (r !== undefined && r !== 'ok') seen.push(r);
        hung += cond(m, 'probe_hung') ?? 0;
        // Stop at the first wrong answer too, so a regression fails fast instead of at the timeout.
        return (r === 'loading' && streak(m) >= PROBE_FAILURES_NEEDED) || hung > 0 || seen.some((x) => x !== 'loading');
      },
      15_000,
    );
    assert.deepEqual([...new Set(seen)], ['loading']);
    assert.equal(hung, 0, 'a slow load is no hung runner');
    assert.equal(cond(await h.metrics(), 'probe_failing'), 1);
  } finally {
    await h.sim.control.setLoadDelay(20);
    await waitOk();
  }
});
