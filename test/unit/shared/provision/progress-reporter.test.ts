import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressReporter } from '../../../../shared/provision/progress-reporter.js';

function sink(tty: boolean) {
  const writes: string[] = [];
  return { writes, stream: { write: (s: string) => writes.push(s), isTTY: tty, columns: 100 } };
}

test('plain mode: one line per step plus one per interval, each ending in a newline', () => {
  const { writes, stream } = sink(false);
  let now = 0;
  const r = new ProgressReporter({ stream, intervalMs: 10_000, prefix: 'init x: ', now: () => now });
  r.start('m:1', 'pull');
  r.update({ status: 'pulling manifest' });
  for (now = 100; now <= 25_000; now += 100) r.update({ status: 'pulling aaaaaaaaaaaa', digest: 'sha256:aaaaaaaaaaaa', total: 1e9, completed: now * 1000 });
  r.update({ status: 'verifying sha256 digest' });
  r.update({ status: 'success' });
  r.finish();
  assert.equal(writes.length, 5, writes.join(''));
  assert.ok(writes.every((w) => w.endsWith('\n') && !w.includes('\r')));
  assert.match(writes[0]!, /^init x: pull m:1: pulling manifest/);
  assert.match(writes[1]!, /pulling aaaaaaaaaaaa, 0%/);
  assert.match(writes[2]!, /, 1% \(10\.1 MB of 1\.00 GB\)/);
  assert.match(writes[3]!, /, 2% \(20\.1 MB of 1\.00 GB\)/);
  assert.match(writes[4]!, /verifying sha256 digest/);
});

test('terminal: redraws in place with \\r, throttled, and ends the bar with a newline', () => {
  const { writes, stream } = sink(true);
  let now = 0;
  const r = new ProgressReporter({ stream, intervalMs: 10_000, now: () => now, ttyIntervalMs: 200 });
  r.start('m:1', 'pull');
  for (now = 0; now < 1_000; now += 10) r.update({ status: 'pulling aaaaaaaaaaaa', digest: 'sha256:aaaaaaaaaaaa', total: 1000, completed: now });
  const draws = writes.filter((w) => w.startsWith('\r') && w.includes('m:1'));
  assert.equal(draws.length, 5, 'one draw per 200 ms over one second');
  assert.ok(writes.every((w) => !w.includes('\n')));
  r.finish();
  assert.equal(writes[writes.length - 1], '\n');
  assert.match(writes[writes.length - 2]!, /^\rm:1 {2}\[#+\.*\] +99%/);
});

test('terminal: a standalone line clears the bar first; no stray clear when no bar is shown', () => {
  const { writes, stream } = sink(true);
  const r = new ProgressReporter({ stream, intervalMs: 10_000, now: () => 0 });
  r.line('before');
  assert.deepEqual(writes, ['before\n']);
  r.start('m:1', 'pull');
  r.update({ status: 'pulling manifest' });
  r.line('attempt 1/3 failed');
  assert.equal(writes[writes.length - 2], '\r\x1b[K');
  assert.equal(writes[writes.length - 1], 'attempt 1/3 failed\n');
  r.finish();
  assert.equal(writes[writes.length - 1], 'attempt 1/3 failed\n', 'nothing left to finish once the bar was cleared');
});

test('updates outside a start/finish pair are ignored', () => {
  const { writes, stream } = sink(false);
  const r = new ProgressReporter({ stream, intervalMs: 1, now: () => 0 });
  r.update({ status: 'pulling manifest' });
  r.finish();
  assert.deepEqual(writes, []);
});
