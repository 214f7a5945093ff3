// A resident model's probe on a loaded host, where the runners collector delivers no snapshot taken after the probe
// began until after its first-token deadline (seen in CI: the 0.12 normal-day chain never got OllamaProbeHung).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createProbeCollector, type ProbeModelSnapshot } from '../../../../exporter/collectors/probe-collector.js';
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
const cfg = {
  probe_interval_ms: 60_000,
  probe_load_timeout_ms: 10_000,
  probe_first_token_timeout_ms: 300,
  probe_prompt: 'Say OK.',
  probe_oom_hold_ms: 1_800_000,
  ollama_timeout_ms: 500,
};
const WAIT_MS = 2000;
const BLOB = 'sha256-' + 'a'.repeat(64);
const ctx = () => ({ signal: new AbortController().signal, now: Date.now });

/** The model's runner: PID 4242 started at 1000 unless told otherwise, two slots (a busy one is still probed). */
const runner = (o: Partial<RunnerObservation>): RunnerObservation => ({
  pid: 4242,
  modelBlob: BLOB,
  slots: 2,
  vramBytes: 10,
  progress: 'flat',
  flatForMs: 600_000,
  startedAtMs: 1000,
  ...o,
});

interface Run {
  readonly probe: ProbeModelSnapshot;
  /** When the probe's request was given up (its deadline), and when the run ended. */
  readonly gaveUpMs: number;
  readonly endedMs: number;
}

/**
 * One collector: a first probe that answers (the model is proven resident), then one that gets no headers. Until
 * the second probe's request is given up, the only runners snapshot is one taken before it began (the runner idle);
 * after that, `late` (taken then; null: none ever comes). /api/ps gives `expires_at` moving (as for a runner that
 * has not finished a request yet, or a model loading) or standing still (a request holds the runner).
 */
async function starvedProbe(opts: {
  readonly expiresAt: 'moving' | 'frozen';
  readonly late: RunnerObservation | null;
  readonly waitMs?: number;
}): Promise<Run> {
  let generates = 0;
  let gaveUpMs: number | null = null;
  const fixed = Date.now() + 600_000;
  const server = await startLocalServer((req, res) => {
    if (req.url === '/api/ps') {
      const expires = opts.expiresAt === 'moving' ? Date.now() + 600_000 : fixed;
      return json(res, 200, {
        models: [{ name: 'm:latest', model: 'm:latest', size: 10, size_vram: 10, expires_at: new Date(expires) }],
      });
    }
    if (generates++ === 0) {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(JSON.stringify({ response: 'OK', done: true, eval_count: 1, eval_duration: 1e6 }) + '\n');
      return;
    }
    res.on('close', () => (gaveUpMs ??= Date.now()));
  });
  const staleAt = Date.now() - 5000;
  const runnersOf = (): RunnersView =>
    gaveUpMs !== null && opts.late !== null
      ? { atMs: Date.now(), runners: [opts.late] }
      : { atMs: staleAt, runners: [runner({ flatForMs: 60_000 })] };
  try {
    const c = createProbeCollector(
      [{ name: 'gpu0', url: server.url, headers: {} } as OllamaTargetConfig],
      [model],
      cfg,
      {
        runnersOf,
        blobOf: () => BLOB,
        runnersEvidenceWaitMs: opts.waitMs ?? WAIT_MS,
      },
    );
    assert.equal((await c.collect(ctx())).probes[0]!.result, 'ok');
    const probe = (await c.collect(ctx())).probes[0]!;
    const endedMs = Date.now();
    // The server may see the request given up only after a probe that did not wait has ended.
    for (let i = 0; i < 100 && gaveUpMs === null; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(gaveUpMs !== null, 'the second probe was given up at its deadline');
    return { probe, gaveUpMs, endedMs };
  } finally {
    await server.close();
  }
}

describe('a probe whose runners evidence comes only after its deadline (a starved runners collector)', () => {
  it('a hung runner, flat since before the probe began in the late snapshot: timeout (hung), not loading', async () => {
    // Its start time read 40 ms off: derived from /proc/uptime again on each run, it jitters.
    const { probe } = await starvedProbe({ expiresAt: 'moving', late: runner({ startedAtMs: 1040 }) });
    assert.equal(probe.reason, 'load_timeout');
    assert.equal(probe.result, 'timeout');
    assert.equal(probe.runnerBusyDuringWait, false);
    // What CI saw: without waiting for that snapshot the same probe ends as a load, every time.
    const blind = await starvedProbe({ expiresAt: 'moving', late: runner({}), waitMs: 0 });
    assert.equal(blind.probe.result, 'loading');
  });

  it('a runner loading (CPU, RSS and reads moving) in the late snapshot: loading', async () => {
    const loading = runner({ progress: 'progressing', flatForMs: 0, memoryGrowing: true });
    assert.equal((await starvedProbe({ expiresAt: 'moving', late: loading })).probe.result, 'loading');
  });

  it('a runner idle in the late snapshot but with progress inside the wait (loaded, then its request left): loading', async () => {
    // Flat for 100 ms at most: its last progress falls inside the probe's 300 ms wait.
    const { probe } = await starvedProbe({ expiresAt: 'moving', late: runner({ flatForMs: 100 }) });
    assert.equal(probe.result, 'loading');
  });

  it('another runner process (a new PID, or the PID reused by a process started later): no carried evidence', async () => {
    for (const other of [runner({ pid: 4343 }), runner({ startedAtMs: 61_000 })]) {
      const { probe } = await starvedProbe({ expiresAt: 'moving', late: other });
      assert.equal(probe.result, 'loading', `pid ${other.pid} started ${other.startedAtMs}`);
    }
  });

  it('no snapshot at all within the wait: loading, after waiting no longer than allowed', async () => {
    const { probe, gaveUpMs, endedMs } = await starvedProbe({ expiresAt: 'moving', late: null });
    assert.equal(probe.result, 'loading');
    assert.ok(endedMs - gaveUpMs >= WAIT_MS - 50, `waited ${endedMs - gaveUpMs} ms for a snapshot`);
    assert.ok(endedMs - gaveUpMs < WAIT_MS + 1500, `waited ${endedMs - gaveUpMs} ms, more than allowed`);
  });

  it('a runner busy with users (expires_at frozen by the requests): a timeout the runner was busy during, never hung', async () => {
    const busy = await starvedProbe({ expiresAt: 'frozen', late: runner({ progress: 'progressing', flatForMs: 0 }) });
    assert.equal(busy.probe.result, 'timeout');
    assert.equal(busy.probe.runnerBusyDuringWait, true, 'busy: the diagnosis says runner_busy, not probe_hung');
    // Users whose requests ended inside the wait, the runner idle when the snapshot came: busy during it too.
    const ended = await starvedProbe({ expiresAt: 'frozen', late: runner({ flatForMs: 100 }) });
    assert.equal(ended.probe.runnerBusyDuringWait, true);
    // Flat since before the probe began: idle through the wait.
    const idle = await starvedProbe({ expiresAt: 'frozen', late: runner({}) });
    assert.equal(idle.probe.runnerBusyDuringWait, false);
    // Without waiting, busy or hung stayed unknown, which the diagnosis counts as hung.
    const blind = await starvedProbe({
      expiresAt: 'frozen',
      late: runner({ progress: 'progressing', flatForMs: 0 }),
      waitMs: 0,
    });
    assert.equal(blind.probe.runnerBusyDuringWait, null);
  });
});
