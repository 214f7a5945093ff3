import type { AlertDefinition } from './alert-definition.js';
import type { MonitoringConfig } from './monitoring-config.js';
import { ollamaAlertDefinitions } from './ollama-alerts.js';
import { createPromql, RECORDED } from './recording-rules.js';

/** Every alert's expression and text; severities, durations and thresholds come from the config. */
export function alertDefinitions(cfg: MonitoringConfig): AlertDefinition[] {
  const q = createPromql(cfg);
  const t = cfg.thresholds;
  const where = 'on {{ $labels.instance }}';
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
    ...ollamaAlertDefinitions(cfg),
  ];
}
