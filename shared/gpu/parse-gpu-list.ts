import { parseDeviceError, type DeviceError } from './parse-device-error.js';

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
