import type { Logger } from 'pino';
import type { GpuConfig } from '../config/types.js';
import { NvmlClient, NvmlError } from './nvml-client.js';

/** Which way the GPU was read, for the `backend` label of sentinel_gpu_backend_info. */
export type ActiveGpuBackend = 'nvml' | 'nvidia_smi';

/**
 * The NVML side of gpu.backend, shared by the GPU and GPU-processes collectors (one worker thread, one call at a
 * time for both). `forced` (backend: nvml) turns every NVML failure into a collection error; under auto a library
 * that cannot be loaded means nvidia-smi from then on, and a hung call means nvidia-smi until it returns.
 */
export interface NvmlBackend {
  readonly client: NvmlClient;
  readonly forced: boolean;
  /** Set once the library failed to load under auto: NVML is not tried again. */
  disabled: boolean;
}

/** Undefined for backend nvidia_smi (and for hand-built configs without a backend). */
export function createNvmlBackend(cfg: GpuConfig): NvmlBackend | undefined {
  const backend = cfg.backend ?? 'nvidia_smi';
  if (backend === 'nvidia_smi') return undefined;
  return {
    client: new NvmlClient(cfg.nvml_library ?? 'libnvidia-ml.so.1'),
    forced: backend === 'nvml',
    disabled: false,
  };
}

/**
 * The share of the collector's timeout an NVML request may take: all of it when NVML is forced, half under auto so
 * that the nvidia-smi fallback still fits in the same run when a call hangs.
 */
export function nvmlTimeoutMs(backend: NvmlBackend, timeoutMs: number): number {
  return backend.forced ? timeoutMs : Math.max(50, Math.floor(timeoutMs / 2));
}

/**
 * Runs `viaNvml` when NVML is in use, else (or when NVML cannot answer under auto) `viaNvidiaSmi`. Real answers
 * from the driver (GPU lost, no permission, driver not loaded...) are errors under both backends, never a reason
 * to ask nvidia-smi, which reads the same driver.
 */
export async function preferNvml<T>(
  backend: NvmlBackend | undefined,
  log: Logger,
  viaNvml: (client: NvmlClient) => Promise<T>,
  viaNvidiaSmi: () => Promise<T>,
): Promise<{ value: T; backend: ActiveGpuBackend }> {
  if (backend === undefined || backend.disabled) return { value: await viaNvidiaSmi(), backend: 'nvidia_smi' };
  try {
    return { value: await viaNvml(backend.client), backend: 'nvml' };
  } catch (err) {
    if (!(err instanceof NvmlError)) throw err;
    if (err.reason === 'process_layout') {
      // A process list read with the wrong stride is garbage, not an answer: nvidia-smi knows its own layout.
      log.warn({ err: err.message }, 'NVML process entries implausible (struct layout): listing with nvidia-smi');
      return { value: await viaNvidiaSmi(), backend: 'nvidia_smi' };
    }
    if (backend.forced) throw err;
    if (err.reason === 'nvml_library_missing') {
      backend.disabled = true;
      log.info({ library: backend.client.library, err: err.message }, 'NVML library not loadable: using nvidia-smi');
    } else if (err.reason === 'timeout' || err.reason === 'nvml_stuck') {
      log.warn({ err: err.message }, 'NVML call hung: reading this time with nvidia-smi');
    } else {
      throw err;
    }
    return { value: await viaNvidiaSmi(), backend: 'nvidia_smi' };
  }
}

export { NvmlError };
