// nvidia-smi that is slow, hangs, or is stuck in the kernel: the exporter fails the collection at its timeout, never
// runs a second nvidia-smi meanwhile, reports a run that outlives its kill as stuck, and recovers once it ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alive } from '../../../../shared/proc/read-process-identity.js';
import type { GpuState } from '../../../sim/gpu-state.js';
import type { Exposition } from '../../../helpers/parse-exposition.js';
import { startExporterHarness, type ExporterHarness } from '../../../helpers/start-exporter-harness.js';
import type { SmiRun } from '../../../helpers/write-nvidia-smi-wrapper.js';

const TIMEOUT_MS = 1500;
const timing = { gpuIntervalMs: 300, gpuTimeoutMs: TIMEOUT_MS };

const success = (m: Exposition) => m.get('sentinel_collector_success', { collector: 'gpu' });
const errors = (m: Exposition, reason: string) =>
  m.get('sentinel_collector_errors_total', { collector: 'gpu', reason }) ?? 0;
const skipped = (m: Exposition) => m.get('sentinel_collector_skipped_runs_total', { collector: 'gpu' }) ?? 0;
const gpuSeries = (m: Exposition) =>
  m.samples.filter((s) => s.name === 'sentinel_gpus' || s.name.startsWith('sentinel_gpu_'));

async function setFault(
  h: ExporterHarness,
  kind: GpuState['faults'][number]['kind'] | null,
  arg?: string,
): Promise<void> {
  await h.updateGpu((s) => void (s.faults = kind === null ? [] : [{ target: 'gpu', kind, arg }]));
}

const queries = (h: ExporterHarness) => h.smi.runs().filter((r) => r.args.startsWith('--query-gpu'));

/** Runs in log order never overlap: each one ended before the next one started. */
function assertNoOverlap(runs: readonly SmiRun[]): void {
  const sorted = [...runs].sort((a, b) => a.startSeq - b.startSeq);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    assert.ok(
      prev.endSeq !== undefined && prev.endSeq < sorted[i]!.startSeq,
      `run ${sorted[i]!.id} started before run ${prev.id} ended`,
    );
  }
}

test('delay beyond the timeout and a hang: reason timeout, series gone, the run killed, no second run meanwhile, recovery', async (t) => {
  const h = await startExporterHarness({ timing });
  t.after(() => h.close());
  await h.waitForMetrics('a first GPU reading', (m) => success(m) === 1 && m.get('sentinel_gpus') === 1);

  for (const [kind, arg] of [
    ['delay', String(TIMEOUT_MS * 4)],
    ['hang', undefined],
  ] as const) {
    const before = await h.metrics();
    // A run may have started (and logged it) but not yet read the state: only runs ending after this count.
    const mark = h.smi.mark();
    await setFault(h, kind, arg);
    const failing = await h.waitForMetrics(
      `${kind}: a timeout`,
      (m) => errors(m, 'timeout') > errors(before, 'timeout') && success(m) === 0,
    );
    assert.deepEqual(gpuSeries(failing), [], `${kind}: no GPU series while the source times out`);
    // Ticks that came while the slow run was in flight were skipped, not started beside it.
    await h.waitForMetrics(`${kind}: skipped ticks`, (m) => skipped(m) > skipped(before));

    await setFault(h, null);
    await h.waitForMetrics(`${kind}: recovery`, (m) => success(m) === 1 && m.get('sentinel_gpus') === 1);
    const runs = queries(h).filter((r) => r.endSeq !== undefined && r.endSeq >= mark);
    const killed = runs.filter((r) => r.end === 'signal');
    assert.ok(killed.length >= 1, `${kind}: a run was killed at the timeout: ${JSON.stringify(runs)}`);
    for (const r of killed)
      assert.equal(
        r.childPid !== undefined && alive(r.childPid),
        false,
        `${kind}: killed nvidia-smi ${r.childPid} is gone`,
      );
  }
  assertNoOverlap(h.smi.runs());
  const log = h.logs().find((l) => l.collector === 'gpu' && l.reason === 'timeout');
  assert.match(String(log?.err), /timeout/);
});

test('stuck in the kernel: stuck_since appears, GPU series gone, no new nvidia-smi until it ends; then recovery', async (t) => {
  const h = await startExporterHarness({ timing });
  t.after(() => h.close());
  await h.waitForMetrics('a first GPU reading', (m) => success(m) === 1 && m.get('sentinel_gpus') === 1);
  const mark = h.smi.mark();
  await setFault(h, 'stuck', '25000');
  // The scheduler's grace after the timeout is 5 s: the gauge comes a little after timeout + grace.
  const stuck = await h.waitForMetrics(
    'stuck_since',
    (m) => m.has('sentinel_collector_stuck_since_timestamp_seconds'),
    15_000,
  );
  assert.equal(success(stuck), 0);
  assert.deepEqual(gpuSeries(stuck), []);
  assert.ok(errors(stuck, 'timeout') >= 1, 'the stuck run first failed at its timeout');
  const since = stuck.get('sentinel_collector_stuck_since_timestamp_seconds', { collector: 'gpu' })!;
  const stuckRun = queries(h).find((r) => r.end === 'signal' && r.endSeq! >= mark);
  assert.ok(stuckRun, 'the stuck nvidia-smi itself was killed at the timeout; its grandchild holds the pipe');
  const state = JSON.parse((await h.get('/api/state')).body) as {
    collectors: { name: string; stuckSinceMs: number | null; inFlightSinceMs: number | null }[];
  };
  const gpu = state.collectors.find((c) => c.name === 'gpu')!;
  assert.equal(since * 1000, gpu.stuckSinceMs, 'the gauge and /api/state agree');
  assert.equal(gpu.stuckSinceMs, gpu.inFlightSinceMs! + TIMEOUT_MS, 'stuck since the moment the run should have ended');
  assert.ok(
    h.logs().some((l) => l.collector === 'gpu' && /stuck/.test(String(l.msg))),
    'logged as stuck',
  );
  assert.deepEqual(
    queries(h).filter((r) => r.startSeq > stuckRun.startSeq),
    [],
    'no second nvidia-smi while one is stuck',
  );

  await setFault(h, null);
  const back = await h.waitForMetrics(
    'recovery after the stuck run ends',
    (m) => success(m) === 1 && m.get('sentinel_gpus') === 1,
    10_000,
  );
  assert.equal(back.has('sentinel_collector_stuck_since_timestamp_seconds'), false);
  assertNoOverlap(h.smi.runs());
});
