import type { FieldCatalog } from './parse-help-query.js';
import { NvidiaSmiError } from './run-nvidia-smi.js';
import { parseDeviceError, type DeviceError } from './parse-device-error.js';

/** One cell: `ok` false for `[N/A]`, `N/A`, `[Not Supported]`, `[GPU is lost]`... (text kept for diagnosis). */
export type Cell = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly text: string };

/** Cells keyed by the field name as REQUESTED (not as the header spells it). */
export type QueryRow = ReadonlyMap<string, Cell>;

export interface QueryTable {
  readonly fields: readonly string[];
  /** Unit named in the header (`memory.used [MiB]` -> "MiB"), undefined when the header names none. */
  readonly units: ReadonlyMap<string, string | undefined>;
  readonly rows: readonly QueryRow[];
  /** "Unable to determine the device handle for GPU ..." lines: a GPU that did not answer. */
  readonly deviceErrors: readonly DeviceError[];
  /** Lines that were neither a row nor a device error (warnings nvidia-smi mixes into stdout). */
  readonly otherLines: readonly string[];
}

export interface ParseQueryCsvOptions {
  /** From --help-query-*: lets a requested alias match the canonical header (`clocks.sm` -> `clocks.current.sm`). */
  readonly catalog?: FieldCatalog;
  /** A requested field whose values may contain ", " (read outside-in), e.g. "name" or "process_name". */
  readonly freeTextField?: string;
}

// Renames seen in the real H100 help texts, for callers that have no catalog (compute-apps is never help-checked).
const BUILTIN_CANONICAL: ReadonlyMap<string, string> = new Map([
  ['clocks.sm', 'clocks.current.sm'],
  ['clocks.mem', 'clocks.current.memory'],
  ['clocks.gr', 'clocks.current.graphics'],
  ['clocks.video', 'clocks.current.video'],
  ['gpu_name', 'name'],
  ['gpu_uuid', 'uuid'],
  ['gpu_serial', 'serial'],
  ['gpu_bus_id', 'pci.bus_id'],
  ['clocks_throttle_reasons.active', 'clocks_event_reasons.active'],
  ['used_memory', 'used_gpu_memory'],
  ['gpu.power.requested_limit', 'power.limit'],
  ['gpu.power.current_limit', 'enforced.power.limit'],
]);

const HEADER_COLUMN = /^(.*?)\s*(?:\[([^\]]*)\])?$/;

/**
 * Parses `nvidia-smi --query-...=<fields> --format=csv[,nounits]` output with its header line kept. The header is
 * checked against the requested fields so a renamed or reordered column can never be read as another field.
 */
export function parseQueryCsv(stdout: string, fields: readonly string[], opts: ParseQueryCsvOptions = {}): QueryTable {
  const lines = stdout.split(/\r?\n/).map((l) => l.trimEnd());
  const units = new Map<string, string | undefined>();
  const rows: QueryRow[] = [];
  const deviceErrors: DeviceError[] = [];
  const otherLines: string[] = [];
  const freeTextIndex = opts.freeTextField === undefined ? undefined : fields.indexOf(opts.freeTextField);
  let headerSeen = false;

  for (const line of lines) {
    if (line.trim() === '') continue;
    const deviceError = parseDeviceError(line);
    if (deviceError) {
      deviceErrors.push(deviceError);
      continue;
    }
    if (!headerSeen) {
      readHeader(line, fields, opts.catalog, units);
      headerSeen = true;
      continue;
    }
    const cells = splitCsvRow(line, fields.length, freeTextIndex);
    if (!cells) {
      otherLines.push(line);
      continue;
    }
    const row = new Map<string, Cell>();
    fields.forEach((field, i) => row.set(field, toCell(cells[i]!, units.get(field))));
    rows.push(row);
  }
  return { fields, units, rows, deviceErrors, otherLines };
}

function readHeader(
  line: string,
  fields: readonly string[],
  catalog: FieldCatalog | undefined,
  units: Map<string, string | undefined>,
): void {
  const columns = line.split(', ');
  if (columns.length !== fields.length) {
    throw new NvidiaSmiError(
      'parse',
      `nvidia-smi header has ${columns.length} columns but ${fields.length} fields were asked for: "${clip(line)}"`,
    );
  }
  columns.forEach((column, i) => {
    const m = HEADER_COLUMN.exec(column.trim())!;
    const name = m[1]!;
    const asked = fields[i]!;
    if (!sameField(asked, name, catalog)) {
      throw new NvidiaSmiError(
        'parse',
        `nvidia-smi header column ${i + 1} is "${name}" but "${asked}" was asked for there (header: "${clip(line)}")`,
      );
    }
    units.set(asked, m[2] === undefined || m[2] === '' ? undefined : m[2]);
  });
}

