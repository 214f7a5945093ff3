import { gpuDashboard } from './grafana/gpu-dashboard.js';
import { overviewDashboard } from './grafana/overview-dashboard.js';
import type { MonitoringConfig } from './monitoring-config.js';
import { renderRulesFile } from './render-rules-file.js';
import { renderRunbook } from './render-runbook.js';
import { sortKeys } from './grafana/build-dashboard.js';

/** Every generated file, by path relative to the repository root, with its exact content. */
export function renderArtefacts(cfg: MonitoringConfig): ReadonlyMap<string, string> {
  const json = (dashboard: unknown) => `${JSON.stringify(sortKeys(dashboard), null, 2)}\n`;
  return new Map([
    ['deploy/prometheus/ollama-sentinel.rules.yml', renderRulesFile(cfg)],
    ['deploy/monitoring/runbook.md', renderRunbook(cfg)],
    ['grafana/dashboards/ollama-sentinel-overview.json', json(overviewDashboard(cfg))],
    ['grafana/dashboards/ollama-sentinel-gpu.json', json(gpuDashboard(cfg))],
  ]);
}
