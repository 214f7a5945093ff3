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
      // No sample since the last call = idle (NVML's NOT_FOUND); unsupported GPUs (MIG, vGPU) get none at all.
      const sm = new Map(p.utilization.map((u) => [`${u.gpuUuid}/${u.pid}`, u.smRatio]));
      const unsupported = new Set(p.utilizationUnsupported);
      return p.apps.map((a) =>
        unsupported.has(a.gpuUuid) ? a : { ...a, smUtilizationRatio: sm.get(`${a.gpuUuid}/${a.pid}`) ?? 0 },
      );
    },
    () => queryComputeApps(cfg, { signal: opts.signal }),
  );
  return value;
}
