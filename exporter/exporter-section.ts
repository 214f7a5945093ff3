import type { ConfigSection } from '../shared/config/config-section.js';
import { checkListen, listenScalars, webConfigScalar, type ListenConfig } from '../shared/http/listen-settings.js';

/** The `exporter:` section as loadConfig stores it (durations in milliseconds). */
export interface ExporterConfig extends ListenConfig {
  readonly telemetry_path: string;
  readonly max_concurrent_scrapes: number;
  /** Node's process_* and nodejs_* series. */
  readonly node_metrics: boolean;
  readonly collector_gpu: boolean;
  readonly collector_gpu_processes: boolean;
  readonly collector_ollama: boolean;
  readonly collector_probe: boolean;
  readonly collector_containers: boolean;
  readonly ollama_interval_ms: number;
  readonly ollama_timeout_ms: number;
  readonly probe_interval_ms: number;
  /** Deadline for the model to load (headers of the probe's generate). */
  readonly probe_load_timeout_ms: number;
  /** Deadline for the first token once the model is loaded. */
  readonly probe_first_token_timeout_ms: number;
  readonly probe_prompt: string;
  /** After a probe's load ran out of memory: how long the probe does not load that model again. */
  readonly probe_oom_hold_ms: number;
  readonly containers_interval_ms: number;
}

export const exporterSection: ConfigSection = {
  key: 'exporter',
  doc: 'The Prometheus exporter.',
  scalars: {
    ...listenScalars('127.0.0.1:9778'),
    ...webConfigScalar,
    telemetry_path: { kind: 'string', default: '/metrics', doc: 'Path of the metrics endpoint.' },
    max_concurrent_scrapes: { kind: 'int', default: 4, min: 1, max: 100, doc: 'Scrapes served at once; more get 503.' },
    node_metrics: { kind: 'bool', default: false, doc: "Also publish Node's process_* and nodejs_* series." },
    collector_gpu: { kind: 'bool', default: true, doc: 'GPU metrics from nvidia-smi --query-gpu.' },
    collector_gpu_processes: {
      kind: 'bool',
      default: true,
      doc: 'GPU compute processes, attributed to containers and Ollama targets.',
    },
    collector_ollama: { kind: 'bool', default: true, doc: 'Ollama API health: /, /api/version, /api/ps, /api/tags.' },
    collector_probe: { kind: 'bool', default: true, doc: 'Active one-token inference probe of keep_warm models.' },
    collector_containers: { kind: 'bool', default: true, doc: "CPU, memory and IO of each Ollama target's container." },
    ollama_interval: { kind: 'duration', default: '15s', min: 1000, doc: 'How often the Ollama API is read.' },
    ollama_timeout: {
      kind: 'duration',
      default: '5s',
      min: 100,
      doc: 'Limit for each Ollama API call of the health collector.',
    },
    probe_interval: { kind: 'duration', default: '60s', min: 1000, doc: 'How often keep_warm models are probed.' },
    probe_load_timeout: {
      kind: 'duration',
      default: '6m',
      min: 1000,
      doc: "How long the probe waits for a cold load with no sign of progress. While the load's runner makes progress it waits on, up to 6 such deadlines: a probe that leaves makes Ollama abort the load. Longer than Ollama's OLLAMA_LOAD_TIMEOUT (5m), so that Ollama's own verdict on a stalled load reaches the probe.",
    },
    probe_first_token_timeout: {
      kind: 'duration',
      default: '30s',
      min: 100,
      doc: 'Deadline for the first token once the model is loaded; beyond it the runner counts as hung.',
    },
    probe_prompt: { kind: 'string', default: 'Say OK.', doc: 'Prompt of the one-token probe.' },
    probe_oom_hold: {
      kind: 'duration',
      default: '30m',
      min: 1000,
      doc: 'After a probe of a keep_warm model ran out of memory, how long the probe does not load it again (unless something else loads it): never a reload into the same out-of-memory, one new try after each hold.',
    },
    containers_interval: {
      kind: 'duration',
      default: '15s',
      min: 1000,
      doc: 'How often container resources are read.',
    },
  },
  check: (values, issues) => checkListen('exporter', values, issues),
};
