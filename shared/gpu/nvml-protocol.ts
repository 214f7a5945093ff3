import type { ComputeApp } from './parse-compute-apps.js';
import type { GpuReading } from './to-gpu-readings.js';

/** Messages between NvmlClient and the NVML worker thread: plain data, one request in flight at a time. */
export type NvmlRequest = { readonly id: number; readonly op: 'open' | 'sample' | 'processes' };

export type NvmlResponse =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  /** code: the nvmlReturn_t of the failing call (12 for a library that cannot be loaded; -1: not an NVML error). */
  | { readonly id: number; readonly ok: false; readonly code: number; readonly message: string };

export interface NvmlSample {
  readonly driverVersion: string;
  readonly gpus: readonly GpuReading[];
  /** Devices whose handle or identity could not be read, with the NVML code (15: GPU is lost). */
  readonly unreachable: readonly { readonly index: number; readonly code: number }[];
}

export interface ProcessUtilization {
  readonly gpuUuid: string;
  readonly pid: number;
  /** SM (kernel) activity of the process over the last sample period, 0-1. */
  readonly smRatio: number;
  readonly memoryRatio: number;
}

export interface NvmlProcesses {
  readonly apps: ComputeApp[];
  /** Processes with a sample since the last call; a process listed in apps without one was idle. */
  readonly utilization: ProcessUtilization[];
  /** GPUs where per-process utilization means nothing or is unavailable (MIG, vGPU guest, old driver). */
  readonly utilizationUnsupported: string[];
  /** nvmlProcessInfo_v3 bytes per entry chosen from the driver version. */
  readonly stride: number;
  /** Set when the list read with that stride is implausible: the caller must not use apps. */
  readonly layoutError?: string;
}
