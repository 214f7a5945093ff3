/**
 * Pure logic of the fake `nvidia-smi`: argv + GPU state -> what the real tool would print and its exit code,
 * plus timing directives (delay / hang / stuck) that the thin main (fake-nvidia-smi-main.ts) carries out.
 * Output shapes follow the real H100 captures in test/fixtures/nvidia-smi-h100/ (driver 580.159.04).
 * Like the real tool, every message (errors included) goes to stdout.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  CLOCKS_EVENT_REASON_BITS,
  memoryFreeMiB,
  memoryUsedMiB,
  type FakeGpu,
  type FakeGpuFault,
  type FakeGpuProcess,
  type FaultTarget,
  type GpuState,
} from './gpu-state.js';

export interface FakeSmiContext {
  /** Folder holding help-query-gpu.txt and help-query-compute-apps.txt. */
  fixturesDir: string;
  /** Running inside the sim container: honours GpuState.containerNvmlLost. */
  inContainer: boolean;
  now: Date;
}

export interface FakeSmiResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Wait this long before printing. */
  delayMs: number;
  /** Never answer (sleep until killed). */
  hang: boolean;
  /** >0: leave a detached grandchild holding stdout/stderr open this long, then hang. */
  stuckMs: number;
}

/** Resolves to <repo>/test/fixtures/nvidia-smi-h100 from dist/test/sim/ (and from test/sim/ under a TS loader). */
export function defaultFixturesDir(): string {
  return fileURLToPath(new URL('../../../test/fixtures/nvidia-smi-h100/', import.meta.url));
}

export const MSG_NO_LIBRARY =
  "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make sure that the NVIDIA Display Driver is properly installed and present in your system.\n" +
  'Please also try adding directory that contains libnvidia-ml.so to your system PATH.\n';
export const MSG_NO_DRIVER =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n";
export const MSG_UNKNOWN_ERROR = 'Failed to initialize NVML: Unknown Error\n';
export const MSG_INVALID_ARGS = "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n\n";

export function msgVersionMismatch(state: GpuState): string {
  // Newer drivers add the NVML library version line; take major.minor of the (different) library.
  return `Failed to initialize NVML: Driver/library version mismatch\nNVML library version: ${state.driverVersion.split('.').slice(0, 2).join('.')}\n`;
}

export function msgUnknownField(field: string): string {
  return `Field "${field}" is not a valid field to query.\n\n`;
}

/** nvidia-smi prints the PCI domain with 4 digits in this message. */
export function msgGpuLost(gpu: FakeGpu): string {
  return `Unable to determine the device handle for GPU ${gpu.pciBusId.replace(/^0000(?=[0-9a-fA-F]{4}:)/, '')}: GPU is lost.  Reboot the system to recover this GPU\n`;
}

interface HelpFields {
  /** alias or canonical name -> canonical name (the column header). */
  canonical: Map<string, string>;
}

const helpCache = new Map<string, HelpFields>();

/** Field names from a `--help-query-*` text: lines like `"clocks.current.sm" or "clocks.sm"`. */
export function parseHelpFields(text: string): HelpFields {
  const canonical = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^"([^"]+)"(?: or "([^"]+)")?\s*$/.exec(line);
    if (!m) continue;
    canonical.set(m[1]!, m[1]!);
    if (m[2] !== undefined && !canonical.has(m[2])) canonical.set(m[2], m[1]!);
  }
  return { canonical };
}

function helpFields(ctx: FakeSmiContext, file: string): HelpFields {
  const key = `${ctx.fixturesDir}/${file}`;
  let h = helpCache.get(key);
  if (!h) {
    h = parseHelpFields(readFileSync(new URL(file, `file://${ctx.fixturesDir.replace(/\/?$/, '/')}`), 'utf8'));
    helpCache.set(key, h);
  }
  return h;
}

function readHelp(ctx: FakeSmiContext, file: string): string {
  return readFileSync(new URL(file, `file://${ctx.fixturesDir.replace(/\/?$/, '/')}`), 'utf8');
}

/** Unit shown in the CSV header (and after values unless `nounits`). */
export function unitOf(field: string): string | undefined {
  if (/^(memory|protected_memory)\./.test(field) || field === 'used_gpu_memory') return 'MiB';
  if (field.startsWith('utilization.') || field === 'fan.speed') return '%';
  if (/^(power\.|enforced\.power|module\.power\.|module\.enforced)/.test(field) && field !== 'power.management')
    return 'W';
  if (/^clocks\.(current|applications|default_applications|max)\./.test(field)) return 'MHz';
  if (field.startsWith('clocks_event_reasons_counters.')) return 'us';
  return undefined;
}

