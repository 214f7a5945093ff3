/**
 * The NVML worker thread: the only place that calls the driver. Every call is synchronous (koffi's async calls
 * would run on the libuv pool that /proc reads and DNS share, and a call hung in the kernel would starve them), so
 * one call is in flight at a time and a hung one blocks only this thread. Requests come one by one from
 * NvmlClient (nvml-client.ts); answers are plain data.
 */
import { parentPort, workerData } from 'node:worker_threads';
import koffi from 'koffi';
import { decodeClockEventReasons } from './decode-clock-event-reasons.js';
import {
  decodeProcessInfos,
  implausibleProcessList,
  MAX_PROCESS_STRIDE,
  processInfoStride,
} from './nvml-process-layout.js';
import type { NvmlProcesses, NvmlRequest, NvmlResponse, NvmlSample } from './nvml-protocol.js';
import type { GpuReading } from './to-gpu-readings.js';

type Fn = (...args: unknown[]) => number;
const NOT_FOUND = 6;
const INSUFFICIENT_SIZE = 7;
const GPU_IS_LOST = 15;

class NvmlCallError extends Error {
  constructor(
    readonly code: number,
    readonly call: string,
  ) {
    super(`${call} returned ${code}`);
  }
}

let lib: ReturnType<typeof koffi.load> | undefined;
const fns = new Map<string, Fn | null>();
let initialized = false;

/** A bound function, or undefined when this driver lacks the symbol (older drivers miss newer names). */
function fn(name: string, args: string[]): Fn | undefined {
  if (!fns.has(name)) {
    try {
      fns.set(name, lib!.func(name, 'int', args) as unknown as Fn);
    } catch {
      fns.set(name, null);
    }
  }
  return fns.get(name) ?? undefined;
}

