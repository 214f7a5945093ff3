import { parseDuration } from '../../shared/config/parse-duration.js';
import {
  ALERT_NAMES,
  monitoringConfig,
  type AlertName,
  type AlertSettings,
  type MonitoringConfig,
} from '../monitoring/monitoring-config.js';
import { renderRulesFile } from '../monitoring/render-rules-file.js';

export interface FastMonitoringOptions {
  /** Every alert's `for:` is capped at this: the shipped values (minutes) are tuned for production noise, not demos. */
  readonly maxFor: string;
  /** Per-alert changes applied after the cap (e.g. a longer `for:` where a restart's gap must not fire it). */
  readonly alerts?: Partial<Record<AlertName, Partial<AlertSettings>>>;
}

/**
 * A variant of the shipped monitoring config with short `for:` durations, for the demo and the end-to-end test.
 * Only the typed config is changed and the real generator renders it, so the expressions, labels and annotations
 * are exactly the shipped ones: nothing is hand-edited that could drift from deploy/prometheus/ollama-sentinel.rules.yml.
 */
function fastMonitoringConfig(base: MonitoringConfig, opts: FastMonitoringOptions): MonitoringConfig {
  const cap = parseDuration(opts.maxFor);
  if (cap === null) throw new Error(`maxFor ${JSON.stringify(opts.maxFor)} is not a duration`);
  const alerts = {} as Record<AlertName, AlertSettings>;
  for (const name of ALERT_NAMES) {
    const shipped = base.alerts[name];
    const shippedMs = parseDuration(shipped.for);
    if (shippedMs === null) throw new Error(`${name}: shipped for ${JSON.stringify(shipped.for)} is not a duration`);
    alerts[name] = { ...shipped, for: shippedMs > cap ? opts.maxFor : shipped.for, ...opts.alerts?.[name] };
  }
  return { ...base, alerts };
}

/**
 * The shipped alert and recording rules rendered by the real generator from a fast variant of the typed config,
 * with a header saying so (the generator's own "do not edit, generated from monitoring-config.ts" line would lie).
 */
export function renderFastRules(opts: FastMonitoringOptions): string {
  const body = renderRulesFile(fastMonitoringConfig(monitoringConfig, opts));
  const changed = Object.entries(opts.alerts ?? {}).map(([name, s]) => `${name} ${JSON.stringify(s)}`);
  const header = [
    `# Fast variant of deploy/prometheus/ollama-sentinel.rules.yml for demos and end-to-end tests: every alert's for: capped`,
    `# at ${opts.maxFor}${changed.length ? `; changed: ${changed.join(', ')}` : ''}. Rendered by deploy/demo/render-fast-rules.ts from`,
    `# deploy/monitoring/monitoring-config.ts; never use it in production (short for: values fire on passing states).`,
  ];
  return `${header.join('\n')}\n${body.replace(/^#[^\n]*\n/, '')}`;
}
