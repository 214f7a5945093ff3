/**
 * Fake GPU state shared by the Ollama simulator, the fake `nvidia-smi` and tests.
 *
 * Format (text, one record per line, fields separated by single spaces; `#` starts a comment line;
 * unknown record types are ignored so the format can grow). Kept positional so a C fake of
 * libnvidia-ml can read it with one sscanf per line; free text always comes last ("rest of line").
 *
 *   driver <driver_version> <cuda_version>
 *   gpu <index> <uuid> <pci_bus_id> <mem_total_mib> <mem_reserved_mib> <mem_other_used_mib>
 *       <util_gpu_pct> <util_mem_pct> <temp_c> <power_draw_w> <power_limit_w> <enforced_power_limit_w>
 *       <sm_clock_mhz> <pstate> <ecc_uncorrected_volatile_total> <clocks_event_reasons_hex> <lost 0|1>
 *       <name: rest of line>                                             (all on ONE line)
 *   proc <gpu_uuid> <host_pid> <used_mib> <process name: rest of line, may hold spaces and commas>
 *   fault <target gpu|apps|list|all> <kind> [<arg: rest of line>]
 *   container_nvml_lost <0|1>
 *
 * memory.used = mem_other_used_mib + sum(proc used_mib); memory.free = total - reserved - used.
 * Fault kinds: see FAULT_KINDS. Writes are atomic (temp file + rename in the same directory), so
 * readers never need the lock; read-modify-write goes through a `<file>.lock` created with O_EXCL.
 */
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export interface FakeGpu {
  index: number;
  uuid: string;
  pciBusId: string;
  name: string;
  memoryTotalMiB: number;
  memoryReservedMiB: number;
  /** VRAM used by contexts that are not listed as processes (driver contexts, foreign users). */
  memoryOtherUsedMiB: number;
  utilizationGpuPct: number;
  utilizationMemoryPct: number;
  temperatureC: number;
  powerDrawW: number;
  powerLimitW: number;
  enforcedPowerLimitW: number;
  smClockMHz: number;
  pstate: string;
  eccUncorrectedVolatileTotal: number;
  /** NVML clocks event reasons bitmask (see CLOCKS_EVENT_REASON_BITS). */
  clocksEventReasons: number;
  /** Fell off the bus: NVML returns GPU_IS_LOST for it. */
  lost: boolean;
}

export interface FakeGpuProcess {
  gpuUuid: string;
  pid: number;
  usedMiB: number;
  name: string;
  /** Share of the GPU's SMs this process kept busy lately (NVML process utilization); 0 or absent = idle. */
  smPct?: number;
}

export const FAULT_TARGETS = ['gpu', 'apps', 'list', 'all'] as const;
export type FaultTarget = (typeof FAULT_TARGETS)[number];

/**
 * - exit: arg = "<code> <stdout message>" (generic);  bad-field: exit 2, unknown-field text for the first field
 * - no-library: exit 12 (libnvidia-ml.so missing);  no-driver: exit 9;  gpu-lost: exit 15 text
 * - unknown-error: "Failed to initialize NVML: Unknown Error", exit 255;  version-mismatch: exit 18
 * - delay: arg = ms before answering normally;  hang: sleeps until killed
 * - stuck: arg = ms (default 20000, max 30000) a detached grandchild keeps stdout open, so the caller never
 *   sees the pipes close even after killing the child (emulates a D-state nvidia-smi).
 * - no-permission: exit 4 ("Insufficient Permissions"); NVML_ERROR_NO_PERMISSION from the fake libnvidia-ml
 * - nvml-hang: only the fake libnvidia-ml (test/sim/fake-nvml/): its calls for the target block until the fault is
 *   cleared (a driver call hung in the kernel); the fake nvidia-smi ignores it, so a fallback to it still answers.
 * The fake libnvidia-ml answers the other kinds with the NVML return code nvidia-smi exits with.
 */
