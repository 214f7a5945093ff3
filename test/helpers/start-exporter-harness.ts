import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createExporter, type Exporter } from '../../exporter/create-exporter.js';
import { exporterSection } from '../../exporter/exporter-section.js';
import { loadConfig, type LoadedConfig } from '../../shared/config/load-config.js';
import type { ExporterConfig } from '../../exporter/exporter-section.js';
import { startHttpServer, type RunningServer } from '../../shared/http/start-http-server.js';
import { createLogger } from '../../shared/log/create-logger.js';
import { startOllamaSim, type OllamaSimOptions } from '../sim/ollama-sim.js';
import { defaultH100State, updateGpuState, writeGpuState, type GpuState } from '../sim/gpu-state.js';
import { waitFor } from './wait-for.js';
import { parseExposition, type Exposition } from './parse-exposition.js';
import { writeNvidiaSmiWrapper, type NvidiaSmiWrapper } from './write-nvidia-smi-wrapper.js';

type Sim = Awaited<ReturnType<typeof startOllamaSim>>;

/** Intervals and deadlines in ms, applied after validation: below the config minimums so tests stay short. */
export interface HarnessTiming {
  gpuIntervalMs: number;
  gpuTimeoutMs: number;
  ollamaIntervalMs: number;
  ollamaTimeoutMs: number;
  probeIntervalMs: number;
  probeLoadTimeoutMs: number;
  probeFirstTokenTimeoutMs: number;
}

export interface HarnessOptions {
  /** Models the simulator has locally. */
  simModels?: string[];
  sim?: Partial<OllamaSimOptions>;
  /** The config's `models:` list, in YAML spelling. */
  models?: Record<string, unknown>[];
  /** Targets besides "main" (the simulator). */
  extraTargets?: { name: string; url: string }[];
  gpuState?: GpuState;
  /** Scalars of the `exporter:` section, in YAML spelling. */
  exporter?: Record<string, unknown>;
  timing?: Partial<HarnessTiming>;
  /** Start the collectors at once (default); false lets a test look at the exporter before any collection. */
  start?: boolean;
}

