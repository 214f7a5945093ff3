import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyProgress,
  SPEED_WINDOW_MS,
  newProgressState,
  progressTotals,
  shouldRender,
  type ProgressState,
  renderProgress,
  ProgressReporter,
  formatBytes,
  formatDurationMs,
} from '../../../../shared/init/init-progress.js';

const A = 'sha256:aaaaaaaaaaaaaaaaaaaa';
const B = 'sha256:bbbbbbbbbbbbbbbbbbbb';

test('tracks each layer by digest and keeps the latest status', () => {
  let s = newProgressState('gpt-oss:20b', 'pull', 1000);
  s = applyProgress(s, { status: 'pulling manifest' }, 1000);
  assert.equal(s.status, 'pulling manifest');
  assert.deepEqual(s.layers, []);
  // A layer's first line carries no `completed`.
  s = applyProgress(s, { status: 'pulling aaaaaaaaaaaa', digest: A, total: 1000 }, 1100);
  s = applyProgress(s, { status: 'pulling aaaaaaaaaaaa', digest: A, total: 1000, completed: 400 }, 1200);
  s = applyProgress(s, { status: 'pulling bbbbbbbbbbbb', digest: B, total: 50, completed: 50 }, 1300);
  s = applyProgress(s, { status: 'verifying sha256 digest' }, 1400);
  assert.equal(s.status, 'verifying sha256 digest');
  assert.deepEqual(s.layers, [
    { digest: A, total: 1000, completed: 400 },
    { digest: B, total: 50, completed: 50 },
  ]);
});

test('does not mutate the previous state (pure)', () => {
  const s0 = newProgressState('m:1', 'pull', 0);
  const s1 = applyProgress(s0, { status: 'pulling x', digest: A, total: 10, completed: 5 }, 10);
  assert.deepEqual(s0.layers, []);
  assert.deepEqual(s0.samples, []);
  assert.equal(s0.status, 'starting');
  assert.equal(s1.layers.length, 1);
});

test('clamps completed to [0, total] and ignores lines without a usable total', () => {
  let s = newProgressState('m:1', 'pull', 0);
  s = applyProgress(s, { digest: A, total: 100, completed: 250 }, 1);
  s = applyProgress(s, { digest: B, total: 100, completed: -4 }, 2);
  s = applyProgress(s, { digest: 'sha256:c', total: 0, completed: 0 }, 3);
  s = applyProgress(s, { digest: 'sha256:d', total: 'big', completed: 3 }, 4);
  assert.deepEqual(
    s.layers.map((l) => [l.digest, l.completed]),
    [
      [A, 100],
      [B, 0],
    ],
  );
});

test('samples closer than the spacing replace each other; old ones leave the window but a baseline stays', () => {
  let s = newProgressState('m:1', 'pull', 0);
  for (let t = 0; t <= 30_000; t += 50) s = applyProgress(s, { digest: A, total: 1e12, completed: t * 1000 }, t);
  assert.ok(s.samples.length <= SPEED_WINDOW_MS / 250 + 3, `kept ${s.samples.length} samples`);
  const first = s.samples[0]!;
  const last = s.samples[s.samples.length - 1]!;
  assert.equal(last.atMs, 30_000);
  assert.ok(first.atMs <= 30_000 - SPEED_WINDOW_MS, 'a sample at or before the window start is kept as baseline');
  assert.ok(s.samples[1]!.atMs > 30_000 - SPEED_WINDOW_MS, 'only one sample older than the window');
});

test('nothing known yet: no fraction, no speed, elapsed from the start', () => {
  const t = progressTotals(newProgressState('m:1', 'pull', 5_000), 7_500);
  assert.equal(t.totalBytes, 0);
  assert.equal(t.fraction, undefined);
  assert.equal(t.bytesPerSecond, undefined);
  assert.equal(t.etaMs, undefined);
  assert.equal(t.elapsedMs, 2_500);
});

test('steady 100 MB/s: speed and ETA follow from the samples', () => {
  let s = newProgressState('m:1', 'pull', 0);
  for (let ms = 0; ms <= 4_000; ms += 500) s = applyProgress(s, { digest: A, total: 1e9, completed: ms * 100_000 }, ms);
  const t = progressTotals(s, 4_000);
  assert.equal(t.completedBytes, 400_000_000);
  assert.equal(t.fraction, 0.4);
  assert.equal(t.bytesPerSecond, 100_000_000);
  assert.equal(t.etaMs, 6_000);
});

