import type { AlertName, MonitoringConfig } from './monitoring-config.js';
import { createPromql, RECORDED } from './recording-rules.js';

export type AlertGroup = 'exporter' | 'gpu' | 'ollama';

export interface AlertDefinition {
  readonly name: AlertName;
  readonly group: AlertGroup;
  readonly expr: string;
  /** Adds the target label (`ollama` by default) from the series' `target` label, for routing and the remediator. */
  readonly perTarget: boolean;
  /** Headline, close to static (monitoring-mixins guideline). */
  readonly summary: string;
  /** Templated per alert instance. */
  readonly description: string;
  /** Runbook text: what it means, then what to do. Rendered into runbook.md. */
  readonly meaning: string;
  readonly steps: readonly string[];
}

/** Every alert's expression and text; severities, durations and thresholds come from the config. */
export function alertDefinitions(cfg: MonitoringConfig): AlertDefinition[] {
  const q = createPromql(cfg);
  const t = cfg.thresholds;
  const n = t.probeFailuresInARow;
  const where = 'on {{ $labels.instance }}';
  const model = '{{ $labels.model }} on Ollama target {{ $labels.target }}';
  return [
    {
      name: 'SentinelExporterDown',
      group: 'exporter',
      expr: `up{${cfg.exporterSelector}} == 0`,
      perTarget: false,
      summary: 'The ollama-sentinel exporter cannot be scraped.',
      description: `Prometheus has failed to scrape the ollama-sentinel exporter at {{ $labels.instance }} for ${cfg.alerts.SentinelExporterDown.for}: no GPU or Ollama health data comes from it, so the other alerts for that host are blind.`,
      meaning:
        'Scrapes of the exporter fail: the process is down, its port is not reachable, or /metrics answers with an error.',
      steps: [
        'Check the exporter service: `docker compose ps exporter` / `systemctl status ollama-sentinel-exporter`, and its log.',
        'Open `http://<instance>/readyz` and `/metrics` from the Prometheus host; a 401 means basic auth in prometheus.yml and the exporter disagree.',
        'Check the target state on the Prometheus /targets page for the scrape error.',
      ],
    },
    {
      name: 'SentinelExporterAbsent',
      group: 'exporter',
      expr: `absent(up{${cfg.exporterSelector}})`,
      perTarget: false,
      summary: 'Prometheus has no ollama-sentinel exporter to scrape.',
      description: `No scrape target matches {${cfg.exporterSelector}} for ${cfg.alerts.SentinelExporterAbsent.for}: the scrape configuration or service discovery lost the exporter, so every ollama-sentinel alert is silent.`,
      meaning: 'No `up` series exists for the exporter job at all, so Prometheus is not even trying to scrape it.',
      steps: [
        'Check `scrape_configs` in prometheus.yml (deploy/prometheus/prometheus.yml is the example) and the job name the rules select.',
        'If the job was renamed on purpose, change `exporterSelector` in deploy/monitoring/monitoring-config.ts and regenerate.',
      ],
    },
    {
      name: 'SentinelCollectorFailing',
      group: 'exporter',
      expr: `${q.metric('sentinel_collector_success')} == 0`,
      perTarget: false,
      summary: 'An ollama-sentinel collector keeps failing.',
      description: `The {{ $labels.collector }} collector of the exporter ${where} has failed for ${cfg.alerts.SentinelCollectorFailing.for}; its series are missing, so alerts built on them cannot fire.`,
      meaning:
        'One data source of the exporter (gpu, gpu_processes, ollama, probe, containers) fails every run; the others keep working.',
      steps: [
        'Read the reason: `sentinel_collector_errors_total{collector="..."}` by `reason`, or `/api/state` of the exporter (`collectors[].lastError`).',
        'gpu / gpu_processes: run the configured nvidia-smi by hand as the exporter user; driver/library version mismatch needs a host reboot.',
        'containers / gpu_processes: check access to the Docker socket and the host /proc mount (gpu.proc_root).',
      ],
    },
    {
      name: 'SentinelCollectorStale',
      group: 'exporter',
      expr: `(
  time() - ${q.metric('sentinel_collector_last_success_timestamp_seconds')} > ${t.collectorStaleSeconds}
)
and ${q.on('collector')}
${q.metric('sentinel_collector_success')} == 1`,
      perTarget: false,
      summary: 'An ollama-sentinel collector reports success but its data is old.',
      description: `The {{ $labels.collector }} collector ${where} last succeeded {{ $value | humanizeDuration }} ago while still reporting success: its scheduling has stopped and the exporter serves frozen data.`,
      meaning:
        'The collector still says success=1 but no new successful run has happened for a long time: the exporter is serving a frozen snapshot.',
      steps: [
        'Restart the exporter; keep its log and `/api/state` (skippedRuns, inFlightSinceMs) from before the restart for a bug report.',
        'Compare the exporter host clock with the Prometheus host clock (NTP): a skewed clock also looks like this.',
      ],
    },
    {
      name: 'SentinelCollectorStuck',
      group: 'exporter',
      expr: `${q.metric('sentinel_collector_stuck_since_timestamp_seconds')} > 0`,
      perTarget: false,
      summary: 'An ollama-sentinel collection run does not end even after being killed.',
      description: `A {{ $labels.collector }} run of the exporter ${where} has been stuck since {{ $value | humanizeTimestamp }}: usually nvidia-smi hanging in the kernel, which means the GPU driver is wedged.`,
      meaning:
        'A collection run outlived its timeout and the kill: typically nvidia-smi in uninterruptible sleep inside the driver.',
      steps: [
        'On the host: `ps -eo pid,stat,wchan:32,cmd | grep nvidia-smi` (state D = stuck in the kernel) and `dmesg | grep -i xid`.',
        'A wedged driver needs a GPU reset or a host reboot; restarting containers does not help.',
      ],
    },
    {
      name: 'GpuLost',
      group: 'gpu',
      expr: `${q.metric('sentinel_gpu_lost')} == 1`,
      perTarget: false,
      summary: 'A GPU no longer answers nvidia-smi.',
      description:
        'GPU {{ $labels.uuid }} on {{ $labels.instance }} answered before and is now lost (fell off the bus, "Unable to determine the device handle", Xid 79). Models on it fall back to the CPU or fail.',
      meaning:
        'A GPU the exporter has seen answer no longer does. This is a host-level fault; containers cannot fix it.',
      steps: [
        'On the host: `nvidia-smi`, `dmesg | grep -i -e xid -e NVRM`.',
        'Drain the host, then reset the GPU (`nvidia-smi -r -i <index>`) or reboot; check power and cooling if it repeats.',
      ],
    },
    {
      name: 'GpuUnreachable',
      group: 'gpu',
      expr: `${q.metric('sentinel_gpu_unidentified_unreachable')} > 0`,
      perTarget: false,
      summary: 'nvidia-smi cannot open a GPU it never saw working.',
      description:
        '{{ $value }} GPU(s) on {{ $labels.instance }} cannot be opened by nvidia-smi and never answered since the exporter started; their PCI bus ids are in the exporter log.',
      meaning:
        'nvidia-smi lists a GPU it cannot open and the exporter never saw it answer, so it has no uuid to report it under.',
      steps: [
        'Find the bus id in the exporter log ("nvidia-smi cannot open a GPU never seen before"), then handle as GpuLost.',
      ],
    },
    {
      name: 'GpuEccUncorrectedErrors',
      group: 'gpu',
      expr: `${q.metric('sentinel_gpu_ecc_uncorrected_errors', 'counter="volatile"')} > 0`,
      perTarget: false,
      summary: 'A GPU reports uncorrected ECC memory errors.',
      description:
        'GPU {{ $labels.uuid }} on {{ $labels.instance }} reports {{ $value }} uncorrected ECC error(s) since the driver loaded: results computed on it may be corrupt.',
      meaning:
        'Uncorrectable memory errors since driver load. Data on that GPU may be corrupt; the page is retired at the next reset.',
      steps: [
        'Move workloads off the GPU, then reset it or reboot so the bad pages are retired (`nvidia-smi -q -d PAGE_RETIREMENT,ROW_REMAPPER`).',
        'Repeated errors after a reset: RMA the card.',
      ],
    },
    {
      name: 'GpuHardwareSlowdown',
      group: 'gpu',
      expr: `${q.metric('sentinel_gpu_clock_event_reason_active', `reason=~"${t.gpuSlowdownReasons.join('|')}"`)} == 1`,
      perTarget: false,
      summary: 'The hardware is slowing a GPU down.',
      description: `GPU {{ $labels.uuid }} on {{ $labels.instance }} has had clock event reason {{ $labels.reason }} active for ${cfg.alerts.GpuHardwareSlowdown.for}: overheating or a power brake halves its speed or worse.`,
      meaning:
        'NVML reports a hardware slowdown (thermal, or the external power brake): clocks drop far below normal, and so do tokens per second.',
      steps: [
        'Check `sentinel_gpu_temperature_celsius`, fans and airflow, and the chassis/PSU power brake signal.',
        'Software power capping (sw_power_cap) is policy and is deliberately not part of this alert.',
      ],
    },
    {
      name: 'GpuMemoryNearlyFull',
      group: 'gpu',
      expr: `${RECORDED.gpuMemoryUsedRatio} > ${t.gpuMemoryNearlyFullRatio}`,
      perTarget: false,
      summary: 'GPU memory is nearly full.',
      description: `GPU {{ $labels.uuid }} on {{ $labels.instance }} has {{ $value | humanizePercentage }} of its memory in use: the next model or a larger context will be partly offloaded to the CPU.`,
      meaning:
        'Little VRAM is left. Ollama then places new models (or larger contexts) partly on the CPU, which is many times slower.',
      steps: [
        'See who holds it: the GPU dashboard "GPU memory by container" panel, or `nvidia-smi --query-compute-apps=pid,used_memory --format=csv` on the host.',
        'Unload models nobody uses, lower num_ctx, or set OLLAMA_MAX_LOADED_MODELS.',
      ],
    },
    {
      name: 'OllamaApiDown',
      group: 'ollama',
      expr: `${q.metric('sentinel_ollama_up')} == 0`,
      perTarget: true,
      summary: 'The Ollama API does not answer.',
      description: `Ollama target {{ $labels.target }} (exporter ${where}) has not answered HEAD / for ${cfg.alerts.OllamaApiDown.for}.`,
      meaning:
        'The Ollama HTTP server does not answer at all: the container is stopped, crash-looping, or its port is unreachable.',
      steps: [
        'The remediator restarts the container (remediate="true"); check its incident log at /api/incidents.',
        'By hand: `docker logs --tail 100 <ollama container>`, `docker inspect -f "{{.State}}" <container>`.',
      ],
    },
    {
      name: 'OllamaGpuIdleWhileModelLoaded',
      group: 'ollama',
      // The process evidence needs every GPU process traced to its container: while some GPU memory on the host
      // belongs to processes that could not be traced (no host /proc, unknown container), it is inconclusive and
      // must not trigger restarts. A model /api/ps itself places on the CPU needs no such evidence.
      expr: `(
  (
    ${RECORDED.residentModelSize} > 0
    and ${q.on('target')}
    ${q.metric('sentinel_ollama_gpu_memory_used_bytes')}
      < ${q.on('target')}
    ${t.gpuIdleVramEvidenceRatio} * ${RECORDED.residentModelVram}
  )
  or ${q.on('target')}
  (
    max ${q.by('target')} (${q.metric('sentinel_ollama_condition', 'condition="vram_mismatch"')}) == 1
  )
)
unless ${q.on()}
(
  sum ${q.by()} (${q.metric('sentinel_gpu_container_memory_used_bytes', 'attribution=~"exited|unconfirmed"')}) > 0
)
or ${q.on('target')}
(
  ${RECORDED.residentModelSize} > 0
  and ${q.on('target')}
  ${RECORDED.residentModelVram} == 0
)
or ${q.on('target')}
(
  max ${q.by('target')} (${q.metric('sentinel_ollama_condition', 'condition="model_on_cpu"')}) == 1
)`,
      perTarget: true,
      summary: 'Ollama has a model loaded but the GPU is not holding it: silent CPU fallback.',
      description: `Ollama target {{ $labels.target }} (exporter ${where}) lists a resident model in /api/ps, but its processes hold less than ${Math.round(t.gpuIdleVramEvidenceRatio * 100)} % of the claimed VRAM on the GPU, or the model sits entirely on the CPU, for ${cfg.alerts.OllamaGpuIdleWhileModelLoaded.for}. Inference runs on the CPU.`,
      meaning:
        'A model is loaded and not on its way out (not "Stopping"), yet the GPU does not hold it: the container lost its GPU (e.g. after `systemctl daemon-reload` with the systemd cgroup driver) or Ollama fell back to the CPU. A model unloaded by keep_alive is not loaded any more and does not fire this alert, and neither does a host where some GPU memory cannot be traced to a container (the evidence is then inconclusive). A model deliberately run on the CPU (num_gpu: 0) does fire it: silence it for that target.',
      steps: [
        'The remediator restarts the Ollama container (remediate="true"), then re-warms the keep_warm models.',
        'Confirm by hand: `docker exec <ollama> nvidia-smi -L` ("Failed to initialize NVML" = the cgroup bug) and `ollama ps` (PROCESSOR column).',
        'Permanent fix for the cgroup bug: `"exec-opts": ["native.cgroupdriver=cgroupfs"]` in /etc/docker/daemon.json, or the NVIDIA /dev/char symlinks.',
      ],
    },
    {
      name: 'OllamaProbeHung',
      group: 'ollama',
      expr: `${q.metric('sentinel_probe_consecutive_failures')} >= ${n}
and ${q.on('target', 'model')}
${q.metric('sentinel_probe_result', 'result="timeout"')} == 1`,
      perTarget: true,
      summary: 'An Ollama model no longer produces tokens: hung runner.',
      description: `The last {{ $value }} one-token probes of ${model} (exporter ${where}) got no token in time although the model was loaded and the API answers: the runner is hung.`,
      meaning: 'The API answers but the model runner does not: requests queue forever.',
      steps: [
        'The remediator reloads the model, then restarts the container if that does not help (remediate="true").',
        'Keep `docker logs <ollama>` from before the restart: CUDA errors there point at the driver or the GPU.',
      ],
    },
    {
      name: 'OllamaProbeFailing',
      group: 'ollama',
      expr: `(
  ${q.metric('sentinel_probe_consecutive_failures')} >= ${n}
  and ${q.on('target', 'model')}
  ${q.metric('sentinel_probe_result', 'result=~"error|loading"')} == 1
)
unless ${q.on('target')}
${q.metric('sentinel_ollama_condition', 'condition="out_of_memory"')} == 1`,
      perTarget: true,
      summary: 'Probes of an Ollama model keep failing.',
      description: `The last {{ $value }} one-token probes of ${model} (exporter ${where}) failed or could not load the model in time.`,
      meaning: 'The model cannot be loaded in time or generation fails with an error other than out-of-memory.',
      steps: [
        'Read the error: `/api/state` of the exporter, `snapshots.probe.probes[].message`.',
        'The remediator reloads the model (remediate="true"); a load that keeps timing out may need a longer OLLAMA_LOAD_TIMEOUT.',
      ],
    },
    {
      name: 'OllamaOutOfMemory',
      group: 'ollama',
      expr: `${q.metric('sentinel_ollama_condition', 'condition="out_of_memory"')} == 1`,
      perTarget: true,
      summary: 'Ollama cannot load a model: out of memory.',
      description:
        'Ollama target {{ $labels.target }} (exporter ' +
        where +
        ') answers probes with out-of-memory errors: the model and its context do not fit.',
      meaning:
        'Loading or running a model fails for lack of GPU or system memory. Restarting would only repeat it, so this is not remediated.',
      steps: ['Lower num_ctx, unload other models, quantize the KV cache (OLLAMA_KV_CACHE_TYPE), or add memory.'],
    },
    {
      name: 'OllamaProbeSlow',
      group: 'ollama',
      expr: `${q.metric('sentinel_probe_ttfb_seconds')} > ${t.probeSlowTtfbSeconds}
and ${q.on('target', 'model')}
${q.metric('sentinel_probe_success')} == 1`,
      perTarget: true,
      summary: 'An Ollama model answers slowly.',
      description: `Successful probes of ${model} (exporter ${where}) take {{ $value | humanizeDuration }} to the first token (threshold ${t.probeSlowTtfbSeconds}s) for ${cfg.alerts.OllamaProbeSlow.for}.`,
      meaning:
        'The model works but the first token takes long: queueing behind other requests, partial CPU offload or a slowed-down GPU.',
      steps: [
        'Look at the overview dashboard: VRAM ratio, container CPU vs GPU utilization, and GPU clock event reasons.',
      ],
    },
    {
      name: 'OllamaModelMissing',
      group: 'ollama',
      expr: `max ${q.by('target', 'model')} (
  ${q.metric('sentinel_ollama_model_present')} == 0
  or
  ${q.metric('sentinel_probe_result', 'result="not_found"')} == 1
)`,
      perTarget: true,
      summary: 'A configured Ollama model is not installed.',
      description: `Configured model ${model} (exporter ${where}) is missing from /api/tags or answers 404, for ${cfg.alerts.OllamaModelMissing.for}.`,
      meaning:
        'A model in the configuration is not in the local store: a fresh volume, a deleted model, or an init that failed.',
      steps: [
        'The remediator pulls it (remediate="true"); by hand: `ollama-sentinel init` or `docker exec <ollama> ollama pull <model>`.',
      ],
    },
    {
      name: 'OllamaModelPartialOffload',
      group: 'ollama',
      expr: `(
  ${q.metric('sentinel_ollama_model_vram_ratio')} > 0 < 1
  unless ${q.on('target', 'model')}
  ${q.metric('sentinel_ollama_model_stopping')} == 1
)
and ${q.on('target')}
${q.metric('sentinel_ollama_condition', 'condition="partial_offload"')} == 1`,
      perTarget: true,
      summary: 'An Ollama model is only partly on the GPU.',
      description: `Only {{ $value | humanizePercentage }} of ${model} (exporter ${where}) sits in VRAM, below its min_vram_ratio: the rest runs on the CPU, many times slower.`,
      meaning:
        'Ollama split the model between GPU and CPU because it did not fit. A restart loads it the same way, so this is not remediated.',
      steps: ['Free VRAM (other models, other processes), lower num_ctx, or pick a smaller quantization.'],
    },
    {
      name: 'OllamaOrphanRunners',
      group: 'ollama',
      expr: `${q.metric('sentinel_ollama_gpu_orphan_runners')} > 0`,
      perTarget: true,
      summary: 'Orphaned Ollama runner processes hold GPU memory.',
      description: `{{ $value }} Ollama runner process(es) of target {{ $labels.target }} (exporter ${where}) hold VRAM although no Ollama server owns them any more.`,
      meaning:
        'Runner processes outlived their server (killed parent, removed container) and keep VRAM that new loads need.',
      steps: [
        'The remediator kills them (remediate="true"); by hand: find them with `nvidia-smi --query-compute-apps=pid,used_memory --format=csv` on the host.',
      ],
    },
    {
      name: 'OllamaModelStuckStopping',
      group: 'ollama',
      expr: `${q.metric('sentinel_ollama_model_stopping')} == 1`,
      perTarget: true,
      summary: 'An Ollama model is stuck "Stopping".',
      description: `${model} (exporter ${where}) has been past its expires_at ("Stopping...") for ${cfg.alerts.OllamaModelStuckStopping.for}: the unload does not finish, and requests for it wait.`,
      meaning: 'The model should have unloaded but did not; it blocks reloads of itself and often other loads.',
      steps: ['The remediator reloads the model, then restarts the container (remediate="true").'],
    },
    {
      name: 'OllamaServerBusy',
      group: 'ollama',
      expr: `max ${q.by('target')} (${q.metric('sentinel_probe_result', 'result="busy"')}) == 1`,
      perTarget: true,
      summary: 'Ollama rejects requests: queue full.',
      description: `Ollama target {{ $labels.target }} (exporter ${where}) has answered probes with 503 (server busy) for ${cfg.alerts.OllamaServerBusy.for}: it is overloaded, not broken.`,
      meaning:
        'The request queue is full (OLLAMA_MAX_QUEUE). Restarting would drop every queued request, so this is not remediated.',
      steps: ['Add capacity (OLLAMA_NUM_PARALLEL, more GPUs or servers) or rate-limit clients.'],
    },
    {
      name: 'OllamaSlowColdLoad',
      group: 'ollama',
      expr: `max_over_time(${q.metric('sentinel_probe_load_duration_seconds')}[${t.slowColdLoadWindow}]) > ${t.slowColdLoadSeconds}`,
      perTarget: true,
      summary: 'Loading an Ollama model took long.',
      description: `A load of ${model} (exporter ${where}) took {{ $value | humanizeDuration }} within the last ${t.slowColdLoadWindow} (threshold ${t.slowColdLoadSeconds}s).`,
      meaning:
        'A cold load was slow: slow model storage, a model larger than expected, or partial offload. Clients wait that long after every unload or restart.',
      steps: [
        'Keep the model warm (keep_alive -1), put the models volume on faster storage, or pre-load after restarts (`ollama-sentinel init --verify`).',
      ],
    },
    {
      name: 'OllamaFrequentColdLoads',
      group: 'ollama',
      expr: `increase(${q.metric('sentinel_probe_cold_loads_total')}[${t.frequentColdLoadWindow}]) >= ${t.frequentColdLoads}`,
      perTarget: true,
      summary: 'A keep_warm Ollama model keeps getting unloaded.',
      description: `${model} (exporter ${where}) had to be loaded {{ $value | humanize }} times within ${t.frequentColdLoadWindow} although it is configured to stay warm.`,
      meaning:
        'Something unloads the model again and again: a client sending its own keep_alive, other models evicting it (OLLAMA_MAX_LOADED_MODELS), or requests with different options forcing reloads.',
      steps: [
        'Find clients sending keep_alive or other num_ctx/options than the configuration; raise OLLAMA_MAX_LOADED_MODELS if models evict each other.',
      ],
    },
  ];
}
