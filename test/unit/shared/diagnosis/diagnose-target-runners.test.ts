import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnoseTarget, RUNNER_BUSY_LIMIT_MS } from '../../../../shared/diagnosis/diagnose-target.js';
import type {
  LoadedModelObservation,
  ProbeObservation,
  RunnerObservation,
  TargetObservation,
} from '../../../../shared/diagnosis/target-observation.js';

const GiB = 1024 ** 3;
const NOW = 1_800_000_000_000;
const PROFILES = { '0.12': '0.12.6', '0.33': '0.33.0' } as const;

const model = (m: Partial<LoadedModelObservation> = {}): LoadedModelObservation => ({
  model: 'gpt-oss:20b',
  sizeBytes: 14 * GiB,
  vramBytes: 14 * GiB,
  stopping: false,
  expiresInSeconds: 240,
  runnerPid: 100,
  ...m,
});
const runner = (r: Partial<RunnerObservation> = {}): RunnerObservation => ({
  pid: 100,
  modelBlob: 'sha256-aa',
  slots: 1,
  vramBytes: 14 * GiB,
  progress: 'flat',
  flatForMs: 60_000,
  startedAtMs: NOW - 3600_000,
  ...r,
});
const probe = (p: Partial<ProbeObservation>): ProbeObservation => ({
  model: 'gpt-oss:20b',
  result: 'ok',
  consecutiveFailures: 0,
  ...p,
});
const obs = (version: string, o: Partial<TargetObservation> = {}): TargetObservation => ({
  target: 'main',
  observedAtMs: NOW,
  version,
  apiUp: true,
  psOk: true,
  psFailure: null,
  loaded: [model()],
  configured: [
    { model: 'gpt-oss:20b', present: true, minVramRatio: 0.9, keepWarm: true, cpuByDesign: false, loadSeconds: null },
  ],
  probes: [probe({})],
  gpuMemoryBytes: 14 * GiB,
  orphanRunners: [],
  runners: [runner()],
  discoveryPids: [],
  loadStallLimitSeconds: 300,
  gpus: [{ uuid: 'GPU-1', lost: false, eccUncorrectedVolatile: 0, memoryUsedBytes: 14 * GiB }],
  gpuCollectorError: null,
  containerGpuAccess: true,
  ...o,
});
const actions = (o: TargetObservation, ctx?: Parameters<typeof diagnoseTarget>[1]): string[] =>
  diagnoseTarget(o, ctx).findings.map((f) => `${f.condition}:${f.action}`);

test('0.12: a model listed with its planned VRAM while its runner fills the GPU is loading, never a mismatch', () => {
  const loading = obs(PROFILES['0.12'], {
    runners: [runner({ vramBytes: 2 * GiB, progress: 'progressing', flatForMs: 0, startedAtMs: NOW - 40_000 })],
    gpuMemoryBytes: 2 * GiB,
    probes: [probe({ result: 'pending', consecutiveFailures: 0 })],
  });
  // Even sampled together, and with a previous sample that saw the same gap.
  const first = diagnoseTarget(loading);
  assert.deepEqual(actions(loading, { sampledTogether: true, previous: first }), ['model_loading:wait']);
  assert.match(first.findings[0]!.detail, /loading for 40 s.*progressing/);
});

test('0.12: a runner that only burns CPU (generating) while /api/ps claims VRAM it does not hold is a mismatch, not a load', () => {
  // The /api/ps lie: the probe keeps the runner busy (CPU time rises) but nothing is mapped, read or allocated.
  const lie = obs(PROFILES['0.12'], {
    runners: [runner({ vramBytes: 0, progress: 'progressing', flatForMs: 0, memoryGrowing: false })],
    gpuMemoryBytes: 0,
  });
  const first = diagnoseTarget(lie);
  assert.deepEqual(
    first.unconfirmed?.map((f) => f.condition),
    ['vram_mismatch'],
  );
  assert.equal(diagnoseTarget(lie, { previous: first }).status, 'vram_mismatch');
  // The same gap while memory grows is a load.
  const load = {
    ...lie,
    runners: [runner({ vramBytes: 0, progress: 'progressing', flatForMs: 0, memoryGrowing: true })],
  };
  assert.equal(diagnoseTarget(load, { previous: first }).status, 'model_loading');
});

