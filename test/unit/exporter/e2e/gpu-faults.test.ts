// The exporter against the fake nvidia-smi: every GPU series follows the simulated state, and every nvidia-smi
// failure shows as success 0 + errors_total{reason} with the GPU series gone (never served stale), then recovers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLOCKS_EVENT_REASON_BITS,
  defaultH100Gpu,
  defaultH100State,
  memoryFreeMiB,
  memoryUsedMiB,
  readGpuState,
  type GpuState,
} from '../../../sim/gpu-state.js';
import type { Exposition } from '../../../helpers/parse-exposition.js';
import { startExporterHarness, type ExporterHarness } from '../../../helpers/start-exporter-harness.js';

const MIB = 1048576;
const UUID1 = 'GPU-3c1b7e2a-0f41-4d7e-9a55-2b8e1c9d7f10';

function twoGpus(): GpuState {
  const s = defaultH100State();
  s.gpus.push(defaultH100Gpu(1, UUID1, '00000000:00:07.0'));
  s.procs.push({ gpuUuid: s.gpus[0]!.uuid, pid: 4242, usedMiB: 2048, name: '/usr/bin/ollama' });
  return s;
}

/** Percent -> ratio is a float multiplication: equal up to rounding, not bit for bit. */
function assertClose(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} vs ${expected}`);
}

/** Every GPU series against the state file, GPU by GPU: the state is the only source of the expected numbers. */
function assertFollowsState(m: Exposition, s: GpuState): void {
  const live = s.gpus.filter((g) => !g.lost);
  assert.equal(m.get('sentinel_gpus'), live.length);
  assert.equal(m.get('sentinel_gpu_nvidia_smi_exit_code'), 0);
  for (const g of live) {
    const u = { uuid: g.uuid };
    const info = m.all('sentinel_gpu_info', u);
    assert.equal(info.length, 1, `gpu_info of ${g.uuid}`);
    assert.deepEqual(
      {
        index: info[0]!.labels.index,
        name: info[0]!.labels.name,
        pci_bus_id: info[0]!.labels.pci_bus_id,
        driver_version: info[0]!.labels.driver_version,
      },
      { index: String(g.index), name: g.name, pci_bus_id: g.pciBusId, driver_version: s.driverVersion },
    );
    assert.equal(m.get('sentinel_gpu_lost', u), 0);
    assert.equal(m.get('sentinel_gpu_memory_total_bytes', u), g.memoryTotalMiB * MIB);
    assert.equal(m.get('sentinel_gpu_memory_reserved_bytes', u), g.memoryReservedMiB * MIB);
    assert.equal(m.get('sentinel_gpu_memory_used_bytes', u), memoryUsedMiB(s, g) * MIB);
    assert.equal(m.get('sentinel_gpu_memory_free_bytes', u), memoryFreeMiB(s, g) * MIB);
    assertClose(m.get('sentinel_gpu_utilization_ratio', u), g.utilizationGpuPct / 100, 'utilization');
    assertClose(m.get('sentinel_gpu_memory_utilization_ratio', u), g.utilizationMemoryPct / 100, 'memory utilization');
    assert.equal(m.get('sentinel_gpu_temperature_celsius', u), g.temperatureC);
    assert.equal(m.get('sentinel_gpu_power_draw_watts', u), g.powerDrawW);
    assert.equal(m.get('sentinel_gpu_power_limit_watts', u), g.enforcedPowerLimitW);
    assert.equal(m.get('sentinel_gpu_clock_sm_hertz', u), g.smClockMHz * 1e6);
    assert.equal(m.get('sentinel_gpu_pstate', u), Number(g.pstate.slice(1)));
    assert.equal(
      m.get('sentinel_gpu_ecc_uncorrected_errors', { ...u, counter: 'volatile' }),
      g.eccUncorrectedVolatileTotal,
    );
    for (const [reason, bit] of Object.entries(CLOCKS_EVENT_REASON_BITS)) {
      assert.equal(
        m.get('sentinel_gpu_clock_event_reason_active', { ...u, reason }),
        g.clocksEventReasons & bit ? 1 : 0,
        `${g.uuid} ${reason}`,
      );
    }
  }
}

/** Series that only the gpu collector writes: all of them must vanish while it fails. */
const gpuSeries = (m: Exposition) =>
  m.samples.filter((s) => s.name === 'sentinel_gpus' || s.name.startsWith('sentinel_gpu_')).map((s) => s.name);
const gpuErrors = (m: Exposition, reason: string) =>
  m.get('sentinel_collector_errors_total', { collector: 'gpu', reason }) ?? 0;
const condition = (m: Exposition, c: string) => m.get('sentinel_ollama_condition', { target: 'main', condition: c });

async function setGpuFault(h: ExporterHarness, fault: string | null): Promise<void> {
  await h.updateGpu((s) => {
    s.faults =
      fault === null
        ? []
        : [
            {
              target: 'gpu',
              kind: fault.split(' ')[0] as GpuState['faults'][number]['kind'],
              arg: fault.split(' ').slice(1).join(' ') || undefined,
            },
          ];
  });
}

async function waitRecovered(h: ExporterHarness): Promise<Exposition> {
  const s = readGpuState(h.stateFile);
  return h.waitForMetrics(
    'the gpu collector to recover',
    (m) =>
      m.get('sentinel_collector_success', { collector: 'gpu' }) === 1 &&
      m.get('sentinel_gpus') === s.gpus.filter((g) => !g.lost).length,
  );
}

test('GPU series follow the simulated state of two H100s, value by value, and move when it changes', async (t) => {
  const h = await startExporterHarness({ gpuState: twoGpus() });
  t.after(() => h.close());
  let m = await waitRecovered(h);
  assertFollowsState(m, readGpuState(h.stateFile));
  assert.equal(condition(m, 'gpu_fault'), 0);

  // Hot, busy, throttled, a second process, and uncorrected ECC errors on GPU 1.
  await h.updateGpu((s) => {
    const [g0, g1] = s.gpus as [GpuState['gpus'][number], GpuState['gpus'][number]];
    Object.assign(g0, {
      temperatureC: 84,
      powerDrawW: 688.25,
      utilizationGpuPct: 97,
      utilizationMemoryPct: 41,
      smClockMHz: 1755,
      pstate: 'P2',
    });
    g0.clocksEventReasons = CLOCKS_EVENT_REASON_BITS.hw_thermal_slowdown | CLOCKS_EVENT_REASON_BITS.sw_power_cap;
    Object.assign(g1, { enforcedPowerLimitW: 450, memoryOtherUsedMiB: 1000, eccUncorrectedVolatileTotal: 3 });
    s.procs.push({ gpuUuid: g1.uuid, pid: 5151, usedMiB: 30000, name: 'python3' });
  });
  m = await h.waitForMetrics(
    'the new temperature',
    (x) => x.get('sentinel_gpu_temperature_celsius', { uuid: defaultH100State().gpus[0]!.uuid }) === 84,
  );
  assertFollowsState(m, readGpuState(h.stateFile));
  assert.equal(condition(m, 'gpu_fault'), 1, 'uncorrected ECC errors are a GPU fault');
  assert.equal(m.get('sentinel_collector_success', { collector: 'gpu' }), 1);
});

test('each nvidia-smi failure: success 0, errors_total{reason}, every GPU series gone, logged; then recovery', async (t) => {
  const h = await startExporterHarness({ gpuState: twoGpus() });
  t.after(() => h.close());
  await waitRecovered(h);
  const cases = [
    { fault: 'bad-field', exit: 2, reason: 'bad_field', gpuFault: 0 },
    { fault: 'no-library', exit: 12, reason: 'nvml_library_missing', gpuFault: 1 },
    { fault: 'unknown-error', exit: 255, reason: 'nvml_init_failed', gpuFault: undefined },
    { fault: 'version-mismatch', exit: 18, reason: 'version_mismatch', gpuFault: 1 },
    { fault: 'no-driver', exit: 9, reason: 'driver_not_loaded', gpuFault: 1 },
    { fault: 'exit 42 something nvidia-smi never said before', exit: 42, reason: 'exit_42', gpuFault: 0 },
  ];
  for (const c of cases) {
    const before = gpuErrors(await h.metrics(), c.reason);
    const logsBefore = h.logs().length;
    await setGpuFault(h, c.fault);
    const m = await h.waitForMetrics(
      `gpu errors_total{reason=${c.reason}} to count the ${c.fault} fault`,
      (x) => gpuErrors(x, c.reason) > before && x.get('sentinel_collector_success', { collector: 'gpu' }) === 0,
    );
    assert.deepEqual(gpuSeries(m), [], `${c.fault}: no GPU series while failing`);
    assert.equal(m.get('sentinel_collector_runs_total', { collector: 'gpu' })! > 0, true);
    if (c.gpuFault !== undefined)
      assert.equal(condition(m, 'gpu_fault'), c.gpuFault, `${c.fault}: gpu_fault condition`);
    const logged = h
      .logs()
      .slice(logsBefore)
      .find((l) => l.collector === 'gpu' && l.reason === c.reason);
    assert.ok(logged, `${c.fault}: a warning naming the reason`);
    assert.match(String(logged.err), new RegExp(`exited ${c.exit} `), `${c.fault}: the message keeps the exit code`);
    // The whole state endpoint agrees: the failing collector has no snapshot at all.
    const state = JSON.parse((await h.get('/api/state')).body) as {
      snapshots: Record<string, unknown>;
      collectors: { name: string; lastError: { reason: string } | null }[];
    };
    assert.equal('gpu' in state.snapshots, false);
    assert.equal(state.collectors.find((x) => x.name === 'gpu')!.lastError!.reason, c.reason);

    await setGpuFault(h, null);
    const back = await waitRecovered(h);
    assertFollowsState(back, readGpuState(h.stateFile));
    assert.equal(
      gpuErrors(back, c.reason) > before,
      true,
      'errors_total is a counter: it keeps the failure after recovery',
    );
  }

  // The bad field made the exporter re-read --help-query-gpu (a driver upgrade can drop a field) instead of failing forever.
  const runs = h.smi.runs();
  const badField = runs.find((r) => r.args.startsWith('--query-gpu') && r.end === '2');
  assert.ok(badField, 'a --query-gpu run exited 2');
  assert.ok(
    runs.some((r) => r.args === '--help-query-gpu' && r.startSeq > badField.endSeq!),
    'the fields were checked again after the exit 2',
  );
  assert.equal(runs.filter((r) => r.args === '--help-query-gpu').length >= 2, true);
});

test('a lost GPU: gpu_lost 1 for it, the other GPU keeps its data, gpu_fault; all lost (exit 15) keeps both visible as lost', async (t) => {
  const h = await startExporterHarness({ gpuState: twoGpus() });
  t.after(() => h.close());
  await waitRecovered(h);
  const uuid0 = defaultH100State().gpus[0]!.uuid;

  await h.updateGpu((s) => void (s.gpus[1]!.lost = true));
  let m = await h.waitForMetrics('GPU 1 lost', (x) => x.get('sentinel_gpu_lost', { uuid: UUID1 }) === 1);
  assert.equal(m.get('sentinel_collector_success', { collector: 'gpu' }), 1, 'one lost GPU spoils no other');
  assert.equal(m.get('sentinel_gpu_lost', { uuid: uuid0 }), 0);
  assert.equal(m.get('sentinel_gpus'), 1);
  assert.equal(m.get('sentinel_gpu_nvidia_smi_exit_code'), 15);
  assert.deepEqual(
    m.all('sentinel_gpu_info').map((s) => s.labels.uuid),
    [uuid0],
  );
  assert.equal(m.get('sentinel_gpu_memory_used_bytes', { uuid: UUID1 }), undefined, 'no reading for a lost GPU');
  assert.equal(m.get('sentinel_gpu_temperature_celsius', { uuid: uuid0 }), 37);
  assert.equal(condition(m, 'gpu_fault'), 1);

  await setGpuFault(h, 'gpu-lost');
  m = await h.waitForMetrics(
    'both GPUs lost',
    (x) => x.get('sentinel_gpu_lost', { uuid: uuid0 }) === 1 && x.get('sentinel_gpu_lost', { uuid: UUID1 }) === 1,
  );
  assert.equal(m.get('sentinel_gpus'), 0);
  assert.equal(m.all('sentinel_gpu_info').length, 0);
  assert.equal(condition(m, 'gpu_fault'), 1);

  await setGpuFault(h, null);
  await h.updateGpu((s) => void (s.gpus[1]!.lost = false));
  m = await waitRecovered(h);
  assert.equal(m.get('sentinel_gpu_lost', { uuid: UUID1 }), 0);
  assert.equal(m.get('sentinel_gpu_lost', { uuid: uuid0 }), 0);
  assertFollowsState(m, readGpuState(h.stateFile));
  assert.equal(condition(m, 'gpu_fault'), 0);
});

test('compute-apps failing fails only gpu_processes: its series go, the GPU series stay; then both agree again', async (t) => {
  const state = defaultH100State();
  // This test process stands in for a GPU process: /proc has it, so it is traced (as a host process).
  state.procs.push({ gpuUuid: state.gpus[0]!.uuid, pid: process.pid, usedMiB: 2048, name: process.execPath });
  const h = await startExporterHarness({ gpuState: state, exporter: { collector_gpu_processes: true } });
  t.after(() => h.close());
  const uuid = state.gpus[0]!.uuid;
  const ok = (m: Exposition, c: string) => m.get('sentinel_collector_success', { collector: c }) === 1;
  // Both collectors have collected (on a loaded machine the GPU one, which checks its fields first, may come second).
  let m = await h.waitForMetrics(
    'the process traced',
    (x) => ok(x, 'gpu') && ok(x, 'gpu_processes') && x.get('sentinel_gpu_processes', { uuid }) === 1,
  );
  const proc = m.all('sentinel_gpu_process_memory_used_bytes', { uuid, pid: String(process.pid) });
  assert.equal(proc.length, 1);
  assert.equal(proc[0]!.value, 2048 * MIB);
  assert.equal(proc[0]!.labels.attribution, 'host');

  const before =
    m.get('sentinel_collector_errors_total', { collector: 'gpu_processes', reason: 'nvml_init_failed' }) ?? 0;
  await h.updateGpu((s) => void (s.faults = [{ target: 'apps', kind: 'unknown-error' }]));
  m = await h.waitForMetrics(
    'gpu_processes failing',
    (x) =>
      (x.get('sentinel_collector_errors_total', { collector: 'gpu_processes', reason: 'nvml_init_failed' }) ?? 0) >
        before && !ok(x, 'gpu_processes'),
  );
  assert.equal(m.has('sentinel_gpu_processes'), false, 'no process count while compute-apps fails');
  assert.equal(m.has('sentinel_gpu_process_memory_used_bytes'), false);
  assert.equal(m.has('sentinel_gpu_container_memory_used_bytes'), false);
  assert.equal(ok(m, 'gpu'), true, 'the GPU query is another source: it keeps working');
  assertFollowsState(m, readGpuState(h.stateFile));

  await h.updateGpu((s) => void (s.faults = []));
  m = await h.waitForMetrics(
    'gpu_processes back',
    (x) => ok(x, 'gpu_processes') && x.get('sentinel_gpu_processes', { uuid }) === 1,
  );
  assert.equal(m.get('sentinel_gpu_process_memory_used_bytes', { uuid, pid: String(process.pid) }), 2048 * MIB);
});
