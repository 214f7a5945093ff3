/**
 * The conformance check against the simulator's 0.33.0 profile (split from ollama-conformance.test.ts so the two
 * profiles run in parallel; ~8 s of real timings).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runConformanceOnSim, statusesOf } from '../../helpers/run-conformance-on-sim.js';

/** Every row as the real 0.33 server behaves, except row 5: the 0.33 profile retries an OOM load itself (smaller
 * context), so one armed OOM is absorbed and nothing is provoked. */
test('the check against the simulator, 0.33.0 profile: every row conforms (row 5 absorbed by the OOM retry)', async (t) => {
  const report = await runConformanceOnSim(t, '0.33.0');
  const why = report.results.map((r) => `${r.row} ${r.status} ${r.seen ?? r.reason ?? ''}`).join('\n');
  assert.deepEqual(
    statusesOf(report.results),
    {
      1: 'PASS',
      2: 'PASS',
      3: 'PASS',
      4: 'PASS',
      5: 'SKIP',
      6: 'PASS',
      7: 'PASS',
      8: 'PASS',
      9: 'PASS',
      10: 'PASS',
      11: 'PASS',
      12: 'PASS',
      13: 'PASS',
    },
    why,
  );
  const r8 = report.results.find((r) => r.row === 8);
  assert.match(r8?.seen ?? '', /without the loading model/);
  assert.deepEqual(report.cleanupProblems, []);
});
