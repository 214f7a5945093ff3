import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseProcStat } from '../../../../shared/proc/parse-proc-stat.js';
import { repoPath } from '../../../helpers/repo-path.js';

/** A stat line laid out as proc(5) does, with `comm` and the three fields we read set by the test. */
function statLine(pid: number, comm: string, ppid: number, startTime: number): string {
  const fields = ['S', String(ppid)];
  // fields 5..21
  for (let n = 5; n <= 21; n++) fields.push(String(n * 3));
  fields.push(String(startTime));
  for (let n = 23; n <= 52; n++) fields.push('0');
  return `${pid} (${comm}) ${fields.join(' ')}\n`;
}

test('parseProcStat: plain comm', () => {
  const stat = parseProcStat(statLine(412, 'ollama', 1, 2609));
  // statLine puts field N = N * 3 for 5..21 and 0 after 22: utime is field 14, stime 15, rss 24.
  assert.deepEqual(stat, {
    pid: 412,
    comm: 'ollama',
    state: 'S',
    ppid: 1,
    startTime: 2609,
    utimeTicks: 42,
    stimeTicks: 45,
    rssPages: 0,
  });
});

test('parseProcStat: comm with spaces and parentheses is read up to the LAST ")"', () => {
  const stat = parseProcStat(statLine(77, 'a) 9 (b c)', 12, 987654321));
  assert.equal(stat.comm, 'a) 9 (b c)');
  assert.equal(stat.ppid, 12);
  assert.equal(stat.startTime, 987654321);
});

test('parseProcStat: this process, read from the real /proc', () => {
  const stat = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
  assert.equal(stat.pid, process.pid);
  assert.equal(stat.ppid, process.ppid);
  assert.ok(stat.startTime > 0);
});

test('parseProcStat: a stat file captured from a busy node process (Linux 6.x, 52 fields)', () => {
  const stat = parseProcStat(readFileSync(repoPath('test/fixtures/proc/node-stat.txt'), 'utf8'));
  assert.deepEqual(stat, {
    pid: 24413,
    comm: 'node',
    state: 'R',
    ppid: 24404,
    startTime: 950934,
    utimeTicks: 165,
    stimeTicks: 2,
    rssPages: 11569,
  });
});

test('parseProcStat: truncated text throws', () => {
  assert.throws(() => parseProcStat('12 (x) S'), /unparsable/);
  assert.throws(() => parseProcStat(''), /unparsable/);
});
