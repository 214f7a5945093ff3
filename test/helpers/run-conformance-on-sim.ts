/**
 * Test helper: runs the conformance check (test/conformance/) against a simulator of the given version, the way an
 * operator runs it against a real server, with the sim's timings shortened. Rows 8 and 5 run in their own passes:
 * row 8 needs a load slow enough to watch, row 5 needs the sim's OOM fault armed for its one load.
 */
import type { RowResult, RowStatus } from '../conformance/conformance-context.js';
import { runConformance, type ConformanceReport } from '../conformance/ollama-conformance.js';
import { withSim, type TestContextLike } from './with-sim.js';

export async function runConformanceOnSim(t: TestContextLike, version: string): Promise<ConformanceReport> {
  const { sim } = await withSim(t, { version, models: ['qwen2.5:0.5b'] });
  // Generations must outlast the rows that watch them (the check stops them itself).
  await sim.control.configure({ tokenDelayMs: 10 });
  const options = {
    ollama: sim.url,
    model: 'qwen2.5:0.5b',
    numParallel: 1,
    gpuVramGib: 79, // the sim's one H100 (81559 MiB)
    createBase: 'llama3.1:8b', // in the sim's catalogue, not local
    oomModel: 'qwen2.5:0.5b',
    proc: true, // the sim's runners are real processes on this host
    destructive: true,
    rowTimeoutS: 20,
    observeMs: 500,
    keepAliveS: 2, // row 2: the generation must start before it runs out, even on a loaded machine
  };
  const main = await runConformance({ ...options, rows: [1, 2, 3, 4, 6, 7, 9, 10, 11, 12, 13] });
  await sim.control.setLoadDelay(800);
  const load = await runConformance({ ...options, rows: [8] });
  await sim.control.setLoadDelay(5);
  await sim.control.setOomOnLoad(1);
  const oom = await runConformance({ ...options, rows: [5] });
  const results = [...main.results, ...load.results, ...oom.results].sort((a, b) => a.row - b.row);
  return {
    ...main,
    results,
    cleanupProblems: [...main.cleanupProblems, ...load.cleanupProblems, ...oom.cleanupProblems],
  };
}

/** Row number -> status, for one assertion per report. */
export function statusesOf(results: readonly RowResult[]): Record<number, RowStatus> {
  return Object.fromEntries(results.map((r) => [r.row, r.status]));
}