const NA = '[N/A]';

function timestamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function hex64(n: number): string {
  return '0x' + n.toString(16).padStart(16, '0');
}

function gpuSerial(g: FakeGpu): string {
  return String(1652824024695 + g.index);
}

/** Value of one --query-gpu field (canonical name), without unit. Fields we do not model read [N/A]. */
export function gpuFieldValue(field: string, g: FakeGpu, state: GpuState, ctx: FakeSmiContext): string {
  const reasonBit = /^clocks_event_reasons\.(\w+)$/.exec(field)?.[1];
  if (reasonBit !== undefined && reasonBit in CLOCKS_EVENT_REASON_BITS) {
    return g.clocksEventReasons & CLOCKS_EVENT_REASON_BITS[reasonBit as keyof typeof CLOCKS_EVENT_REASON_BITS]
      ? 'Active'
      : 'Not Active';
  }
  switch (field) {
    case 'timestamp':
      return timestamp(ctx.now);
    case 'driver_version':
      return state.driverVersion;
    case 'count':
      return String(state.gpus.length);
    case 'name':
      return g.name;
    case 'serial':
      return gpuSerial(g);
    case 'uuid':
      return g.uuid;
    case 'pci.bus_id':
      return g.pciBusId;
    case 'pci.domain':
      return '0x' + (g.pciBusId.split(':')[0] ?? '0').slice(-4);
    case 'pci.bus':
      return '0x' + (g.pciBusId.split(':')[1] ?? '00');
    case 'pci.device':
      return '0x' + (g.pciBusId.split(':')[2] ?? '00.0').split('.')[0];
    case 'pci.device_id':
      return '0x233010DE';
    case 'pci.sub_device_id':
      return '0x16C110DE';
    case 'index':
      return String(g.index);
    case 'display_mode':
    case 'display_active':
      return 'Disabled';
    case 'persistence_mode':
      return 'Enabled';
    case 'driver_model.current':
    case 'driver_model.pending':
      return NA;
    case 'vbios_version':
      return '96.00.DA.00.0C';
    case 'gpu_recovery_action':
      return 'None';
    case 'fan.speed':
      return NA;
    case 'pstate':
      return g.pstate;
    case 'clocks_event_reasons.supported':
      return hex64(0x1ff);
    case 'clocks_event_reasons.active':
      return hex64(g.clocksEventReasons);
    case 'memory.total':
      return String(g.memoryTotalMiB);
    case 'memory.reserved':
      return String(g.memoryReservedMiB);
    case 'memory.used':
      return String(memoryUsedMiB(state, g));
    case 'memory.free':
      return String(memoryFreeMiB(state, g));
    case 'compute_mode':
      return 'Default';
    case 'compute_cap':
      return '9.0';
    case 'utilization.gpu':
      return String(g.utilizationGpuPct);
    case 'utilization.memory':
      return String(g.utilizationMemoryPct);
    case 'utilization.encoder':
    case 'utilization.decoder':
    case 'utilization.jpeg':
    case 'utilization.ofa':
      return '0';
    case 'ecc.mode.current':
    case 'ecc.mode.pending':
      return 'Enabled';
    case 'ecc.errors.uncorrected.volatile.total':
    case 'ecc.errors.uncorrected.volatile.dram':
    case 'ecc.errors.uncorrected.volatile.device_memory':
    case 'ecc.errors.uncorrected.aggregate.total':
    case 'ecc.errors.uncorrected.aggregate.dram':
    case 'ecc.errors.uncorrected.aggregate.device_memory':
      return String(g.eccUncorrectedVolatileTotal);
    case 'remapped_rows.pending':
    case 'remapped_rows.failure':
      return 'No';
    case 'temperature.gpu':
      return String(g.temperatureC);
    case 'temperature.gpu.tlimit':
      return String(Math.max(0, 87 - g.temperatureC));
    case 'power.management':
      return 'Enabled';
    case 'power.draw':
    case 'power.draw.average':
    case 'power.draw.instant':
      return g.powerDrawW.toFixed(2);
    case 'power.limit':
      return g.powerLimitW.toFixed(2);
    case 'enforced.power.limit':
      return g.enforcedPowerLimitW.toFixed(2);
    case 'power.default_limit':
    case 'power.max_limit':
      return (700).toFixed(2);
    case 'power.min_limit':
      return (200).toFixed(2);
    case 'clocks.current.graphics':
    case 'clocks.current.sm':
      return String(g.smClockMHz);
    case 'clocks.current.memory':
      return '2619';
    case 'clocks.current.video':
      return '1545';
    case 'clocks.max.graphics':
    case 'clocks.max.sm':
      return '1980';
    case 'clocks.max.memory':
      return '2619';
    case 'mig.mode.current':
    case 'mig.mode.pending':
      return 'Disabled';
    default:
      if (
        /^ecc\.errors\./.test(field) ||
        /^remapped_rows\./.test(field) ||
        field.startsWith('clocks_event_reasons_counters.')
      )
        return '0';
      return NA;
  }
}