test('a stalled download shows its speed falling instead of freezing', () => {
  let s = newProgressState('m:1', 'pull', 0);
  for (let ms = 0; ms <= 2_000; ms += 500) s = applyProgress(s, { digest: A, total: 1e9, completed: ms * 100_000 }, ms);
  const moving = progressTotals(s, 2_000).bytesPerSecond!;
  const stalled = progressTotals(s, 6_000).bytesPerSecond!;
  assert.equal(moving, 100_000_000);
  assert.ok(stalled < moving / 2, `speed after 4 s without progress: ${stalled}`);
});

test('too short a span gives no speed (a single burst would show nonsense)', () => {
  let s = newProgressState('m:1', 'pull', 0);
  s = applyProgress(s, { digest: A, total: 1e9, completed: 0 }, 0);
  s = applyProgress(s, { digest: A, total: 1e9, completed: 5e8 }, 300);
  assert.equal(progressTotals(s, 300).bytesPerSecond, undefined);
});

test('complete: fraction 1 and zero time left', () => {
  let s = newProgressState('m:1', 'pull', 0);
  s = applyProgress(s, { digest: A, total: 100, completed: 0 }, 0);
  s = applyProgress(s, { digest: A, total: 100, completed: 100 }, 1_000);
  const t = progressTotals(s, 1_000);
  assert.equal(t.fraction, 1);
  assert.equal(t.etaMs, 0);
});

const at = (status: string) => ({ ...newProgressState('m:1', 'pull', 0), status });

test('first update is always drawn', () => {
  assert.equal(shouldRender(undefined, at('pulling manifest'), 0, 10_000), true);
});

test('same step: drawn only once the interval has passed', () => {
  const last = { atMs: 1_000, status: 'pulling 6e4c38e1172f' };
  assert.equal(shouldRender(last, at('pulling 6e4c38e1172f'), 10_999, 10_000), false);
  assert.equal(shouldRender(last, at('pulling 6e4c38e1172f'), 11_000, 10_000), true);
});

test('a new step is drawn at once, but moving to the next layer is not a new step', () => {
  const last = { atMs: 1_000, status: 'pulling 6e4c38e1172f' };
  assert.equal(shouldRender(last, at('verifying sha256 digest'), 1_001, 10_000), true);
  assert.equal(shouldRender(last, at('pulling fa6710a93d78'), 1_001, 10_000), false);
  const manifest = { atMs: 1_000, status: 'pulling manifest' };
  assert.equal(shouldRender(manifest, at('pulling fa6710a93d78'), 1_001, 10_000), true);
  const create = { atMs: 1_000, status: 'using existing layer sha256:3adf8ce5e6c8' };
  assert.equal(shouldRender(create, at('using existing layer sha256:af395494e25f'), 1_001, 10_000), false);
  assert.equal(shouldRender(create, at('creating new layer sha256:af395494e25f'), 1_001, 10_000), true);
});

test('the final success is left to the result line', () => {
  assert.equal(shouldRender(undefined, at('success'), 0, 0), false);
  assert.equal(shouldRender({ atMs: 0, status: 'writing manifest' }, at('success'), 99_999, 10), false);
});

const LAYER = 'sha256:6e4c38e1172f0000';

/** 13.8 GB model downloading at 100 MB/s for `seconds`. */
function downloading(seconds: number, attempt = 1): ProgressState {
  let s = newProgressState('gpt-oss:20b', 'pull', 0, attempt);
  s = applyProgress(s, { status: 'pulling manifest' }, 0);
  for (let ms = 0; ms <= seconds * 1000; ms += 500) {
    s = applyProgress(
      s,
      { status: 'pulling 6e4c38e1172f', digest: LAYER, total: 13_780_000_000, completed: ms * 100_000 },
      ms,
    );
  }
  return s;
}

test('plain line (docker logs): status, percent, sizes, speed, ETA and elapsed', () => {
  const line = renderProgress(downloading(60), 60_000, { tty: false, prefix: 'init main: ' });
  assert.equal(
    line,
    'init main: pull gpt-oss:20b: pulling 6e4c38e1172f, 43% (6.00 GB of 13.8 GB), at 100 MB/s, ETA 1m17s, 1m00s elapsed',
  );
});

test('plain line before sizes are known shows the status and elapsed time only', () => {
  let s = newProgressState('llama3:latest', 'pull', 1_000);
  s = applyProgress(s, { status: 'pulling manifest' }, 1_000);
  assert.equal(renderProgress(s, 1_250, { tty: false }), 'pull llama3:latest: pulling manifest, 250ms elapsed');
});

test('a retry is marked with its attempt number; create says create', () => {
  assert.match(renderProgress(downloading(2, 3), 2_000, { tty: false }), /^pull gpt-oss:20b \(attempt 3\): /);
  const created = applyProgress(newProgressState('bot:latest', 'create', 0), { status: 'writing manifest' }, 10);
  assert.equal(renderProgress(created, 10, { tty: false }), 'create bot:latest: writing manifest, 10ms elapsed');
});