function must(name: string, args: string[], ...values: unknown[]): void {
  const f = fn(name, args);
  if (!f) throw new NvmlCallError(13, name); // NVML_ERROR_FUNCTION_NOT_FOUND
  const rc = f(...values);
  if (rc !== 0) throw new NvmlCallError(rc, name);
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

function driverVersion(): string {
  const buf = Buffer.alloc(96);
  must('nvmlSystemGetDriverVersion', ['void *', 'uint'], buf, buf.length);
  return cString(buf);
}

function ensureInit(): void {
  if (initialized) return;
  must('nvmlInit_v2', []);
  initialized = true;
}

type Handle = { handle: bigint; index: number } | { index: number; code: number };

function handles(): Handle[] {
  const count = Buffer.alloc(4);
  must('nvmlDeviceGetCount_v2', ['void *'], count);
  const out: Handle[] = [];
  for (let index = 0; index < count.readUInt32LE(0); index++) {
    const h = Buffer.alloc(8);
    const rc = fn('nvmlDeviceGetHandleByIndex_v2', ['uint', 'void *'])!(index, h);
    out.push(rc === 0 ? { handle: h.readBigUInt64LE(0), index } : { index, code: rc });
  }
  return out;
}

/** One device reading: NOT_SUPPORTED and other errors leave it absent; GPU_IS_LOST ends the device's reading. */
function reader(handle: bigint) {
  return (name: string, args: string[], ...values: unknown[]): boolean => {
    const f = fn(name, ['uint64_t', ...args]);
    if (!f) return false;
    const rc = f(handle, ...values);
    if (rc === GPU_IS_LOST) throw new NvmlCallError(rc, name);
    return rc === 0;
  };
}

const COMPUTE_MODES = ['Default', 'Exclusive_Thread', 'Prohibited', 'Exclusive_Process'];

function readDevice(handle: bigint, index: number, driver: string): GpuReading {
  const call = reader(handle);
  const str = (name: string, len = 96) => {
    const b = Buffer.alloc(len);
    return call(name, ['void *', 'uint'], b, len) ? cString(b) : undefined;
  };
  const u32 = (name: string, ...pre: unknown[]) => {
    const b = Buffer.alloc(4);
    return call(name, [...pre.map(() => 'int'), 'void *'], ...pre, b) ? b.readUInt32LE(0) : undefined;
  };
  const u64 = (name: string, ...pre: unknown[]) => {
    const b = Buffer.alloc(8);
    return call(name, [...pre.map(() => 'int'), 'void *'], ...pre, b) ? b.readBigUInt64LE(0) : undefined;
  };
  const uuid = str('nvmlDeviceGetUUID');
  if (uuid === undefined) throw new NvmlCallError(999, 'nvmlDeviceGetUUID');
  const pci = Buffer.alloc(68);
  const mem = Buffer.alloc(40);
  mem.writeUInt32LE(40 | (2 << 24), 0); // nvmlMemory_v2: NVML_STRUCT_VERSION(Memory, 2)
  const hasMem = call('nvmlDeviceGetMemoryInfo_v2', ['void *'], mem);
  const util = Buffer.alloc(8);
  const hasUtil = call('nvmlDeviceGetUtilizationRates', ['void *'], util);
  const mig = Buffer.alloc(8);
  const hasMig = call('nvmlDeviceGetMigMode', ['void *', 'void *'], mig, mig.subarray(4));
  const reasons = u64('nvmlDeviceGetCurrentClocksEventReasons') ?? u64('nvmlDeviceGetCurrentClocksThrottleReasons');
  const pstate = u32('nvmlDeviceGetPerformanceState');
  const computeMode = u32('nvmlDeviceGetComputeMode');
  const persistence = u32('nvmlDeviceGetPersistenceMode');
  const mhz = (v: number | undefined) => (v === undefined ? undefined : v * 1e6);
  const watts = (v: number | undefined) => (v === undefined ? undefined : v / 1000);
  const reading: Record<string, unknown> = {
    uuid,
    index: u32('nvmlDeviceGetIndex') ?? index,
    name: str('nvmlDeviceGetName'),
    pciBusId: call('nvmlDeviceGetPciInfo_v3', ['void *'], pci) ? cString(pci.subarray(36, 68)) : undefined,
    driverVersion: driver,
    vbiosVersion: str('nvmlDeviceGetVbiosVersion'),
    memoryTotalBytes: hasMem ? Number(mem.readBigUInt64LE(8)) : undefined,
    memoryReservedBytes: hasMem ? Number(mem.readBigUInt64LE(16)) : undefined,
    memoryFreeBytes: hasMem ? Number(mem.readBigUInt64LE(24)) : undefined,
    memoryUsedBytes: hasMem ? Number(mem.readBigUInt64LE(32)) : undefined,
    utilizationRatio: hasUtil ? util.readUInt32LE(0) / 100 : undefined,
    memoryUtilizationRatio: hasUtil ? util.readUInt32LE(4) / 100 : undefined,
    temperatureCelsius: u32('nvmlDeviceGetTemperature', 0),
    powerDrawWatts: watts(u32('nvmlDeviceGetPowerUsage')),
    powerLimitWatts: watts(u32('nvmlDeviceGetEnforcedPowerLimit') ?? u32('nvmlDeviceGetPowerManagementLimit')),
    clockSmHertz: mhz(u32('nvmlDeviceGetClockInfo', 1)),
    clockMemoryHertz: mhz(u32('nvmlDeviceGetClockInfo', 2)),
    clockSmMaxHertz: mhz(u32('nvmlDeviceGetMaxClockInfo', 1)),
    fanSpeedRatio: mapNum(u32('nvmlDeviceGetFanSpeed'), (v) => v / 100),
    pstate: pstate !== undefined && pstate <= 15 ? pstate : undefined,
    eccUncorrectedVolatile: mapNum(u64('nvmlDeviceGetTotalEccErrors', 1, 0), Number),
    eccUncorrectedAggregate: mapNum(u64('nvmlDeviceGetTotalEccErrors', 1, 1), Number),
    clockEventReasons: reasons === undefined ? undefined : decodeClockEventReasons(`0x${reasons.toString(16)}`),
    computeMode: computeMode === undefined ? undefined : COMPUTE_MODES[computeMode],
    migModeEnabled: hasMig ? (mig.readUInt32LE(0) === 1 ? 1 : 0) : undefined,
    persistenceModeEnabled: persistence === undefined ? undefined : persistence === 1 ? 1 : 0,
    lost: false,
  };
  for (const k of Object.keys(reading)) if (reading[k] === undefined) delete reading[k];
  return reading as unknown as GpuReading;
}

function mapNum<T, U>(v: T | undefined, f: (v: T) => U): U | undefined {
  return v === undefined ? undefined : f(v);
}

function sample(): NvmlSample {
  ensureInit();
  const driver = driverVersion();
  const gpus: GpuReading[] = [];
  const unreachable: { index: number; code: number }[] = [];
  for (const h of handles()) {
    if ('code' in h) {
      unreachable.push(h);
      continue;
    }
    try {
      gpus.push(readDevice(h.handle, h.index, driver));
    } catch (err) {
      if (!(err instanceof NvmlCallError)) throw err;
      unreachable.push({ index: h.index, code: err.code });
    }
  }
  return { driverVersion: driver, gpus, unreachable };
}

/** Compute processes (v3 call) and their utilization samples, per answering GPU. */
function processes(lastSeen: Map<string, bigint>): NvmlProcesses {
  ensureInit();
  const stride = processInfoStride(driverVersion());
  const result: NvmlProcesses = { apps: [], utilization: [], utilizationUnsupported: [], stride };
  for (const h of handles()) {
    if ('code' in h) throw new NvmlCallError(h.code, 'nvmlDeviceGetHandleByIndex_v2');
    const idBuf = Buffer.alloc(96);
    must('nvmlDeviceGetUUID', ['uint64_t', 'void *', 'uint'], h.handle, idBuf, 96);
    const uuid = cString(idBuf);
    const mem = Buffer.alloc(40);
    mem.writeUInt32LE(40 | (2 << 24), 0);
    const total = fn('nvmlDeviceGetMemoryInfo_v2', ['uint64_t', 'void *'])?.(h.handle, mem) === 0;
    const count = Buffer.alloc(4);
    let infos = Buffer.alloc(0);
    // Sized by the count NVML asks for plus room for processes started meanwhile; retried when still too small.
    for (let attempt = 0; ; attempt++) {
      const cap = infos.length / MAX_PROCESS_STRIDE;
      count.writeUInt32LE(cap, 0);
      const rc = fn('nvmlDeviceGetComputeRunningProcesses_v3', ['uint64_t', 'void *', 'void *'])!(
        h.handle,
        count,
        cap === 0 ? null : infos,
      );
      if (rc === 0) break;
      if (rc !== INSUFFICIENT_SIZE || attempt > 3)
        throw new NvmlCallError(rc, 'nvmlDeviceGetComputeRunningProcesses_v3');
      infos = Buffer.alloc((count.readUInt32LE(0) + 8) * MAX_PROCESS_STRIDE);
    }
    const list = decodeProcessInfos(infos, count.readUInt32LE(0), stride);
    const wrong = implausibleProcessList(list, total ? Number(mem.readBigUInt64LE(8)) : undefined);
    if (wrong !== undefined) return { ...result, layoutError: `${stride}-byte process entries on ${uuid}: ${wrong}` };
    for (const p of list) {
      const name = Buffer.alloc(1024);
      const ok = fn('nvmlSystemGetProcessName', ['uint', 'void *', 'uint'])?.(p.pid, name, 1024) === 0;
      result.apps.push({
        gpuUuid: uuid,
        pid: p.pid,
        processName: ok ? cString(name) : '',
        usedMemoryBytes: p.usedMemoryBytes,
      });
    }
    processUtilization(h.handle, uuid, lastSeen, result);
  }
  return result;
}

function processUtilization(handle: bigint, uuid: string, lastSeen: Map<string, bigint>, out: NvmlProcesses): void {
  const mig = Buffer.alloc(8);
  const virt = Buffer.alloc(4);
  const call = reader(handle);
  // Under MIG the samples are not per instance, and a vGPU guest gets none that mean anything: say unsupported.
  const migOn = call('nvmlDeviceGetMigMode', ['void *', 'void *'], mig, mig.subarray(4)) && mig.readUInt32LE(0) === 1;
  const vgpu = call('nvmlDeviceGetVirtualizationMode', ['void *'], virt) && virt.readUInt32LE(0) === 2;
  const f = fn('nvmlDeviceGetProcessUtilization', ['uint64_t', 'void *', 'void *', 'uint64_t']);
  if (migOn || vgpu || !f) {
    out.utilizationUnsupported.push(uuid);
    return;
  }
  const since = lastSeen.get(uuid) ?? 0n;
  const count = Buffer.alloc(4);
  let rc = f(handle, null, count, since);
  if (rc === NOT_FOUND) return; // no sample since `since`: every process idle
  if (rc !== INSUFFICIENT_SIZE && rc !== 0) {
    out.utilizationUnsupported.push(uuid);
    return;
  }
  const n = count.readUInt32LE(0) + 8;
  const samples = Buffer.alloc(n * 32);
  count.writeUInt32LE(n, 0);
  rc = f(handle, samples, count, since);
  if (rc === NOT_FOUND) return;
  if (rc !== 0) {
    out.utilizationUnsupported.push(uuid);
    return;
  }
  const latest = new Map<number, { ts: bigint; sm: number; mem: number }>();
  for (let i = 0; i < count.readUInt32LE(0); i++) {
    const at = i * 32;
    const s = {
      ts: samples.readBigUInt64LE(at + 8),
      sm: samples.readUInt32LE(at + 16),
      mem: samples.readUInt32LE(at + 20),
    };
    const pid = samples.readUInt32LE(at);
    if ((latest.get(pid)?.ts ?? -1n) < s.ts) latest.set(pid, s);
  }
  for (const [pid, s] of latest) {
    out.utilization.push({ gpuUuid: uuid, pid, smRatio: s.sm / 100, memoryRatio: s.mem / 100 });
    if (s.ts > (lastSeen.get(uuid) ?? 0n)) lastSeen.set(uuid, s.ts);
  }
}

const lastSeen = new Map<string, bigint>();

function handle(req: NvmlRequest): NvmlResponse {
  try {
    if (req.op === 'open') {
      lib = koffi.load(String((workerData as { library: string }).library));
      return { id: req.id, ok: true, value: null };
    }
    if (req.op === 'sample') return { id: req.id, ok: true, value: sample() };
    return { id: req.id, ok: true, value: processes(lastSeen) };
  } catch (err) {
    if (err instanceof NvmlCallError) return { id: req.id, ok: false, code: err.code, message: err.message };
    return { id: req.id, ok: false, code: req.op === 'open' ? 12 : -1, message: String((err as Error).message) };
  }
}

parentPort!.on('message', (req: NvmlRequest) => parentPort!.postMessage(handle(req)));
