import type { Logger } from 'pino';
import type { GpuConfig } from '../config/types.js';
import { NvmlError, nvmlTimeoutMs, preferNvml, type NvmlBackend } from './nvml-backend.js';
import { queryComputeApps, type ComputeApp } from './query-compute-apps.js';

/**
 * The compute processes through NVML (nvmlDeviceGetComputeRunningProcesses_v3) when the backend is in use, else
 * nvidia-smi --query-compute-apps. A list NVML wrote in another struct layout than its driver version says is
 * detected in the worker (nvml-process-layout.ts) and read with nvidia-smi instead.
 */
export async function queryComputeAppsPreferNvml(
  cfg: Pick<GpuConfig, 'nvidia_smi' | 'timeout_ms'>,
  backend: NvmlBackend | undefined,
  opts: { readonly signal: AbortSignal; readonly log: Logger },
): Promise<ComputeApp[]> {
  const { value } = await preferNvml(
    backend,
    opts.log,
    async (client) => {
      const p = await client.processes(nvmlTimeoutMs(backend!, cfg.timeout_ms));
      if (p.layoutError !== undefined) throw new NvmlError('process_layout', p.layoutError);
      return p.apps;
    },
    () => queryComputeApps(cfg, { signal: opts.signal }),
  );
  return value;
}
