import type { OllamaTargetConfig } from '../../shared/config/types.js';
import type { ActionDeps } from './action.js';

/**
 * `nvidia-smi -L` inside the target's container via the Docker exec API: true = the GPU is visible, false = NVML
 * cannot initialise (GPU access lost), null = cannot tell. (Contract commit: implemented in a following commit.)
 */
export async function checkContainerGpuAccess(
  _target: OllamaTargetConfig,
  _deps: ActionDeps,
  _signal?: AbortSignal,
): Promise<boolean | null> {
  return null;
}
