/**
 * The NVML backend for real, without a GPU: the fake libnvidia-ml.so.1 (test/sim/fake-nvml/, compiled here with cc)
 * loaded through koffi in the worker thread, and the fake nvidia-smi, both driven by one GPU state file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import koffi from 'koffi';
import { createGpuCollector, type GpuSnapshot } from '../../../../exporter/collectors/gpu-collector.js';
import { CollectError, type Collector } from '../../../../exporter/collector.js';
import { PromSink } from '../../../../exporter/metrics/prom-sink.js';
import type { GpuConfig } from '../../../../shared/config/types.js';
import { createNvmlBackend, type NvmlBackend } from '../../../../shared/gpu/nvml-backend.js';
import { queryComputeApps } from '../../../../shared/gpu/query-compute-apps.js';
import { queryComputeAppsPreferNvml } from '../../../../shared/gpu/query-compute-apps-nvml.js';
import { buildFakeNvml } from '../../../helpers/build-fake-nvml.js';
import { repoPath } from '../../../helpers/repo-path.js';
import {
  CLOCKS_EVENT_REASON_BITS,
  defaultH100Gpu,
  defaultH100State,
  writeGpuState,
  type FaultKind,
  type GpuState,
} from '../../../sim/gpu-state.js';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-nvml-'));
const stateFile = join(dir, 'gpu-state');
// Read by the fake library (getenv on every call) and inherited by every fake nvidia-smi this process spawns.
process.env.SENTINEL_FAKE_GPU_STATE = stateFile;
let library = '';
const backends: NvmlBackend[] = [];

before(() => {
  library = buildFakeNvml();
});

after(async () => {
  writeGpuState(stateFile, defaultH100State()); // releases any call still blocked on a fault
  await Promise.all(backends.map((b) => b.client.close()));
  rmSync(dir, { recursive: true, force: true });
});

function config(backend: GpuConfig['backend'], overrides: Partial<GpuConfig> = {}): GpuConfig {
  return {
    nvidia_smi: repoPath('test', 'sim', 'bin', 'nvidia-smi'),
    interval_ms: 1000,
    timeout_ms: 5000,
    processes: true,
    max_processes_per_gpu: 20,
    proc_root: '/proc',
    backend,
    nvml_library: library,
    ...overrides,
  };
}

const quiet = pino({ level: 'silent' });
const ctx = () => ({ signal: AbortSignal.timeout(10_000), now: Date.now });

function collectors(cfg: Partial<GpuConfig> = {}, backend: 'auto' | 'nvml' = 'nvml') {
  const nvmlCfg = config(backend, cfg);
  const nvml = createNvmlBackend(nvmlCfg)!;
  backends.push(nvml);
  return {
    nvml,
    viaNvml: createGpuCollector(nvmlCfg, { log: quiet, nvml }),
    viaSmi: createGpuCollector(config('nvidia_smi', cfg), { log: quiet }),
    cfg: nvmlCfg,
  };
}

/** The exposition of one collection, without the series that says which backend read it. */
async function exposition(c: Collector<GpuSnapshot>): Promise<string> {
  const sink = new PromSink();
  c.render(await c.collect(ctx()), sink);
  const text = await sink.registry().metrics();
  return text
    .split('\n')
    .filter((l) => !l.includes('sentinel_gpu_backend_info'))
    .join('\n');
}

/** Two busy H100s with distinct readings in every field, processes on both. */
function busyState(driver = '580.159.04'): GpuState {
  const s = defaultH100State();
  s.driverVersion = driver;
  const g1 = defaultH100Gpu(1, 'GPU-0b8e2f1c-0000-4000-8000-000000000001', '00000000:00:07.0');
  Object.assign(g1, {
    utilizationGpuPct: 87,
    utilizationMemoryPct: 41,
    temperatureC: 66,
    powerDrawW: 512.27,
    enforcedPowerLimitW: 650,
    smClockMHz: 1980,
    pstate: 'P2',
    eccUncorrectedVolatileTotal: 3,
    memoryOtherUsedMiB: 517,
    clocksEventReasons: CLOCKS_EVENT_REASON_BITS.sw_power_cap | CLOCKS_EVENT_REASON_BITS.hw_slowdown,
  });
  s.gpus.push(g1);
  s.procs = [
    { gpuUuid: g1.uuid, pid: 4242, usedMiB: 13312, name: '/usr/bin/ollama', smPct: 62 },
    { gpuUuid: g1.uuid, pid: 4300, usedMiB: 4467, name: '/usr/lib/ollama/runner, with a comma', smPct: 25 },
    { gpuUuid: s.gpus[0]!.uuid, pid: 777, usedMiB: 500, name: 'python3' },
  ];
  return s;
}

