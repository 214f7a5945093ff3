// Exporter benchmark: the real exporter process against the Ollama simulator and the fake nvidia-smi.
// Scrape latency over a fixed number of requests (1 and 4 clients) with 1 and 8 GPUs, the background CPU of the
// collectors, RSS and CPU seconds after the run, and the cost of one GPU collection. Reports numbers; asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createGpuCollector } from '../../exporter/collectors/gpu-collector.js';
import { runNvidiaSmi } from '../../shared/gpu/run-nvidia-smi.js';
import { writeGpuState } from '../sim/gpu-state.js';
import { benchGpuState, clockTicks, cpuSeconds, memoryKiB, startBenchSim } from './bench-host.js';
import { waitFor } from '../helpers/wait-for.js';
import { FAKE_NVIDIA_SMI, startRealExporter } from '../helpers/start-real-exporter.js';
import type { BenchRow } from './bench-row.js';
import { summarizeLatencies } from './summarize-latencies.js';

export interface ExporterBenchOptions {
  /** Scrapes per client setting. Default 500. */
  readonly requests?: number;
  /** Processes per GPU in the fake state. Default 4. */
  readonly processesPerGpu?: number;
  /** Sequential GPU collections timed per GPU count. Default 15. */
  readonly collections?: number;
}

const WARM = 'qwen2.5:0.5b';

async function scrapeLatencies(
  url: string,
  total: number,
  clients: number,
): Promise<{ ms: number[]; wallMs: number; failures: number }> {
  const ms: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        next++;
        const t0 = performance.now();
        const res = await fetch(url);
        await res.text();
        ms.push(performance.now() - t0);
        if (res.status !== 200) failures++;
      }
    }),
  );
  return { ms, wallMs: performance.now() - started, failures };
}

async function benchProcess(
  gpus: number,
  opts: Required<ExporterBenchOptions>,
  clockTicks: number,
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const caseName = `${gpus} GPU${gpus > 1 ? 's' : ''}, ${gpus * opts.processesPerGpu + 1} processes`;
  const add = (metric: string, value: number, unit: string) =>
    rows.push({ bench: 'exporter', case: caseName, metric, value, unit });
  const { dir, stateFile, sim, close } = await startBenchSim('sentinel-bench-exporter-', gpus, opts.processesPerGpu, [
    WARM,
  ]);
  let ex: Awaited<ReturnType<typeof startRealExporter>> | undefined;
  const startedAt = Date.now();
  try {
    ex = await startRealExporter(
      dir,
      `ollama:
  - name: main
    url: ${sim.url}
models:
  - name: ${WARM}
    keep_warm: true
log:
  level: warn
gpu:
  nvidia_smi: ${FAKE_NVIDIA_SMI}
  interval: 1s
exporter:
  listen_address: 127.0.0.1:0
  ollama_interval: 1s
  probe_interval: 1s
`,
      stateFile,
    );
    const pid = ex.proc.pid!;
    const metricsUrl = `${ex.url}/metrics`;
    const first = await waitFor(
      async () => {
        const body = await (await fetch(metricsUrl)).text();
        return /sentinel_probe_success\{[^}]*\} 1/.test(body) &&
          new RegExp(`^sentinel_gpus ${gpus}$`, 'm').test(body) &&
          /^sentinel_gpu_processes\{/m.test(body)
          ? body
          : false;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `the exporter ready with ${gpus} GPUs` },
    );
    add('RSS when ready', memoryKiB(pid, 'VmRSS') / 1024, 'MiB');
    add('series per scrape', first.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length, 'series');
    add('scrape body', Buffer.byteLength(first), 'bytes');

    // Background cost: no scrapes, only the collectors on their 1 s intervals (gpu, gpu_processes, ollama, probe).
    // CPU time comes in clock ticks (10 ms): 5 s gives 0.2 % resolution.
    const idleMs = 5000;
    const c0 = cpuSeconds(pid, clockTicks);
    await sleep(idleMs);
    const c1 = cpuSeconds(pid, clockTicks);
    add('idle CPU, exporter only (1 s intervals)', (100 * (c1.own - c0.own)) / (idleMs / 1000), '% of a core');
    add(
      'idle CPU of its nvidia-smi runs (fake: node)',
      (100 * (c1.children - c0.children)) / (idleMs / 1000),
      '% of a core',
    );

    for (const clients of [1, 4]) {
      const before = cpuSeconds(pid, clockTicks);
      const r = await scrapeLatencies(metricsUrl, opts.requests, clients);
      const after = cpuSeconds(pid, clockTicks);
      const s = summarizeLatencies(r.ms);
      add(`scrape p50, ${clients} client${clients > 1 ? 's' : ''} x${opts.requests}`, s.p50, 'ms');
      add(`scrape p99, ${clients} client${clients > 1 ? 's' : ''}`, s.p99, 'ms');
      add(`scrape max, ${clients} client${clients > 1 ? 's' : ''}`, s.max, 'ms');
      add(`throughput, ${clients} client${clients > 1 ? 's' : ''}`, (r.ms.length * 1000) / r.wallMs, 'req/s');
      add(
        `exporter CPU per scrape, ${clients} client${clients > 1 ? 's' : ''}`,
        ((after.own - before.own) * 1e6) / r.ms.length,
        'µs',
      );
      if (r.failures > 0) add(`non-200 answers, ${clients} client${clients > 1 ? 's' : ''}`, r.failures, 'count');
    }
    const total = cpuSeconds(pid, clockTicks);
    const uptime = (Date.now() - startedAt) / 1000;
    add('RSS after the run', memoryKiB(pid, 'VmRSS') / 1024, 'MiB');
    add('peak RSS', memoryKiB(pid, 'VmHWM') / 1024, 'MiB');
    add(`CPU seconds, exporter (${uptime.toFixed(1)} s alive)`, total.own, 's');
    add('CPU seconds, its nvidia-smi runs', total.children, 's');
  } finally {
    await ex?.proc.stop();
    await close();
  }
  return rows;
}

