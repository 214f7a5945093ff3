import type { Cell } from './parse-query-csv.js';

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
  const value = Number(cell.text) * factor;
  return Number.isFinite(value) ? value : undefined;
}