function appFieldValue(field: string, p: FakeGpuProcess, g: FakeGpu, ctx: FakeSmiContext): string {
  switch (field) {
    case 'timestamp':
      return timestamp(ctx.now);
    case 'gpu_name':
      return g.name;
    case 'gpu_bus_id':
      return g.pciBusId;
    case 'gpu_serial':
      return gpuSerial(g);
    case 'gpu_uuid':
      return g.uuid;
    case 'pid':
      return String(p.pid);
    case 'process_name':
      return p.name;
    case 'used_gpu_memory':
      return String(p.usedMiB);
    default:
      return NA;
  }
}

interface ParsedArgs {
  mode: 'query-gpu' | 'query-apps' | 'list' | 'help-gpu' | 'help-apps' | 'plain' | 'version' | 'invalid';
  fields: string[];
  format: { csv: boolean; noheader: boolean; nounits: boolean } | undefined;
  id: string | undefined;
}

export function parseSmiArgs(argv: string[]): ParsedArgs {
  const out: ParsedArgs = { mode: 'plain', fields: [], format: undefined, id: undefined };
  const take = (arg: string, i: number): [string | undefined, number] => {
    const eq = arg.indexOf('=');
    if (eq >= 0) return [arg.slice(eq + 1), i];
    return [argv[i + 1], i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.split('=')[0]!;
    let value: string | undefined;
    switch (name) {
      case '--query-gpu':
        [value, i] = take(arg, i);
        out.mode = 'query-gpu';
        out.fields = (value ?? '')
          .split(',')
          .map((f) => f.trim())
          .filter((f) => f !== '');
        break;
      case '--query-compute-apps':
        [value, i] = take(arg, i);
        out.mode = 'query-apps';
        out.fields = (value ?? '')
          .split(',')
          .map((f) => f.trim())
          .filter((f) => f !== '');
        break;
      case '--format': {
        [value, i] = take(arg, i);
        const opts = (value ?? '').split(',').map((s) => s.trim());
        if (!opts.includes('csv') || opts.some((o) => !['csv', 'noheader', 'nounits'].includes(o)))
          return { ...out, mode: 'invalid' };
        out.format = { csv: true, noheader: opts.includes('noheader'), nounits: opts.includes('nounits') };
        break;
      }
      case '-i':
      case '--id':
        [value, i] = take(arg, i);
        out.id = value;
        break;
      case '-L':
      case '--list-gpus':
        out.mode = 'list';
        break;
      case '--help-query-gpu':
        out.mode = 'help-gpu';
        break;
      case '--help-query-compute-apps':
        out.mode = 'help-apps';
        break;
      case '--version':
        out.mode = 'version';
        break;
      default:
        return { ...out, mode: 'invalid' };
    }
  }
  if (
    (out.mode === 'query-gpu' || out.mode === 'query-apps') &&
    (out.format === undefined || out.fields.length === 0)
  ) {
    return { ...out, mode: 'invalid' };
  }
  return out;
}

function result(stdout: string, exitCode = 0): FakeSmiResult {
  return { stdout, stderr: '', exitCode, delayMs: 0, hang: false, stuckMs: 0 };
}

/** The first fault that makes the run fail, as the real message and exit code. */
function faultOutput(f: FakeGpuFault, state: GpuState, fields: string[]): FakeSmiResult | undefined {
  switch (f.kind) {
    case 'bad-field':
      return result(msgUnknownField(fields[0] ?? 'index'), 2);
    case 'no-library':
      return result(MSG_NO_LIBRARY, 12);
    case 'no-driver':
      return result(MSG_NO_DRIVER, 9);
    case 'gpu-lost':
      return result(state.gpus.map(msgGpuLost).join('') || MSG_UNKNOWN_ERROR, 15);
    case 'unknown-error':
      return result(MSG_UNKNOWN_ERROR, 255);
    case 'version-mismatch':
      return result(msgVersionMismatch(state), 18);
    case 'no-permission':
      return result('Insufficient Permissions\n', 4);
    case 'exit': {
      const m = /^\s*(\d+)\s?([\s\S]*)$/.exec(f.arg ?? '');
      const msg = m?.[2] ?? '';
      return result(msg === '' ? '' : msg.replace(/\\n/g, '\n').replace(/\n?$/, '\n'), m ? Number(m[1]) : 1);
    }
    default:
      return undefined;
  }
}

function selectGpus(state: GpuState, id: string | undefined): FakeGpu[] | undefined {
  if (id === undefined) return state.gpus;
  const wanted = id.split(',');
  const picked = state.gpus.filter((g) =>
    wanted.some((w) => w === String(g.index) || w === g.uuid || w.toLowerCase() === g.pciBusId.toLowerCase()),
  );
  return picked.length === wanted.length ? picked : undefined;
}

function csvLine(values: string[]): string {
  return values.join(', ') + '\n';
}

export function fakeNvidiaSmi(argv: string[], state: GpuState, ctx: FakeSmiContext): FakeSmiResult {
  const args = parseSmiArgs(argv);
  if (args.mode === 'invalid') return result(MSG_INVALID_ARGS, 2);
  if (args.mode === 'help-gpu') return result(readHelp(ctx, 'help-query-gpu.txt'));
  if (args.mode === 'help-apps') return result(readHelp(ctx, 'help-query-compute-apps.txt'));

  // Field names are checked before NVML is touched: a bad field fails even on a broken driver.
  const canonical: string[] = [];
  if (args.mode === 'query-gpu' || args.mode === 'query-apps') {
    const help = helpFields(ctx, args.mode === 'query-gpu' ? 'help-query-gpu.txt' : 'help-query-compute-apps.txt');
    for (const f of args.fields) {
      const c = help.canonical.get(f);
      if (c === undefined) return result(msgUnknownField(f), 2);
      canonical.push(c);
    }
  }

  const target: FaultTarget = args.mode === 'query-apps' ? 'apps' : args.mode === 'list' ? 'list' : 'gpu';
  const faults = state.faults.filter((f) => f.target === 'all' || f.target === target);
  const timing = {
    delayMs: faults.filter((f) => f.kind === 'delay').reduce((s, f) => s + (Number(f.arg) || 0), 0),
    hang: faults.some((f) => f.kind === 'hang'),
    stuckMs: faults.some((f) => f.kind === 'stuck')
      ? Math.min(30000, Math.max(1, Number(faults.find((f) => f.kind === 'stuck')!.arg) || 20000))
      : 0,
  };
  const withTiming = (r: FakeSmiResult): FakeSmiResult => ({ ...r, ...timing });

  if (ctx.inContainer && state.containerNvmlLost) return withTiming(result(MSG_UNKNOWN_ERROR, 255));
  for (const f of faults) {
    const out = faultOutput(f, state, args.fields);
    if (out) return withTiming(out);
  }
  if (args.mode === 'version') {
    return withTiming(
      result(
        `NVIDIA-SMI version  : ${state.driverVersion}\nNVML version        : ${state.driverVersion.split('.')[0]}.${state.driverVersion.split('.').slice(1).join('.')}\nDRIVER version      : ${state.driverVersion}\nCUDA Version        : ${state.cudaVersion}\n`,
      ),
    );
  }

  const gpus = selectGpus(state, args.id);
  if (gpus === undefined) return withTiming(result('No devices were found\n', 6));
  const lost = gpus.filter((g) => g.lost);
  const exitCode = lost.length > 0 ? 15 : 0;

  if (args.mode === 'list') {
    const out = gpus.map((g) => (g.lost ? msgGpuLost(g) : `GPU ${g.index}: ${g.name} (UUID: ${g.uuid})\n`)).join('');
    return withTiming(result(out, exitCode));
  }
  if (args.mode === 'plain') {
    if (lost.length > 0) return withTiming(result(lost.map(msgGpuLost).join(''), 15));
    return withTiming(result(plainTable(state, gpus, ctx.now)));
  }

  const fmt = args.format!;
  const render = (field: string, v: string) => {
    const unit = unitOf(field);
    return unit === undefined || fmt.nounits || v.startsWith('[') ? v : `${v} ${unit}`;
  };
  let out = fmt.noheader ? '' : csvLine(canonical.map((c) => (unitOf(c) ? `${c} [${unitOf(c)}]` : c)));
  if (args.mode === 'query-gpu') {
    for (const g of gpus) {
      out += g.lost ? msgGpuLost(g) : csvLine(canonical.map((c) => render(c, gpuFieldValue(c, g, state, ctx))));
    }
    return withTiming(result(out, exitCode));
  }
  if (lost.length > 0) return withTiming(result(lost.map(msgGpuLost).join(''), 15));
  for (const g of gpus) {
    for (const p of state.procs.filter((pr) => pr.gpuUuid === g.uuid)) {
      out += csvLine(canonical.map((c) => render(c, appFieldValue(c, p, g, ctx))));
    }
  }
  return withTiming(result(out));
}

/** The human table (`nvidia-smi` with no arguments), laid out like plain-busy.txt. */
function plainTable(state: GpuState, gpus: FakeGpu[], now: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (n: number) => String(n).padStart(2, '0');
  const date = `${days[now.getDay()]} ${months[now.getMonth()]} ${p2(now.getDate())} ${p2(now.getHours())}:${p2(now.getMinutes())}:${p2(now.getSeconds())} ${now.getFullYear()}`;
  const wide = '+' + '-'.repeat(89) + '+';
  const cols = '+' + '-'.repeat(41) + '+' + '-'.repeat(24) + '+' + '-'.repeat(22) + '+';
  const eqs = '|' + '='.repeat(41) + '+' + '='.repeat(24) + '+' + '='.repeat(22) + '|';
  const row = (a: string, b: string, c: string) => `|${a.padEnd(41)}|${b.padEnd(24)}|${c.padEnd(22)}|`;
  const lines = [
    `${date}       `,
    wide,
    `| NVIDIA-SMI ${state.driverVersion}             Driver Version: ${state.driverVersion}     CUDA Version: ${state.cudaVersion}`.padEnd(
      90,
    ) + '|',
    cols,
    row(' GPU  Name                 Persistence-M', ' Bus-Id          Disp.A', ' Volatile Uncorr. ECC'),
    row(' Fan  Temp   Perf          Pwr:Usage/Cap', '           Memory-Usage', ' GPU-Util  Compute M.'),
    row('', '', '               MIG M.'),
    eqs,
  ];
  for (const g of gpus) {
    lines.push(
      row(
        `${String(g.index).padStart(4)}  ${g.name.padEnd(31)}On  `,
        `   ${g.pciBusId} Off `,
        String(g.eccUncorrectedVolatileTotal).padStart(21) + ' ',
      ),
    );
    const pwr = `${Math.floor(g.powerDrawW)}W /  ${Math.floor(g.powerLimitW)}W`;
    const mem = `${memoryUsedMiB(state, g)}MiB /  ${g.memoryTotalMiB}MiB`;
    const left = ` N/A   ${g.temperatureC}C    ${g.pstate}`;
    lines.push(
      row(
        left + pwr.padStart(40 - left.length) + ' ',
        mem.padStart(23) + ' ',
        `${String(g.utilizationGpuPct).padStart(7)}%      Default `,
      ),
    );
    lines.push(row('', '', '             Disabled '));
    lines.push(cols);
  }
  lines.push(
    '',
    wide,
    '| Processes:'.padEnd(90) + '|',
    '|  GPU   GI   CI              PID   Type   Process name                        GPU Memory |',
    '|        ID   ID                                                               Usage      |',
    '|' + '='.repeat(89) + '|',
  );
  const procs = state.procs.filter((p) => gpus.some((g) => g.uuid === p.gpuUuid));
  if (procs.length === 0) lines.push('|  No running processes found'.padEnd(90) + '|');
  for (const p of procs) {
    const g = gpus.find((x) => x.uuid === p.gpuUuid)!;
    const name = p.name.length > 36 ? '...' + p.name.slice(-33) : p.name;
    lines.push(
      `|  ${String(g.index).padStart(3)}   N/A  N/A ${String(p.pid).padStart(15)}      C   ${name.padEnd(36)} ${`${p.usedMiB}MiB`.padStart(9)} |`,
    );
  }
  lines.push(wide);
  return lines.join('\n') + '\n';
}
