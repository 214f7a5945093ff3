import type { TargetObservation } from '../../shared/diagnosis/target-observation.js';

/** A healthy observation of target `main` with llama3 loaded fully in VRAM; tests override what is broken. */
export function observation(over: Partial<TargetObservation> = {}): TargetObservation {
  return {
    target: 'main',
    observedAtMs: null,
    version: '0.12.6',
    apiUp: true,
    psOk: true,
    psFailure: null,
    loaded: [
      {
        model: 'llama3:latest',
        sizeBytes: 8e9,
        vramBytes: 8e9,
        stopping: false,
        expiresInSeconds: 240,
        runnerPid: null,
      },
    ],
    configured: [
      { model: 'llama3:latest', present: true, minVramRatio: 1, keepWarm: true, cpuByDesign: false, loadSeconds: null },
    ],
    probes: [{ model: 'llama3:latest', result: 'ok', consecutiveFailures: 0 }],
    gpuMemoryBytes: 8.5e9,
    orphanRunners: [],
    runners: null,
    discoveryPids: null,
    loadStallLimitSeconds: 300,
    gpus: [{ uuid: 'GPU-1', lost: false, eccUncorrectedVolatile: 0, memoryUsedBytes: 9e9 }],
    gpuCollectorError: null,
    containerGpuAccess: true,
    ...over,
  };
}

export const CONDITIONS_OBS = {
  gpuAccessLost: () => observation({ containerGpuAccess: false }),
  hung: () => observation({ probes: [{ model: 'llama3:latest', result: 'timeout', consecutiveFailures: 3 }] }),
  orphans: () => observation({ orphanRunners: [{ pid: 4242, memoryBytes: 2e9 }] }),
  missing: () =>
    observation({
      loaded: [],
      configured: [
        {
          model: 'llama3:latest',
          present: false,
          minVramRatio: 1,
          keepWarm: true,
          cpuByDesign: false,
          loadSeconds: null,
        },
      ],
      probes: [{ model: 'llama3:latest', result: 'not_found', consecutiveFailures: 1 }],
    }),
  partial: () =>
    observation({
      loaded: [
        {
          model: 'llama3:latest',
          sizeBytes: 8e9,
          vramBytes: 4e9,
          stopping: false,
          expiresInSeconds: 240,
          runnerPid: null,
        },
      ],
    }),
  oom: () =>
    observation({
      probes: [
        {
          model: 'llama3:latest',
          result: 'error',
          consecutiveFailures: 2,
          message: 'llama runner process has terminated: CUDA error: out of memory',
        },
      ],
    }),
  busy: () => observation({ probes: [{ model: 'llama3:latest', result: 'busy', consecutiveFailures: 1 }] }),
  gpuLost: () =>
    observation({ gpus: [{ uuid: 'GPU-1', lost: true, eccUncorrectedVolatile: null, memoryUsedBytes: null }] }),
  ecc: () => observation({ gpus: [{ uuid: 'GPU-1', lost: false, eccUncorrectedVolatile: 3, memoryUsedBytes: 1e9 }] }),
  onCpu: () =>
    observation({
      loaded: [
        {
          model: 'llama3:latest',
          sizeBytes: 8e9,
          vramBytes: 0,
          stopping: false,
          expiresInSeconds: 240,
          runnerPid: null,
        },
      ],
    }),
  unknown: () => observation({ apiUp: null, psOk: null, probes: [], loaded: [] }),
};
