import { parseDuration } from '../../shared/config/parse-duration.js';
import { ALERT_NAMES, type AlertName, type AlertSettings, type MonitoringConfig } from '../monitoring/monitoring-config.js';

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
export function fastMonitoringConfig(base: MonitoringConfig, opts: FastMonitoringOptions): MonitoringConfig {
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
