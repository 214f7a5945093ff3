import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createGpuCollector, type GpuSnapshot } from '../../../../exporter/collectors/gpu-collector.js';
import { CollectError, type Collector, type Labels, type MetricSink } from '../../../../exporter/collector.js';
import { PromSink } from '../../../../exporter/metrics/prom-sink.js';
import { checkMetricNames } from '../../../lint/metric-name-rules.js';
import type { GpuConfig } from '../../../../shared/config/types.js';
import { NvidiaSmiError, type NvidiaSmiResult, type RunNvidiaSmi } from '../../../../shared/gpu/run-nvidia-smi.js';
import { CLOCK_EVENT_REASON_BITS } from '../../../../shared/gpu/decode-clock-event-reasons.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  defaultH100Gpu,
  defaultH100State,
  memoryUsedMiB,
  writeGpuState,
  type GpuState,
} from '../../../sim/gpu-state.js';
import { queryComputeApps } from '../../../../shared/gpu/query-compute-apps.js';
import { listGpus } from '../../../sim/list-gpus.js';

const ROOT = new URL('../../../../../', import.meta.url);
const capture = (name: string) => readFileSync(new URL(`test/fixtures/nvidia-smi-h100/${name}`, ROOT), 'utf8');

const CFG: GpuConfig = {
  nvidia_smi: '/usr/bin/nvidia-smi',
  interval_ms: 15000,
  timeout_ms: 5000,
  processes: false,
  max_processes_per_gpu: 20,
  proc_root: '/proc',
};

interface Sample {
  readonly type: 'gauge' | 'counter';
  readonly name: string;
  readonly help: string;
  readonly labels: Labels;
  readonly value: number;
}

