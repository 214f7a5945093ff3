import type { TargetObservation } from '../../shared/diagnosis/target-observation.js';

/** A healthy observation of target `main` with llama3 loaded fully in VRAM; tests override what is broken. */
export function observation(over: Partial<TargetObservation> = {}): TargetObservation {
  return {
    target: 'main',
    apiUp: true,
    psOk: true,
    loaded: [{ model: 'llama3:latest', sizeBytes: 8e9, vramBytes: 8e9, stopping: false }],
    configured: [{ model: 'llama3:latest', present: true, minVramRatio: 1, keepWarm: true }],
    probes: [{ model: 'llama3:latest', result: 'ok', consecutiveFailures: 0 }],
    gpuMemoryBytes: 8.5e9,
    orphanRunners: [],
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
      configured: [{ model: 'llama3:latest', present: false, minVramRatio: 1, keepWarm: true }],
      probes: [{ model: 'llama3:latest', result: 'not_found', consecutiveFailures: 1 }],
    }),
  partial: () => observation({ loaded: [{ model: 'llama3:latest', sizeBytes: 8e9, vramBytes: 4e9, stopping: false }] }),
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
  onCpu: () => observation({ loaded: [{ model: 'llama3:latest', sizeBytes: 8e9, vramBytes: 0, stopping: false }] }),
  unknown: () => observation({ apiUp: null, psOk: null, probes: [], loaded: [] }),
};