test('both backends give identical metrics on the same state (two GPUs, every reading, processes)', async () => {
  writeGpuState(stateFile, busyState());
  const { viaNvml, viaSmi, nvml, cfg } = collectors();
  const [a, b] = [await exposition(viaNvml), await exposition(viaSmi)];
  assert.match(a, /sentinel_gpu_power_draw_watts\{uuid="GPU-0b8e2f1c-0000-4000-8000-000000000001"\} 512.27/);
  assert.equal(a, b);
  const signal = AbortSignal.timeout(10_000);
  const apps = await queryComputeAppsPreferNvml(cfg, nvml, { signal, log: quiet });
  assert.deepEqual(
    apps.map(({ smUtilizationRatio: _, ...a }) => a),
    await queryComputeApps(cfg, { signal }),
  );
  // NVML adds what nvidia-smi cannot say: per-process SM activity (an idle GPU's NOT_FOUND reads 0, not an error).
  assert.deepEqual(
    apps.map((a) => [a.pid, a.smUtilizationRatio]),
    [
      [777, 0],
      [4242, 0.62],
      [4300, 0.25],
    ],
  );
  const sink = new PromSink();
  viaNvml.render(await viaNvml.collect(ctx()), sink);
  assert.match(await sink.registry().metrics(), /sentinel_gpu_backend_info\{backend="nvml"\} 1/);
});

for (const driver of ['535.54.03', '580.159.04']) {
  test(`process entries in the layout of driver ${driver} read as nvidia-smi lists them`, async () => {
    writeGpuState(stateFile, busyState(driver));
    const { nvml, cfg } = collectors();
    const p = await nvml.client.processes(5000);
    assert.equal(p.stride, driver.startsWith('535.') ? 32 : 24);
    assert.equal(p.layoutError, undefined);
    assert.deepEqual(p.apps, await queryComputeApps(cfg, { signal: AbortSignal.timeout(10_000) }));
  });
}

test('a layout that does not match the driver version is detected and the list comes from nvidia-smi', async () => {
  for (const [driver, stride] of [
    ['580.159.04', '32'],
    ['535.54.03', '24'],
  ] as const) {
    writeGpuState(stateFile, busyState(driver));
    process.env.SENTINEL_FAKE_NVML_PROCESS_STRIDE = stride;
    try {
      const { nvml, cfg } = collectors();
      const p = await nvml.client.processes(5000);
      assert.match(p.layoutError ?? '', /process entries/, `${driver} writing ${stride}-byte entries`);
      const signal = AbortSignal.timeout(10_000);
      const lines: string[] = [];
      const log = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
      assert.deepEqual(
        await queryComputeAppsPreferNvml(cfg, nvml, { signal, log }),
        await queryComputeApps(cfg, { signal }),
      );
      assert.match(lines.join(''), /listing with nvidia-smi/);
    } finally {
      delete process.env.SENTINEL_FAKE_NVML_PROCESS_STRIDE;
    }
  }
});

test('per-process utilization: one sample per busy process, NOT_FOUND when none is busy means idle, not an error', async () => {
  writeGpuState(stateFile, busyState());
  const { nvml } = collectors();
  const p = await nvml.client.processes(5000);
  assert.deepEqual(p.utilization.map((u) => [u.pid, u.smRatio]).sort(), [
    [4242, 0.62],
    [4300, 0.25],
  ]);
  assert.deepEqual(p.utilizationUnsupported, []);
});