/** Records every sample, checking what a real sink would refuse (mixed label names, non-finite values). */
class RecordingSink implements MetricSink {
  readonly samples: Sample[] = [];
  gauge(name: string, help: string, labels: Labels, value: number): void {
    this.add({ type: 'gauge', name, help, labels, value });
  }
  counter(name: string, help: string, labels: Labels, value: number): void {
    this.add({ type: 'counter', name, help, labels, value });
  }
  private add(s: Sample): void {
    const first = this.samples.find((x) => x.name === s.name);
    if (first) assert.deepEqual(Object.keys(s.labels).sort(), Object.keys(first.labels).sort(), `labels of ${s.name}`);
    assert.ok(Number.isFinite(s.value), `${s.name} = ${s.value}`);
    this.samples.push(s);
  }
  named(name: string): Sample[] {
    return this.samples.filter((s) => s.name === name);
  }
  one(name: string, labels: Labels = {}): number | undefined {
    const hits = this.named(name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)} appears ${hits.length} times`);
    return hits[0]?.value;
  }
}

function memoryLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log, lines };
}

type Answer = NvidiaSmiResult | Error;
/** A scripted nvidia-smi: `answer(args)` decides each run; every call is recorded. */
function fakeRun(answer: (args: readonly string[]) => Answer) {
  const calls: { command: string; args: readonly string[] }[] = [];
  const run: RunNvidiaSmi = async (command, args) => {
    calls.push({ command, args });
    const a = answer(args);
    if (a instanceof Error) throw a;
    return a;
  };
  return { run, calls };
}
const ok = (stdout: string): NvidiaSmiResult => ({ stdout, stderr: '', exitCode: 0 });
const fail = (exitCode: number, stdout: string): NvidiaSmiResult => ({ stdout, stderr: '', exitCode });
const ctx = () => ({ signal: new AbortController().signal, now: () => 0 });

// The real help text cut down to the fields of the second capture set ($Q2), so the collector's field check drops
// the rest and asks exactly for the capture's columns, which can then be replayed verbatim.
const Q2_HEADER = capture('query-gpu-nounits-idle.csv').split('\n')[0]!;
const Q2_FIELDS = Q2_HEADER.split(', ').map((h) => h.replace(/ \[.*\]$/, '').replace('clocks.current.sm', 'clocks.sm'));
function helpLimitedTo(fields: readonly string[]): string {
  const entries = capture('help-query-gpu.txt').split('\n\n');
  return entries
    .filter((e) => [...(e.split('\n')[0] ?? '').matchAll(/"([^"]+)"/g)].some((m) => fields.includes(m[1]!)))
    .join('\n\n');
}

function captureNvidiaSmi(queryCapture: string) {
  return fakeRun((args) => {
    if (args[0] === '--help-query-gpu') return ok(helpLimitedTo(Q2_FIELDS));
    assert.equal(args[0], `--query-gpu=${Q2_FIELDS.join(',')}`);
    assert.equal(args[1], '--format=csv,nounits');
    return ok(capture(queryCapture));
  });
}

async function collectAndRender(c: Collector<GpuSnapshot>): Promise<RecordingSink> {
  const sink = new RecordingSink();
  c.render(await c.collect(ctx()), sink);
  return sink;
}

test('collector contract: name, interval and timeout from the config', () => {
  const c = createGpuCollector(CFG, { log: memoryLog().log, run: fakeRun(() => ok('')).run });
  assert.equal(c.name, 'gpu');
  assert.equal(c.intervalMs, CFG.interval_ms);
  assert.equal(c.timeoutMs, CFG.timeout_ms);
});

test('real idle capture: fields checked once, dropped ones logged, series in base units', async () => {
  const { log, lines } = memoryLog();
  const smi = captureNvidiaSmi('query-gpu-nounits-idle.csv');
  const c = createGpuCollector(CFG, { log, run: smi.run });
  const sink = await collectAndRender(c);
  await c.collect(ctx());
  assert.deepEqual(
    smi.calls.map((x) => x.args[0]!.split('=')[0]),
    ['--help-query-gpu', '--query-gpu', '--query-gpu'],
  );
  assert.ok(smi.calls.every((x) => x.command === CFG.nvidia_smi));
  const dropped = lines.find((l) => Array.isArray(l['dropped']))?.['dropped'] as string[];
  assert.ok(dropped.includes('vbios_version') && dropped.includes('enforced.power.limit'), String(dropped));
  assert.equal(
    dropped.some((f) => Q2_FIELDS.includes(f)),
    false,
  );

  const [, cells] = capture('query-gpu-nounits-idle.csv')
    .trim()
    .split('\n')
    .map((l) => l.split(', '));
  const col = (f: string) => cells![Q2_FIELDS.indexOf(f)]!;
  const uuid = col('uuid');
  const u = { uuid };
  assert.equal(sink.one('sentinel_gpus'), 1);
  assert.equal(sink.one('sentinel_gpu_lost', u), 0);
  assert.equal(sink.one('sentinel_gpu_nvidia_smi_exit_code'), 0);
  assert.deepEqual(sink.named('sentinel_gpu_info')[0]!.labels, {
    uuid,
    index: '0',
    name: 'NVIDIA H100 80GB HBM3',
    pci_bus_id: '00000000:00:06.0',
    driver_version: '580.159.04',
    vbios_version: '',
  });
  assert.equal(sink.one('sentinel_gpu_memory_total_bytes', u), Number(col('memory.total')) * 1048576);
  assert.equal(sink.one('sentinel_gpu_memory_used_bytes', u), Number(col('memory.used')) * 1048576);
  assert.equal(sink.one('sentinel_gpu_memory_free_bytes', u), Number(col('memory.free')) * 1048576);
  assert.equal(sink.one('sentinel_gpu_memory_reserved_bytes', u), Number(col('memory.reserved')) * 1048576);
  assert.equal(sink.one('sentinel_gpu_utilization_ratio', u), Number(col('utilization.gpu')) / 100);
  assert.equal(sink.one('sentinel_gpu_temperature_celsius', u), Number(col('temperature.gpu')));
  assert.equal(sink.one('sentinel_gpu_power_draw_watts', u), Number(col('power.draw')));
  assert.equal(sink.one('sentinel_gpu_power_limit_watts', u), Number(col('power.limit')));
  assert.equal(sink.one('sentinel_gpu_clock_sm_hertz', u), Number(col('clocks.sm')) * 1e6);
  assert.equal(sink.one('sentinel_gpu_pstate', u), 0);
  assert.equal(sink.one('sentinel_gpu_ecc_uncorrected_errors', { uuid, counter: 'volatile' }), 0);
  assert.equal(sink.one('sentinel_gpu_ecc_uncorrected_errors', { uuid, counter: 'aggregate' }), undefined);
  assert.equal(sink.one('sentinel_gpu_mig_mode_enabled', u), 0);
  assert.equal(sink.one('sentinel_gpu_compute_mode', { uuid, mode: 'Default' }), 1);
  // [N/A] fan and fields this driver was not asked for: no series at all.
  assert.equal(sink.named('sentinel_gpu_fan_speed_ratio').length, 0);
  assert.equal(sink.named('sentinel_gpu_clock_memory_hertz').length, 0);
  // 0x...01: gpu_idle only, one series per known reason.
  const reasons = sink.named('sentinel_gpu_clock_event_reason_active');
  assert.equal(reasons.length, Object.keys(CLOCK_EVENT_REASON_BITS).length);
  assert.deepEqual(
    reasons.filter((s) => s.value === 1).map((s) => s.labels['reason']),
    ['gpu_idle'],
  );
});

test('every series follows the naming rules: sentinel_ prefix, unit suffix, HELP, gauges only', async () => {
  const c = createGpuCollector(CFG, { log: memoryLog().log, run: captureNvidiaSmi('query-gpu-nounits-busy.csv').run });
  const snap = await c.collect(ctx());
  // What /metrics uses: one label set per family, accepted by prom-client, and the project's naming lint.
  const prom = new PromSink();
  c.render(snap, prom);
  assert.deepEqual(checkMetricNames(await prom.registry().metrics()), [], 'project naming rules');
  const sink = new RecordingSink();
  c.render(snap, sink);
  assert.ok(sink.samples.length > 20);
  for (const s of sink.samples) {
    assert.match(s.name, /^sentinel_gpus?_[a-z_]+$|^sentinel_gpus$/);
    assert.ok(s.help.length > 10, s.name);
    assert.equal(s.type, 'gauge', s.name);
    assert.doesNotMatch(s.name, /_total$/);
    if (/memory_(total|used|free|reserved)/.test(s.name)) assert.match(s.name, /_bytes$/);
    if (/utilization|fan_speed/.test(s.name)) assert.match(s.name, /_ratio$/);
    if (/clock_(sm|memory)/.test(s.name)) assert.match(s.name, /_hertz$/);
  }
  assert.equal(
    sink.named('sentinel_gpu_clock_event_reason_active').some((s) => s.value === 1),
    false,
  );
  assert.equal(sink.named('sentinel_gpu_utilization_ratio')[0]!.value, 1);
});

test('the older capture with units also collects when the driver help lists only its fields', async () => {
  const header = capture('query-gpu-busy.csv').split('\n')[0]!;
  const fields = header.split(', ').map((h) => h.replace(/ \[.*\]$/, '').replace('clocks.current.sm', 'clocks.sm'));
  const { run } = fakeRun((args) =>
    args[0] === '--help-query-gpu' ? ok(helpLimitedTo(fields)) : ok(capture('query-gpu-busy.csv')),
  );
  const sink = await collectAndRender(createGpuCollector(CFG, { log: memoryLog().log, run }));
  const uuid = capture('query-gpu-busy.csv').split('\n')[1]!.split(', ')[1]!;
  assert.equal(sink.one('sentinel_gpu_memory_used_bytes', { uuid }), 4467 * 1048576);
  assert.equal(sink.one('sentinel_gpu_power_draw_watts', { uuid }), 695.82);
});

test('a failed help query fails the collection with its reason and is retried next time, never guessed', async () => {
  let helpOk = false;
  const smi = fakeRun((args) => {
    if (args[0] === '--help-query-gpu') {
      return helpOk
        ? ok(helpLimitedTo(Q2_FIELDS))
        : fail(12, "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system.\n");
    }
    return ok(capture('query-gpu-nounits-busy.csv'));
  });
  const c = createGpuCollector(CFG, { log: memoryLog().log, run: smi.run });
  await assert.rejects(
    c.collect(ctx()),
    (e: unknown) => e instanceof CollectError && e.reason === 'nvml_library_missing',
  );
  assert.equal(smi.calls.length, 1);
  helpOk = true;
  const snap = await c.collect(ctx());
  assert.equal(snap.gpus.length, 1);
  assert.deepEqual(
    smi.calls.map((x) => x.args[0]!.split('=')[0]),
    ['--help-query-gpu', '--help-query-gpu', '--query-gpu'],
  );
});

test('a field rejected by the query (driver changed) fails with bad_field and re-checks the fields', async () => {
  let rejected = true;
  const smi = fakeRun((args) => {
    if (args[0] === '--help-query-gpu') return ok(helpLimitedTo(Q2_FIELDS));
    if (rejected) return fail(2, capture('unknown-field.out').split('\n\nrc=')[0]!);
    return ok(capture('query-gpu-nounits-busy.csv'));
  });
  const c = createGpuCollector(CFG, { log: memoryLog().log, run: smi.run });
  await assert.rejects(c.collect(ctx()), (e: unknown) => e instanceof CollectError && e.reason === 'bad_field');
  rejected = false;
  await c.collect(ctx());
  assert.equal(smi.calls.filter((x) => x.args[0] === '--help-query-gpu').length, 2);
});

test('driver-level failures become CollectError reasons', async () => {
  const cases: [Answer, string][] = [
    [
      fail(18, 'Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 535.161\n'),
      'version_mismatch',
    ],
    [fail(255, 'Failed to initialize NVML: Unknown Error\n'), 'nvml_init_failed'],
    [fail(3, ''), 'not_supported'],
    [new NvidiaSmiError('timeout', 'nvidia-smi did not finish within 5000 ms'), 'timeout'],
    [new NvidiaSmiError('spawn_failed', 'cannot run nvidia-smi: ENOENT'), 'spawn_failed'],
  ];
  for (const [answer, reason] of cases) {
    const { run } = fakeRun((args) => (args[0] === '--help-query-gpu' ? ok(helpLimitedTo(Q2_FIELDS)) : answer));
    const c = createGpuCollector(CFG, { log: memoryLog().log, run });
    await assert.rejects(c.collect(ctx()), (e: unknown) => e instanceof CollectError && e.reason === reason, reason);
  }
});

test('a header that does not match is a parse failure, not misread data', async () => {
  const { run } = fakeRun((args) =>
    args[0] === '--help-query-gpu' ? ok(helpLimitedTo(Q2_FIELDS)) : ok(capture('query-gpu-idle.csv')),
  );
  const c = createGpuCollector(CFG, { log: memoryLog().log, run });
  await assert.rejects(
    c.collect(ctx()),
    (e: unknown) => e instanceof CollectError && e.reason === 'parse' && /columns/.test(e.message),
  );
});

const TWO_FIELDS = ['index', 'uuid', 'name', 'pci.bus_id', 'memory.used'];
const twoGpuHeader = 'index, uuid, name, pci.bus_id, memory.used [MiB]\n';
const rowA = '0, GPU-aaaa, NVIDIA H100 80GB HBM3, 00000000:65:00.0, 100\n';
const rowB = '1, GPU-bbbb, NVIDIA H100 80GB HBM3, 00000000:66:00.0, 200\n';
const lostB =
  'Unable to determine the device handle for GPU 0000:66:00.0: GPU is lost.  Reboot the system to recover this GPU\n';

test('a GPU seen before that is now lost stays visible as sentinel_gpu_lost 1, the others keep their data', async () => {
  const answers = [
    ok(twoGpuHeader + rowA + rowB),
    fail(15, twoGpuHeader + rowA + lostB),
    fail(6, 'No devices were found\n'),
    ok(twoGpuHeader + rowA + rowB),
  ];
  const { run } = fakeRun((args) =>
    args[0] === '--help-query-gpu' ? ok(helpLimitedTo(TWO_FIELDS)) : answers.shift()!,
  );
  const c = createGpuCollector(CFG, { log: memoryLog().log, run });

  let sink = await collectAndRender(c);
  assert.equal(sink.one('sentinel_gpus'), 2);
  assert.deepEqual(
    sink.named('sentinel_gpu_lost').map((s) => [s.labels['uuid'], s.value]),
    [
      ['GPU-aaaa', 0],
      ['GPU-bbbb', 0],
    ],
  );

  sink = await collectAndRender(c);
  assert.equal(sink.one('sentinel_gpus'), 1);
  assert.equal(sink.one('sentinel_gpu_lost', { uuid: 'GPU-bbbb' }), 1);
  assert.equal(sink.one('sentinel_gpu_lost', { uuid: 'GPU-aaaa' }), 0);
  assert.equal(sink.one('sentinel_gpu_memory_used_bytes', { uuid: 'GPU-aaaa' }), 100 * 1048576);
  assert.equal(sink.one('sentinel_gpu_memory_used_bytes', { uuid: 'GPU-bbbb' }), undefined);
  assert.equal(sink.one('sentinel_gpu_nvidia_smi_exit_code'), 15);
  assert.equal(sink.one('sentinel_gpu_unidentified_unreachable'), 0);

  sink = await collectAndRender(c);
  assert.equal(sink.one('sentinel_gpus'), 0);
  assert.deepEqual(
    sink.named('sentinel_gpu_lost').map((s) => s.value),
    [1, 1],
  );

  sink = await collectAndRender(c);
  assert.deepEqual(
    sink.named('sentinel_gpu_lost').map((s) => s.value),
    [0, 0],
  );
});

test('a GPU lost before it was ever seen is counted without a uuid; with nothing known the run fails', async () => {
  const answers = [fail(15, lostB), fail(15, twoGpuHeader + rowA + lostB)];
  const { log, lines } = memoryLog();
  const { run } = fakeRun((args) =>
    args[0] === '--help-query-gpu' ? ok(helpLimitedTo(TWO_FIELDS)) : answers.shift()!,
  );
  const c = createGpuCollector(CFG, { log, run });
  await assert.rejects(c.collect(ctx()), (e: unknown) => e instanceof CollectError && e.reason === 'gpu_lost');
  const sink = await collectAndRender(c);
  assert.equal(sink.one('sentinel_gpu_unidentified_unreachable'), 1);
  assert.deepEqual(
    sink.named('sentinel_gpu_lost').map((s) => [s.labels['uuid'], s.value]),
    [['GPU-aaaa', 0]],
  );
  assert.ok(lines.some((l) => l['pciBusId'] === '0000:66:00.0'));
});

test('a row whose cells say [GPU is lost] marks that GPU lost', async () => {
  const answers = [
    ok(twoGpuHeader + rowA + rowB),
    fail(15, `${twoGpuHeader + rowA}1, GPU-bbbb, [GPU is lost], [GPU is lost], [GPU is lost]\n`),
  ];
  const { run } = fakeRun((args) =>
    args[0] === '--help-query-gpu' ? ok(helpLimitedTo(TWO_FIELDS)) : answers.shift()!,
  );
  const c = createGpuCollector(CFG, { log: memoryLog().log, run });
  await c.collect(ctx());
  const sink = await collectAndRender(c);
  assert.equal(sink.one('sentinel_gpu_lost', { uuid: 'GPU-bbbb' }), 1);
  assert.equal(sink.named('sentinel_gpu_info').length, 1);
});

test('the snapshot is not changed by later collections', async () => {
  const answers = [ok(twoGpuHeader + rowA + rowB), fail(15, twoGpuHeader + rowA + lostB)];
  const { run } = fakeRun((args) =>
    args[0] === '--help-query-gpu' ? ok(helpLimitedTo(TWO_FIELDS)) : answers.shift()!,
  );
  const c = createGpuCollector(CFG, { log: memoryLog().log, run });
  const first = await c.collect(ctx());
  await c.collect(ctx());
  assert.equal(first.lost.get('GPU-bbbb'), false);
  assert.equal(first.gpus.length, 2);
});

// ---- Against the fake nvidia-smi (test/sim/bin/nvidia-smi, driven by a state file): real spawns, no Docker. ----

const FAKE_SMI = fileURLToPath(new URL('test/sim/bin/nvidia-smi', ROOT));

function simulated(): { cfg: GpuConfig; state: (s: GpuState) => void; stop: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-gpu-sim-'));
  const file = join(dir, 'gpu-state');
  // A wrapper command: the collector must pass its own arguments after the wrapper's.
  const cfg = { ...CFG, nvidia_smi: `env "SENTINEL_FAKE_GPU_STATE=${file}" "${FAKE_SMI}"`, timeout_ms: 10_000 };
  return { cfg, state: (s) => writeGpuState(file, s), stop: () => rmSync(dir, { recursive: true, force: true }) };
}

test('sim: two H100s with a process, then one falls off the bus, then the driver breaks', async () => {
  const sim = simulated();
  try {
    const s = defaultH100State();
    s.gpus.push(defaultH100Gpu(1, 'GPU-0b8e2f1c-0000-4000-8000-000000000001', '00000000:00:07.0'));
    s.procs = [{ gpuUuid: s.gpus[1]!.uuid, pid: 4242, usedMiB: 13312, name: '/usr/bin/ollama' }];
    sim.state(s);
    const c = createGpuCollector(sim.cfg, { log: memoryLog().log });

    let sink = await collectAndRender(c);
    assert.equal(sink.one('sentinel_gpus'), 2);
    for (const g of s.gpus) {
      assert.equal(sink.one('sentinel_gpu_memory_used_bytes', { uuid: g.uuid }), memoryUsedMiB(s, g) * 1048576);
      assert.equal(sink.one('sentinel_gpu_temperature_celsius', { uuid: g.uuid }), g.temperatureC);
      assert.equal(sink.one('sentinel_gpu_lost', { uuid: g.uuid }), 0);
    }
    assert.deepEqual(await queryComputeApps(sim.cfg, { signal: AbortSignal.timeout(10_000) }), [
      { gpuUuid: s.gpus[1]!.uuid, pid: 4242, processName: '/usr/bin/ollama', usedMemoryBytes: 13312 * 1048576 },
    ]);
    assert.deepEqual(
      (await listGpus(sim.cfg, { signal: AbortSignal.timeout(10_000) })).gpus.map((g) => g.uuid),
      s.gpus.map((g) => g.uuid),
    );

    s.gpus[1]!.lost = true;
    sim.state(s);
    sink = await collectAndRender(c);
    assert.equal(sink.one('sentinel_gpus'), 1);
    assert.equal(sink.one('sentinel_gpu_lost', { uuid: s.gpus[1]!.uuid }), 1);
    assert.equal(sink.one('sentinel_gpu_lost', { uuid: s.gpus[0]!.uuid }), 0);
    const listed = await listGpus(sim.cfg, { signal: AbortSignal.timeout(10_000) });
    assert.deepEqual(
      listed.unreachable.map((u) => u.lost),
      [true],
    );

    s.gpus[1]!.lost = false;
    s.faults = [{ target: 'all', kind: 'version-mismatch' }];
    sim.state(s);
    await assert.rejects(
      c.collect(ctx()),
      (e: unknown) => e instanceof CollectError && e.reason === 'version_mismatch',
    );
    await assert.rejects(
      queryComputeApps(sim.cfg, { signal: AbortSignal.timeout(10_000) }),
      (e: unknown) => e instanceof NvidiaSmiError && e.reason === 'version_mismatch',
    );
  } finally {
    sim.stop();
  }
});

test('sim: an nvidia-smi stuck in the kernel keeps the run pending without crashing, and it ends when the fake lets go', async () => {
  const sim = simulated();
  try {
    const s = defaultH100State();
    sim.state(s);
    // The fault hits the query only (the fake answers --help-query-gpu before looking at faults).
    s.faults = [{ target: 'gpu', kind: 'stuck', arg: '20000' }];
    sim.state(s);
    const c = createGpuCollector({ ...sim.cfg, timeout_ms: 1000 }, { log: memoryLog().log });
    let settled = false;
    const run = c.collect(ctx()).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 3000)); // well past the 1 s timeout and the 1 s kill grace
    assert.equal(settled, false);
    s.faults = [];
    sim.state(s); // the fake's grandchild sees the fault cleared and closes the pipes
    await assert.rejects(run, (e: unknown) => e instanceof CollectError && e.reason === 'timeout');
  } finally {
    sim.stop();
  }
});
