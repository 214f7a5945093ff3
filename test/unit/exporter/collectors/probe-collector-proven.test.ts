// Which probes get only the first-token deadline: a model proven resident stays so through a probe that proved
// nothing (skipped, a load that was not one, an error) while its runner is the same process, idle since before that
// probe; otherwise one such outcome put a hung runner on the load deadline for good, where it ends as `loading`,
// never as a hang.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createProbeCollector } from '../../../../exporter/collectors/probe-collector.js';
import type { RunnersView } from '../../../../exporter/collectors/runner-watch.js';
import type { ModelConfig, OllamaTargetConfig } from '../../../../shared/config/types.js';
import type { RunnerObservation } from '../../../../shared/diagnosis/target-observation.js';
import { json, startLocalServer } from '../../../helpers/local-server.js';

const model: ModelConfig = {
  name: 'm:latest',
  keep_alive: '30m',
  keep_warm: true,
  min_vram_ratio: 1,
  options: {},
  targets: [],
};
const LOAD_MS = 1500;
const cfg = {
  probe_interval_ms: 60_000,
  probe_load_timeout_ms: LOAD_MS,
  probe_first_token_timeout_ms: 300,
  probe_prompt: 'Say OK.',
  probe_oom_hold_ms: 1_800_000,
  ollama_timeout_ms: 500,
};
const BLOB = 'sha256-' + 'a'.repeat(64);
const ctx = () => ({ signal: new AbortController().signal, now: Date.now });

/** The model's runner: PID 4242 started at 1000 unless told otherwise, idle for long. */
const runner = (o: Partial<RunnerObservation> = {}): RunnerObservation => ({
  pid: 4242,
  modelBlob: BLOB,
  slots: 1,
  vramBytes: 10,
  progress: 'flat',
  flatForMs: 600_000,
  startedAtMs: 1000,
  ...o,
});
const fresh = (r: RunnerObservation) => (): RunnersView => ({ atMs: Date.now(), runners: [r] });

/**
 * What the simulated Ollama and the runners collector show, changed by the test between probes: /api/ps's
 * expires_at moving (a load, or a runner that has not finished a request) or standing still (a request holds the
 * runner), whether a generate answers or hangs without headers, and the runners snapshot.
 */
interface World {
  expires: 'moving' | 'frozen';
  answers: boolean;
  view: () => RunnersView | null;
}

async function withCollector(world: World, run: (probe: () => Promise<ProbeOutcome>) => Promise<void>) {
  const fixed = Date.now() + 600_000;
  const server = await startLocalServer((req, res) => {
    if (req.url === '/api/ps') {
      const expires = world.expires === 'moving' ? Date.now() + 600_000 : fixed;
      return json(res, 200, {
        models: [{ name: 'm:latest', model: 'm:latest', size: 10, size_vram: 10, expires_at: new Date(expires) }],
      });
    }
    if (!world.answers) return;
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end(JSON.stringify({ response: 'OK', done: true, eval_count: 1, eval_duration: 1e6 }) + '\n');
  });
  try {
    const target = { name: 'gpu0', url: server.url, headers: {} } as OllamaTargetConfig;
    // No waiting for late runners evidence: a starved runners collector's false `loading` is the way in here.
    const c = createProbeCollector([target], [model], cfg, { runnersOf: () => world.view(), blobOf: () => BLOB });
    await run(async () => {
      const started = Date.now();
      const p = (await c.collect(ctx())).probes[0]!;
      return { result: p.result, tookMs: Date.now() - started };
    });
  } finally {
    await server.close();
  }
}
interface ProbeOutcome {
  readonly result: string;
  readonly tookMs: number;
}

/** A first probe that answers, then one ended as `loading` by a moving expires_at and no runners snapshot since. */
async function provenThenFalseLoad(world: World, probe: () => Promise<ProbeOutcome>): Promise<void> {
  world.view = fresh(runner());
  assert.equal((await probe()).result, 'ok');
  await new Promise((r) => setTimeout(r, 5));
  const staleAt = Date.now(); // after the answer: it shows the runner that answered, then nothing newer comes
  Object.assign(world, { expires: 'moving', answers: false, view: () => ({ atMs: staleAt, runners: [runner()] }) });
  assert.equal((await probe()).result, 'loading');
}

