import type { GpuConfig } from '../config/types.js';
import { nvidiaSmiFailure } from './nvidia-smi-failure.js';
import { parseGpuList, type GpuList } from './parse-gpu-list.js';
import { runNvidiaSmi, type RunNvidiaSmi } from './run-nvidia-smi.js';

export type { GpuList, ListedGpu } from './parse-gpu-list.js';

/**
 * `nvidia-smi -L`, for diagnosis. A lost GPU makes nvidia-smi exit non-zero while still listing the others: that
 * is returned as data (`unreachable`). Throws an NvidiaSmiError only when nothing at all could be listed.
 */
export async function listGpus(
  cfg: Pick<GpuConfig, 'nvidia_smi' | 'timeout_ms'>,
  opts: { readonly signal: AbortSignal; readonly run?: RunNvidiaSmi },
): Promise<GpuList> {
  const run = opts.run ?? runNvidiaSmi;
  const result = await run(cfg.nvidia_smi, ['-L'], { signal: opts.signal, timeoutMs: cfg.timeout_ms });
  const list = parseGpuList(result.stdout);
  if (result.exitCode !== 0 && list.gpus.length === 0 && list.unreachable.length === 0) {
    throw nvidiaSmiFailure(result, '-L');
  }
  return list;
}