export const FAULT_KINDS = [
  'exit',
  'bad-field',
  'no-library',
  'no-driver',
  'gpu-lost',
  'unknown-error',
  'version-mismatch',
  'delay',
  'hang',
  'stuck',
  'no-permission',
  'nvml-hang',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FakeGpuFault {
  target: FaultTarget;
  kind: FaultKind;
  arg?: string;
}

export interface GpuState {
  driverVersion: string;
  cudaVersion: string;
  gpus: FakeGpu[];
  procs: FakeGpuProcess[];
  faults: FakeGpuFault[];
  /** Set by the simulator: `nvidia-smi` run *inside* the sim container fails (Docker cgroup bug). */
  containerNvmlLost: boolean;
}

/** NVML nvmlClocksEventReason* bits. */
export const CLOCKS_EVENT_REASON_BITS = {
  gpu_idle: 0x1,
  applications_clocks_setting: 0x2,
  sw_power_cap: 0x4,
  hw_slowdown: 0x8,
  sync_boost: 0x10,
  sw_thermal_slowdown: 0x20,
  hw_thermal_slowdown: 0x40,
  hw_power_brake_slowdown: 0x80,
} as const;

/** One idle NVIDIA H100 80GB HBM3, values from the fixtures' nounits-idle capture. */
export function defaultH100State(): GpuState {
  return {
    driverVersion: '580.159.04',
    cudaVersion: '13.0',
    gpus: [defaultH100Gpu(0, 'GPU-f88d2996-314d-4abe-0c94-acc6aa417694', '00000000:00:06.0')],
    procs: [],
    faults: [],
    containerNvmlLost: false,
  };
}

export function defaultH100Gpu(index: number, uuid: string, pciBusId: string): FakeGpu {
  return {
    index,
    uuid,
    pciBusId,
    name: 'NVIDIA H100 80GB HBM3',
    memoryTotalMiB: 81559,
    memoryReservedMiB: 480,
    memoryOtherUsedMiB: 0,
    utilizationGpuPct: 0,
    utilizationMemoryPct: 0,
    temperatureC: 37,
    powerDrawW: 94.33,
    powerLimitW: 700,
    enforcedPowerLimitW: 700,
    smClockMHz: 345,
    pstate: 'P0',
    eccUncorrectedVolatileTotal: 0,
    clocksEventReasons: CLOCKS_EVENT_REASON_BITS.gpu_idle,
    lost: false,
  };
}

export function memoryUsedMiB(state: GpuState, gpu: FakeGpu): number {
  return state.procs.filter((p) => p.gpuUuid === gpu.uuid).reduce((sum, p) => sum + p.usedMiB, gpu.memoryOtherUsedMiB);
}

export function memoryFreeMiB(state: GpuState, gpu: FakeGpu): number {
  return Math.max(0, gpu.memoryTotalMiB - gpu.memoryReservedMiB - memoryUsedMiB(state, gpu));
}

function hex64(n: number): string {
  return '0x' + n.toString(16).padStart(16, '0');
}

export function serializeGpuState(state: GpuState): string {
  const lines = [
    '# fake GPU state (ollama-sentinel test/sim/gpu-state.ts); format documented in test/sim/README.md',
    `driver ${state.driverVersion} ${state.cudaVersion}`,
  ];
  for (const g of state.gpus) {
    lines.push(
      [
        'gpu',
        g.index,
        g.uuid,
        g.pciBusId,
        g.memoryTotalMiB,
        g.memoryReservedMiB,
        g.memoryOtherUsedMiB,
        g.utilizationGpuPct,
        g.utilizationMemoryPct,
        g.temperatureC,
        g.powerDrawW.toFixed(2),
        g.powerLimitW.toFixed(2),
        g.enforcedPowerLimitW.toFixed(2),
        g.smClockMHz,
        g.pstate,
        g.eccUncorrectedVolatileTotal,
        hex64(g.clocksEventReasons),
        g.lost ? 1 : 0,
        g.name,
      ].join(' '),
    );
  }
  for (const p of state.procs) lines.push(`proc ${p.gpuUuid} ${p.pid} ${p.usedMiB} ${p.name}`);
  // A line of its own, so that readers of the older format (names may hold spaces) still parse `proc` lines.
  for (const p of state.procs) if (p.smPct) lines.push(`proc_util ${p.gpuUuid} ${p.pid} ${p.smPct}`);
  for (const f of state.faults)
    lines.push(`fault ${f.target} ${f.kind}${f.arg !== undefined && f.arg !== '' ? ' ' + f.arg : ''}`);
  lines.push(`container_nvml_lost ${state.containerNvmlLost ? 1 : 0}`);
  return lines.join('\n') + '\n';
}

/** Splits off `count` space-separated fields; the remainder (may contain spaces) is returned last. */
function splitFields(line: string, count: number): { fields: string[]; rest: string } {
  const fields: string[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const next = line.indexOf(' ', pos);
    if (next < 0) {
      fields.push(line.slice(pos));
      pos = line.length;
      continue;
    }
    fields.push(line.slice(pos, next));
    pos = next + 1;
  }
  return { fields, rest: line.slice(pos) };
}

function num(value: string | undefined, what: string, lineNo: number): number {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isFinite(n))
    throw new Error(`gpu state line ${lineNo}: bad ${what} ${JSON.stringify(value)}`);
  return n;
}

