import { join } from 'node:path';
import { pino } from 'pino';
import type { ActionDeps } from '../../remediator/actions/action.js';
import { remediatorSection, type RemediatorConfig } from '../../remediator/remediator-section.js';
import { actionTimeouts } from '../../remediator/wiring/build-action-deps.js';
import { loadConfig } from '../../shared/config/load-config.js';
import type { GpuConfig } from '../../shared/config/types.js';
import { createDockerClient } from '../../shared/docker/create-docker-client.js';
import { queryComputeApps } from '../../shared/gpu/query-compute-apps.js';
import { OllamaClient } from '../../shared/ollama/ollama-client.js';
import type { TestEnv } from './read-test-env.js';

/** The real defaults (docker.timeout and the remediator section's *_timeout settings). */
const defaults = loadConfig({
  file: 'defaults.yaml',
  readFile: () => '',
  flags: new Map(),
  env: {},
  sections: [remediatorSection],
});
const DEFAULT_TIMEOUTS = actionTimeouts(defaults, defaults.remediator as RemediatorConfig);

/**
 * ActionDeps wired to the real test environment: its private Docker Engine, the real /proc, the docker CLI with the
 * environment's DOCKER_CONFIG, and the fake nvidia-smi reading `gpuStateFile` (the only fake: there is no GPU here).
 */
export function integrationDeps(env: TestEnv, gpuStateFile: string, over: Partial<ActionDeps> = {}): ActionDeps {
  const smi = join(env.repo, 'test', 'sim', 'bin', 'nvidia-smi');
  const gpu: GpuConfig = {
    nvidia_smi: `env SENTINEL_FAKE_GPU_STATE=${gpuStateFile} ${smi}`,
    interval_ms: 15_000,
    timeout_ms: 15_000,
    processes: true,
    max_processes_per_gpu: 32,
    proc_root: '/proc',
  };
  return {
    docker: createDockerClient({ host: env.dockerHost, timeout_ms: 60_000 }),
    log: pino({ level: 'silent' }),
    gpu,
    procRoot: '/proc',
    self: { pid: process.pid, containerId: null },
    now: () => Date.now(),
    ollama: (target) => new OllamaClient(target, { timeoutMs: 10_000 }),
    queryComputeApps: (signal) => queryComputeApps(gpu, { signal }),
    timeouts: { ...DEFAULT_TIMEOUTS, containerReadyMs: 60_000, convergeMs: 90_000, stackCommandMs: 90_000 },
    killGraceMs: 1_000,
    dockerHost: env.dockerHost,
    dockerCliEnv: { DOCKER_CONFIG: env.dockerConfig },
    stopTimeoutS: 3,
    ...over,
  };
}
