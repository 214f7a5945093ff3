/**
 * The layout of what nvmlDeviceGetComputeRunningProcesses_v3 writes, which changed without a version bump:
 * nvmlProcessInfo_v2 {u32 pid; u64 usedGpuMemory; u32 gpuInstanceId; u32 computeInstanceId} (24 bytes) on R510-R530
 * and again from 535.98 on, but 32 bytes (u64 usedGpuCcProtectedMemory appended) on the first R535 releases
 * (535.43 to 535.86; seen in nvitop #79 and pynvml #48 with 535.54.03). Reading with the wrong stride shifts every
 * entry after the first, so the stride comes from the driver version and the result is checked for plausibility.
 */
export interface RawProcessInfo {
  readonly pid: number;
  /** Undefined when NVML says not available (NVML_VALUE_NOT_AVAILABLE, e.g. under MIG without permission). */
  readonly usedMemoryBytes: number | undefined;
  readonly gpuInstanceId: number;
  readonly computeInstanceId: number;
}

/** Bytes per entry the driver writes; the caller's buffer must hold MAX_PROCESS_STRIDE per entry whatever this says. */
export function processInfoStride(driverVersion: string): 24 | 32 {
  const m = /^(\d+)\.(\d+)/.exec(driverVersion.trim());
  if (!m) return 24;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major === 535 && minor >= 43 && minor < 98 ? 32 : 24;
}

export const MAX_PROCESS_STRIDE = 32;
const NOT_AVAILABLE = 0xffffffffffffffffn;
const NO_INSTANCE = 0xffffffff;
/** Linux PID_MAX_LIMIT on 64-bit. */
const PID_MAX = 4194304;

export function decodeProcessInfos(buf: Uint8Array, count: number, stride: number): RawProcessInfo[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: RawProcessInfo[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * stride;
    if (at + 24 > buf.byteLength) break;
    const mem = view.getBigUint64(at + 8, true);
    out.push({
      pid: view.getUint32(at, true),
      usedMemoryBytes: mem === NOT_AVAILABLE ? undefined : Number(mem),
      gpuInstanceId: view.getUint32(at + 16, true),
      computeInstanceId: view.getUint32(at + 20, true),
    });
  }
  return out;
}

/**
 * Why a decoded list cannot be what the driver meant (a wrong stride), or undefined when it is plausible: every pid
 * a possible Linux pid and listed once, memory within the GPU's total, instance ids "none" or a small MIG index.
 * A shifted read lands on memory or padding words, which fail these checks (pid 0, pids in the hundreds of millions,
 * 0xffffffff memory halves), so a wrong stride is caught whenever it matters (two or more processes).
 */
export function implausibleProcessList(
  list: readonly RawProcessInfo[],
  memoryTotalBytes: number | undefined,
): string | undefined {
  const seen = new Set<number>();
  for (const p of list) {
    if (p.pid <= 0 || p.pid > PID_MAX) return `pid ${p.pid} out of range`;
    if (seen.has(p.pid)) return `pid ${p.pid} listed twice`;
    seen.add(p.pid);
    const limit = memoryTotalBytes ?? Number.MAX_SAFE_INTEGER;
    if (p.usedMemoryBytes !== undefined && p.usedMemoryBytes > limit)
      return `pid ${p.pid} uses ${p.usedMemoryBytes} bytes, more than the GPU's ${limit}`;
    for (const id of [p.gpuInstanceId, p.computeInstanceId])
      if (id !== NO_INSTANCE && id >= 64) return `pid ${p.pid} has instance id ${id}`;
  }
  return undefined;
}