const FAULTS: readonly FaultKind[] = ['no-driver', 'version-mismatch', 'gpu-lost', 'no-permission', 'no-library'];
test('driver faults give the same collection error reason under both backends', async () => {
  for (const kind of FAULTS) {
    const s = defaultH100State();
    s.faults = [{ target: 'all', kind }];
    writeGpuState(stateFile, s);
    const { viaNvml, viaSmi } = collectors();
    const reasons: string[] = [];
    for (const c of [viaNvml, viaSmi]) {
      await assert.rejects(c.collect(ctx()), (e: unknown) => {
        assert.ok(e instanceof CollectError, String(e));
        reasons.push(e.reason);
        return true;
      });
    }
    assert.equal(reasons[0], reasons[1], `${kind}: nvml ${reasons[0]} vs nvidia-smi ${reasons[1]}`);
  }
});

test('a GPU lost mid-run stays visible as lost under both backends, with the same series', async () => {
  const s = busyState();
  writeGpuState(stateFile, s);
  const { viaNvml, viaSmi } = collectors();
  assert.equal(await exposition(viaNvml), await exposition(viaSmi));
  s.gpus[1]!.lost = true;
  writeGpuState(stateFile, s);
  const [a, b] = [await exposition(viaNvml), await exposition(viaSmi)];
  assert.match(a, /sentinel_gpu_lost\{uuid="GPU-0b8e2f1c-0000-4000-8000-000000000001"\} 1/);
  assert.match(a, /sentinel_gpu_nvidia_smi_exit_code 15/);
  assert.equal(a, b);
});

test('library missing: auto falls back to nvidia-smi, forced nvml is a clear error', async () => {
  writeGpuState(stateFile, defaultH100State());
  const missing = join(dir, 'no-such-libnvidia-ml.so.1');
  const auto = collectors({ nvml_library: missing }, 'auto');
  const snap = await auto.viaNvml.collect(ctx());
  assert.equal(snap.backend, 'nvidia_smi');
  assert.equal(snap.gpus.length, 1);
  const forced = collectors({ nvml_library: missing }, 'nvml');
  await assert.rejects(forced.viaNvml.collect(ctx()), (e: unknown) => {
    assert.ok(e instanceof CollectError);
    assert.equal(e.reason, 'nvml_library_missing');
    assert.ok(e.message.includes(missing), e.message);
    return true;
  });
});

test('a hung NVML call: stuck, nvidia-smi meanwhile, no further call until it returns, then NVML again', async () => {
  const s = busyState();
  writeGpuState(stateFile, s);
  const { viaNvml, nvml } = collectors({ timeout_ms: 1200 }, 'auto');
  await nvml.client.sample(10_000); // worker start, library load and init outside the short timeout
  assert.equal((await viaNvml.collect(ctx())).backend, 'nvml');
  const calls = koffi.load(library).func('long fake_nvml_calls()') as () => number;

  s.faults = [{ target: 'gpu', kind: 'nvml-hang' }];
  writeGpuState(stateFile, s);
  try {
    let started = Date.now();
    const first = await viaNvml.collect(ctx());
    assert.equal(first.backend, 'nvidia_smi');
    assert.equal(first.gpus.length, 2, 'the fallback read the GPUs');
    assert.ok(first.nvmlStuckSinceMs !== null);
    assert.ok(Date.now() - started < 1200 + 3000, 'the run ended within its timeout plus one nvidia-smi');
    const before = calls();
    // While the call hangs: /proc reads (libuv pool) and the event loop are not held up by the driver.
    started = Date.now();
    await readFile('/proc/self/status');
    assert.ok(Date.now() - started < 500);
    const second = await viaNvml.collect(ctx());
    assert.equal(second.backend, 'nvidia_smi');
    const sink = new PromSink();
    viaNvml.render(second, sink);
    assert.match(await sink.registry().metrics(), /sentinel_gpu_nvml_stuck_since_timestamp_seconds \d/);
    assert.equal(calls(), before, 'no NVML call while one hangs');
  } finally {
    s.faults = [];
    writeGpuState(stateFile, s);
  }
  for (let i = 0; i < 100 && nvml.client.stuckSinceMs() !== null; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(nvml.client.stuckSinceMs(), null, 'the hung call returned');
  assert.equal((await viaNvml.collect(ctx())).backend, 'nvml');
});
