import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseWrk } from '../../bench/parse-wrk.js';
import { repoPath } from '../../helpers/repo-path.js';

const fixture = (name: string) => readFileSync(repoPath('test/fixtures/wrk', name), 'utf8');

test('parseWrk: a real wrk 4.1 report (Debian, --latency) against node_exporter', () => {
  assert.deepEqual(parseWrk(fixture('node-exporter-10c.txt')), {
    requests: 212,
    seconds: 2,
    requestsPerSecond: 105.78,
    p50Ms: 90.24,
    p99Ms: 140.12,
    maxMs: 144.62,
    non2xx: 0,
    socketErrors: 0,
  });
});

test('parseWrk: seconds in the percentiles, refused answers and socket errors are counted', () => {
  const r = parseWrk(fixture('overloaded.txt'));
  assert.equal(r.p99Ms, 1290);
  assert.equal(r.maxMs, 1290);
  assert.equal(r.non2xx, 574);
  assert.equal(r.socketErrors, 3);
  assert.equal(r.seconds, 5.01);
});

test('parseWrk: output without a latency distribution (no --latency) is an error that names the line', () => {
  const text = fixture('node-exporter-10c.txt').replace(/ {2}Latency Distribution[\s\S]*?99%.*\n/, '');
  assert.throws(() => parseWrk(text), /no 50% latency line/);
});
