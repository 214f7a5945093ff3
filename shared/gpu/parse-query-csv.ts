import type { FieldCatalog } from './parse-help-query.js';
import { NvidiaSmiError } from './nvidia-smi-error.js';
import { parseDeviceError, type DeviceError } from './parse-device-error.js';
import { splitCsvRow } from './split-csv-row.js';

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

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}
