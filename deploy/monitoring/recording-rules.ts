/**
 * The PromQL building blocks of every rule: helpers bound to the exporter selector, the recording rules, and the names
 * of the series they record (alert-definitions.ts builds on all three).
 */
import type { MonitoringConfig } from './monitoring-config.js';

export interface Promql {
  /** `name{<exporter selector>,<extra matchers>}`. */
  metric(name: string, ...matchers: string[]): string;
  /** `on (instance, job, <extra>)`: joins never cross exporters. */
  on(...labels: string[]): string;
  /** `by (instance, job, <extra>)`. */
  by(...labels: string[]): string;
}

/** Small PromQL helpers bound to the config's selector and instance labels, so no rule hard-codes them. */
export function createPromql(cfg: Pick<MonitoringConfig, 'exporterSelector' | 'instanceLabels'>): Promql {
  const list = (labels: string[]) => [...cfg.instanceLabels, ...labels].join(', ');
  return {
    metric: (name, ...matchers) => `${name}{${[cfg.exporterSelector, ...matchers].filter((m) => m !== '').join(', ')}}`,
    on: (...labels) => `on (${list(labels)})`,
    by: (...labels) => `by (${list(labels)})`,
  };
}

export interface RecordingRule {
  /** level:metric:operations (node-mixin convention). */
  readonly record: string;
  readonly expr: string;
}

/** Names of the recorded series the alerts use, so a rename breaks the build instead of an alert. */
export const RECORDED = {
  residentModelSize: 'target:sentinel_ollama_resident_model_size_bytes:sum',
  residentModelVram: 'target:sentinel_ollama_resident_model_vram_bytes:sum',
  gpuMemoryUsedRatio: 'uuid:sentinel_gpu_memory_used:ratio',
  probeSuccessRatio: 'target_model:sentinel_probe_success:ratio_rate1h',
  containerCpu: 'target:sentinel_ollama_container_cpu_seconds:rate5m',
} as const;

/** The recording rules: aggregates the alerts need, and the CPU-fallback and probe SLO series users graph. */
export function recordingRules(cfg: MonitoringConfig): RecordingRule[] {
  const q = createPromql(cfg);
  // A model past expires_at is on its way out: its VRAM is being freed, so it must not count as claimed.
  const resident = (metric: string) => `sum ${q.by('target')} (
  ${q.metric(metric)}
  unless ${q.on('target', 'model')}
  ${q.metric('sentinel_ollama_model_stopping')} == 1
)`;
  return [
    { record: RECORDED.residentModelSize, expr: resident('sentinel_ollama_model_size_bytes') },
    { record: RECORDED.residentModelVram, expr: resident('sentinel_ollama_model_vram_bytes') },
    {
      record: RECORDED.gpuMemoryUsedRatio,
      expr: `${q.metric('sentinel_gpu_memory_used_bytes')}
/ ${q.on('uuid')}
${q.metric('sentinel_gpu_memory_total_bytes')}`,
    },
    {
      record: RECORDED.probeSuccessRatio,
      expr: `sum ${q.by('target', 'model')} (rate(${q.metric('sentinel_probe_runs_total', 'result="ok"')}[1h]))
/
sum ${q.by('target', 'model')} (rate(${q.metric('sentinel_probe_runs_total')}[1h]))`,
    },
    {
      // Busy CPU cores next to an idle GPU is the CPU-fallback signature.
      record: RECORDED.containerCpu,
      expr: `sum ${q.by('target')} (rate(${q.metric('sentinel_ollama_container_cpu_seconds_total')}[5m]))`,
    },
  ];
}
