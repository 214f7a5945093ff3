// Scrape throughput and latency of this exporter against Debian's prometheus-node-exporter (the Go exporter most
// operators already run), side by side in one run, both loaded by wrk with Prometheus' own Accept and gzip headers at
// 1, 10 and 50 connections. The exporter runs as issue 10 sizes it: 8 GPUs x 16 processes, 4 models, NVML (the fake
// library) sampled every second. Installs wrk and the node exporter from Debian when missing (root only).
import { buildFakeNvml } from '../helpers/build-fake-nvml.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { startProcess, type ProcessHandle } from '../helpers/start-process.js';
import { startRealExporter } from '../helpers/start-real-exporter.js';
import { waitFor } from '../helpers/wait-for.js';
import { clockTicks, cpuSeconds, ensureDebianTools, memoryKiB, runWrk, startBenchSim } from './bench-host.js';
import type { BenchRow } from './bench-row.js';
import type { WrkResult } from './parse-wrk.js';

const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
/** What Prometheus 2.x/3.x sends when it scrapes (scrape/scrape.go acceptHeader), and its gzip. */
const PROMETHEUS_HEADERS = [
  'Accept: application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
  'Accept-Encoding: gzip',
];
const MODELS = ['qwen2.5:0.5b', 'llama3:latest', 'llama3.1:8b', 'gpt-oss:20b'];
const CONNECTIONS = [1, 10, 50] as const;

export interface ScrapeBenchOptions {
  /** Seconds per wrk run. Default 5. */
  readonly seconds?: number;
}

function wrk(url: string, connections: number, seconds: number): Promise<WrkResult> {
  return runWrk(url, { connections, seconds, headers: PROMETHEUS_HEADERS });
}

interface Subject {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
}

async function measure(s: Subject, seconds: number, ticks: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const add = (c: string, metric: string, value: number, unit: string) =>
    rows.push({ bench: 'scrape', case: `${s.name}, ${c}`, metric, value, unit });
  add('idle', 'RSS before the load', memoryKiB(s.pid, 'VmRSS') / 1024, 'MiB');
  for (const c of CONNECTIONS) {
    const cpu0 = cpuSeconds(s.pid, ticks).own;
    const r = await wrk(s.url, c, seconds);
    const cpu1 = cpuSeconds(s.pid, ticks).own;
    const label = `${c} connection${c > 1 ? 's' : ''}`;
    add(label, 'throughput', r.requestsPerSecond, 'scrapes/s');
    add(label, 'p50', r.p50Ms, 'ms');
    add(label, 'p99', r.p99Ms, 'ms');
    add(label, 'max', r.maxMs, 'ms');
    add(label, 'CPU per scrape', ((cpu1 - cpu0) * 1e6) / Math.max(1, r.requests), 'µs');
    if (r.non2xx + r.socketErrors > 0)
      add(label, 'non-2xx answers and socket errors', r.non2xx + r.socketErrors, 'count');
    add(label, 'RSS after', memoryKiB(s.pid, 'VmRSS') / 1024, 'MiB');
  }
  add('after the load', 'peak RSS', memoryKiB(s.pid, 'VmHWM') / 1024, 'MiB');
  return rows;
}

export async function runScrapeBench(options: ScrapeBenchOptions = {}): Promise<BenchRow[]> {
  const seconds = options.seconds ?? 5;
  const why = await ensureDebianTools({ wrk: 'wrk', [NODE_EXPORTER]: 'prometheus-node-exporter' });
  if (why) {
    process.stdout.write(`scrape bench: skipped (${why})\n`);
    return [];
  }
  const ticks = await clockTicks();
  const { dir, stateFile, sim, close } = await startBenchSim('sentinel-bench-scrape-', 8, 16, MODELS);
  let node: ProcessHandle | undefined;
  let ex: Awaited<ReturnType<typeof startRealExporter>> | undefined;
  try {
    const config = `ollama:
  - name: main
    url: ${sim.url}
models:
${MODELS.map((m, i) => `  - name: ${m}\n    keep_warm: ${i === 0}`).join('\n')}
log:
  level: warn
gpu:
  backend: nvml
  nvml_library: ${buildFakeNvml()}
  interval: 1s
exporter:
  listen_address: 127.0.0.1:0
  ollama_interval: 1s
  probe_interval: 15s
`;
    ex = await startRealExporter(dir, config, stateFile);
    const port = await findFreePort();
    node = startProcess(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${port}`]);
    const ours = `${ex.url}/metrics`;
    const theirs = `http://127.0.0.1:${port}/metrics`;
    await waitFor(
      async () =>
        /^sentinel_gpus 8$/m.test(await (await fetch(ours)).text()) &&
        (await fetch(theirs).catch(() => null))?.status === 200,
      { timeoutMs: 30_000, intervalMs: 200, what: 'both exporters answering, ours with 8 GPUs' },
    );
    const series = async (url: string) =>
      (await (await fetch(url)).text()).split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    const rows: BenchRow[] = [
      {
        bench: 'scrape',
        case: 'ollama-sentinel',
        metric: 'series per scrape',
        value: await series(ours),
        unit: 'series',
      },
      {
        bench: 'scrape',
        case: 'node_exporter 1.5',
        metric: 'series per scrape',
        value: await series(theirs),
        unit: 'series',
      },
    ];
    const a = await measure({ name: 'ollama-sentinel', url: ours, pid: ex.proc.pid! }, seconds, ticks);
    // The same exporter with V8's young generation capped (1 MiB semi-spaces instead of up to 16 MiB): memory
    // traded for more frequent scavenges. Measured, not shipped by default.
    await ex.proc.stop();
    ex = await startRealExporter(dir, config, stateFile, [], { NODE_OPTIONS: '--max-semi-space-size=1' });
    const small = `${ex.url}/metrics`;
    await waitFor(async () => /^sentinel_gpus 8$/m.test(await (await fetch(small)).text()), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'the exporter with 1 MiB semi-spaces answering with 8 GPUs',
    });
    const capped = { name: 'ollama-sentinel --max-semi-space-size=1', url: small, pid: ex.proc.pid! };
    const a1 = await measure(capped, seconds, ticks);
    const b = await measure({ name: 'node_exporter 1.5', url: theirs, pid: node.pid! }, seconds, ticks);
    rows.push(...a, ...a1, ...b);
    for (const c of CONNECTIONS) {
      const tput = (r: BenchRow[]) =>
        r.find((x) => x.case.endsWith(`, ${c} connection${c > 1 ? 's' : ''}`) && x.metric === 'throughput')!.value;
      rows.push({
        bench: 'scrape',
        case: `ratio, ${c} connection${c > 1 ? 's' : ''}`,
        metric: 'ollama-sentinel / node_exporter throughput',
        value: tput(a) / tput(b),
        unit: 'x',
      });
    }
    return rows;
  } finally {
    await node?.stop();
    await ex?.proc.stop();
    await close();
  }
}
