import {
  buildDashboard,
  datasourceVariable,
  labelValuesVariable,
  nodeVariable,
  type DashboardConfig,
} from './build-dashboard.js';
import { rowPanel, statPanel, stateTimelinePanel, tablePanel, timeseriesPanel, type ValueMapping } from './panels.js';

// Both commands' series on one dashboard: $job and $instance are the exporter's, $remediator_job the remediator's.
// `node` (the Swarm node id) is the same for both: Prometheus sets it per node (deploy/prometheus/prometheus-fleet.yml).
const EXPORTER = 'job=~"$job", node=~"$node", instance=~"$instance"';
const REMEDIATOR = 'job=~"$remediator_job", node=~"$node"';
const e = (name: string, extra = '') => `${name}{${EXPORTER}${extra ? `, ${extra}` : ''}}`;
const r = (name: string, extra = '') => `sentinel_remediator_${name}{${REMEDIATOR}${extra ? `, ${extra}` : ''}}`;
const NODE = 'node, node_name';
/**
 * A single host's series carry no node labels (prometheus.yml sets none): there the node is called "this host", so
 * legends and the table's Node column read instead of showing an unresolved {{node_name}}. In a fleet every series
 * has a node, and this changes nothing.
 */
const named = (expr: string) => `label_replace(${expr}, "node_name", "this host", "node", "")`;
const perNode = (agg: string, series: string) => named(`${agg} by (${NODE}) (${series})`);
const perInterval = (by: string, series: string) => `sum by (${by}) (increase(${series}[$__rate_interval]))`;
const UP: ValueMapping[] = [
  { value: 0, text: 'down', color: 'red' },
  { value: 1, text: 'up', color: 'green' },
];
const BREAKER: ValueMapping[] = [
  { value: 0, text: 'closed', color: 'green' },
  { value: 1, text: 'open', color: 'red' },
];

