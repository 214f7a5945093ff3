import type { RequestListener } from 'node:http';
import { hostname } from 'node:os';
import type { BuildInfo } from '../shared/version.js';
import type { LoadedConfig } from '../shared/config/load-config.js';
import type { ExporterConfig } from './exporter-section.js';
import type { TlsStatus } from '../shared/http/start-http-server.js';
import type { Logger } from '../shared/log/create-logger.js';
import type { Collector } from './collector.js';
import { CollectorScheduler } from './collector-scheduler.js';
import { createGpuCollector, type GpuSnapshot } from './collectors/gpu-collector.js';
import { createOllamaCollector, type OllamaSnapshot } from './collectors/ollama-collector.js';
import { createProbeCollector, type ProbeSnapshot } from './collectors/probe-collector.js';
import { createGpuProcessesCollector, type GpuProcessesSnapshot } from './collectors/gpu-processes-collector.js';
import { createContainersCollector } from './collectors/containers-collector.js';
import { createRunnersCollector, gpuByPid, type RunnersSnapshot } from './collectors/runners-collector.js';
import { queryComputeAppsPreferNvml } from '../shared/gpu/query-compute-apps-nvml.js';
import { createNvmlBackend } from '../shared/gpu/nvml-backend.js';
import { createReadOnlyDockerClient } from '../shared/docker/create-read-only-docker-client.js';
import { createNodeCollector } from './collectors/node-collector.js';
import { buildObservations } from './build-observations.js';
import { modelNameKey } from '../shared/ollama/normalize-model-name.js';
import { buildExporterState, createDiagnosisMemory, renderDiagnosis, type ExporterState } from './exporter-state.js';
import { BcryptUsers } from '../shared/http/bcrypt-users.js';
import type { WebConfig } from '../shared/http/web-config.js';
import { createExporterApp } from './create-exporter-app.js';
import { createFreshState } from './fresh-state.js';

export interface Exporter {
  readonly scheduler: CollectorScheduler;
  readonly app: RequestListener;
  state(): ExporterState;
  /** GET /api/state?target=NAME&fresh=1 (see fresh-state.ts); null for an unknown target. */
  freshState(target: string, waitMs?: number): Promise<ExporterState | null>;
  /** Serving HTTPS: publish whether the certificate in use follows its files. */
  watchTls(status: () => TlsStatus): void;
}