function sameField(asked: string, header: string, catalog: FieldCatalog | undefined): boolean {
  if (asked === header) return true;
  const canon = (n: string) => catalog?.canonical.get(n) ?? BUILTIN_CANONICAL.get(n) ?? n;
  return canon(asked) === canon(header);
}

function toCell(raw: string, unit: string | undefined): Cell {
  const text = raw.trim();
  // nvidia-smi marks every unavailable value with brackets ([N/A], [Not Supported], [GPU is lost]...) or bare N/A.
  if (text === '' || text === 'N/A' || /^\[.*\]$/.test(text)) return { ok: false, text };
  // Without `nounits` the unit follows the value ("4467 MiB", "100 %"): drop it, the header already names it.
  if (unit !== undefined && text.endsWith(` ${unit}`)) return { ok: true, text: text.slice(0, -unit.length - 1) };
  return { ok: true, text };
}

/**
 * Splits one nvidia-smi CSV line (fields joined by ", ", never quoted) into exactly `count` cells. Free text (a
 * process or product name) may itself contain ", ", so it is read outside-in: the cells left of `freeTextIndex`
 * from the left, the cells right of it from the right, and the free-text cell is whatever lies between.
 * Returns undefined when the line has too few cells.
 */
export function splitCsvRow(line: string, count: number, freeTextIndex?: number): string[] | undefined {
  const parts = line.split(', ');
  if (parts.length === count) return parts.map((p) => p.trim());
  if (parts.length < count || freeTextIndex === undefined || freeTextIndex < 0 || freeTextIndex >= count) {
    return undefined;
  }
  const right = count - freeTextIndex - 1;
  const head = parts.slice(0, freeTextIndex);
  const tail = right === 0 ? [] : parts.slice(parts.length - right);
  const middle = parts.slice(freeTextIndex, parts.length - right).join(', ');
  return [...head, middle, ...tail].map((p) => p.trim());
}

// Header unit -> factor to the Prometheus base unit. A unit not listed here is never guessed at.
const TO_BASE: ReadonlyMap<string | undefined, number> = new Map<string | undefined, number>([
  [undefined, 1],
  ['MiB', 1048576],
  ['KiB', 1024],
  ['GiB', 1073741824],
  ['%', 0.01],
  ['W', 1],
  ['mW', 0.001],
  ['MHz', 1e6],
  ['C', 1],
  ['us', 1e-6],
  ['ms', 1e-3],
]);

/**
 * A numeric cell converted to base units using the header's unit (MiB -> bytes, % -> ratio, MHz -> hertz...).
 * Undefined for unavailable cells, non-numbers and unknown units: such a series is omitted, never faked.
 */
export function cellNumber(cell: Cell | undefined, unit: string | undefined): number | undefined {
  if (!cell?.ok) return undefined;
  const factor = TO_BASE.get(unit);
  if (factor === undefined) return undefined;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(cell.text)) return undefined;
  // Fractions divide (41 / 100 = 0.41) rather than multiply (41 * 0.01 = 0.41000000000000003): the same value NVML
  // readings give, and no float noise in the exposition.
  const value = factor < 1 ? Number(cell.text) / Math.round(1 / factor) : Number(cell.text) * factor;
  return Number.isFinite(value) ? value : undefined;
}

/** `P0` (maximum performance) .. `P15` -> 0..15; anything else (e.g. `[Unknown]`) -> undefined. */
export function parsePstate(text: string): number | undefined {
  const m = /^P(\d{1,2})$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 15 ? n : undefined;
}

const ON = new Set(['enabled', 'yes', 'active', 'on']);
const OFF = new Set(['disabled', 'no', 'not active', 'off']);

/** nvidia-smi's two-state words (`Enabled`/`Disabled`, `Yes`/`No`, `Active`/`Not Active`) -> 1/0, else undefined. */
export function parseEnabled(text: string): 0 | 1 | undefined {
  const t = text.trim().toLowerCase();
  if (ON.has(t)) return 1;
  if (OFF.has(t)) return 0;
  return undefined;
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}
