import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnoseTarget } from '../../../../shared/diagnosis/diagnose-target.js';
import type { TargetObservation } from '../../../../shared/diagnosis/target-observation.js';

const GiB = 1024 ** 3;
const healthy: TargetObservation = {
  target: 'main',
  observedAtMs: null,
  version: '0.12.6',
  apiUp: true,
  psOk: true,
  psFailure: null,
  loaded: [
    {
      model: 'gpt-oss:20b',
      sizeBytes: 14 * GiB,
      vramBytes: 14 * GiB,
      stopping: false,
      expiresInSeconds: 240,
      runnerPid: null,
    },
  ],
  configured: [
    { model: 'gpt-oss:20b', present: true, minVramRatio: 0.9, keepWarm: true, cpuByDesign: false, loadSeconds: null },
  ],
  probes: [{ model: 'gpt-oss:20b', result: 'ok', consecutiveFailures: 0 }],
  gpuMemoryBytes: 13 * GiB,
  orphanRunners: [],
  runners: null,
  discoveryPids: null,
  loadStallLimitSeconds: 300,
  gpus: [{ uuid: 'GPU-1', lost: false, eccUncorrectedVolatile: 0, memoryUsedBytes: 13 * GiB }],
  gpuCollectorError: null,
  containerGpuAccess: true,
};
const d = (o: Partial<TargetObservation>) => diagnoseTarget({ ...healthy, ...o });
const actionsOf = (o: Partial<TargetObservation>) => d(o).findings.map((f) => `${f.condition}:${f.action}`);

test('a healthy target has no findings', () => {
  assert.deepEqual(d({}), { target: 'main', status: 'healthy', findings: [] });
});

test('silent CPU fallback: model with no VRAM, or /api/ps claiming VRAM the GPU does not show', () => {
  assert.deepEqual(
    actionsOf({
      loaded: [
        {
          model: 'gpt-oss:20b',
          sizeBytes: 14 * GiB,
          vramBytes: 0,
          stopping: false,
          expiresInSeconds: 240,
          runnerPid: null,
        },
      ],
    }),
    ['model_on_cpu:restart'],
  );
  // Two sources sampled apart: seen once it waits in `unconfirmed`; the next sample (or a joint one) confirms it.
  const once = d({ gpuMemoryBytes: 0 });
  assert.equal(once.status, 'healthy');
  assert.deepEqual(
    once.unconfirmed?.map((f) => f.condition),
    ['vram_mismatch'],
  );
  const lie = diagnoseTarget({ ...healthy, gpuMemoryBytes: 0 }, { previous: once });
  assert.equal(lie.status, 'vram_mismatch');
  assert.equal(lie.findings[0]!.action, 'restart');
  assert.equal(diagnoseTarget({ ...healthy, gpuMemoryBytes: 0 }, { sampledTogether: true }).status, 'vram_mismatch');
  // A mismatch that went away by the next sample was a load or unload between two samples.
  assert.equal(diagnoseTarget(healthy, { previous: once }).status, 'healthy');
});

test('GPU access lost inside the container restarts at once', () => {
  assert.equal(d({ containerGpuAccess: false }).status, 'gpu_access_lost');
});

test('a hang needs consecutive probe failures; one failure only waits', () => {
  assert.deepEqual(actionsOf({ probes: [{ model: 'gpt-oss:20b', result: 'timeout', consecutiveFailures: 1 }] }), [
    'unknown:wait',
  ]);
  assert.deepEqual(actionsOf({ probes: [{ model: 'gpt-oss:20b', result: 'timeout', consecutiveFailures: 3 }] }), [
    'probe_hung:reload',
  ]);
});

test("Ollama's own load timeout (OLLAMA_LOAD_TIMEOUT, no progress) twice in a row is a stalled load: a restart, not a reload", () => {
  const failing = (message: string, consecutiveFailures: number) =>
    actionsOf({
      loaded: [],
      probes: [{ model: 'gpt-oss:20b', result: 'error', message, consecutiveFailures }],
    });
  // The texts WaitUntilRunning returns in 0.12 (llm/server.go) and 0.30+ (llm/llama_server.go), after the HTTP 500.
  for (const text of [
    'timed out waiting for llama runner to start - progress 0.00 - ',
    'timed out waiting for llama-server to start - ',
  ]) {
    assert.deepEqual(failing(text, 1), ['unknown:wait'], 'once: the next load may go through');
    assert.deepEqual(failing(text, 2), ['load_stalled:restart'], text);
  }
  // Any other load failure keeps its reload.
  assert.deepEqual(failing('llama runner process has terminated: exit status 2', 2), ['probe_failing:reload']);
});

