/**
 * warm_up, reload and verifyRecovery against the Ollama simulator on 127.0.0.1: real runner child processes whose
 * host PIDs the simulator writes into the fake GPU state, read back through the fake nvidia-smi and /proc. Its faults
 * reproduce what the verification exists for: a /api/ps that lies about VRAM, a CPU fallback, a hung generate.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ActionRequest } from '../../../../remediator/actions/action.js';
import { runAction } from '../../../../remediator/actions/run-action.js';
import { hasHostPidView } from '../../../../remediator/actions/has-host-pid-view.js';
import { verifyRecovery } from '../../../../remediator/verify/verify-recovery.js';
import type { GpuConfig, ModelConfig, OllamaTargetConfig } from '../../../../shared/config/types.js';
import { queryComputeApps } from '../../../../shared/gpu/query-compute-apps.js';
import { defaultH100State, writeGpuState } from '../../../sim/gpu-state.js';
import { startOllamaSim, type OllamaSim } from '../../../sim/ollama-sim.js';
import { startFakeDockerEngine, type FakeDockerEngine } from '../../../helpers/fake-docker-engine.js';
import { testDeps } from '../../../helpers/action-test-deps.js';

const model: ModelConfig = {
  name: 'qwen2.5:0.5b',
  keep_alive: -1,
  keep_warm: true,
  min_vram_ratio: 0.9,
  options: { num_ctx: 2048 },
  targets: [],
};
// dist/test/unit/remediator/verify -> the repo's test/sim/bin/nvidia-smi
const smi = fileURLToPath(new URL('../../../../../test/sim/bin/nvidia-smi', import.meta.url));

describe('recovery verification against the Ollama simulator', () => {
  let dir: string;
  let sim: OllamaSim;
  let engine: FakeDockerEngine;
  let target: OllamaTargetConfig;
  let deps: ReturnType<typeof testDeps>;
  let hostView: boolean;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentinel-verify-sim-'));
    const stateFile = join(dir, 'gpu.state');
    writeGpuState(stateFile, defaultH100State());
    sim = await startOllamaSim({ gpuStateFile: stateFile, models: [model.name] });
    engine = await startFakeDockerEngine(() => undefined);
    target = { name: 'sim', url: sim.url, headers: {} };
    const gpu: GpuConfig = {
      nvidia_smi: `env SENTINEL_FAKE_GPU_STATE=${stateFile} ${smi}`,
      interval_ms: 5000,
      timeout_ms: 15_000,
      processes: true,
      max_processes_per_gpu: 8,
      proc_root: '/proc',
    };
    deps = testDeps(engine.docker, { gpu, queryComputeApps: (signal) => queryComputeApps(gpu, { signal }) });
    hostView = (await hasHostPidView('/proc')).ok;
  });

  after(async () => {
    await sim?.close();
    await engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const request = (action: ActionRequest['action']): ActionRequest => ({
    action,
    target,
    model,
    dryRun: false,
    signal: AbortSignal.timeout(30_000),
    incidentId: 'sim',
  });
  const verify = (firstTokenTimeoutMs = 5_000) =>
    verifyRecovery(target, model, deps, {
      signal: AbortSignal.timeout(30_000),
      loadTimeoutMs: 10_000,
      firstTokenTimeoutMs,
    });

  it('after warm_up: healthy, decided by the memory the runner really holds', async () => {
    const warm = await runAction(request('warm_up'), deps);
    assert.equal(warm.outcome, 'done', warm.detail);
    const loads = (await sim.control.requests()).filter((r) => r.path === '/api/generate');
    assert.deepEqual(
      loads.map((r) => r.body),
      [{ model: model.name, keep_alive: -1, options: { num_ctx: 2048 }, stream: false }],
    );

    const v = await verify();
    assert.equal(v.healthy, true, v.detail);
    // The sim's runners are host processes: with the host PID view the GPU processes decide, else /api/ps (said so).
    assert.equal(v.evidence.vramSource, hostView ? 'gpu_processes' : 'api_ps');
    if (v.evidence.gpu.available) {
      const runnerPid = sim.snapshot().runners[0]!.pid;
      assert.deepEqual(
        v.evidence.gpu.processes.map((p) => [p.pid, p.role]),
        [[runnerPid, 'ollama_runner']],
      );
    }
  });

  it('/api/ps claims the VRAM but no runner holds it: unhealthy when the GPU data can show it', async () => {
    await sim.control.setPsLie(true);
    try {
      await runAction(request('reload'), deps);
      const v = await verify();
      if (hostView) {
        assert.equal(v.healthy, false, v.detail);
        assert.match(v.detail, /GPU not really used/);
      } else {
        assert.equal(v.evidence.vramSource, 'api_ps');
      }
    } finally {
      await sim.control.setPsLie(false);
    }
  });

  it('a reload that lands on the CPU is not a recovery', async () => {
    await sim.control.setCpuFallback(true);
    try {
      const reload = await runAction(request('reload'), deps);
      assert.equal(reload.outcome, 'done', reload.detail);
      const v = await verify();
      assert.equal(v.healthy, false);
      assert.match(v.detail, /running on the CPU/);
    } finally {
      await sim.control.setCpuFallback(false);
    }
    const fixed = await runAction(request('reload'), deps);
    assert.equal(fixed.outcome, 'done', fixed.detail);
    assert.equal((await verify()).healthy, true);
  });

  it('a hung generate fails the probe within its deadline', async () => {
    await sim.control.setHangGenerate('headers');
    try {
      const v = await verify(500);
      assert.equal(v.healthy, false);
      assert.equal(v.evidence.probe.ok, false);
      assert.match(v.detail, /first_token_timeout|no token/);
    } finally {
      await sim.control.setHangGenerate(false);
    }
  });
});