test('0.12: a runner whose model answered the probe since it started is loaded: a flat VRAM gap is a mismatch', () => {
  const start = NOW - 60_000;
  const lie = (lastSuccessMs: number) =>
    obs(PROFILES['0.12'], {
      runners: [runner({ vramBytes: 0, progress: 'flat', flatForMs: 30_000, startedAtMs: start })],
      gpuMemoryBytes: 0,
      probes: [probe({ lastSuccessMs })],
    });
  const loadingBefore = diagnoseTarget(
    obs(PROFILES['0.12'], {
      runners: [
        runner({ vramBytes: 0, progress: 'progressing', flatForMs: 0, memoryGrowing: true, startedAtMs: start }),
      ],
      gpuMemoryBytes: 0,
    }),
  );
  assert.equal(loadingBefore.status, 'model_loading');
  // Answered before this runner started: still the load's pause.
  assert.equal(diagnoseTarget(lie(start - 5_000), { previous: loadingBefore }).status, 'model_loading');
  // Answered within the start time's jitter of it (derived from /proc/uptime each run: seconds off on a loaded host;
  // seen on the 0.12 normal day, an answer 5 s after a reload's dated start was the old runner's): not proof either.
  assert.equal(diagnoseTarget(lie(start + 4_000), { previous: loadingBefore }).status, 'model_loading');
  // Answered by this runner: loaded; the gap is the lie.
  const d = diagnoseTarget(lie(start + 20_000), { previous: loadingBefore, sampledTogether: true });
  assert.equal(d.status, 'vram_mismatch');
});

for (const [profile, version] of Object.entries(PROFILES)) {
  test(`${profile}: runners seen holding their VRAM outweigh a target total sampled at another moment; a short one still counts`, () => {
    // CI, 0.12: a reload between the runners sample (old runner, full VRAM) and the GPU sample (old runner gone, 0).
    const skewed = obs(version, { gpuMemoryBytes: 0 });
    const first = diagnoseTarget(skewed);
    assert.deepEqual(first.unconfirmed ?? [], []);
    assert.equal(diagnoseTarget(skewed, { previous: first, sampledTogether: true }).status, 'healthy');
    // Two models: one runner holds its VRAM, the other holds none (the GPU total shows only the first): a mismatch.
    const two = obs(version, {
      loaded: [model(), model({ model: 'llama3:latest', sizeBytes: 5 * GiB, vramBytes: 5 * GiB, runnerPid: 101 })],
      configured: [
        ...obs(version).configured,
        {
          model: 'llama3:latest',
          present: true,
          minVramRatio: 0.9,
          keepWarm: false,
          cpuByDesign: false,
          loadSeconds: null,
        },
      ],
      runners: [runner(), runner({ pid: 101, modelBlob: 'sha256-bb', vramBytes: 0 })],
      gpuMemoryBytes: 14 * GiB,
    });
    const d = diagnoseTarget(two, { sampledTogether: true });
    assert.equal(d.status, 'vram_mismatch');
    assert.match(
      d.findings.find((f) => f.condition === 'vram_mismatch')!.detail,
      new RegExp(`claims ${5 * GiB} bytes in VRAM beyond the ${14 * GiB} its runners were seen holding`),
    );
  });
}

test('0.12: a load that stops progressing is still loading until the stall limit, then load_stalled', () => {
  const v = PROFILES['0.12'];
  const during = obs(v, {
    runners: [runner({ vramBytes: 2 * GiB, progress: 'progressing', flatForMs: 0, startedAtMs: NOW - 400_000 })],
    gpuMemoryBytes: 2 * GiB,
  });
  const previous = diagnoseTarget(during);
  const flat = (flatForMs: number): TargetObservation => ({
    ...during,
    runners: [runner({ vramBytes: 2 * GiB, progress: 'flat', flatForMs, startedAtMs: NOW - 400_000 })],
  });
  const d = diagnoseTarget(flat(60_000), { previous });
  assert.equal(d.status, 'model_loading');
  assert.match(d.findings[0]!.detail, /no progress for 60 s \(stalled at 300 s\)/);
  assert.deepEqual(actions(flat(300_000), { previous: d }), ['load_stalled:restart']);
  // And it stays a stall on every later diagnosis: never a CPU fallback (vram_mismatch) for the flat runner that holds
  // less than /api/ps plans (seen on the test fleet: the node was restarted as a CPU fallback 4 s after the stall).
  let last = diagnoseTarget(flat(300_000), { previous: d });
  for (const ms of [305_000, 310_000, 320_000]) {
    last = diagnoseTarget(flat(ms), { previous: last, sampledTogether: true });
    assert.deepEqual(
      last.findings.map((f) => `${f.condition}:${f.action}`),
      ['load_stalled:restart'],
      `flat for ${ms} ms`,
    );
  }
});