/** Wires the enabled collectors, the scheduler, the state document and the HTTP app from validated config. */
export function createExporter(
  config: LoadedConfig,
  /** The version, or the whole build (revision and branch label sentinel_build_info). */
  build: string | BuildInfo,
  log: Logger,
  /** `web`: the validated --web.config.file, whose basic_auth_users guard the app; `hostname`: os.hostname(). */
  opts: { readonly now?: () => number; readonly web?: WebConfig; readonly hostname?: string } = {},
): Exporter {
  const now = opts.now ?? Date.now;
  const cfg = config.exporter as ExporterConfig;
  const { version, revision, branch } =
    typeof build === 'string' ? { version: build, revision: 'unknown', branch: 'unknown' } : build;
  const collectors: Collector[] = [];
  // One NVML worker for both GPU collectors (gpu.backend auto or nvml); undefined for nvidia_smi.
  const nvml = cfg.collector_gpu || cfg.collector_gpu_processes ? createNvmlBackend(config.gpu) : undefined;
  if (cfg.collector_gpu)
    collectors.push(createGpuCollector(config.gpu, { log: log.child({ collector: 'gpu' }), nvml }) as Collector);
  if (cfg.collector_ollama) collectors.push(createOllamaCollector(config.ollama, config.models, cfg) as Collector);
  // Only keep_warm models are probed; with none, there is nothing to run (and nothing to be "ready" for).
  if (cfg.collector_probe && config.models.some((m) => m.keep_warm))
    collectors.push(
      createProbeCollector(config.ollama, config.models, cfg, {
        // The runners collector's snapshot; absent until it runs: runners not visible.
        runnersOf: (target) => {
          const snap = scheduler.snapshot<RunnersSnapshot>('runners');
          const t = snap?.targets.find((x) => x.target === target);
          return snap && t ? { atMs: snap.atMs, runners: t.runners } : null;
        },
        // The next runners run starts within its interval and ends within its timeout, even behind a slow one.
        runnersEvidenceWaitMs: cfg.ollama_interval_ms + config.docker.timeout_ms,
        blobOf: (target, model) =>
          scheduler
            .snapshot<OllamaSnapshot>('ollama')
            ?.targets.find((t) => t.target === target)
            ?.loaded?.find((m) => modelNameKey(m.model) === modelNameKey(model))?.blob ?? null,
      }) as Collector,
    );
  // Runner processes are judged beside /api/ps, at its pace; only targets in containers can be found by cgroup.
  const runners = cfg.collector_ollama && config.ollama.some((t) => t.container);
  const needsDocker =
    runners || cfg.collector_gpu_processes || (cfg.collector_containers && config.ollama.some((t) => t.container));
  // Reads only (GET), whatever the socket's mount allows: the exporter never changes anything in Docker.
  const docker = needsDocker ? createReadOnlyDockerClient(config.docker) : undefined;
  if (cfg.collector_gpu_processes) {
    collectors.push(
      createGpuProcessesCollector(config.gpu, {
        queryComputeApps: (signal) =>
          queryComputeAppsPreferNvml(config.gpu, nvml, { signal, log: log.child({ collector: 'gpu_processes' }) }),
        // Idle GPUs get an explicit 0 from the GPU collector's latest reading: no extra nvidia-smi run.
        listGpuUuids: async () => scheduler.snapshot<GpuSnapshot>('gpu')?.gpus.map((g) => g.uuid) ?? [],
        docker: docker!,
        targets: config.ollama,
        log: log.child({ collector: 'gpu_processes' }),
        dockerTimeoutMs: config.docker.timeout_ms,
      }) as Collector,
    );
  }
  if (cfg.collector_containers && config.ollama.some((t) => t.container)) {
    collectors.push(
      createContainersCollector(
        { intervalMs: cfg.containers_interval_ms, timeoutMs: config.docker.timeout_ms, procRoot: config.gpu.proc_root },
        { docker: docker!, targets: config.ollama, log: log.child({ collector: 'containers' }) },
      ) as Collector,
    );
  }
  if (runners) {
    collectors.push(
      createRunnersCollector(
        { intervalMs: cfg.ollama_interval_ms, timeoutMs: config.docker.timeout_ms, procRoot: config.gpu.proc_root },
        {
          docker: docker!,
          targets: config.ollama,
          log: log.child({ collector: 'runners' }),
          gpuByPid: () => gpuByPid(scheduler.snapshot<GpuProcessesSnapshot>('gpu_processes')),
        },
      ) as Collector,
    );
  }
  collectors.push(
    createNodeCollector(
      { timeoutMs: config.docker.timeout_ms },
      { ...(docker ? { docker } : {}), hostname: opts.hostname ?? hostname() },
    ) as Collector,
  );
  const scheduler = new CollectorScheduler(collectors, { log, now });

  // A fresh answer (GET /api/state?fresh=1) leaves out the sources it could not sample again: unknown, not old.
  const observations = (unknown: ReadonlySet<string> = new Set()) => {
    const snap = <S>(name: string): S | undefined => (unknown.has(name) ? undefined : scheduler.snapshot<S>(name));
    const gpuStatus = scheduler.statuses().find((s) => s.name === 'gpu');
    return buildObservations({
      targets: config.ollama,
      models: config.models,
      gpu: snap<GpuSnapshot>('gpu'),
      gpuError: gpuStatus && !gpuStatus.ok && !unknown.has('gpu') ? (gpuStatus.lastError?.reason ?? null) : null,
      ollama: snap<OllamaSnapshot>('ollama'),
      probes: snap<ProbeSnapshot>('probe')?.probes.map((p) => ({
        target: p.target,
        model: p.model,
        result: p.result,
        consecutiveFailures: p.consecutiveFailures,
        ...(p.message !== undefined ? { message: p.message } : {}),
        runnerBusyDuringWait: p.runnerBusyDuringWait ?? null,
        busySinceMs: p.busySinceMs ?? null,
        lastSuccessMs: p.lastSuccessMs,
        coldLoadSeconds: p.coldLoadSeconds,
        ...(p.evicted ? { evicted: p.evicted } : {}),
        ...(p.heldUntilMs != null ? { heldUntilMs: p.heldUntilMs } : {}),
        ...(p.evictedBy ? { evictedBy: p.evictedBy } : {}),
      })),
      gpuUsage: snap<GpuProcessesSnapshot>('gpu_processes')?.targets,
      runners: snap<RunnersSnapshot>('runners'),
    });
  };
  // One memory for /api/state and /metrics: a cross-source finding needs two samples, whichever endpoint asked.
  const diagnose = createDiagnosisMemory();
  const state = (unknown?: ReadonlySet<string>): ExporterState =>
    buildExporterState(version, scheduler.ready(), scheduler.statuses(), observations(unknown), now(), diagnose);
  const freshState = createFreshState({ scheduler, targets: config.ollama.map((t) => t.name), state, now });
  let tls: (() => TlsStatus) | undefined;
  // Scrapes need only the verdicts, not the JSON copy of every snapshot that /api/state serves.
  const app = createExporterApp(cfg, {
    ...(opts.web ? { users: new BcryptUsers(opts.web.basic_auth_users) } : {}),
    scheduler,
    version,
    revision,
    branch,
    state: () => state(),
    freshState,
    extraKey: () => {
      if (!tls) return '';
      const s = tls();
      return `${s.reloadErrors}/${s.lastReloadOk}`;
    },
    extraSeries: (sink) => {
      renderDiagnosis(observations(), sink, diagnose);
      if (!tls) return;
      const s = tls();
      sink.counter(
        'sentinel_exporter_tls_reload_errors_total',
        'Changed TLS certificate/key files that could not be loaded (the previous pair stayed in use).',
        {},
        s.reloadErrors,
      );
      sink.gauge(
        'sentinel_exporter_tls_reload_success',
        '1 when the TLS certificate served is the one on disk, 0 while the files on disk cannot be loaded.',
        {},
        s.lastReloadOk ? 1 : 0,
      );
    },
  });
  return { scheduler, app, state: () => state(), freshState, watchTls: (status) => void (tls = status) };
}
