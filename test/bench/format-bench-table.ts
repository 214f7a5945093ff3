import type { BenchRow } from './bench-row.js';

/** Plain-text table, one line per number, grouped by bench and case in the order measured. */
export function formatBenchTable(rows: readonly BenchRow[]): string {
  const cells = rows.map((r) => [r.bench, r.case, r.metric, formatNumber(r.value), r.unit]);
  const head = ['bench', 'case', 'metric', 'value', 'unit'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    c
      .map((x, i) => (i === 3 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')];
  let last = '';
  for (const c of cells) {
    const group = `${c[0]}|${c[1]}`;
    // Repeat the bench and case only where they change, so the numbers stand out.
    out.push(line(group === last ? ['', '', ...c.slice(2)] : c));
    last = group;
  }
  return out.join('\n') + '\n';
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  return abs >= 100 ? v.toFixed(0) : abs >= 1 ? v.toFixed(2) : v.toPrecision(3);
}
