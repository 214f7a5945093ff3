/**
 * The conformance check (test/conformance/) itself: its runner against tiny local servers (PASS, FAIL, SKIP, the
 * per-row deadline, the command line), and the whole check against the simulator's 0.12.6 profile. The 0.33.0 profile
 * runs in ollama-conformance-sim-033.test.ts (a separate file so the two run in parallel: each takes ~8 s of real
 * timings — loads, a keep_alive that must run out, generations that must be watched).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { parseConformanceArgs, runConformance, formatReport } from '../../conformance/ollama-conformance.js';
import { startLocalServer, type RecordedRequest } from '../../helpers/local-server.js';
import { runConformanceOnSim, statusesOf } from '../../helpers/run-conformance-on-sim.js';

/** A minimal "Ollama" answering /api/version, /api/tags, /api/ps, and HEAD /api/ps with `headPsStatus`. */
async function tinyOllama(t: { after: (fn: () => unknown) => void }, headPs: (res: http.ServerResponse) => void) {
  const server = await startLocalServer((req: RecordedRequest, res) => {
    const json = (body: unknown) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'HEAD' && req.url === '/api/ps') return headPs(res);
    if (req.url === '/api/version') return json({ version: '0.33.0' });
    if (req.url === '/api/tags' || req.url === '/api/ps') return json({ models: [] });
    res.writeHead(404);
    res.end();
  });
  t.after(() => server.close());
  return server;
}

const base = { proc: false, destructive: false, rowTimeoutS: 5 };

test('row 13 passes on a server answering HEAD /api/ps 405, fails with the expectation and what was seen on 200', async (t) => {
  const good = await tinyOllama(t, (res) => {
    res.writeHead(405);
    res.end();
  });
  const ok = await runConformance({ ...base, ollama: good.url, rows: [13] });
  assert.deepEqual(
    ok.results.map((r) => [r.row, r.status, r.seen]),
    [[13, 'PASS', 'HTTP 405']],
  );

  const bad = await tinyOllama(t, (res) => {
    res.writeHead(200);
    res.end();
  });
  const ko = await runConformance({ ...base, ollama: bad.url, rows: [13] });
  const [r] = ko.results;
  assert.equal(r?.status, 'FAIL');
  assert.equal(r?.expected, 'HTTP 405 (Method Not Allowed)');
  assert.equal(r?.seen, 'HTTP 200');
  assert.match(r?.source ?? '', /server\/routes\.go GenerateRoutes/);
  const text = formatReport(ko);
  assert.match(text, /row 13 {2}FAIL {2}HEAD \/api\/ps answers 405/);
  assert.match(text, /expected: HTTP 405 \(Method Not Allowed\)\n {10}seen: {5}HTTP 200/);
  assert.match(text, /0 passed, 1 failed, 0 skipped$/);
});

test('rows that need a model skip with the reason when the server has none; a row past its deadline fails', async (t) => {
  const hanging = await tinyOllama(t, () => {
    // never answers: the row's deadline must end it
  });
  const started = Date.now();
  const report = await runConformance({ ...base, ollama: hanging.url, rows: [2, 13], rowTimeoutS: 1 });
  assert.ok(Date.now() - started < 4000, 'bounded by the row deadline');
  const [r2, r13] = report.results;
  assert.equal(r2?.status, 'SKIP');
  assert.match(r2?.reason ?? '', /no local completion model/);
  assert.equal(r13?.status, 'FAIL');
  assert.equal(r13?.expected, 'the check finishes within 1 s');
});

test('command line: --ollama is required, rows and numbers are checked, defaults are safe', () => {
  assert.throws(() => parseConformanceArgs([]), /--ollama URL is required/);
  assert.throws(() => parseConformanceArgs(['--ollama', 'http://127.0.0.1:1', '--rows', '14']), /--rows/);
  assert.throws(
    () => parseConformanceArgs(['--ollama', 'http://127.0.0.1:1', '--num-parallel', '0']),
    /--num-parallel/,
  );
  const o = parseConformanceArgs(['--ollama', 'http://127.0.0.1:11434', '--rows', '1,13', '--num-parallel', '4']);
  assert.deepEqual(o.rows, [1, 13]);
  assert.equal(o.numParallel, 4);
  assert.equal(o.destructive, false, 'rows 3 and 5 only on request');
  assert.equal(o.proc, false);
  assert.equal(o.json, false);
  assert.equal(o.rowTimeoutS, 120);
});

/** The simulator's 0.12 profile conforms on every row (the check's own PASS path for each). */
test('the check against the simulator, 0.12.6 profile: every row conforms', async (t) => {
  const report = await runConformanceOnSim(t, '0.12.6');
  const why = report.results.map((r) => `${r.row} ${r.status} ${r.seen ?? r.reason ?? ''}`).join('\n');
  assert.deepEqual(
    statusesOf(report.results),
    {
      1: 'PASS',
      2: 'PASS',
      3: 'PASS',
      4: 'PASS',
      5: 'PASS',
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
  assert.deepEqual(report.cleanupProblems, []);
  const r13 = report.results.find((r) => r.row === 13);
  assert.equal(r13?.seen, 'HTTP 405');
});
