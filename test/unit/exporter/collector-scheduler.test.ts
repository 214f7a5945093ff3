import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { CollectorScheduler } from '../../../exporter/collector-scheduler.js';
import { CollectError, type Collector, type CollectContext } from '../../../exporter/collector.js';
import { RecordingSink } from '../../helpers/recording-sink.js';

const log = pino({ level: 'silent' });

function fakeCollector(
  name: string,
  behave: (ctx: CollectContext, run: number) => Promise<number>,
  timeoutMs = 1000,
  intervalMs = 60_000,
): Collector<number> & { runs: number } {
  const c = {
    name,
    intervalMs,
    timeoutMs,
    runs: 0,
    collect(ctx: CollectContext) {
      return behave(ctx, ++c.runs);
    },
    render(snapshot: number, sink: RecordingSink) {
      sink.gauge(`test_${name}_value`, 'value', {}, snapshot);
    },
  };
  return c;
}

test('a good snapshot is rendered with the collector health series; a failure drops the series', async () => {
  let fail = false;
  const c = fakeCollector('a', async () => {
    if (fail) throw new CollectError('exit_12', 'library missing');
    return 42;
  });
  const s = new CollectorScheduler([c], { log });
  assert.equal(s.ready(), false);
  await s.runNow('a');
  assert.equal(s.ready(), true);
  let sink = new RecordingSink();
  s.render(sink);
  assert.equal(sink.value('test_a_value'), 42);
  assert.equal(sink.value('sentinel_collector_success', { collector: 'a' }), 1);
  assert.ok(sink.value('sentinel_collector_last_success_timestamp_seconds', { collector: 'a' })! > 1e9);

  fail = true;
  await s.runNow('a');
  sink = new RecordingSink();
  s.render(sink);
  assert.equal(sink.value('test_a_value'), undefined, 'stale values are never served');
  assert.equal(sink.value('sentinel_collector_success', { collector: 'a' }), 0);
  assert.equal(sink.value('sentinel_collector_errors_total', { collector: 'a', reason: 'exit_12' }), 1);
  assert.equal(sink.value('sentinel_collector_runs_total', { collector: 'a' }), 2);
  await s.stop();
});

test('a hung run fails at the timeout, blocks further runs, and is reported stuck until it ends', async () => {
  let release!: () => void;
  let sawAbort = false;
  const c = fakeCollector(
    'hang',
    (ctx, run) =>
      new Promise<number>((resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          sawAbort = true;
          if (run > 1) reject(ctx.signal.reason as Error); // later runs honour the abort
        });
        if (run === 1) release = () => resolve(1); // ignores the abort, like a process stuck in the kernel
      }),
    50,
    40,
  );
  const s = new CollectorScheduler([c], { log, stuckGraceMs: 60 });
  s.start();
  await sleep(80);
  assert.ok(sawAbort, 'the run was told to stop at its timeout');
  let sink = new RecordingSink();
  s.render(sink);
  assert.equal(sink.value('sentinel_collector_success', { collector: 'hang' }), 0);
  assert.equal(sink.value('sentinel_collector_errors_total', { collector: 'hang', reason: 'timeout' }), 1);
  await sleep(150);
  sink = new RecordingSink();
  s.render(sink);
  assert.equal(c.runs, 1, 'no second run while the first is in flight');
  assert.ok(sink.value('sentinel_collector_skipped_runs_total', { collector: 'hang' })! >= 2);
  assert.ok(sink.value('sentinel_collector_stuck_since_timestamp_seconds', { collector: 'hang' })! > 1e9);
  release();
  await sleep(60);
  sink = new RecordingSink();
  s.render(sink);
  assert.equal(sink.value('sentinel_collector_stuck_since_timestamp_seconds', { collector: 'hang' }), undefined);
  assert.equal(sink.value('test_hang_value'), undefined, 'a late result after a timeout is not served');
  await s.stop();
});

test('a render bug in one collector never breaks the others', async () => {
  const good = fakeCollector('good', async () => 1);
  const bad = {
    ...fakeCollector('bad', async () => 2),
    render() {
      throw new Error('bug');
    },
  };
  const s = new CollectorScheduler([good, bad], { log });
  await Promise.all([s.runNow('good'), s.runNow('bad')]);
  const sink = new RecordingSink();
  s.render(sink);
  assert.equal(sink.value('test_good_value'), 1);
  assert.equal(s.statuses().find((x) => x.name === 'bad')!.errors.render, 1);
  await s.stop();
});

test('a run in flight may publish newer snapshots: served while the last run succeeded, never after its timeout', async () => {
  let step!: (n: number) => void;
  let finish!: (n: number) => void;
  const seenNow: number[] = [];
  let clock = 1_000_000;
  const c = {
    ...fakeCollector(
      'live',
      (ctx, run) =>
        run === 1
          ? Promise.resolve(1)
          : new Promise<number>((resolve, reject) => {
              step = (n) => ctx.publish?.(n);
              finish = resolve;
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error));
            }),
      150,
    ),
    render(snapshot: number, sink: RecordingSink, nowMs?: number) {
      seenNow.push(nowMs!);
      sink.gauge('test_live_value', 'value', {}, snapshot);
    },
  };
  const s = new CollectorScheduler([c], { log, now: () => clock });
  const value = () => {
    const sink = new RecordingSink();
    s.render(sink);
    return sink.value('test_live_value');
  };
  await s.runNow('live');
  const second = s.runNow('live');
  step(2);
  assert.equal(value(), 2, 'what the run published of itself is served at once');
  clock += 5000;
  value();
  assert.equal(seenNow.at(-1), clock, "render gets the scheduler's clock, for series that age between runs");
  finish(3);
  await second;
  assert.equal(value(), 3, "the run's result replaces it");

  const third = s.runNow('live');
  await sleep(200); // past the 150 ms timeout
  step(4);
  assert.equal(value(), undefined, 'a timed-out run has no say any more');
  await third;
  const fourth = s.runNow('live');
  step(5);
  assert.equal(value(), undefined, 'a failed source stays absent until a run succeeds');
  finish(6);
  await fourth;
  assert.equal(value(), 6);
  await s.stop();
});

test('renderKey changes with every snapshot, and with the clock only while a snapshot reads it', async () => {
  let nowMs = 1_000_000;
  let clock = false;
  const c = { ...fakeCollector('a', async (_ctx, run) => run), clockDependent: () => clock };
  const s = new CollectorScheduler([c], { log, now: () => nowMs });
  await s.runNow('a');
  const k1 = s.renderKey();
  nowMs += 1000;
  assert.equal(s.renderKey(), k1, 'no change: same key whatever the time');
  await s.runNow('a');
  const k2 = s.renderKey();
  assert.notEqual(k2, k1, 'a new snapshot: a new key');
  clock = true;
  const k3 = s.renderKey();
  nowMs += 1;
  assert.notEqual(s.renderKey(), k3, 'clock-dependent series: the key follows the clock');
});