test('terminal bar: fixed layout with bar, percent, sizes, speed and ETA, within the width', () => {
  const line = renderProgress(downloading(60), 60_000, { tty: true, columns: 100 });
  assert.equal(line, 'gpt-oss:20b  [#############.................]   43%  6.00 GB/13.8 GB  100 MB/s  ETA 1m17s');
  assert.ok(line.length <= 99);
});

test('terminal bar is cut to the terminal width and drops the bar when too narrow', () => {
  const narrow = renderProgress(downloading(60), 60_000, { tty: true, columns: 60 });
  assert.ok(narrow.length <= 59, narrow);
  assert.doesNotMatch(narrow, /\[/);
  assert.match(narrow, /^gpt-oss:20b {3}43%/);
  const tiny = renderProgress(downloading(60), 60_000, { tty: true, columns: 10 });
  assert.ok(tiny.length <= 19, 'width never below 20 columns');
});

test('terminal, nothing measurable yet: status and elapsed', () => {
  const s = applyProgress(newProgressState('gpt-oss:20b', 'pull', 0), { status: 'pulling manifest' }, 0);
  assert.equal(
    renderProgress(s, 1_500, { tty: true, columns: 80, prefix: 'init a: ' }),
    'init a: gpt-oss:20b  pulling manifest  1.5s',
  );
});

test('finished download shows elapsed time instead of an ETA', () => {
  let s = newProgressState('m:1', 'pull', 0);
  s = applyProgress(s, { digest: LAYER, total: 1e9, completed: 0 }, 0);
  s = applyProgress(s, { status: 'verifying sha256 digest', digest: LAYER, total: 1e9, completed: 1e9 }, 5_000);
  assert.equal(
    renderProgress(s, 5_000, { tty: true, columns: 120 }),
    'm:1  [##############################]  100%  1.00 GB/1.00 GB  200 MB/s  5.0s',
  );
  assert.equal(
    renderProgress(s, 5_000, { tty: false }),
    'pull m:1: verifying sha256 digest, 100% (1.00 GB of 1.00 GB), at 200 MB/s, 5.0s elapsed',
  );
});

test('long statuses are shortened', () => {
  const s = applyProgress(
    newProgressState('m:1', 'create', 0),
    { status: `using existing layer sha256:${'f'.repeat(64)}` },
    0,
  );
  const line = renderProgress(s, 0, { tty: false });
  assert.match(line, /…/);
  assert.ok(line.length < 80, line);
});

test('an unknown terminal width (0) is taken as 80 columns', () => {
  const line = renderProgress(downloading(60), 60_000, { tty: true, columns: 0 });
  assert.ok(line.length > 40 && line.length <= 79, line);
  assert.match(line, /\[#+\.+\]/);
});

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
  for (now = 100; now <= 25_000; now += 100)
    r.update({ status: 'pulling aaaaaaaaaaaa', digest: 'sha256:aaaaaaaaaaaa', total: 1e9, completed: now * 1000 });
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
  for (now = 0; now < 1_000; now += 10)
    r.update({ status: 'pulling aaaaaaaaaaaa', digest: 'sha256:aaaaaaaaaaaa', total: 1000, completed: now });
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

test('decimal units with three significant digits, as Ollama prints sizes', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1000), '1.00 KB');
  assert.equal(formatBytes(397_821_319), '398 MB');
  assert.equal(formatBytes(13_780_173_724), '13.8 GB');
  assert.equal(formatBytes(4_661_224_676), '4.66 GB');
  assert.equal(formatBytes(142_487_462_542), '142 GB');
  assert.equal(formatBytes(2.5e15), '2500 TB');
});

test('a value just under the next unit rounds into that unit rather than printing 1000', () => {
  assert.equal(formatBytes(999_600), '1.00 MB');
});

test('nonsense input prints a question mark instead of NaN', () => {
  assert.equal(formatBytes(Number.NaN), '?');
  assert.equal(formatBytes(-1), '?');
});

test('milliseconds, tenths of seconds, minutes and hours', () => {
  assert.equal(formatDurationMs(0), '0ms');
  assert.equal(formatDurationMs(850), '850ms');
  assert.equal(formatDurationMs(4_249), '4.2s');
  assert.equal(formatDurationMs(59_999), '59.9s');
  assert.equal(formatDurationMs(60_000), '1m00s');
  assert.equal(formatDurationMs(187_400), '3m07s');
  assert.equal(formatDurationMs(3_720_000), '1h02m');
});

test('invalid durations print a question mark', () => {
  assert.equal(formatDurationMs(-5), '?');
  assert.equal(formatDurationMs(Number.POSITIVE_INFINITY), '?');
});
