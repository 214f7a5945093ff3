import type { MonitoringConfig } from './monitoring-config.js';

/** The alert's section in runbook.md; GitHub anchors a `## Name` heading as `#name`. */
export function runbookUrl(cfg: Pick<MonitoringConfig, 'runbookBaseUrl'>, alert: string): string {
  return `${cfg.runbookBaseUrl}#${alert.toLowerCase()}`;
}