/** One GPU collection in this process: spawn of the fake nvidia-smi, CSV parse, readings; and the bare spawn. */
async function benchCollection(gpus: number, collections: number): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const caseName = `one GPU collection, ${gpus} GPU${gpus > 1 ? 's' : ''} (fake nvidia-smi)`;
  const add = (metric: string, value: number, unit: string) =>
    rows.push({ bench: 'exporter', case: caseName, metric, value, unit });
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-bench-gpu-'));
  const stateFile = join(dir, 'gpu.state');
  writeGpuState(stateFile, benchGpuState(gpus, 4));
  // The fake reads its state from the environment, which spawned runs inherit from this process.
  const saved = { state: process.env.SENTINEL_FAKE_GPU_STATE, node: process.env.SENTINEL_FAKE_NODE };
  process.env.SENTINEL_FAKE_GPU_STATE = stateFile;
  process.env.SENTINEL_FAKE_NODE = process.execPath;
  try {
    const collector = createGpuCollector(
      {
        nvidia_smi: FAKE_NVIDIA_SMI,
        interval_ms: 15_000,
        timeout_ms: 10_000,
        processes: false,
        max_processes_per_gpu: 20,
        proc_root: '/proc',
      },
      { log: pino({ level: 'silent' }) },
    );
    const ctx = { signal: new AbortController().signal, now: Date.now };
    let t0 = performance.now();
    const firstSnap = await collector.collect(ctx);
    add('first collection (+ --help-query-gpu)', performance.now() - t0, 'ms');
    if (firstSnap.gpus.length !== gpus) throw new Error(`expected ${gpus} GPUs, read ${firstSnap.gpus.length}`);
    const ms: number[] = [];
    for (let i = 0; i < collections; i++) {
      t0 = performance.now();
      await collector.collect(ctx);
      ms.push(performance.now() - t0);
    }
    const s = summarizeLatencies(ms);
    add(`collection p50 (x${collections})`, s.p50, 'ms');
    add('collection max', s.max, 'ms');
    const spawn: number[] = [];
    for (let i = 0; i < collections; i++) {
      t0 = performance.now();
      await runNvidiaSmi(FAKE_NVIDIA_SMI, ['--version'], { signal: ctx.signal, timeoutMs: 10_000 });
      spawn.push(performance.now() - t0);
    }
    add('bare spawn of the fake (--version) p50', summarizeLatencies(spawn).p50, 'ms');
  } finally {
    if (saved.state === undefined) delete process.env.SENTINEL_FAKE_GPU_STATE;
    else process.env.SENTINEL_FAKE_GPU_STATE = saved.state;
    if (saved.node === undefined) delete process.env.SENTINEL_FAKE_NODE;
    else process.env.SENTINEL_FAKE_NODE = saved.node;
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export async function runExporterBench(options: ExporterBenchOptions = {}): Promise<BenchRow[]> {
  const opts: Required<ExporterBenchOptions> = { requests: 500, processesPerGpu: 4, collections: 15, ...options };
  const ticks = await clockTicks();
  const rows: BenchRow[] = [];
  for (const gpus of [1, 8]) rows.push(...(await benchCollection(gpus, opts.collections)));
  for (const gpus of [1, 8]) rows.push(...(await benchProcess(gpus, opts, ticks)));
  return rows;
}
