import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  judgeRunnerProgress,
  type RunnerSample,
  type RunnerTrack,
} from '../../../../shared/proc/judge-runner-progress.js';

const MiB = 1024 * 1024;
const base: RunnerSample = { atMs: 0, cpuSeconds: 10, rssBytes: 500 * MiB, rchar: 1000, readBytes: 0, vramBytes: 0 };

/** Feeds samples one after another (same PID, start time 42 unless given), returning each verdict. */
function run(samples: readonly (Partial<RunnerSample> & { atMs: number; startTime?: number })[]) {
  let track: RunnerTrack | undefined;
  let last: RunnerSample = base;
  return samples.map(({ startTime = 42, ...s }) => {
    last = { ...last, ...s };
    const v = judgeRunnerProgress(track, startTime, last);
    track = v.track;
    return [v.progress, v.flatForMs] as const;
  });
}

test('first sample is unknown; still counters for 15 s intervals are flat, and flatForMs adds up', () => {
  assert.deepEqual(run([{ atMs: 0 }, { atMs: 15_000 }, { atMs: 30_000 }, { atMs: 45_000 }]), [
    ['unknown', 0],
    ['flat', 15_000],
    ['flat', 30_000],
    ['flat', 45_000],
  ]);
});

test('idle noise stays flat: health polls (0.1 s CPU in 15 s, < 1 %), bytes of socket reads, 256 KiB of RSS', () => {
  const v = run([
    { atMs: 0 },
    { atMs: 15_000, cpuSeconds: 10.1, rchar: 5000, rssBytes: 500 * MiB + 256 * 1024 },
    { atMs: 30_000, cpuSeconds: 10.2, rchar: 9000 },
  ]);
  assert.deepEqual(v.slice(1), [
    ['flat', 15_000],
    ['flat', 30_000],
  ]);
});

test('each counter alone is progress: CPU >= 2 % of a core, RSS or VRAM moved >= 1 MiB, reads >= 1 MiB', () => {
  const cases: [string, Partial<RunnerSample>][] = [
    ['cpu', { cpuSeconds: 10.3 }], // 0.3 s in 15 s = 2 %
    ['rss up', { rssBytes: 502 * MiB }],
    ['rss down (weights unmapped after upload)', { rssBytes: 100 * MiB }],
    ['rchar', { rchar: 1000 + 2 * MiB }],
    ['read_bytes', { readBytes: 4 * MiB }],
    ['vram', { vramBytes: 300 * MiB }],
  ];
  for (const [why, change] of cases) {
    assert.deepEqual(run([{ atMs: 0 }, { atMs: 15_000, ...change }])[1], ['progressing', 0], why);
  }
});

test('a flat spell is measured from the last progress, and progress resets it', () => {
  const v = run([
    { atMs: 0 },
    { atMs: 15_000, cpuSeconds: 20 },
    { atMs: 30_000 },
    { atMs: 45_000 },
    { atMs: 60_000, vramBytes: 8 * 1024 * MiB },
    { atMs: 75_000 },
  ]);
  assert.deepEqual(v, [
    ['unknown', 0],
    ['progressing', 0],
    ['flat', 15_000],
    ['flat', 30_000],
    ['progressing', 0],
    ['flat', 15_000],
  ]);
});

test('slow steady reads below the threshold per interval add up against the last progress and still count', () => {
  // 400 KiB per 15 s (a very slow disk): the third interval crosses 1 MiB since the baseline.
  const v = run([
    { atMs: 0 },
    { atMs: 15_000, readBytes: 400 * 1024 },
    { atMs: 30_000, readBytes: 800 * 1024 },
    { atMs: 45_000, readBytes: 1200 * 1024 },
  ]);
  assert.deepEqual(
    v.map((x) => x[0]),
    ['unknown', 'flat', 'flat', 'progressing'],
  );
});

test('a PID reused by a new process (other start time) starts over as unknown', () => {
  const v = run([
    { atMs: 0 },
    { atMs: 15_000 },
    { atMs: 30_000, startTime: 99, cpuSeconds: 0.5 },
    { atMs: 45_000, startTime: 99 },
  ]);
  assert.deepEqual(v, [
    ['unknown', 0],
    ['flat', 15_000],
    ['unknown', 0],
    ['flat', 15_000],
  ]);
});

test('a sample too soon after the baseline keeps the previous verdict instead of judging tick noise', () => {
  const v = run([
    { atMs: 0 },
    { atMs: 300 }, // on-demand sample right after the scheduled one
    { atMs: 15_000 },
    { atMs: 15_000 + 1 }, // still flat: flat for the whole window
    { atMs: 30_000, cpuSeconds: 11 },
    { atMs: 30_500 },
  ]);
  assert.deepEqual(v, [
    ['unknown', 0],
    ['unknown', 0],
    ['flat', 15_000],
    ['flat', 15_001],
    ['progressing', 0],
    ['progressing', 0],
  ]);
});

test('unknown io or VRAM (null) never counts as progress', () => {
  const v = run([
    { atMs: 0, rchar: null, readBytes: null, vramBytes: null },
    { atMs: 15_000, rchar: null, readBytes: null, vramBytes: 5 * MiB },
  ]);
  assert.deepEqual(v[1], ['flat', 15_000]);
});

test('memoryGrowing tells a load (RSS, reads or VRAM moved) from a loaded runner at work (CPU time only)', () => {
  const first = judgeRunnerProgress(undefined, 42, base);
  const cpuOnly = judgeRunnerProgress(first.track, 42, { ...base, atMs: 15_000, cpuSeconds: 12 });
  assert.deepEqual([cpuOnly.progress, cpuOnly.memoryGrowing], ['progressing', false]);
  const loading = judgeRunnerProgress(first.track, 42, { ...base, atMs: 15_000, cpuSeconds: 12, rssBytes: 900 * MiB });
  assert.deepEqual([loading.progress, loading.memoryGrowing], ['progressing', true]);
  const tooSoon = judgeRunnerProgress(loading.track, 42, {
    ...base,
    atMs: 15_500,
    cpuSeconds: 12,
    rssBytes: 900 * MiB,
  });
  assert.equal(tooSoon.memoryGrowing, true, 'a too-early sample keeps the previous verdict');
  // VRAM given back (the driver lost the runner's memory, an /api/ps lie) is progress, but not a load.
  const resident = judgeRunnerProgress(undefined, 42, { ...base, vramBytes: 800 * MiB });
  const freed = judgeRunnerProgress(resident.track, 42, { ...base, atMs: 15_000, vramBytes: 0 });
  assert.deepEqual([freed.progress, freed.memoryGrowing], ['progressing', false]);
});

test('a runner the GPU reports busy (NVML process utilization) is at work though its CPU, RSS and reads are flat', () => {
  assert.deepEqual(
    run([
      { atMs: 0, gpuSmRatio: 0 },
      { atMs: 15_000, gpuSmRatio: 0.45 },
      { atMs: 30_000, gpuSmRatio: 0.45 },
      { atMs: 45_000, gpuSmRatio: 0 },
      { atMs: 60_000, gpuSmRatio: null },
    ]),
    [
      ['unknown', 0],
      ['progressing', 0],
      ['progressing', 0],
      ['flat', 15_000],
      ['flat', 30_000],
    ],
  );
  const computing = judgeRunnerProgress({ startTime: 42, baseline: base, progress: 'flat', memoryGrowing: false }, 42, {
    ...base,
    atMs: 15_000,
    gpuSmRatio: 0.9,
  });
  assert.equal(computing.memoryGrowing, false, 'GPU work is no load');
});
