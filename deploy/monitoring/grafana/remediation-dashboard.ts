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

// The remediator is its own scrape job (deploy/prometheus/prometheus.yml): $job and $instance here are its own.
const HOST = 'job=~"$job", node=~"$node", instance=~"$instance"';
const TARGET = `${HOST}, target=~"$target"`;
const r = (name: string, extra = '') => `sentinel_remediator_${name}{${HOST}${extra ? `, ${extra}` : ''}}`;
const t = (name: string) => `sentinel_remediator_${name}{${TARGET}}`;
const perInterval = (by: string, series: string) => `sum by (${by}) (increase(${series}[$__rate_interval]))`;
/** Quantile of a histogram over the whole time range shown: heals and steps are too rare for a rate per interval. */
const overRange = (q: number, by: string, histogram: string) =>
  `histogram_quantile(${q}, sum by (${by}, le) (increase(${histogram}[$__range])))`;

/** What the remediator did about each target: actions, escalations, incidents, breaker, timings, webhook traffic. */
export function remediationDashboard(cfg: DashboardConfig): Record<string, unknown> {
  return buildDashboard(cfg, {
    uidSuffix: 'remediation',
    title: 'Ollama Sentinel / Remediation',
    description: `What the ollama-sentinel remediator did about each Ollama target: healing steps and their results, escalations to humans, incidents, the circuit breaker, time from alert to healed, step durations and Alertmanager webhook traffic. ${PER_NODE}`,
    links: [
      { title: 'Ollama overview', uidSuffix: 'overview', includeVars: false },
      { title: 'GPUs', uidSuffix: 'gpu', includeVars: false },
      { title: 'Fleet', uidSuffix: 'fleet', includeVars: false },
    ],
    variables: [
      datasourceVariable(),
      labelValuesVariable('job', 'Job', 'sentinel_remediator_build_info'),
      nodeVariable('sentinel_remediator_build_info{job=~"$job"}'),
      labelValuesVariable('instance', 'Remediator', 'sentinel_remediator_build_info{job=~"$job", node=~"$node"}'),
      // Targets the remediator acted on; "All" also covers targets that only escalated.
      labelValuesVariable('target', 'Ollama target', r('actions_total')),
    ],
    annotations: [remediationAnnotation(TARGET)],
    panels: [
      rowPanel('Now'),
      statPanel({
        title: 'Circuit breaker',
        description:
          'Open: too many actions in the window, the remediator acts on nothing until an operator resets it (see remediator/README.md).',
        unit: 'none',
        queries: [{ expr: r('breaker_open'), legend: '{{instance}}', instant: true }],
        mappings: [
          { value: 0, text: 'Closed', color: 'green' },
          { value: 1, text: 'Open', color: 'red' },
        ],
      }),
      statPanel({
        title: 'Incidents open',
        description:
          'Incidents not yet closed: being healed, verified, waiting on a cooldown, or escalated and still firing.',
        unit: 'none',
        queries: [{ expr: r('incidents_open'), legend: '{{instance}}', instant: true }],
      }),
      statPanel({
        title: 'Incidents deferred',
        description: 'Incidents waiting for the end of a quiet window before the remediator acts.',
        unit: 'none',
        queries: [{ expr: r('incidents_deferred'), legend: '{{instance}}', instant: true }],
      }),
      statPanel({
        title: 'Steps running',
        description: 'Healing steps running now (a restart, a reload, a runner kill, a pull...).',
        unit: 'none',
        queries: [{ expr: r('actions_in_flight'), legend: '{{instance}}', instant: true }],
      }),
      stateTimelinePanel({
        title: 'Circuit breaker over time',
        description: 'When the circuit breaker was open (red): no remediation during those stretches.',
        unit: 'none',
        h: 4,
        queries: [{ expr: r('breaker_open'), legend: '{{instance}}' }],
        mappings: [
          { value: 0, text: 'closed', color: 'green' },
          { value: 1, text: 'open', color: 'red' },
        ],
      }),

      rowPanel('Actions and escalations'),
      timeseriesPanel({
        title: 'Actions by target',
        description:
          'Healing steps per target, action and result (done, failed, skipped, dry_run, interrupted) in each interval; the markers on the graphs are the steps that ran.',
        unit: 'short',
        min: 0,
        stack: true,
        queries: [
          {
            expr: perInterval('node, target, action, result', t('actions_total')),
            legend: '{{target}} {{action}} {{result}}',
          },
        ],
      }),
      timeseriesPanel({
        title: 'Escalations by target',
        description:
          'Incidents handed to humans (escalated, or failed after max_attempts) per target and reason, in each interval.',
        unit: 'short',
        min: 0,
        stack: true,
        queries: [
          { expr: perInterval('node, target, reason', t('escalations_total')), legend: '{{target}} {{reason}}' },
        ],
      }),
      timeseriesPanel({
        title: 'Incidents closed by outcome',
        description:
          'Incidents closed per target and outcome (healed, resolved, cleared, escalated, failed, dropped, dry_run) in each interval.',
        unit: 'short',
        min: 0,
        stack: true,
        queries: [
          { expr: perInterval('node, target, outcome', t('incidents_closed_total')), legend: '{{target}} {{outcome}}' },
        ],
      }),
      timeseriesPanel({
        title: 'Incidents open and deferred',
        description: 'Open incidents, and those of them deferred to the end of a quiet window.',
        unit: 'short',
        min: 0,
        queries: [
          { expr: r('incidents_open'), legend: '{{instance}} open' },
          { expr: r('incidents_deferred'), legend: '{{instance}} deferred' },
        ],
      }),

      rowPanel('Timing'),
      statPanel({
        title: 'Time from alert to healed',
        description:
          "Median and 95th percentile over the time range shown, per target: from an incident's first alert to its close as healed (histogram buckets up to 1 h).",
        unit: 's',
        w: 12,
        h: 6,
        queries: [
          {
            expr: overRange(0.5, 'node, target', t('time_to_heal_seconds_bucket')),
            legend: '{{target}} median',
            instant: true,
          },
          {
            expr: overRange(0.95, 'node, target', t('time_to_heal_seconds_bucket')),
            legend: '{{target}} p95',
            instant: true,
          },
        ],
      }),
      statPanel({
        title: 'Step durations',
        description:
          'Median and 95th percentile duration of healing steps per action over the time range shown (verification excluded).',
        unit: 's',
        w: 12,
        h: 6,
        queries: [
          {
            expr: overRange(0.5, 'action', r('step_duration_seconds_bucket')),
            legend: '{{action}} median',
            instant: true,
          },
          {
            expr: overRange(0.95, 'action', r('step_duration_seconds_bucket')),
            legend: '{{action}} p95',
            instant: true,
          },
        ],
      }),

      rowPanel('Alertmanager webhook'),
      timeseriesPanel({
        title: 'Webhook requests by code',
        description:
          'Alertmanager deliveries per second by HTTP status: 401 is a wrong bearer token, 4xx a payload the remediator refused.',
        unit: 'reqps',
        min: 0,
        queries: [
          { expr: `sum by (code) (rate(${r('webhook_requests_total')}[$__rate_interval]))`, legend: '{{code}}' },
        ],
      }),
      timeseriesPanel({
        title: 'Alerts received',
        description: 'Alerts in accepted webhooks per second, by status, and the re-sends answered from memory.',
        unit: 'ops',
        min: 0,
        queries: [
          {
            expr: `sum by (status) (rate(${r('alerts_received_total')}[$__rate_interval]))`,
            legend: '{{status}}',
          },
          { expr: `sum (rate(${r('alerts_duplicate_total')}[$__rate_interval]))`, legend: 'duplicates' },
        ],
      }),
      timeseriesPanel({
        title: 'Alerts refused',
        description: 'Alerts recorded but not acted on, by reason (no target, no rule...), in each interval.',
        unit: 'short',
        min: 0,
        queries: [{ expr: perInterval('reason', r('alerts_refused_total')), legend: '{{reason}}' }],
      }),
      timeseriesPanel({
        title: 'Decisions not to act',
        description:
          'Decisions to wait or not act, by reason (cooldown, breaker, cleared, quiet, caused_by_own_step...), in each interval.',
        unit: 'short',
        min: 0,
        queries: [{ expr: perInterval('reason', r('skips_total')), legend: '{{reason}}' }],
      }),
    ],
  });
}
