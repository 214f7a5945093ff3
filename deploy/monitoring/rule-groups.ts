import { alertDefinitions, type AlertGroup } from './alert-definitions.js';
import type { MonitoringConfig } from './monitoring-config.js';
import { recordingRules, type RecordingRule } from './recording-rules.js';
import { runbookUrl } from './runbook-url.js';

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly (AlertingRule | RecordingRule)[];
}

export const RECORDING_GROUP = 'ollama-sentinel.rules';
const ALERT_GROUPS: readonly AlertGroup[] = ['exporter', 'gpu', 'ollama'];

/** The Prometheus rule groups: recording rules first (tests evaluate them first), then one group per area. */
export function ruleGroups(cfg: MonitoringConfig): RuleGroup[] {
  const defs = alertDefinitions(cfg);
  return [
    { name: RECORDING_GROUP, rules: recordingRules(cfg) },
    ...ALERT_GROUPS.map((group) => ({
      name: `ollama-sentinel-${group}`,
      rules: defs
        .filter((d) => d.group === group)
        .map((d): AlertingRule => {
          const settings = cfg.alerts[d.name];
          const labels: Record<string, string> = { severity: settings.severity };
          // Templated from the series so Alertmanager and the remediator can route on the Ollama target.
          if (d.perTarget) labels[cfg.targetAlertLabel] = '{{ $labels.target }}';
          if (settings.remediate) labels.remediate = 'true';
          return {
            alert: d.name,
            expr: d.expr,
            for: settings.for,
            labels: sorted(labels),
            annotations: sorted({ summary: d.summary, description: d.description, runbook_url: runbookUrl(cfg, d.name) }),
          };
        }),
    })),
  ];
}

function sorted(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
