import { monitoringConfig } from '../monitoring/monitoring-config.js';
import { renderRulesFile } from '../monitoring/render-rules-file.js';
import { fastMonitoringConfig, type FastMonitoringOptions } from './fast-monitoring-config.js';

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
