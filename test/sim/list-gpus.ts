import type { GpuConfig } from '../../shared/config/types.js';
import { parseDeviceError, type DeviceError } from '../../shared/gpu/parse-device-error.js';
import { nvidiaSmiFailure, runNvidiaSmi, type RunNvidiaSmi } from '../../shared/gpu/run-nvidia-smi.js';

export interface ListedGpu {
  readonly index: number;
  readonly name: string;
  readonly uuid: string;
  /** MIG device UUIDs listed under this GPU (`MIG-...`), empty when MIG is off. */
  readonly migUuids: readonly string[];
}

export interface GpuList {
  readonly gpus: readonly ListedGpu[];
  /** GPUs nvidia-smi could not open ("Unable to determine the device handle ..."). */
  readonly unreachable: readonly DeviceError[];
}

const GPU_LINE = /^GPU (\d+): (.*) \(UUID: (GPU-[^)\s]+)\)$/;
const MIG_LINE = /^MIG .*\(UUID: (MIG-[^)\s]+)\)$/;

/** `nvidia-smi -L` output -> GPUs (index, name, uuid, MIG children) and the GPUs that did not answer. */
export function parseGpuList(stdout: string): GpuList {
  const gpus: { index: number; name: string; uuid: string; migUuids: string[] }[] = [];
  const unreachable: DeviceError[] = [];
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const gpu = GPU_LINE.exec(line);
    if (gpu) {
      gpus.push({ index: Number(gpu[1]), name: gpu[2]!, uuid: gpu[3]!, migUuids: [] });
      continue;
    }
    const mig = MIG_LINE.exec(line);
    if (mig && gpus.length > 0) {
      gpus[gpus.length - 1]!.migUuids.push(mig[1]!);
      continue;
    }
    const err = parseDeviceError(line);
    if (err) unreachable.push(err);
  }
  return { gpus, unreachable };
}

/**
 * `nvidia-smi -L`, read the way a diagnosis would: tests use it to check what the fake nvidia-smi lists (the exporter
 * itself reads GPUs through --query-gpu). A lost GPU makes nvidia-smi exit non-zero while still listing the others: that
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
