import {
  buildDashboard,
  datasourceVariable,
  labelValuesVariable,
  nodeVariable,
  PER_NODE,
  type DashboardConfig,
} from './build-dashboard.js';
import { rowPanel, statPanel, stateTimelinePanel, timeseriesPanel } from './panels.js';

const HOST = 'job=~"$job", node=~"$node", instance=~"$instance"';
const GPU = `${HOST}, uuid=~"$gpu"`;
const g = (name: string, extra = '') => `${name}{${GPU}${extra ? `, ${extra}` : ''}}`;
/** Adds index and name from sentinel_gpu_info so legends say "GPU 0 NVIDIA H100" instead of a uuid. */
const named = (expr: string) => `${expr} * on (instance, job, uuid) group_left (index, name) ${g('sentinel_gpu_info')}`;
const LEGEND = '{{instance}} GPU {{index}}';

/** Every GPU the exporters see: identity, faults, utilization, memory, thermals, power, clocks and slowdowns. */
export function gpuDashboard(cfg: DashboardConfig): Record<string, unknown> {
  return buildDashboard(cfg, {
    uidSuffix: 'gpu',
    title: 'Ollama Sentinel / GPUs',
    description: `NVIDIA GPUs as seen by ollama-sentinel (nvidia-smi): faults, utilization, memory and who holds it, thermals, power, clocks. ${PER_NODE}`,
    links: [
      { title: 'Ollama overview', uidSuffix: 'overview', includeVars: true },
      { title: 'Remediation', uidSuffix: 'remediation', includeVars: false },
      { title: 'Fleet', uidSuffix: 'fleet', includeVars: true },
    ],
    variables: [
      datasourceVariable(),
      labelValuesVariable('job', 'Job', 'sentinel_build_info'),
      nodeVariable('sentinel_build_info{job=~"$job"}'),
      labelValuesVariable('instance', 'Exporter', 'sentinel_build_info{job=~"$job", node=~"$node"}'),
      labelValuesVariable('gpu', 'GPU', `sentinel_gpu_info{${HOST}}`, 'uuid'),
    ],
    panels: [
      rowPanel('Status'),
      statPanel({
        title: 'GPUs answering',
        description: 'GPUs that answered nvidia-smi in the last collection, per exporter.',
        unit: 'none',
        queries: [{ expr: `sum by (instance) (sentinel_gpus{${HOST}})`, legend: '{{instance}}', instant: true }],
      }),
      statPanel({
        title: 'Lost GPUs',
        description:
          'GPUs that answered before and do not any more (fell off the bus): a host reboot or GPU reset is needed.',
        unit: 'none',
        redFrom: 1,
        queries: [{ expr: `sum by (instance) (${g('sentinel_gpu_lost')})`, legend: '{{instance}}', instant: true }],
      }),
      statPanel({
        title: 'Uncorrected ECC errors',
        description: 'Uncorrected ECC errors since the driver loaded (volatile); any is a reason to drain the GPU.',
        unit: 'none',
        redFrom: 1,
        queries: [
          {
            expr: named(g('sentinel_gpu_ecc_uncorrected_errors', 'counter="volatile"')),
            legend: LEGEND,
            instant: true,
          },
        ],
      }),
      statPanel({
        title: 'GPU models and driver',
        description: 'Name, index and driver version of each GPU.',
        unit: 'none',
        showName: true,
        queries: [
          {
            expr: g('sentinel_gpu_info'),
            legend: '{{instance}} GPU {{index}}: {{name}}, driver {{driver_version}}',
            instant: true,
          },
        ],
      }),

      rowPanel('Utilization and memory'),
      timeseriesPanel({
        title: 'GPU utilization',
        description:
          'Fraction of time a kernel ran on the GPU (utilization.gpu). Near 0 while a model answers = CPU fallback.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [{ expr: named(g('sentinel_gpu_utilization_ratio')), legend: LEGEND }],
      }),
      timeseriesPanel({
        title: 'Memory bandwidth utilization',
        description:
          'Fraction of time device memory was read or written (utilization.memory); token generation is bound by it.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [{ expr: named(g('sentinel_gpu_memory_utilization_ratio')), legend: LEGEND }],
      }),
      timeseriesPanel({
        title: 'GPU memory',
        description: 'Memory allocated by contexts (memory.used) against the total.',
        unit: 'bytes',
        min: 0,
        queries: [
          { expr: named(g('sentinel_gpu_memory_used_bytes')), legend: `${LEGEND} used` },
          { expr: named(g('sentinel_gpu_memory_total_bytes')), legend: `${LEGEND} total` },
        ],
      }),
      timeseriesPanel({
        title: 'GPU memory by container',
        description:
          'Who holds the memory: compute processes summed per container (container "" = host processes or not yet traced).',
        unit: 'bytes',
        min: 0,
        stack: true,
        queries: [
          {
            expr: `sum by (instance, uuid, container) (${g('sentinel_gpu_container_memory_used_bytes')})`,
            legend: '{{container}} on {{uuid}}',
          },
        ],
      }),
      timeseriesPanel({
        title: 'Compute processes',
        description: 'Compute processes on each GPU (0 when idle).',
        unit: 'short',
        min: 0,
        queries: [{ expr: named(g('sentinel_gpu_processes')), legend: LEGEND }],
      }),
      timeseriesPanel({
        title: 'Performance state',
        description: 'P-state: 0 is maximum performance, higher is slower; an idle GPU drops to P8 and above.',
        unit: 'none',
        min: 0,
        queries: [{ expr: named(g('sentinel_gpu_pstate')), legend: LEGEND }],
      }),

      rowPanel('Thermals, power and clocks'),
      timeseriesPanel({
        title: 'Temperature',
        description: 'GPU core and memory (HBM) temperature.',
        unit: 'celsius',
        queries: [
          { expr: named(g('sentinel_gpu_temperature_celsius')), legend: `${LEGEND} core` },
          { expr: named(g('sentinel_gpu_memory_temperature_celsius')), legend: `${LEGEND} memory` },
        ],
      }),
      timeseriesPanel({
        title: 'Power draw vs limit',
        description: 'Board power draw against the enforced power limit.',
        unit: 'watt',
        min: 0,
        queries: [
          { expr: named(g('sentinel_gpu_power_draw_watts')), legend: `${LEGEND} draw` },
          { expr: named(g('sentinel_gpu_power_limit_watts')), legend: `${LEGEND} limit` },
        ],
      }),
      timeseriesPanel({
        title: 'Clocks',
        description:
          'Current SM and memory clocks against the maximum SM clock: far below the maximum under load means a slowdown.',
        unit: 'hertz',
        min: 0,
        queries: [
          { expr: named(g('sentinel_gpu_clock_sm_hertz')), legend: `${LEGEND} SM` },
          { expr: named(g('sentinel_gpu_clock_sm_max_hertz')), legend: `${LEGEND} SM max` },
          { expr: named(g('sentinel_gpu_clock_memory_hertz')), legend: `${LEGEND} memory` },
        ],
      }),
      timeseriesPanel({
        title: 'Fan speed',
        description: 'Intended fan speed; absent on fanless data-centre cards.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [{ expr: named(g('sentinel_gpu_fan_speed_ratio')), legend: LEGEND }],
      }),
      stateTimelinePanel({
        title: 'Clock event reasons',
        description:
          'Why clocks are held down, over time (gpu_idle left out). hw_* reasons are the hardware protecting itself; sw_power_cap is the power limit.',
        unit: 'none',
        queries: [
          {
            expr: `${named(g('sentinel_gpu_clock_event_reason_active', 'reason!="gpu_idle"'))} > 0`,
            legend: `${LEGEND} {{reason}}`,
          },
        ],
        mappings: [{ value: 1, text: 'active', color: 'orange' }],
      }),

      rowPanel('nvidia-smi'),
      timeseriesPanel({
        title: 'nvidia-smi exit code',
        description:
          'Exit code of the last nvidia-smi query that produced data; non-zero means some GPU did not answer.',
        unit: 'none',
        queries: [{ expr: `sentinel_gpu_nvidia_smi_exit_code{${HOST}}`, legend: '{{instance}}' }],
      }),
      timeseriesPanel({
        title: 'GPU collector duration',
        description: 'How long each nvidia-smi based collection took; a hung driver shows up here first.',
        unit: 's',
        min: 0,
        queries: [
          {
            expr: `sentinel_collector_duration_seconds{${HOST}, collector=~"gpu|gpu_processes"}`,
            legend: '{{instance}} {{collector}}',
          },
        ],
      }),
    ],
  });
}
