import { alertDefinitions } from './alert-definitions.js';
import { NORMAL_OR_FAULT, NORMAL_OR_FAULT_HEADING } from './diagnosis-reference.js';
import type { MonitoringConfig } from './monitoring-config.js';
import { GENERATED_NOTE } from './render-rules-file.js';

/** deploy/monitoring/runbook.md: one `## AlertName` section per alert, the target of every runbook_url. */
export function renderRunbook(cfg: MonitoringConfig): string {
  const lines = [
    '# ollama-sentinel runbook',
    '',
    `<!-- ${GENERATED_NOTE} -->`,
    '',
    'One section per alert of `deploy/prometheus/ollama-sentinel.rules.yml`. Alerts labelled `remediate="true"` are',
    'the ones the remediator may act on (its Alertmanager route matches that label); all others need a human.',
    "Every remediable alert except OllamaApiDown, OllamaModelMissing and OllamaOrphanRunners fires on the exporter's",
    'diagnosis (`sentinel_ollama_condition`; its conditions: the README, section Diagnosis). What Ollama does that',
    'looks like a fault but is not, and the evidence that tells each apart from the real fault, is the next section.',
    '',
    `## ${NORMAL_OR_FAULT_HEADING}`,
    '',
    ...NORMAL_OR_FAULT,
    '',
  ];
  for (const d of alertDefinitions(cfg)) {
    const s = cfg.alerts[d.name];
    lines.push(`## ${d.name}`, '');
    lines.push(
      `Severity **${s.severity}**, fires after ${s.for === '0m' ? 'the first matching evaluation' : s.for}${s.remediate ? ', remediated automatically' : ', not remediated'}.`,
      '',
    );
    lines.push(d.meaning, '');
    for (const step of d.steps) lines.push(`- ${step}`);
    lines.push('', '```promql', d.expr, '```', '');
  }
  return lines.join('\n');
}