export function parseGpuState(text: string): GpuState {
  const state: GpuState = {
    driverVersion: '580.159.04',
    cudaVersion: '13.0',
    gpus: [],
    procs: [],
    faults: [],
    containerNvmlLost: false,
  };
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) return;
    const type = line.slice(0, line.indexOf(' ') < 0 ? line.length : line.indexOf(' '));
    if (type === 'driver') {
      const { fields } = splitFields(line, 3);
      state.driverVersion = fields[1] ?? state.driverVersion;
      state.cudaVersion = fields[2] ?? state.cudaVersion;
    } else if (type === 'gpu') {
      const { fields: f, rest } = splitFields(line, 18);
      if (f.length < 18 || rest === '')
        throw new Error(`gpu state line ${lineNo}: gpu record needs 18 fields and a name`);
      state.gpus.push({
        index: num(f[1], 'index', lineNo),
        uuid: f[2]!,
        pciBusId: f[3]!,
        memoryTotalMiB: num(f[4], 'mem_total_mib', lineNo),
        memoryReservedMiB: num(f[5], 'mem_reserved_mib', lineNo),
        memoryOtherUsedMiB: num(f[6], 'mem_other_used_mib', lineNo),
        utilizationGpuPct: num(f[7], 'util_gpu_pct', lineNo),
        utilizationMemoryPct: num(f[8], 'util_mem_pct', lineNo),
        temperatureC: num(f[9], 'temp_c', lineNo),
        powerDrawW: num(f[10], 'power_draw_w', lineNo),
        powerLimitW: num(f[11], 'power_limit_w', lineNo),
        enforcedPowerLimitW: num(f[12], 'enforced_power_limit_w', lineNo),
        smClockMHz: num(f[13], 'sm_clock_mhz', lineNo),
        pstate: f[14]!,
        eccUncorrectedVolatileTotal: num(f[15], 'ecc', lineNo),
        clocksEventReasons: num(f[16], 'clocks_event_reasons', lineNo),
        lost: f[17] === '1',
        name: rest,
      });
    } else if (type === 'proc') {
      const { fields: f, rest } = splitFields(line, 4);
      if (f.length < 4) throw new Error(`gpu state line ${lineNo}: proc record needs uuid, pid, used_mib and a name`);
      state.procs.push({
        gpuUuid: f[1]!,
        pid: num(f[2], 'pid', lineNo),
        usedMiB: num(f[3], 'used_mib', lineNo),
        name: rest,
      });
    } else if (type === 'proc_util') {
      const { fields: f } = splitFields(line, 4);
      const proc = state.procs.find((p) => p.gpuUuid === f[1] && p.pid === num(f[2], 'pid', lineNo));
      if (proc) proc.smPct = num(f[3], 'sm_pct', lineNo);
    } else if (type === 'fault') {
      const { fields: f, rest } = splitFields(line, 3);
      const target = f[1] as FaultTarget;
      const kind = f[2] as FaultKind;
      if (!FAULT_TARGETS.includes(target))
        throw new Error(`gpu state line ${lineNo}: unknown fault target ${JSON.stringify(f[1])}`);
      if (!FAULT_KINDS.includes(kind))
        throw new Error(`gpu state line ${lineNo}: unknown fault kind ${JSON.stringify(f[2])}`);
      state.faults.push(rest === '' ? { target, kind } : { target, kind, arg: rest });
    } else if (type === 'container_nvml_lost') {
      state.containerNvmlLost = splitFields(line, 2).fields[1] === '1';
    }
  });
  return state;
}

export function readGpuState(file: string): GpuState {
  return parseGpuState(readFileSync(file, 'utf8'));
}

/** Atomic replace: readers see the old or the new file, never a torn one. */
export function writeGpuState(file: string, state: GpuState): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, serializeGpuState(state));
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw err;
  }
}

export interface LockOptions {
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
  /** A lock file older than this is left over from a crashed writer and is broken (default 10000 ms). */
  staleMs?: number;
}

function tryLock(lockFile: string, staleMs: number): boolean {
  try {
    const fd = openSync(lockFile, 'wx');
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    try {
      if (Date.now() - statSync(lockFile).mtimeMs > staleMs) unlinkSync(lockFile);
    } catch {
      /* released meanwhile */
    }
    return false;
  }
}

function unlock(lockFile: string): void {
  try {
    unlinkSync(lockFile);
  } catch {
    /* broken as stale by someone else */
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Read-modify-write under `<file>.lock`. A missing state file starts from defaultH100State().
 * `fn` may mutate the state in place or return a new one.
 */
export function updateGpuStateSync(
  file: string,
  fn: (s: GpuState) => GpuState | void,
  opts: LockOptions = {},
): GpuState {
  const lockFile = `${file}.lock`;
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  while (!tryLock(lockFile, opts.staleMs ?? 10000)) {
    if (Date.now() > deadline) throw new Error(`gpu state: could not lock ${lockFile}`);
    Atomics.wait(sleepCell, 0, 0, 2 + Math.random() * 8);
  }
  try {
    return applyUpdate(file, fn);
  } finally {
    unlock(lockFile);
  }
}

/** Same as updateGpuStateSync but waits for the lock without blocking the event loop. */
export async function updateGpuState(
  file: string,
  fn: (s: GpuState) => GpuState | void,
  opts: LockOptions = {},
): Promise<GpuState> {
  const lockFile = `${file}.lock`;
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  while (!tryLock(lockFile, opts.staleMs ?? 10000)) {
    if (Date.now() > deadline) throw new Error(`gpu state: could not lock ${lockFile}`);
    await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
  }
  try {
    return applyUpdate(file, fn);
  } finally {
    unlock(lockFile);
  }
}

function applyUpdate(file: string, fn: (s: GpuState) => GpuState | void): GpuState {
  let current: GpuState;
  try {
    current = readGpuState(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    current = defaultH100State();
  }
  const next = fn(current) ?? current;
  writeGpuState(file, next);
  return next;
}
