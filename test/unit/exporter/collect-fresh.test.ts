// On-demand collection (GET /api/state?target=..&fresh=1): the scheduler runs the named collectors together, shares a
// run that started after the request, waits out an older one, and reports sources that failed or were late.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { CollectorScheduler } from '../../../exporter/collector-scheduler.js';
import { CollectError, type Collector, type CollectContext } from '../../../exporter/collector.js';
import { createFreshState } from '../../../exporter/fresh-state.js';
import { buildExporterState } from '../../../exporter/exporter-state.js';
import { observation } from '../../helpers/observation.js';

const log = pino({ level: 'silent' });

function collector(
  name: string,
  behave: (ctx: CollectContext, run: number) => Promise<number> = async () => 1,
  timeoutMs = 2000,
): Collector<number> & { starts: number[] } {
  const c = {
    name,
    intervalMs: 60_000,
    timeoutMs,
    starts: [] as number[],
    collect(ctx: CollectContext) {
      c.starts.push(Date.now());
      return behave(ctx, c.starts.length);
    },
    render() {},
  };
  return c;
}

test('fresh collection starts the named collectors together, never the probe, and replaces their snapshots', async () => {
  const ollama = collector('ollama', async (_ctx, run) => run * 10);
  const gpu = collector('gpu', async (_ctx, run) => run * 100);
  const probe = collector('probe');
  const s = new CollectorScheduler([ollama, gpu, probe], { log });
  const since = Date.now();
  const runs = await s.collectFresh(['ollama', 'gpu', 'gpu_processes', 'runners'], since, 2000);
  assert.deepEqual(
    runs.map((r) => [r.name, r.ok]),
    [
      ['ollama', true],
      ['gpu', true],
    ],
    'collectors that do not exist are not asked for',
  );
  assert.equal(probe.starts.length, 0, 'the probe loads models: never run on demand');
  assert.ok(Math.abs(ollama.starts[0]! - gpu.starts[0]!) < 1000, 'sampled within a second of each other');
  for (const r of runs) assert.ok(r.startedAtMs! >= since);
  assert.equal(s.snapshot('ollama'), 10);
  assert.equal(s.snapshot('gpu'), 100);
});

test('concurrent fresh requests share the runs; an older run in flight is waited out, then sampled again', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const ollama = collector('ollama', async (_ctx, run) => {
    if (run === 1) await gate; // a scheduled run that began before the requests
    return run;
  });
  const s = new CollectorScheduler([ollama], { log });
  void s.runNow('ollama');
  await sleep(5);
  const since = Date.now();
  const a = s.collectFresh(['ollama'], since, 2000);
  const b = s.collectFresh(['ollama'], since, 2000);
  await sleep(20);
  assert.equal(ollama.starts.length, 1, 'nothing new starts while the older run is in flight');
  release();
  const [ra, rb] = await Promise.all([a, b]);
  assert.equal(ollama.starts.length, 2, 'one new run for both requests');
  assert.ok(ra[0]!.ok && rb[0]!.ok);
  assert.equal(ra[0]!.startedAtMs, rb[0]!.startedAtMs);
  assert.ok(ra[0]!.startedAtMs! >= since, 'the sample is newer than the request');
  assert.equal(s.snapshot('ollama'), 2);
});

test('a failing or late source is reported unknown; the others are still answered', async () => {
  const ollama = collector('ollama');
  const gpu = collector('gpu', async () => {
    throw new CollectError('exit_12', 'library missing');
  });
  const slow = collector('gpu_processes', (ctx) => sleep(5000, 1, { signal: ctx.signal }), 10_000);
  const s = new CollectorScheduler([ollama, gpu, slow], { log });
  const t0 = Date.now();
  const runs = await s.collectFresh(['ollama', 'gpu', 'gpu_processes'], t0, 300);
  assert.ok(Date.now() - t0 < 2000, 'bounded by the wait, not by the slow source');
  assert.deepEqual(
    runs.map((r) => [r.name, r.ok]),
    [
      ['ollama', true],
      ['gpu', false],
      ['gpu_processes', false],
    ],
  );
  await s.stop(100);
});

test('the fresh document: unknown target null, late sources left out, observedAtMs = the oldest sample', async () => {
  const calls: ReadonlySet<string>[] = [];
  const since = 1_000_000;
  let clock = since;
  const fresh = createFreshState({
    targets: ['main'],
    now: () => clock,
    scheduler: {
      collectFresh: async (names, s) => {
        assert.ok(!names.includes('probe'));
        assert.equal(s, since);
        clock += 50;
        return [
          { name: 'ollama', startedAtMs: since + 2, ok: true },
          { name: 'gpu', startedAtMs: since + 1, ok: true },
          { name: 'gpu_processes', startedAtMs: null, ok: false },
        ];
      },
    },
    state: (unknown) => {
      calls.push(unknown);
      return buildExporterState('t', true, [], [observation({ observedAtMs: 5 })], clock);
    },
  });
  assert.equal(await fresh('nope'), null);
  const [a, b] = await Promise.all([fresh('main'), fresh('main')]);
  assert.equal(a, b, 'concurrent requests share one collection');
  assert.equal(calls.length, 1);
  assert.deepEqual([...calls[0]!], ['gpu_processes']);
  assert.equal(a!.targets.main!.observation.observedAtMs, since + 1);
  assert.equal(a!.targets.main!.diagnosis.status, 'healthy');
});
