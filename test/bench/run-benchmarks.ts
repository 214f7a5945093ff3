// `npm run bench`: machine info, then each benchmark, then one table. Numbers only: nothing here passes or fails
// on speed. Bounded: fixed request counts and time-boxed loops (about a minute on a 2-core machine).
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { BenchRow } from './bench-row.js';
import { runExporterBench } from './exporter-bench.js';
import { formatBenchTable } from './format-bench-table.js';
import { runParseBench } from './parse-bench.js';
import { runScrapeBench } from './scrape-bench.js';

const REMEDIATOR_BENCH = new URL('./remediator-bench.js', import.meta.url);
/** The source tree's copy (this file runs from dist/test/bench/). */
const RESULTS = new URL('../../../test/bench/RESULTS.md', import.meta.url);

/** Whatever the remediator bench returns, as rows: each numeric field of each result object is one row. */
function toRows(result: unknown): BenchRow[] {
  if (!Array.isArray(result)) return [];
  return result.flatMap((r: Record<string, unknown>) => {
    if (r && typeof r === 'object' && 'bench' in r && 'metric' in r) return [r as unknown as BenchRow];
    const label = r.scenario ?? r.name ?? r.case;
    const caseName = typeof label === 'string' || typeof label === 'number' ? String(label) : 'run';
    return Object.entries(r)
      .filter(([, v]) => typeof v === 'number')
      .map(([k, v]) => {
        const unit = /Ms$/.test(k) ? 'ms' : /Bytes$/.test(k) ? 'bytes' : /PerSecond$/.test(k) ? '/s' : 'count';
        return {
          bench: 'remediator',
          case: caseName,
          metric: k.replace(/(Ms|Bytes|PerSecond)$/, ''),
          value: v as number,
          unit,
        };
      });
  });
}

async function main(): Promise<void> {
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`;
  process.stdout.write(
    [
      `machine: ${machine}`,
      `node ${process.version} (${process.platform}/${process.arch})`,
      'fake nvidia-smi = sh + a Node script: its spawn cost is Node start-up, not NVML (a real H100 query takes 28-36 ms, see gpu-exporters.md).',
      '',
    ].join('\n') + '\n',
  );
  const rows: BenchRow[] = [];
  const timings: string[] = [];
  const run = async (name: string, fn: () => Promise<BenchRow[]>) => {
    const t0 = performance.now();
    process.stdout.write(`running ${name} ...\n`);
    try {
      rows.push(...(await fn()));
    } catch (err) {
      process.stdout.write(`${name} failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
    timings.push(`${name} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };

  await run('parse', () => runParseBench());
  await run('exporter', () => runExporterBench());
  await run('scrape', () => runScrapeBench());
  if (existsSync(REMEDIATOR_BENCH)) {
    await run('remediator', async () => {
      const mod = (await import(REMEDIATOR_BENCH.href)) as {
        runRemediatorBench?: () => Promise<unknown>;
        default?: () => Promise<unknown>;
      };
      const fn = mod.runRemediatorBench ?? mod.default;
      if (typeof fn !== 'function') throw new Error('remediator-bench.js exports no runRemediatorBench()');
      return toRows(await fn());
    });
  } else {
    process.stdout.write('remediator bench: skipped (test/bench/remediator-bench.ts not written yet)\n');
  }
  const table = formatBenchTable(rows);
  process.stdout.write(`\n${table}\ntime: ${timings.join(', ')}\n`);
  // The numbers travel with the code: committed, with the machine they were measured on.
  writeFileSync(
    RESULTS,
    [
      '# Benchmark results',
      '',
      `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}; rerun it to refresh. Ratios measured in one`,
      'run are the claims; absolute times hold only for the machine named here.',
      '',
      `- machine: ${machine}`,
      `- node ${process.version} (${process.platform}/${process.arch})`,
      `- time: ${timings.join(', ')}`,
      '',
      '```',
      table.trimEnd(),
      '```',
      '',
    ].join('\n'),
  );
  process.stdout.write(`wrote ${RESULTS.pathname}\n`);
}

await main();
