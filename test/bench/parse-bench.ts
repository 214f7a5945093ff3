// Parser benchmark on the real H100 captures (and 8-GPU / 64-process tables built from them): ops/s of the
// --query-gpu and --query-compute-apps parsers, the help-query parser, and rendering a snapshot to exposition text.
import { readFileSync } from 'node:fs';
import { renderGpuSnapshot, type GpuSnapshot } from '../../exporter/collectors/gpu-collector.js';
import { PromSink } from '../../exporter/metrics/prom-sink.js';
import { parseComputeApps } from '../../shared/gpu/parse-compute-apps.js';
import { parseHelpQuery } from '../../shared/gpu/parse-help-query.js';
import { parseQueryCsv } from '../../shared/gpu/parse-query-csv.js';
import { toGpuReadings } from '../../shared/gpu/to-gpu-readings.js';
import type { BenchRow } from './bench-row.js';
import { measureOpsPerSecond } from './measure-ops-per-second.js';

const capture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/nvidia-smi-h100/${name}`, import.meta.url), 'utf8');

/** The requested field names of a capture, read back from its header (units dropped). */
const fieldsOf = (csv: string) =>
  csv
    .split('\n')[0]!
    .split(', ')
    .map((h) => h.replace(/ \[.*\]$/, ''));

/** The capture's one GPU row copied `n` times with distinct index, uuid and bus id, as an n-GPU host prints it. */
function widen(csv: string, n: number): string {
  const [header, row] = csv.trim().split('\n') as [string, string];
  const rows = Array.from({ length: n }, (_, i) => {
    const cells = row.split(', ');
    cells[0] = String(i);
    cells[1] = `GPU-f88d2996-314d-4abe-0c94-${String(i).padStart(12, '0')}`;
    cells[3] = `00000000:${(0x10 + i).toString(16).toUpperCase()}:00.0`;
    return cells.join(', ');
  });
  return [header, ...rows].join('\n') + '\n';
}

export async function runParseBench(budgetMs = 400): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const add = (caseName: string, opsPerSecond: number) => {
    rows.push({ bench: 'parse', case: caseName, metric: 'throughput', value: opsPerSecond, unit: 'ops/s' });
    rows.push({ bench: 'parse', case: caseName, metric: 'time per op', value: 1e6 / opsPerSecond, unit: 'µs' });
  };

  const gpu1 = capture('query-gpu-nounits-busy.csv');
  const fields = fieldsOf(gpu1);
  const gpu8 = widen(gpu1, 8);
  const check8 = toGpuReadings(parseQueryCsv(gpu8, fields, { freeTextField: 'name' }));
  if (check8.gpus.length !== 8) throw new Error(`widened capture parsed to ${check8.gpus.length} GPUs`);
  add(
    'query-gpu CSV, 1 H100 (real capture)',
    measureOpsPerSecond(() => parseQueryCsv(gpu1, fields, { freeTextField: 'name' }), budgetMs),
  );
  add(
    'query-gpu CSV -> readings, 1 H100',
    measureOpsPerSecond(() => toGpuReadings(parseQueryCsv(gpu1, fields, { freeTextField: 'name' })), budgetMs),
  );
  add(
    'query-gpu CSV -> readings, 8 GPUs',
    measureOpsPerSecond(() => toGpuReadings(parseQueryCsv(gpu8, fields, { freeTextField: 'name' })), budgetMs),
  );
  const withUnits = capture('query-gpu-busy.csv');
  add(
    'query-gpu CSV with units, 1 H100',
    measureOpsPerSecond(
      () => toGpuReadings(parseQueryCsv(withUnits, fieldsOf(withUnits), { freeTextField: 'name' })),
      budgetMs,
    ),
  );

  const apps1 = capture('compute-apps-nounits-runner.csv');
  const appFields = fieldsOf(apps1);
  const [appHeader, appRow] = apps1.trim().split('\n') as [string, string];
  const apps64 =
    [appHeader, ...Array.from({ length: 64 }, (_, i) => appRow.replace(/^\d+/, String(1000 + i)))].join('\n') + '\n';
  if (parseComputeApps(apps64, appFields).length !== 64)
    throw new Error('widened compute-apps capture did not parse to 64 processes');
  add(
    'compute-apps CSV, 1 runner (real capture)',
    measureOpsPerSecond(() => parseComputeApps(apps1, appFields), budgetMs),
  );
  add(
    'compute-apps CSV, 64 processes',
    measureOpsPerSecond(() => parseComputeApps(apps64, appFields), budgetMs),
  );
  const appsUnits = capture('compute-apps-busy.csv');
  add(
    'compute-apps CSV with units, 1 process',
    measureOpsPerSecond(() => parseComputeApps(appsUnits, fieldsOf(appsUnits)), budgetMs),
  );

  const help = capture('help-query-gpu.txt');
  add(
    '--help-query-gpu (once per start)',
    measureOpsPerSecond(() => parseHelpQuery(help), budgetMs),
  );

  // The scrape side: one snapshot of 8 GPUs to exposition text through a fresh registry, as /metrics does.
  const snapshot: GpuSnapshot = {
    gpus: check8.gpus,
    lost: new Map(check8.gpus.map((g) => [g.uuid, false])),
    unidentifiedUnreachable: 0,
    exitCode: 0,
    backend: 'nvidia_smi',
    nvmlStuckSinceMs: null,
  };
  const render = async () => {
    const sink = new PromSink();
    renderGpuSnapshot(snapshot, sink);
    return sink.registry().metrics();
  };
  const text = await render();
  if (!text.includes('sentinel_gpu_memory_used_bytes')) throw new Error('render produced no GPU series');
  // Async: measured with awaited calls in a time-bounded loop.
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < budgetMs) {
    await render();
    n++;
  }
  add('render 8 GPUs to exposition text', (n * 1000) / (performance.now() - start));
  return rows;
}