test('0.12: a load flat from the first sample its runner was seen in is a load while Ollama has set no expiry, then a stall; a set expiry is a mismatch', () => {
  // Seen on the test fleet: the stall began before the runners collector's first sample of the new runner, so it was
  // never seen progressing; the gap between /api/ps's planned VRAM and the runner's 0 was read as a CPU fallback, and
  // the node restarted as one. Ollama's own state tells them apart: a load in progress has no expiry yet.
  const v = PROFILES['0.12'];
  const stalled = (flatForMs: number, expiryUnset: boolean | null): TargetObservation =>
    obs(v, {
      loaded: [model({ expiryUnset, expiresInSeconds: 300 })],
      runners: [runner({ vramBytes: 0, progress: 'flat', flatForMs, startedAtMs: NOW - flatForMs - 2_000 })],
      gpuMemoryBytes: 0,
      probes: [probe({ result: 'pending', lastSuccessMs: NOW - 3600_000 })],
    });
  let d = diagnoseTarget(stalled(2_000, true));
  assert.equal(d.status, 'model_loading');
  for (const ms of [4_000, 10_000]) {
    d = diagnoseTarget(stalled(ms, true), { previous: d, sampledTogether: true });
    assert.equal(d.status, 'model_loading', `flat for ${ms} ms`);
  }
  assert.equal(diagnoseTarget(stalled(300_000, true), { previous: d, sampledTogether: true }).status, 'load_stalled');
  // The same runner with Ollama's expiry set (its load finished, a request ended on it): the gap is a mismatch.
  const first = diagnoseTarget(stalled(2_000, false));
  assert.deepEqual(
    first.unconfirmed?.map((f) => f.condition),
    ['vram_mismatch'],
  );
  assert.equal(diagnoseTarget(stalled(4_000, false), { previous: first }).status, 'vram_mismatch');
  // Unknown (first /api/ps read): as before, not evidence of a load.
  assert.deepEqual(
    diagnoseTarget(stalled(2_000, null)).unconfirmed?.map((f) => f.condition),
    ['vram_mismatch'],
  );
});

test('0.33: /api/ps timing out while HEAD answers is a cold load, never an API fault; flat runners past the limit are a stall', () => {
  const v = PROFILES['0.33'];
  const blocked = obs(v, {
    psOk: false,
    psFailure: 'timeout',
    loaded: [],
    runners: [runner({ progress: 'progressing', flatForMs: 0, vramBytes: 1 * GiB })],
    gpuMemoryBytes: 1 * GiB,
    probes: [probe({ result: 'loading', consecutiveFailures: 2 })],
  });
  assert.deepEqual(actions(blocked), ['model_loading:wait']);
  assert.deepEqual(actions({ ...blocked, runners: null }), ['model_loading:wait']);
  assert.deepEqual(actions({ ...blocked, runners: [runner({ progress: 'flat', flatForMs: 301_000 })] }), [
    'load_stalled:restart',
    'probe_failing:reload',
  ]);
  // The same timeout from a 0.12 server is not "loading" (0.12 lists loading models): the probes decide.
  assert.deepEqual(actions({ ...blocked, version: PROFILES['0.12'] }), ['probe_failing:reload']);
});

