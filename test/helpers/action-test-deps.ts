import type Dockerode from 'dockerode';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import type { ActionDeps } from '../../remediator/actions/action.js';
import { actionTimeouts } from '../../remediator/wiring/build-action-deps.js';
import { OllamaClient } from '../../shared/ollama/ollama-client.js';
import { loadRemediatorConfig } from './load-remediator-config.js';

/** The real defaults (docker.timeout and the remediator section's *_timeout settings). */
const { all, cfg } = loadRemediatorConfig('');
const DEFAULT_TIMEOUTS = actionTimeouts(all, cfg);

/** ActionDeps for unit tests: silent log, no real waits unless a test wants them. */
export function testDeps(docker: Dockerode, over: Partial<ActionDeps> = {}): ActionDeps {
  return {
    docker,
    log: pino({ level: 'silent' }),
    gpu: {
      nvidia_smi: 'nvidia-smi',
      interval_ms: 5000,
      timeout_ms: 5000,
      processes: true,
      max_processes_per_gpu: 16,
      proc_root: '/proc',
    },
    procRoot: '/proc',
    self: { pid: process.pid, containerId: null },
    now: () => Date.now(),
    ollama: (target) => new OllamaClient(target, { timeoutMs: 5000 }),
    queryComputeApps: async () => [],
    timeouts: { ...DEFAULT_TIMEOUTS, containerReadyMs: 5_000, convergeMs: 5_000, dockerMs: 5_000 },
    killGraceMs: 300,
    dockerHost: 'unix:///nonexistent/docker.sock',
    // Polls stay real but short: tests script state changes, they do not wait out production intervals.
    sleep: async (ms, signal) => {
      await delay(Math.min(ms, 5), undefined, signal ? { signal } : undefined);
    },
    ...over,
  };
}
