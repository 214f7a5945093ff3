import type { ConfigSection } from '../../shared/config/config-section.js';
import { gpuDashboard } from './grafana/gpu-dashboard.js';
import { overviewDashboard } from './grafana/overview-dashboard.js';
import { remediationDashboard } from './grafana/remediation-dashboard.js';
import type { MonitoringConfig } from './monitoring-config.js';
import { renderConfigReference } from './render-config-reference.js';
import { renderConfigSchema } from './render-config-schema.js';
import { renderMixin } from './render-mixin.js';
import { renderRulesFile } from './render-rules-file.js';
import { renderRunbook } from './render-runbook.js';
import { sortKeys } from './grafana/build-dashboard.js';

/**
 * Every generated file, by path relative to the repository root, with its exact content. `sections` are the config
 * sections of every command (configSections()), for the configuration reference and schema.
 */
export function renderArtefacts(
  cfg: MonitoringConfig,
  sections: readonly ConfigSection[],
): ReadonlyMap<string, string> {
  const json = (dashboard: unknown) => `${JSON.stringify(sortKeys(dashboard), null, 2)}\n`;
  const artefacts = new Map([
    ['deploy/prometheus/ollama-sentinel.rules.yml', renderRulesFile(cfg)],
    ['deploy/monitoring/runbook.md', renderRunbook(cfg)],
    ['grafana/dashboards/ollama-sentinel-overview.json', json(overviewDashboard(cfg))],
    ['grafana/dashboards/ollama-sentinel-gpu.json', json(gpuDashboard(cfg))],
    ['grafana/dashboards/ollama-sentinel-remediation.json', json(remediationDashboard(cfg))],
    ['deploy/CONFIGURATION.md', renderConfigReference(sections)],
    ['deploy/config.schema.json', renderConfigSchema(sections)],
  ]);
  // Last: it reads the others (which dashboards there are).
  for (const [path, content] of renderMixin(cfg, artefacts)) artefacts.set(path, content);
  return artefacts;
}