/** The fleet at a glance: nodes, GPUs, models, conditions and remediation, fleet-wide and one table row per node. */
export function fleetDashboard(cfg: DashboardConfig): Record<string, unknown> {
  return buildDashboard(cfg, {
    uidSuffix: 'fleet',
    title: 'Ollama Sentinel / Fleet',
    description:
      'A Docker Swarm fleet of GPU nodes watched by ollama-sentinel (deploy/swarm/README.md, "Running a fleet"): exporters and remediators up, GPUs and their memory, models loaded and where, how many nodes have each condition, remediation actions, escalations and the circuit breaker per node, and one table row per node. On a single host (no node labels) it shows that host as one node, "this host".',
    links: [
      { title: 'Ollama overview', uidSuffix: 'overview', includeVars: true },
      { title: 'GPUs', uidSuffix: 'gpu', includeVars: true },
      { title: 'Remediation', uidSuffix: 'remediation', includeVars: false },
    ],
    variables: [
      datasourceVariable(),
      labelValuesVariable('job', 'Exporter job', 'sentinel_build_info'),
      labelValuesVariable('remediator_job', 'Remediator job', 'sentinel_remediator_build_info', 'job'),
      nodeVariable('sentinel_build_info{job=~"$job"}'),
      labelValuesVariable('instance', 'Exporter', 'sentinel_build_info{job=~"$job", node=~"$node"}'),
    ],
    panels: [
      rowPanel('Fleet'),
      statPanel({
        title: 'Exporters up',
        description:
          'Exporters Prometheus scraped successfully (its own `up` series): one per GPU node in a fleet. A node that died keeps its target (prometheus-fleet.yml), so it counts as down, not as gone.',
        unit: 'none',
        w: 4,
        queries: [{ expr: `sum(up{${EXPORTER}})`, legend: 'up', instant: true }],
      }),
      statPanel({
        title: 'Exporters down',
        description: 'Exporters whose last scrape failed: a node down, or its exporter stopped (SentinelExporterDown).',
        unit: 'none',
        w: 4,
        redFrom: 1,
        queries: [{ expr: `count(up{${EXPORTER}} == 0) or vector(0)`, legend: 'down', instant: true }],
      }),
      statPanel({
        title: 'Remediators down',
        description: "Remediators whose last scrape failed: that node's remediable alerts are not healed meanwhile.",
        unit: 'none',
        w: 4,
        redFrom: 1,
        queries: [{ expr: `count(up{${REMEDIATOR}} == 0) or vector(0)`, legend: 'down', instant: true }],
      }),
      statPanel({
        title: 'GPUs',
        description: 'GPUs that answered nvidia-smi (or NVML) in the last collection, across the nodes selected.',
        unit: 'none',
        w: 4,
        queries: [{ expr: `sum(${e('sentinel_gpus')})`, legend: 'GPUs', instant: true }],
      }),
      statPanel({
        title: 'Lost GPUs',
        description:
          'GPUs that answered before and no longer do (fell off the bus): that node needs a reboot or GPU reset.',
        unit: 'none',
        w: 4,
        redFrom: 1,
        queries: [{ expr: `sum(${e('sentinel_gpu_lost')}) or vector(0)`, legend: 'lost', instant: true }],
      }),
      statPanel({
        title: 'Circuit breakers open',
        description:
          'Nodes whose remediator stopped acting (too many actions in its window) until an operator resets it.',
        unit: 'none',
        w: 4,
        redFrom: 1,
        queries: [{ expr: `sum(${r('breaker_open')}) or vector(0)`, legend: 'open', instant: true }],
      }),

      rowPanel('Nodes'),
      tablePanel({
        title: 'Nodes',
        description:
          'One row per node: node_name (the ollama-sentinel.name node label, else the hostname) and the Swarm node id, which the $node variable lists. Empty cells: that series is absent (the command is down or does not publish it). A single host is one row, "this host".',
        keys: [
          { label: 'node_name', header: 'Node' },
          {
            label: 'node',
            header: 'Node id',
            link: {
              title: 'Ollama overview of this node',
              url: `/d/${cfg.dashboards.uidPrefix}-overview?var-node=\${__value.raw}&\${__url_time_range}`,
            },
          },
        ],
        columns: [
          { expr: perNode('max', `up{${EXPORTER}}`), header: 'Exporter', mappings: UP },
          { expr: perNode('max', `up{${REMEDIATOR}}`), header: 'Remediator', mappings: UP },
          { expr: perNode('sum', e('sentinel_gpus')), header: 'GPUs', unit: 'none' },
          { expr: perNode('sum', e('sentinel_gpu_lost')), header: 'Lost GPUs', unit: 'none', redFrom: 1 },
          { expr: perNode('sum', e('sentinel_gpu_memory_used_bytes')), header: 'GPU memory used', unit: 'bytes' },
          { expr: perNode('sum', e('sentinel_gpu_memory_total_bytes')), header: 'GPU memory total', unit: 'bytes' },
          { expr: perNode('sum', e('sentinel_ollama_models_loaded')), header: 'Models loaded', unit: 'none' },
          {
            expr: perNode('sum', `1 - ${e('sentinel_ollama_condition', 'condition="healthy"')}`),
            header: 'Targets unhealthy',
            unit: 'none',
            redFrom: 1,
          },
          { expr: perNode('sum', r('incidents_open')), header: 'Incidents open', unit: 'none' },
          { expr: perNode('max', r('breaker_open')), header: 'Breaker', mappings: BREAKER },
        ],
      }),
      timeseriesPanel({
        title: 'GPUs per node',
        description: 'GPUs answering on each node: a step down is a GPU lost (or a node gone).',
        unit: 'none',
        min: 0,
        queries: [{ expr: perNode('sum', e('sentinel_gpus')), legend: '{{node_name}}' }],
      }),
      timeseriesPanel({
        title: 'GPU memory per node',
        description: "Memory allocated on each node's GPUs (memory.used, all GPUs summed) against their total.",
        unit: 'bytes',
        min: 0,
        queries: [
          { expr: perNode('sum', e('sentinel_gpu_memory_used_bytes')), legend: '{{node_name}} used' },
          { expr: perNode('sum', e('sentinel_gpu_memory_total_bytes')), legend: '{{node_name}} total' },
        ],
      }),

      rowPanel('Models and conditions'),
      tablePanel({
        title: 'Models loaded, by node',
        description:
          'Every model /api/ps lists as loaded, on which node and target, and the share of it in VRAM (below 100 % = partly on the CPU, slow).',
        keys: [
          { label: 'node_name', header: 'Node' },
          { label: 'target', header: 'Target' },
          { label: 'model', header: 'Model' },
        ],
        hidden: ['node'],
        w: 12,
        columns: [
          {
            expr: named(
              `max by (${NODE}, target, model) (${e('sentinel_ollama_model_vram_ratio')}) and on (${NODE}, target, model) max by (${NODE}, target, model) (${e('sentinel_ollama_model_loaded')} == 1)`,
            ),
            header: 'In VRAM',
            unit: 'percentunit',
          },
          {
            expr: named(
              `max by (${NODE}, target, model) (${e('sentinel_ollama_model_vram_bytes')}) and on (${NODE}, target, model) max by (${NODE}, target, model) (${e('sentinel_ollama_model_loaded')} == 1)`,
            ),
            header: 'VRAM',
            unit: 'bytes',
          },
        ],
      }),
      statPanel({
        title: 'Nodes per model',
        description: 'On how many nodes each model is loaded now (a single host counts as one node).',
        unit: 'none',
        w: 12,
        h: 8,
        queries: [
          {
            expr: `count by (model) (max by (node, model) (${e('sentinel_ollama_model_loaded')}) == 1)`,
            legend: '{{model}}',
            instant: true,
          },
        ],
      }),
      timeseriesPanel({
        title: 'Nodes with each condition',
        description:
          'How many nodes have each diagnosis condition active (on any of their targets) over time. Two or more nodes with the same condition is a fleet-wide fault: the service-level steps are for that (deploy/swarm/README.md). A single host counts as one node.',
        unit: 'none',
        min: 0,
        queries: [
          {
            expr: `count by (condition) (max by (node, condition) (${e('sentinel_ollama_condition', 'condition!="healthy"')}) == 1)`,
            legend: '{{condition}}',
          },
        ],
      }),
      stateTimelinePanel({
        title: 'Conditions by node',
        description: 'When each condition held on each node (any target there); empty = none in this range.',
        unit: 'none',
        w: 12,
        queries: [
          {
            expr: named(`max by (${NODE}, condition) (${e('sentinel_ollama_condition', 'condition!="healthy"')}) > 0`),
            legend: '{{node_name}} {{condition}}',
          },
        ],
        mappings: [{ value: 1, text: 'holds', color: 'red' }],
      }),

      rowPanel('Remediation'),
      timeseriesPanel({
        title: 'Remediation actions per node',
        description:
          'Healing steps per node and result (done, failed, skipped, dry_run, interrupted) in each interval. Each node heals its own targets only.',
        unit: 'short',
        min: 0,
        stack: true,
        queries: [
          {
            expr: named(perInterval(`${NODE}, result`, r('actions_total'))),
            legend: '{{node_name}} {{result}}',
          },
        ],
      }),
      timeseriesPanel({
        title: 'Escalations per node',
        description: 'Incidents handed to humans per node and reason in each interval.',
        unit: 'short',
        min: 0,
        stack: true,
        queries: [
          {
            expr: named(perInterval(`${NODE}, reason`, r('escalations_total'))),
            legend: '{{node_name}} {{reason}}',
          },
        ],
      }),
      stateTimelinePanel({
        title: 'Circuit breaker per node',
        description: "When each node's remediator had its circuit breaker open (red): no healing there meanwhile.",
        unit: 'none',
        queries: [{ expr: perNode('max', r('breaker_open')), legend: '{{node_name}}' }],
        mappings: BREAKER,
      }),
    ],
  });
}
