import type { GpuConfig } from '../config/types.js';
import { COMPUTE_APPS_FIELDS, parseComputeApps, type ComputeApp } from './parse-compute-apps.js';
import { nvidiaSmiFailure, runNvidiaSmi, type RunNvidiaSmi } from './run-nvidia-smi.js';

export type { ComputeApp } from './parse-compute-apps.js';

/**
 * The GPU compute processes (host PIDs) from `nvidia-smi --query-compute-apps`, memory in bytes. Throws an
 * NvidiaSmiError with a bounded reason when nvidia-smi fails; an empty array means no process.
 */
export async function queryComputeApps(
  cfg: Pick<GpuConfig, 'nvidia_smi' | 'timeout_ms'>,
  opts: { readonly signal: AbortSignal; readonly run?: RunNvidiaSmi },
): Promise<ComputeApp[]> {
  const run = opts.run ?? runNvidiaSmi;
  const arg = `--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`;
  const result = await run(cfg.nvidia_smi, [arg, '--format=csv,nounits'], {
    signal: opts.signal,
    timeoutMs: cfg.timeout_ms,
  });
  if (result.exitCode !== 0) throw nvidiaSmiFailure(result, arg);
  return parseComputeApps(result.stdout, COMPUTE_APPS_FIELDS);
}