test('a pending probe proves nothing: it only waits, whatever streak the finished probes before it left', () => {
  for (const consecutiveFailures of [0, 1, 3]) {
    assert.deepEqual(
      actionsOf({ probes: [{ model: 'gpt-oss:20b', result: 'pending', consecutiveFailures }] }),
      ['unknown:wait'],
      `streak ${consecutiveFailures}`,
    );
  }
  assert.match(
    d({ probes: [{ model: 'gpt-oss:20b', result: 'pending', consecutiveFailures: 2 }] }).findings[0]!.detail,
    /first-token deadline.*not known yet/,
  );
});

test('escalation-only conditions never suggest a restart', () => {
  const cases: Partial<TargetObservation>[] = [
    {
      loaded: [
        {
          model: 'gpt-oss:20b',
          sizeBytes: 14 * GiB,
          vramBytes: 7 * GiB,
          stopping: false,
          expiresInSeconds: 240,
          runnerPid: null,
        },
      ],
      gpuMemoryBytes: 7 * GiB,
    },
    { probes: [{ model: 'gpt-oss:20b', result: 'busy', consecutiveFailures: 5 }] },
    {
      probes: [
        {
          model: 'gpt-oss:20b',
          result: 'error',
          consecutiveFailures: 2,
          message: 'llama runner process has terminated: CUDA error: out of memory',
        },
      ],
    },
    { gpus: [{ uuid: 'GPU-1', lost: true, eccUncorrectedVolatile: null, memoryUsedBytes: null }] },
    { gpus: [{ uuid: 'GPU-1', lost: false, eccUncorrectedVolatile: 3, memoryUsedBytes: 13 * GiB }] },
    { gpuCollectorError: 'version_mismatch' },
  ];
  const expected = ['partial_offload', 'server_busy', 'out_of_memory', 'gpu_fault', 'gpu_fault', 'gpu_fault'];
  cases.forEach((c, i) => {
    const r = d(c);
    assert.equal(r.status, expected[i], JSON.stringify(c));
    assert.ok(
      r.findings.every((f) => f.action === 'escalate'),
      `${expected[i]} must only escalate: ${JSON.stringify(r.findings)}`,
    );
  });
});

test('missing model, orphans and stuck Stopping map to pull, kill and reload', () => {
  assert.deepEqual(
    actionsOf({
      configured: [
        {
          model: 'gpt-oss:20b',
          present: false,
          minVramRatio: 0.9,
          keepWarm: true,
          cpuByDesign: false,
          loadSeconds: null,
        },
      ],
      loaded: [],
      probes: [{ model: 'gpt-oss:20b', result: 'not_found', consecutiveFailures: 1 }],
      gpuMemoryBytes: 0,
    }),
    ['model_missing:pull'],
  );
  assert.deepEqual(actionsOf({ orphanRunners: [{ pid: 4242, memoryBytes: 2 * GiB }] }), ['orphan_vram:kill_orphans']);
  assert.deepEqual(
    actionsOf({
      loaded: [
        {
          model: 'gpt-oss:20b',
          sizeBytes: 14 * GiB,
          vramBytes: 14 * GiB,
          stopping: true,
          expiresInSeconds: -601,
          runnerPid: null,
        },
      ],
    }),
    ['model_stopping:reload'],
  );
});

test('host GPU faults outrank everything the container could fix', () => {
  const r = d({
    apiUp: false,
    gpus: [{ uuid: 'GPU-1', lost: true, eccUncorrectedVolatile: null, memoryUsedBytes: null }],
  });
  assert.equal(r.status, 'gpu_fault');
  assert.ok(r.findings.some((f) => f.condition === 'api_down'));
});

test('unknown data is not mistaken for zero', () => {
  const r = d({ gpuMemoryBytes: null, orphanRunners: null, gpus: null, containerGpuAccess: null });
  assert.equal(r.status, 'healthy');
});
