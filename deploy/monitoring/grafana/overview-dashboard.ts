import {
  buildDashboard,
  datasourceVariable,
  labelValuesVariable,
  nodeVariable,
  remediationAnnotation,
  PER_NODE,
  type DashboardConfig,
} from './build-dashboard.js';
import { rowPanel, statPanel, stateTimelinePanel, timeseriesPanel } from './panels.js';

const HOST = 'job=~"$job", node=~"$node", instance=~"$instance"';
const TARGET = `${HOST}, target=~"$target"`;
const m = (name: string, extra = '') => `${name}{${TARGET}${extra ? `, ${extra}` : ''}}`;
const h = (name: string, extra = '') => `${name}{${HOST}${extra ? `, ${extra}` : ''}}`;

/** Per Ollama target: health and diagnosis, models in VRAM, the probe, GPU memory and the CPU-fallback signature. */
export function overviewDashboard(cfg: DashboardConfig): Record<string, unknown> {
  return buildDashboard(cfg, {
    uidSuffix: 'overview',
    title: 'Ollama Sentinel / Overview',
    description: `Health of each Ollama target watched by ollama-sentinel: API, diagnosis, models in VRAM, one-token probe, and GPU vs CPU use. ${PER_NODE}`,
    links: [
      { title: 'GPUs', uidSuffix: 'gpu', includeVars: true },
      { title: 'Remediation', uidSuffix: 'remediation', includeVars: false },
      { title: 'Fleet', uidSuffix: 'fleet', includeVars: true },
    ],
    // The remediator's steps on the graphs that showed the fault. Its job and instance are not the exporter's, so
    // only the target and the node (the same Swarm node id for both commands in a fleet) narrow it.
    annotations: [remediationAnnotation('node=~"$node", target=~"$target"')],
    variables: [
      datasourceVariable(),
      labelValuesVariable('job', 'Job', 'sentinel_build_info'),
      nodeVariable('sentinel_build_info{job=~"$job"}'),
      labelValuesVariable('instance', 'Exporter', 'sentinel_build_info{job=~"$job", node=~"$node"}'),
      labelValuesVariable('target', 'Ollama target', `sentinel_ollama_up{${HOST}}`),
    ],
    panels: [
      rowPanel('Health'),
      statPanel({
        title: 'Ollama API',
        description:
          'Whether the Ollama HTTP server answers HEAD /. It keeps answering while inference hangs: see the probe row.',
        unit: 'none',
        queries: [{ expr: m('sentinel_ollama_up'), legend: '{{target}}', instant: true }],
        mappings: [
          { value: 0, text: 'Down', color: 'red' },
          { value: 1, text: 'Up', color: 'green' },
        ],
      }),
      statPanel({
        title: 'Diagnosis',
        description:
          "The exporter's verdict per target: healthy, or the most urgent condition below (details at /api/state).",
        unit: 'none',
        queries: [{ expr: m('sentinel_ollama_condition', 'condition="healthy"'), legend: '{{target}}', instant: true }],
        mappings: [
          { value: 0, text: 'Unhealthy', color: 'red' },
          { value: 1, text: 'Healthy', color: 'green' },
        ],
      }),
      statPanel({
        title: 'Models in VRAM',
        description: 'Number of models /api/ps lists as loaded.',
        unit: 'none',
        queries: [{ expr: m('sentinel_ollama_models_loaded'), legend: '{{target}}', instant: true }],
      }),
      statPanel({
        title: 'Ollama version',
        description: 'Server version from /api/version.',
        unit: 'none',
        showName: true,
        queries: [{ expr: m('sentinel_ollama_info'), legend: '{{target}}: {{version}}', instant: true }],
      }),
      stateTimelinePanel({
        title: 'Conditions',
        description:
          'When each diagnosed condition held (empty = never in this range). vram_mismatch and model_on_cpu are the silent CPU fallback; a model unloaded by keep_alive is not a condition.',
        unit: 'none',
        queries: [
          {
            expr: `max by (node, target, condition) (${m('sentinel_ollama_condition', 'condition!="healthy"')}) > 0`,
            legend: '{{target}} {{condition}}',
          },
        ],
        mappings: [{ value: 1, text: 'holds', color: 'red' }],
      }),
      timeseriesPanel({
        title: 'Ollama API call latency',
        description: 'Duration of the last health call per stage: HEAD /, /api/version, /api/ps, /api/tags.',
        unit: 's',
        min: 0,
        queries: [{ expr: m('sentinel_ollama_stage_duration_seconds'), legend: '{{target}} {{stage}}' }],
      }),
      timeseriesPanel({
        title: 'Ollama API errors',
        description: 'Failed health calls per second by stage and reason (refused, timeout, http_<code>, ...).',
        unit: 'ops',
        min: 0,
        queries: [
          {
            expr: `sum by (node, target, stage, reason) (rate(${m('sentinel_ollama_stage_errors_total')}[$__rate_interval]))`,
            legend: '{{target}} {{stage}} {{reason}}',
          },
        ],
      }),

      rowPanel('Models'),
      stateTimelinePanel({
        title: 'Model residency',
        description:
          'Per model: loaded, "Stopping" (past expires_at, unloading) or not loaded. Unloads by keep_alive show up here as a normal loaded -> unloaded step, not as a failure.',
        unit: 'none',
        queries: [
          {
            expr: `${m('sentinel_ollama_model_loaded')} + on (instance, job, target, model) (${m('sentinel_ollama_model_stopping')} or ${m('sentinel_ollama_model_loaded')} * 0)`,
            legend: '{{target}} {{model}}',
          },
        ],
        mappings: [
          { value: 0, text: 'not loaded', color: 'text' },
          { value: 1, text: 'loaded', color: 'green' },
          { value: 2, text: 'stopping', color: 'orange' },
        ],
      }),
      timeseriesPanel({
        title: 'Model memory per /api/ps',
        description:
          'Footprint of each loaded model (size) and the part Ollama placed in VRAM (size_vram), fixed at load time.',
        unit: 'bytes',
        min: 0,
        queries: [
          { expr: m('sentinel_ollama_model_vram_bytes'), legend: '{{target}} {{model}} in VRAM' },
          { expr: m('sentinel_ollama_model_size_bytes'), legend: '{{target}} {{model}} total' },
        ],
      }),
      timeseriesPanel({
        title: 'Share of model in VRAM',
        description: 'size_vram / size: 100 % = fully on the GPU, 0 % = CPU only, in between = partial offload (slow).',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [{ expr: m('sentinel_ollama_model_vram_ratio'), legend: '{{target}} {{model}}' }],
      }),
      statPanel({
        title: 'Unloads in',
        description:
          'Time until Ollama unloads each model (expires_at). Decades = keep_alive -1; negative = stuck "Stopping".',
        unit: 's',
        w: 12,
        queries: [
          { expr: m('sentinel_ollama_model_expires_in_seconds'), legend: '{{target}} {{model}}', instant: true },
        ],
      }),
      statPanel({
        title: 'Configured models missing',
        description: 'Configured models not in the local store per /api/tags (the remediator pulls them).',
        unit: 'none',
        w: 12,
        redFrom: 1,
        queries: [
          {
            expr: `sum by (node, target) (1 - ${m('sentinel_ollama_model_present')})`,
            legend: '{{target}}',
            instant: true,
          },
        ],
      }),

      rowPanel('One-token probe'),
      timeseriesPanel({
        title: 'Time to first token',
        description:
          'Seconds from sending the probe to its first streamed chunk; includes loading when the model was cold.',
        unit: 's',
        min: 0,
        queries: [{ expr: m('sentinel_probe_ttfb_seconds'), legend: '{{target}} {{model}}' }],
      }),
      timeseriesPanel({
        title: 'Probe duration and wait',
        description:
          'Wall-clock seconds of the whole probe request, failed ones included, and how long the probe now in flight has waited. Past its first-token deadline a probe is "pending": the last result, TTFB and rates are withdrawn until it finishes.',
        unit: 's',
        min: 0,
        queries: [
          { expr: m('sentinel_probe_duration_seconds'), legend: '{{target}} {{model}} last probe' },
          { expr: m('sentinel_probe_in_flight_seconds'), legend: '{{target}} {{model}} in flight' },
        ],
      }),
      timeseriesPanel({
        title: 'Tokens per second',
        description:
          'Generation rate of the last successful probe (no prompt rate: cached prompt tokens inflate it). A collapse with the model still "loaded" is the CPU-fallback signature.',
        unit: 'suffix: tok/s',
        min: 0,
        queries: [{ expr: m('sentinel_probe_tokens_per_second'), legend: '{{target}} {{model}} generation' }],
      }),
      timeseriesPanel({
        title: 'Model load time',
        description:
          "Ollama's load_duration of the last successful probe: milliseconds when warm, seconds or minutes after a (re)load.",
        unit: 's',
        min: 0,
        queries: [{ expr: m('sentinel_probe_load_duration_seconds'), legend: '{{target}} {{model}}' }],
      }),
      timeseriesPanel({
        title: 'Probe results',
        description: 'Probes per result (ok, loading, busy, timeout, not_found, error) in each interval.',
        unit: 'short',
        min: 0,
        stack: true,
        queries: [
          {
            expr: `sum by (node, target, model, result) (increase(${m('sentinel_probe_runs_total')}[$__rate_interval]))`,
            legend: '{{target}} {{model}} {{result}}',
          },
        ],
      }),
      timeseriesPanel({
        title: 'Cold loads and failures in a row',
        description:
          'Probes that had to (re)load the model, and consecutive failed probes (the hung-runner alert counts these).',
        unit: 'short',
        min: 0,
        queries: [
          {
            expr: `sum by (node, target, model) (increase(${m('sentinel_probe_cold_loads_total')}[$__rate_interval]))`,
            legend: '{{target}} {{model}} cold loads',
          },
          { expr: m('sentinel_probe_consecutive_failures'), legend: '{{target}} {{model}} failures in a row' },
        ],
      }),

      rowPanel('GPU memory and CPU fallback'),
      timeseriesPanel({
        title: 'GPU memory: held vs claimed',
        description:
          "VRAM the target's processes really hold on the GPU (driver view) against the VRAM /api/ps claims. Claimed but not held = silent CPU fallback.",
        unit: 'bytes',
        min: 0,
        queries: [
          { expr: m('sentinel_ollama_gpu_memory_used_bytes'), legend: '{{target}} held on the GPU' },
          {
            expr: `sum by (instance, target) (${m('sentinel_ollama_model_vram_bytes')})`,
            legend: '{{target}} claimed by /api/ps',
          },
        ],
      }),
      timeseriesPanel({
        title: 'Container CPU vs GPU utilization',
        description:
          "CPU cores the target's containers use (right axis) against GPU utilization. Busy CPU with an idle GPU while a model is loaded = inference on the CPU.",
        unit: 'percentunit',
        min: 0,
        queries: [
          {
            expr: `sentinel_gpu_utilization_ratio{${HOST}} * on (instance, job, uuid) group_left (index) sentinel_gpu_info{${HOST}}`,
            legend: 'GPU {{index}} utilization',
          },
          {
            expr: `sum by (instance, target) (rate(${m('sentinel_ollama_container_cpu_seconds_total')}[$__rate_interval]))`,
            legend: '{{target}} CPU cores',
          },
        ],
        rightAxis: { refId: 'B', unit: 'short', label: 'CPU cores' },
      }),
      timeseriesPanel({
        title: 'GPU memory by container',
        description:
          'GPU memory per container on the host, whoever owns it (container "" = host processes or not yet traced).',
        unit: 'bytes',
        min: 0,
        stack: true,
        queries: [
          {
            expr: `sum by (instance, container) (${h('sentinel_gpu_container_memory_used_bytes')})`,
            legend: '{{container}}',
          },
        ],
      }),
      timeseriesPanel({
        title: 'GPU processes and orphans',
        description:
          "Compute processes in the target's containers by role, and orphaned runners holding VRAM that no server owns.",
        unit: 'short',
        min: 0,
        queries: [
          { expr: m('sentinel_ollama_gpu_processes'), legend: '{{target}} {{role}}' },
          { expr: m('sentinel_ollama_gpu_orphan_runners'), legend: '{{target}} orphan runners' },
        ],
      }),
      timeseriesPanel({
        title: 'Container memory',
        description:
          "Working set of the target's containers (what the OOM killer weighs). Large growth with models loaded can mean weights in system RAM.",
        unit: 'bytes',
        min: 0,
        queries: [{ expr: m('sentinel_ollama_container_memory_bytes'), legend: '{{target}} {{container}}' }],
      }),
      timeseriesPanel({
        title: 'Container disk IO',
        description: "Block IO of the target's containers: reads spike while models load from disk.",
        unit: 'Bps',
        min: 0,
        queries: [
          {
            expr: `sum by (instance, target, container) (rate(${m('sentinel_ollama_container_io_read_bytes_total')}[$__rate_interval]))`,
            legend: '{{target}} {{container}} read',
          },
          {
            expr: `sum by (instance, target, container) (rate(${m('sentinel_ollama_container_io_write_bytes_total')}[$__rate_interval]))`,
            legend: '{{target}} {{container}} write',
          },
        ],
      }),

      rowPanel('Exporter'),
      stateTimelinePanel({
        title: 'Collector health',
        description: 'Whether each data source of the exporter succeeded; while one fails, its series are absent.',
        unit: 'none',
        h: 6,
        queries: [{ expr: h('sentinel_collector_success'), legend: '{{instance}} {{collector}}' }],
        mappings: [
          { value: 0, text: 'failing', color: 'red' },
          { value: 1, text: 'ok', color: 'green' },
        ],
      }),
      timeseriesPanel({
        title: 'Collector duration',
        description: 'Duration of the last run of each collector.',
        unit: 's',
        min: 0,
        queries: [{ expr: h('sentinel_collector_duration_seconds'), legend: '{{instance}} {{collector}}' }],
      }),
      timeseriesPanel({
        title: 'Collector errors',
        description: 'Failed collections per second by collector and reason.',
        unit: 'ops',
        min: 0,
        queries: [
          {
            expr: `sum by (instance, collector, reason) (rate(${h('sentinel_collector_errors_total')}[$__rate_interval]))`,
            legend: '{{instance}} {{collector}} {{reason}}',
          },
        ],
      }),
    ],
  });
}