export interface Scrape {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

export interface ExporterHarness {
  readonly dir: string;
  readonly stateFile: string;
  readonly sim: Sim;
  readonly exporter: Exporter;
  readonly config: LoadedConfig;
  readonly url: string;
  readonly smi: NvidiaSmiWrapper;
  get(path: string, init?: RequestInit): Promise<Scrape>;
  /** GET /metrics, which must answer 200. */
  metrics(): Promise<Exposition>;
  /** Polls /metrics until `check` returns true, and returns that scrape; the timeout message shows the last one. */
  waitForMetrics(what: string, check: (m: Exposition) => boolean, timeoutMs?: number): Promise<Exposition>;
  updateGpu(change: (s: GpuState) => void): Promise<void>;
  /** Log lines (parsed JSON) the exporter wrote at warn and above. */
  logs(): Record<string, unknown>[];
  close(): Promise<void>;
}

const DEFAULT_TIMING: HarnessTiming = {
  gpuIntervalMs: 300,
  gpuTimeoutMs: 5000,
  ollamaIntervalMs: 250,
  ollamaTimeoutMs: 2000,
  probeIntervalMs: 300,
  probeLoadTimeoutMs: 5000,
  probeFirstTokenTimeoutMs: 2000,
};

/**
 * The real exporter wiring in this process (createExporter + startHttpServer, as the exporter command does) against
 * the Ollama simulator and the fake nvidia-smi, with a private temp dir, GPU state file and free port.
 */
export async function startExporterHarness(opts: HarnessOptions = {}): Promise<ExporterHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-e2e-'));
  const stateFile = join(dir, 'gpu.state');
  writeGpuState(stateFile, opts.gpuState ?? defaultH100State());
  const smi = writeNvidiaSmiWrapper(dir, stateFile);
  let sim: Sim | undefined;
  let server: RunningServer | undefined;
  let exporter: Exporter | undefined;
  const lines: Record<string, unknown>[] = [];
  try {
    sim = await startOllamaSim({ gpuStateFile: stateFile, models: opts.simModels ?? [], ...opts.sim });
    const doc = {
      ollama: [{ name: 'main', url: sim.url }, ...(opts.extraTargets ?? [])],
      models: opts.models ?? [],
      // The fake nvidia-smi is what these tests drive; on a GPU host `auto` would read the real GPU through NVML.
      gpu: { nvidia_smi: smi.command, backend: 'nvidia_smi' },
      exporter: {
        listen_address: '127.0.0.1:0',
        collector_gpu_processes: false,
        collector_containers: false,
        ...opts.exporter,
      },
    };
    const validated = loadConfig({
      file: 'e2e.yaml',
      readFile: () => stringify(doc),
      flags: new Map(),
      env: {},
      sections: [exporterSection],
    });
    const t = { ...DEFAULT_TIMING, ...opts.timing };
    const exp = validated.exporter as ExporterConfig;
    const config: LoadedConfig = {
      ...validated,
      gpu: { ...validated.gpu, interval_ms: t.gpuIntervalMs, timeout_ms: t.gpuTimeoutMs },
      exporter: {
        ...exp,
        ollama_interval_ms: t.ollamaIntervalMs,
        ollama_timeout_ms: t.ollamaTimeoutMs,
        probe_interval_ms: t.probeIntervalMs,
        probe_load_timeout_ms: t.probeLoadTimeoutMs,
        probe_first_token_timeout_ms: t.probeFirstTokenTimeoutMs,
      },
    };
    const log = createLogger('warn', {
      write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>),
    });
    exporter = createExporter(config, 'e2e', log);
    server = await startHttpServer(config.exporter as ExporterConfig, exporter.app, log);
    if (opts.start !== false) exporter.scheduler.start();

    const url = server.url;
    const get = async (path: string, init?: RequestInit): Promise<Scrape> => {
      const res = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
      return { status: res.status, headers: res.headers, body: await res.text() };
    };
    const metrics = async () => {
      const r = await get('/metrics');
      if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.body}`);
      return parseExposition(r.body);
    };
    let last = '';
    const running = { sim, server, exporter };
    return {
      dir,
      stateFile,
      sim,
      exporter,
      config,
      url,
      smi,
      get,
      metrics,
      async waitForMetrics(what, check, timeoutMs = 10_000) {
        try {
          return await waitFor(
            async () => {
              const m = await metrics();
              last = m.text;
              return check(m) ? m : false;
            },
            { timeoutMs, intervalMs: 100, what },
          );
        } catch (err) {
          const interesting = last
            .split('\n')
            .filter((l) =>
              /^sentinel_(collector_(success|errors)|ollama_(up|condition\S* 1|stage_success)|probe_(result\S* 1|consecutive)|gpus |gpu_lost)/.test(
                l,
              ),
            );
          throw new Error(
            `${(err as Error).message}\n--- last scrape (excerpt) ---\n${interesting.join('\n')}\n--- log ---\n${lines
              .slice(-10)
              .map((l) => JSON.stringify(l))
              .join('\n')}`,
            { cause: err },
          );
        }
      },
      async updateGpu(change) {
        await updateGpuState(stateFile, change);
      },
      logs: () => lines,
      async close() {
        await closeAll(running, dir);
      },
    };
  } catch (err) {
    await closeAll({ sim, server, exporter }, dir);
    throw err;
  }
}

async function closeAll(r: { sim?: Sim; server?: RunningServer; exporter?: Exporter }, dir: string): Promise<void> {
  await r.exporter?.scheduler.stop(1000);
  await r.server?.close(1000);
  await r.sim?.close();
  // Deleting the state file also ends any hung or stuck fake nvidia-smi (it watches the file).
  rmSync(dir, { recursive: true, force: true });
}
