import type { ConfigSection } from '../../shared/config/config-section.js';
import { fleetDashboard } from './grafana/fleet-dashboard.js';
import { gpuDashboard } from './grafana/gpu-dashboard.js';
import { overviewDashboard } from './grafana/overview-dashboard.js';
import { remediationDashboard } from './grafana/remediation-dashboard.js';
import type { MonitoringConfig } from './monitoring-config.js';
import { renderConfigReference } from './render-config-reference.js';
import { renderConfigSchema } from './render-config-schema.js';
import { renderFleetAlertmanager } from './render-fleet-alertmanager.js';
import { renderFleetPrometheus } from './render-fleet-prometheus.js';
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
    ['grafana/dashboards/ollama-sentinel-fleet.json', json(fleetDashboard(cfg))],
    ['deploy/CONFIGURATION.md', renderConfigReference(sections)],
    ['deploy/config.schema.json', renderConfigSchema(sections)],
  ]);
  // Last: it reads the others (which dashboards there are).
  for (const [path, content] of renderMixin(cfg, artefacts)) artefacts.set(path, content);
  // The Docker Swarm fleet (deploy/swarm/fleet-stack.yml); a real fleet renders its own Alertmanager routes from
  // `docker node inspect` with render-fleet-alertmanager-main.ts.
  artefacts.set('deploy/prometheus/prometheus-fleet.yml', renderFleetPrometheus(cfg));
  artefacts.set(
    'deploy/alertmanager/alertmanager-fleet.yml',
    renderFleetAlertmanager(
      cfg,
      cfg.fleet.exampleNodes,
      cfg.fleet.exampleManagers,
      'deploy/monitoring/monitoring-config.ts (fleet.exampleNodes, exampleManagers) by generate.ts',
    ),
  );
  return artefacts;
}
