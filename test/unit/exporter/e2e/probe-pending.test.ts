// The whole Ollama API hung (the server stopped with SIGSTOP): the probe in flight must not keep serving the outcome
// from before the hang. Past its first-token deadline it is shown as pending: not ok, not a failure, no stale speed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultH100State, writeGpuState } from '../../../sim/gpu-state.js';
import type { Exposition } from '../../../helpers/parse-exposition.js';
import { startProcess, type ProcessHandle } from '../../../helpers/start-process.js';
import { startExporterHarness, type ExporterHarness } from '../../../helpers/start-exporter-harness.js';

const WARM = 'qwen2.5:0.5b';
const INTERVAL_MS = 300;
const OLLAMA_TIMEOUT_MS = 500;
const FIRST_TOKEN_MS = 500;
// Long, like the 5-minute default: before the fix the old "ok" stayed until this deadline.
const LOAD_MS = 60_000;
// The probe turns pending 1 s after its first-token deadline (so a resident model's probe, whose load deadline is
// the first-token deadline, ends before that and never shows pending); its /api/ps read comes first.
const PENDING_BOUND_MS = INTERVAL_MS + OLLAMA_TIMEOUT_MS + FIRST_TOKEN_MS + 1000;
const SLACK_MS = 2500; // a loaded 2-core machine

const l = { target: 'stopped', model: WARM };
const result = (m: Exposition) => m.all('sentinel_probe_result', l).find((s) => s.value === 1)?.labels.result;
let dir: string;
let server: ProcessHandle;
let h: ExporterHarness;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sentinel-pending-'));
  const gpuState = join(dir, 'gpu.state');
  writeGpuState(gpuState, defaultH100State());
  // A simulator of its own in a child process, so it can be stopped like a real `ollama serve`.
  server = startProcess(process.execPath, [
    fileURLToPath(new URL('../../../sim/ollama-sim-main.js', import.meta.url)),
    '--port',
    '0',
    '--gpu-state',
    gpuState,
    '--models',
    WARM,
    '--load-delay-ms',
    '20',
  ]);
  const url = /listening on (http:\/\/\S+)/.exec(await server.waitForOutput(/listening on http:\/\/\S+ /, 15_000))![1]!;
  h = await startExporterHarness({
    extraTargets: [{ name: 'stopped', url }],
    models: [{ name: WARM, keep_warm: true, targets: ['stopped'] }],
    timing: {
      ollamaTimeoutMs: OLLAMA_TIMEOUT_MS,
      probeIntervalMs: INTERVAL_MS,
      probeFirstTokenTimeoutMs: FIRST_TOKEN_MS,
      probeLoadTimeoutMs: LOAD_MS,
    },
  });
  await h.waitForMetrics('the first probe ok', (m) => result(m) === 'ok', 15_000);
});
after(async () => {
  if (server?.pid !== undefined) process.kill(-server.pid, 'SIGCONT');
  await h?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('API stopped (SIGSTOP): the probe shows pending within its deadline, never the old ok; ok again after SIGCONT', async (t) => {
  const ok = await h.metrics();
  assert.equal(ok.get('sentinel_probe_success', l), 1);
  assert.ok((ok.get('sentinel_probe_in_flight_seconds', l) ?? 0) < FIRST_TOKEN_MS / 1000, 'no probe waiting long yet');
  assert.ok(ok.get('sentinel_probe_ttfb_seconds', l) !== undefined);

  process.kill(-server.pid!, 'SIGSTOP');
  const stopped = Date.now();
  const seen: (string | undefined)[] = [];
  let pending: Exposition;
  try {
    pending = await h.waitForMetrics(
      'probe result pending',
      (m) => {
        if (seen.at(-1) !== result(m)) seen.push(result(m));
        return result(m) === 'pending';
      },
      PENDING_BOUND_MS + SLACK_MS,
    );
  } catch (err) {
    process.kill(-server.pid!, 'SIGCONT');
    throw err;
  }
  const took = Date.now() - stopped;
  try {
    // A probe that had already seen the model resident when the server stopped ends as a plain timeout (its load
    // deadline is the first-token one): a finished outcome, fine. The old ok never comes back.
    assert.deepEqual(
      seen.slice(seen.indexOf('ok') + 1).filter((r) => r === 'ok'),
      [],
      `results seen: ${seen.join(', ')}`,
    );
    const streak = pending.get('sentinel_probe_consecutive_failures', l)!;
    assert.ok(streak <= 1, `streak ${streak}: pending counts toward no streak`);
    assert.equal(pending.get('sentinel_ollama_up', { target: 'stopped' }), 0, 'the health collector saw it too');
    assert.equal(pending.get('sentinel_probe_success', l), undefined, 'pending is neither success nor failure');
    const waited = pending.get('sentinel_probe_in_flight_seconds', l)!;
    assert.ok(waited * 1000 >= FIRST_TOKEN_MS, `in flight ${waited} s`);
    for (const stale of ['ttfb_seconds', 'duration_seconds', 'load_duration_seconds', 'tokens_per_second'])
      assert.equal(pending.get(`sentinel_probe_${stale}`, l), undefined, `${stale}: the previous probe's, not current`);
    assert.ok(pending.get('sentinel_probe_last_success_timestamp_seconds', l)! > 1.7e9, 'a timestamp stays true');
    for (const condition of ['probe_hung', 'probe_failing'])
      assert.equal(pending.get('sentinel_ollama_condition', { target: 'stopped', condition }), 0, condition);
    const state = JSON.parse((await h.get('/api/state')).body) as {
      targets: { stopped: { diagnosis: { findings: { condition: string; model?: string; action: string }[] } } };
    };
    const finding = state.targets.stopped.diagnosis.findings.find((f) => f.model === WARM);
    assert.deepEqual(finding && { condition: finding.condition, action: finding.action }, {
      condition: 'unknown',
      action: 'wait',
    });

    // Still pending a moment later (the probe waits on its load deadline), and the wait keeps counting.
    await sleep(500);
    const later = await h.metrics();
    assert.equal(result(later), 'pending');
    assert.ok(later.get('sentinel_probe_in_flight_seconds', l)! > waited);
    assert.equal(later.get('sentinel_probe_consecutive_failures', l), streak);
  } finally {
    process.kill(-server.pid!, 'SIGCONT');
  }
  assert.ok(took <= PENDING_BOUND_MS + SLACK_MS, `pending after ${took} ms`);
  t.diagnostic(`pending ${took} ms after SIGSTOP (bound ${PENDING_BOUND_MS} ms); results seen: ${seen.join(', ')}`);

  const back = await h.waitForMetrics('the probe ok again', (m) => result(m) === 'ok', 15_000);
  assert.equal(back.get('sentinel_probe_success', l), 1);
  assert.equal(back.get('sentinel_probe_consecutive_failures', l), 0);
});
