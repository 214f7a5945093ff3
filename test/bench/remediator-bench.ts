// Webhook acknowledgement latency of the remediator: authenticated POSTs of real Alertmanager 0.25 payloads to
// 127.0.0.1, each answered only after its alert is durably in the journal (fsync), sent by wrk from its own process
// (a client in the remediator's process would share its event loop and be measured with it). Bounded: each scenario
// runs a fixed number of seconds. Reports throughput and p50/p99/max per scenario, and proves what the flood of
// re-sends did: exactly one alert handed on. No pass/fail (speed is reported, not asserted).
//   node dist/test/bench/remediator-bench.js [seconds=5]
import { writeFile } from 'node:fs/promises';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AlertIntake } from '../../remediator/ingress/alert-intake.js';
import { createRemediatorApp } from '../../remediator/ingress/create-remediator-app.js';
import { DEFAULT_PAYLOAD_LIMITS } from '../../remediator/ingress/webhook-payload.js';
import { AlertJournal } from '../../remediator/journal/alert-journal.js';
import { DedupCache } from '../../remediator/journal/dedup-cache.js';
import { RemediatorMetrics } from '../../remediator/remediator-metrics.js';
import { compileRules } from '../../remediator/policy/match-rule.js';
import { startHttpServer } from '../../shared/http/start-http-server.js';
import { createLogger } from '../../shared/log/create-logger.js';
import { ensureDebianTools, runWrk } from './bench-host.js';

export interface LatencySummary {
  readonly scenario: string;
  readonly requests: number;
  readonly acksPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly fsyncs: number;
  /** Alerts recorded as new and handed on to the engine during the scenario. */
  readonly handedOn: number;
}

const TOKEN = 'bench-token';

export async function runRemediatorBench(seconds = 5, concurrency = 16): Promise<LatencySummary[]> {
  const why = await ensureDebianTools({ wrk: 'wrk' });
  if (why) {
    process.stdout.write(`remediator bench: skipped (${why})\n`);
    return [];
  }
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-bench-'));
  const fixture = JSON.parse(
    await readFile(
      fileURLToPath(new URL('../../../test/fixtures/alertmanager/am-0.25-gpu-lost-firing.json', import.meta.url)),
      'utf8',
    ),
  ) as { alerts: Record<string, unknown>[] } & Record<string, unknown>;
  const { journal } = await AlertJournal.open(join(dir, 'journal'), 8 * 1024 * 1024, 0);
  const log = createLogger('silent');
  let handedOn = 0;
  const intake = new AlertIntake({
    journal,
    dedup: new DedupCache(50_000),
    rules: compileRules([
      {
        name: 'gpu',
        match: { alertname: 'OllamaGpuAccessLost' },
        match_re: {},
        start: 'auto',
        quiet_mode: 'defer',
        model_label: 'model',
      },
    ]),
    targetLabel: 'ollama',
    targetNames: ['main'],
    defaultSingleTarget: true,
    now: () => Date.now(),
    onRecorded: (r) => void (handedOn += r.length),
    onDuplicates: () => undefined,
  });
  const app = createRemediatorApp({
    credentials: { bearerToken: TOKEN },
    maxBodyBytes: 1024 * 1024,
    limits: DEFAULT_PAYLOAD_LIMITS,
    metrics: new RemediatorMetrics('bench'),
    log,
    version: 'bench',
    ingest: (p) => intake.ingest(p),
    accepting: () => true,
    incidents: () => ({}),
    resetBreaker: () => ({ wasOpen: false }),
    ready: async () => ({ ok: true, checks: {} }),
  });
  const server = await startHttpServer({ listen_address: '127.0.0.1:0' }, app, log);
  const bodyWith = async (name: string, fingerprint: string): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, JSON.stringify({ ...fixture, alerts: [{ ...fixture.alerts[0], fingerprint }] }));
    return file;
  };
  const distinct = await bodyWith('distinct.json', 'F'.repeat(16));
  const same = await bodyWith('same.json', 'feedfacecafebeef');
  const script = fileURLToPath(new URL('../../../test/bench/webhook-post.lua', import.meta.url));
  const results: LatencySummary[] = [];
  let runs = 0;
  const scenario = async (name: string, file: string, mode: 'distinct' | 'same', connections: number, s: number) => {
    const syncs = journal.syncs;
    const handed = handedOn;
    const r = await runWrk(`${server.url}/webhook`, {
      connections,
      seconds: s,
      script,
      scriptArgs: [file, TOKEN, mode, String(runs++)],
    });
    // wrk stops at its deadline with requests still in flight: they are recorded a moment later, in this scenario.
    for (let last = -1; last !== handedOn;) {
      last = handedOn;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    if (r.non2xx + r.socketErrors > 0)
      throw new Error(`${name}: ${r.non2xx} non-2xx answers and ${r.socketErrors} socket errors`);
    results.push({
      scenario: name,
      requests: r.requests,
      acksPerSecond: r.requestsPerSecond,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      maxMs: r.maxMs,
      fsyncs: journal.syncs - syncs,
      handedOn: handedOn - handed,
    });
  };
  try {
    await scenario('warm-up (not reported)', distinct, 'distinct', 1, 1);
    results.length = 0;
    await scenario('new alert, one connection (fsync each)', distinct, 'distinct', 1, seconds);
    await scenario(
      `new alerts, ${concurrency} connections (grouped fsync)`,
      distinct,
      'distinct',
      concurrency,
      seconds,
    );
    await scenario(
      `one alert re-sent, ${concurrency} connections, ${2 * seconds} s`,
      same,
      'same',
      concurrency,
      2 * seconds,
    );
  } finally {
    await server.close(2000);
    await journal.close();
    await rm(dir, { recursive: true, force: true });
  }
  // Every distinct alert was recorded once; the flood of re-sends started exactly one sequence.
  // (wrk does not count the answers still on their way when its time is up: up to one per connection more.)
  for (const r of results.slice(0, 2))
    if (r.handedOn < r.requests || r.handedOn > r.requests + concurrency)
      throw new Error(`${r.scenario}: ${r.requests} acks but ${r.handedOn} handed on`);
  if (results[2]!.handedOn !== 1) throw new Error(`re-sends handed on ${results[2]!.handedOn} alerts, not exactly 1`);
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [seconds, concurrency] = process.argv.slice(2).map(Number);
  const results = await runRemediatorBench(seconds || 5, concurrency || 16);
  console.log('remediator webhook acknowledgement latency (127.0.0.1, bearer auth, journal fsync before 2xx)');
  for (const r of results) {
    console.log(
      `  ${r.scenario.padEnd(48)} n=${r.requests}  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  max ${r.maxMs.toFixed(2)} ms  fsyncs ${r.fsyncs}`,
    );
  }
}