for (const [profile, version] of Object.entries(PROFILES)) {
  test(`${profile}: a listed model without its runner process is runner_crashed (reload), not vram_mismatch`, () => {
    const crashed = obs(version, { runners: [], gpuMemoryBytes: 0 });
    const first = diagnoseTarget(crashed);
    assert.equal(first.status, 'healthy', 'seen once: unconfirmed');
    assert.deepEqual(
      first.unconfirmed?.map((f) => f.condition),
      ['runner_crashed'],
    );
    assert.deepEqual(actions(crashed, { previous: first }), ['runner_crashed:reload']);
    assert.deepEqual(actions(crashed, { sampledTogether: true }), ['runner_crashed:reload']);
    // A runner PID that is gone while another model's runner lives.
    const other = obs(version, {
      loaded: [model(), model({ model: 'llama3:latest', runnerPid: 200 })],
      configured: [],
      runners: [runner({ pid: 200 })],
    });
    assert.deepEqual(
      actions(other, { sampledTogether: true }).filter((a) => a.startsWith('runner')),
      ['runner_crashed:reload'],
    );
    // Runners not visible: nothing can be said about the process.
    assert.equal(diagnoseTarget(obs(version, { runners: null }), { sampledTogether: true }).status, 'healthy');
    // Blob not matched but an unclaimed runner exists: it may be this model's.
    assert.equal(
      diagnoseTarget(obs(version, { loaded: [model({ runnerPid: null })] }), { sampledTogether: true }).status,
      'healthy',
    );
  });

  test(`${profile}: probes waiting behind a busy runner are runner_busy; flat while waiting is probe_hung`, () => {
    const o = (p: Partial<ProbeObservation>): TargetObservation => obs(version, { probes: [probe(p)] });
    assert.deepEqual(actions(o({ result: 'timeout', consecutiveFailures: 3, runnerBusyDuringWait: true })), [
      'runner_busy:none',
    ]);
    assert.deepEqual(actions(o({ result: 'pending', consecutiveFailures: 0, runnerBusyDuringWait: true })), [
      'runner_busy:none',
    ]);
    assert.deepEqual(actions(o({ result: 'skipped', consecutiveFailures: 0, busySinceMs: NOW - 30_000 })), [
      'runner_busy:none',
    ]);
    assert.deepEqual(actions(o({ result: 'timeout', consecutiveFailures: 2, runnerBusyDuringWait: false })), [
      'probe_hung:reload',
    ]);
    // Not visible: the old two-timeouts rule.
    assert.deepEqual(actions(o({ result: 'timeout', consecutiveFailures: 2, runnerBusyDuringWait: null })), [
      'probe_hung:reload',
    ]);
    // Busy past the bounded wait: humans, never an action.
    const long = diagnoseTarget(
      o({ result: 'skipped', consecutiveFailures: 0, busySinceMs: NOW - RUNNER_BUSY_LIMIT_MS - 1000 }),
    );
    assert.deepEqual(
      long.findings.map((f) => `${f.condition}:${f.action}`),
      ['runner_busy_too_long:escalate'],
    );
    assert.match(long.findings[0]!.detail, /no probe has got through for 601 s \(bounded wait 600 s\)/);
  });

  test(`${profile}: past expires_at while busy is normal; Stopping with an idle runner past the grace is stuck`, () => {
    const stopping = (overdue: number, r: Partial<RunnerObservation>): TargetObservation =>
      obs(version, { loaded: [model({ stopping: true, expiresInSeconds: -overdue })], runners: [runner(r)] });
    assert.deepEqual(actions(stopping(600, { progress: 'progressing', flatForMs: 0 })), []);
    assert.deepEqual(actions(stopping(10, { progress: 'flat', flatForMs: 10_000 })), []);
    const stuck = diagnoseTarget(stopping(45, { progress: 'flat', flatForMs: 40_000 }));
    assert.deepEqual(
      stuck.findings.map((f) => `${f.condition}:${f.action}`),
      ['model_stopping:reload'],
    );
    assert.match(stuck.findings[0]!.detail, /"Stopping" for 45 s .*idle for 40 s/);
  });

  test(`${profile}: a model configured for the CPU is healthy with nothing in VRAM`, () => {
    const cpu = obs(version, {
      loaded: [model({ vramBytes: 0 })],
      configured: [
        { model: 'gpt-oss:20b', present: true, minVramRatio: 0, keepWarm: true, cpuByDesign: true, loadSeconds: 12 },
      ],
      runners: [runner({ vramBytes: 0 })],
      gpuMemoryBytes: 0,
    });
    assert.deepEqual(actions(cpu, { sampledTogether: true }), []);
  });
}

test('every out-of-memory text escalates on its first failure (llm/status.go, llm/server.go, ml/device.go)', () => {
  const texts = [
    'llama runner process has terminated: CUDA error: out of memory',
    'vk::Device::allocateMemory: ErrorOutOfMemory',
    'error: out of device memory',
    'cudaMalloc failed: out of memory',
    'hipMalloc failed: out of memory',
    'failed to allocate memory for model',
    'ggml allocation failed',
    'not enough memory to load the model',
    'insufficient memory - required allocations: {...}',
    'VK_ERROR_OUT_OF_DEVICE_MEMORY',
    'unable to load full model on GPU',
    'model requires more system memory (12.0 GiB) than is available (8.0 GiB)',
  ];
  for (const message of texts)
    assert.deepEqual(
      actions(obs('0.33.0', { probes: [probe({ result: 'error', consecutiveFailures: 1, message })] })),
      ['out_of_memory:escalate'],
      message,
    );
  assert.deepEqual(
    actions(obs('0.33.0', { probes: [probe({ result: 'error', consecutiveFailures: 1, message: 'boom' })] })),
    ['unknown:wait'],
  );
});
