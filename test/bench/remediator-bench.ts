// Webhook acknowledgement latency of the remediator: authenticated POSTs of real Alertmanager 0.25 payloads to
// 127.0.0.1, each answered only after its alert is durably in the journal (fsync). Bounded: a fixed number of
// requests per scenario. Prints p50/p99/max per scenario; no pass/fail (speed is reported, not asserted).
//   node dist/test/bench/remediator-bench.js [requests=400] [concurrency=16]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { AlertIntake } from '../../remediator/ingress/alert-intake.js';
import { createRemediatorApp } from '../../remediator/ingress/create-remediator-app.js';
import { DEFAULT_PAYLOAD_LIMITS } from '../../remediator/ingress/webhook-payload.js';
import { AlertJournal } from '../../remediator/journal/alert-journal.js';
import { DedupCache } from '../../remediator/journal/dedup-cache.js';
import { RemediatorMetrics } from '../../remediator/remediator-metrics.js';
import { compileRules } from '../../remediator/policy/match-rule.js';
import { startHttpServer } from '../../shared/http/start-http-server.js';
import { createLogger } from '../../shared/log/create-logger.js';

export interface LatencySummary {
  readonly scenario: string;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly fsyncs: number;
}

const TOKEN = 'bench-token';

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runRemediatorBench(requests = 400, concurrency = 16): Promise<LatencySummary[]> {
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
  const body = (i: number) =>
    JSON.stringify({ ...fixture, alerts: [{ ...fixture.alerts[0], fingerprint: i.toString(16).padStart(16, '0') }] });
  const post = async (text: string): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: text,
    });
    await res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return performance.now() - t0;
  };
  const results: LatencySummary[] = [];
  const scenario = async (name: string, texts: string[], parallel: number) => {
    const before = journal.syncs;
    const times: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < texts.length) times.push(await post(texts[next++]!));
      }),
    );
    times.sort((a, b) => a - b);
    results.push({
      scenario: name,
      requests: times.length,
      p50Ms: percentile(times, 50),
      p99Ms: percentile(times, 99),
      maxMs: times[times.length - 1]!,
      fsyncs: journal.syncs - before,
    });
  };
  try {
    await scenario(
      'warm-up (not reported)',
      Array.from({ length: 20 }, (_, i) => body(1_000_000 + i)),
      1,
    );
    results.length = 0;
    await scenario(
      'new alert, one at a time (fsync each)',
      Array.from({ length: requests }, (_, i) => body(i)),
      1,
    );
    await scenario(
      `new alerts, ${concurrency} concurrent (grouped fsync)`,
      Array.from({ length: requests }, (_, i) => body(requests + i)),
      concurrency,
    );
    await scenario(
      're-sends, answered from memory',
      Array.from({ length: requests }, (_, i) => body(i)),
      1,
    );
  } finally {
    await server.close(2000);
    await journal.close();
    await rm(dir, { recursive: true, force: true });
  }
  if (handedOn !== 2 * requests + 20)
    throw new Error(`expected ${2 * requests + 20} alerts handed on, got ${handedOn}`);
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [requests, concurrency] = process.argv.slice(2).map(Number);
  const results = await runRemediatorBench(requests || 400, concurrency || 16);
  console.log('remediator webhook acknowledgement latency (127.0.0.1, bearer auth, journal fsync before 2xx)');
  for (const r of results) {
    console.log(
      `  ${r.scenario.padEnd(48)} n=${r.requests}  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  max ${r.maxMs.toFixed(2)} ms  fsyncs ${r.fsyncs}`,
    );
  }
}
