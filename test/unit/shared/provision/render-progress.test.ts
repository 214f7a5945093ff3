import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyProgress } from '../../../../shared/provision/apply-progress.js';
import { newProgressState, type ProgressState } from '../../../../shared/provision/progress-state.js';
import { renderProgress } from '../../../../shared/provision/render-progress.js';

const A = 'sha256:6e4c38e1172f0000';

/** 13.8 GB model downloading at 100 MB/s for `seconds`. */
function downloading(seconds: number, attempt = 1): ProgressState {
  let s = newProgressState('gpt-oss:20b', 'pull', 0, attempt);
  s = applyProgress(s, { status: 'pulling manifest' }, 0);
  for (let ms = 0; ms <= seconds * 1000; ms += 500) {
    s = applyProgress(s, { status: 'pulling 6e4c38e1172f', digest: A, total: 13_780_000_000, completed: ms * 100_000 }, ms);
  }
  return s;
}

test('plain line (docker logs): status, percent, sizes, speed, ETA and elapsed', () => {
  const line = renderProgress(downloading(60), 60_000, { tty: false, prefix: 'init main: ' });
  assert.equal(line, 'init main: pull gpt-oss:20b: pulling 6e4c38e1172f, 43% (6.00 GB of 13.8 GB), at 100 MB/s, ETA 1m17s, 1m00s elapsed');
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
  assert.equal(renderProgress(s, 1_500, { tty: true, columns: 80, prefix: 'init a: ' }), 'init a: gpt-oss:20b  pulling manifest  1.5s');
});

test('finished download shows elapsed time instead of an ETA', () => {
  let s = newProgressState('m:1', 'pull', 0);
  s = applyProgress(s, { digest: A, total: 1e9, completed: 0 }, 0);
  s = applyProgress(s, { status: 'verifying sha256 digest', digest: A, total: 1e9, completed: 1e9 }, 5_000);
  assert.equal(renderProgress(s, 5_000, { tty: true, columns: 120 }), 'm:1  [##############################]  100%  1.00 GB/1.00 GB  200 MB/s  5.0s');
  assert.equal(renderProgress(s, 5_000, { tty: false }), 'pull m:1: verifying sha256 digest, 100% (1.00 GB of 1.00 GB), at 200 MB/s, 5.0s elapsed');
});

test('long statuses are shortened', () => {
  const s = applyProgress(newProgressState('m:1', 'create', 0), { status: `using existing layer sha256:${'f'.repeat(64)}` }, 0);
  const line = renderProgress(s, 0, { tty: false });
  assert.match(line, /…/);
  assert.ok(line.length < 80, line);
});

test('an unknown terminal width (0) is taken as 80 columns', () => {
  const line = renderProgress(downloading(60), 60_000, { tty: true, columns: 0 });
  assert.ok(line.length > 40 && line.length <= 79, line);
  assert.match(line, /\[#+\.+\]/);
});