describe('a model proven resident through a probe that proved nothing', () => {
  it('after a false load, its runner the same process and idle since before that probe: a hang is a timeout', async () => {
    const world: World = { expires: 'frozen', answers: true, view: () => null };
    await withCollector(world, async (probe) => {
      await provenThenFalseLoad(world, probe);
      Object.assign(world, { expires: 'frozen', view: fresh(runner({ startedAtMs: 1030 })) });
      for (let i = 0; i < 2; i++) {
        const p = await probe();
        assert.equal(p.result, 'timeout', `probe ${i + 3}`);
        assert.ok(p.tookMs < LOAD_MS, `on the first-token deadline (${p.tookMs} ms)`);
      }
    });
  });

  it('after a load, another runner process (a reload): the load deadline, and a hang there is loading', async () => {
    for (const other of [
      runner({ pid: 4343, progress: 'unknown', flatForMs: 0 }),
      runner({ pid: 4343, flatForMs: 600_000 }),
      runner({ startedAtMs: 61_000 }),
    ]) {
      const world: World = { expires: 'frozen', answers: true, view: () => null };
      await withCollector(world, async (probe) => {
        await provenThenFalseLoad(world, probe);
        Object.assign(world, { expires: 'frozen', view: fresh(other) });
        const p = await probe();
        assert.equal(p.result, 'loading', `pid ${other.pid} started ${other.startedAtMs} ${other.progress}`);
        assert.ok(p.tookMs >= LOAD_MS, `on the load deadline (${p.tookMs} ms)`);
      });
    }
  });

  it('after a load, the same runner but with progress since that probe began (it was loading): the load deadline', async () => {
    const world: World = { expires: 'frozen', answers: true, view: () => null };
    await withCollector(world, async (probe) => {
      await provenThenFalseLoad(world, probe);
      for (const view of [
        fresh(runner({ flatForMs: 50 })),
        fresh(runner({ progress: 'progressing', flatForMs: 0, slots: 2 })),
      ]) {
        Object.assign(world, { expires: 'frozen', view });
        const p = await probe();
        assert.equal(p.result, 'loading');
        assert.ok(p.tookMs >= LOAD_MS, `on the load deadline (${p.tookMs} ms)`);
      }
    });
  });

  it('after a skip, the same runner process idle since before it: proven; busy since, or a new one: not', async () => {
    for (const [after, expected] of [
      // The skip went by an old snapshot: the runner has been idle all along.
      [runner(), 'timeout'],
      // Users kept it busy since (idle for the last 50 ms only): the probe may wait behind them on the load deadline.
      [runner({ flatForMs: 50 }), 'loading'],
      [runner({ pid: 4343 }), 'loading'],
    ] as const) {
      const world: World = { expires: 'frozen', answers: true, view: fresh(runner()) };
      await withCollector(world, async (probe) => {
        assert.equal((await probe()).result, 'ok');
        world.view = fresh(runner({ progress: 'progressing', flatForMs: 0 }));
        assert.equal((await probe()).result, 'skipped');
        await new Promise((r) => setTimeout(r, 150)); // the next round comes later than the runner's 50 ms of rest
        Object.assign(world, { answers: false, view: fresh(after) });
        assert.equal((await probe()).result, expected, `after the skip: pid ${after.pid}, flat ${after.flatForMs} ms`);
      });
    }
  });

  it('runners never visible: a probe that proved nothing leaves the model on the load deadline (as before)', async () => {
    const world: World = { expires: 'frozen', answers: true, view: () => null };
    await withCollector(world, async (probe) => {
      assert.equal((await probe()).result, 'ok');
      Object.assign(world, { expires: 'moving', answers: false });
      assert.equal((await probe()).result, 'loading');
      world.expires = 'frozen';
      const p = await probe();
      assert.equal(p.result, 'loading');
      assert.ok(p.tookMs >= LOAD_MS);
    });
  });
});
