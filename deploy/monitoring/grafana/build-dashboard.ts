import { layoutPanels, PROMETHEUS_DATASOURCE, type PanelSpec } from './panels.js';

/**
 * What every dashboard shares, set in monitoring-config.ts. The dashboards take only this slice of the config, so
 * grafana/ depends on nothing above it.
 */
export interface DashboardSettings {
  readonly uidPrefix: string;
  readonly tags: readonly string[];
  /** Dashboard auto-refresh; matches the exporter's 15 s default collection interval. */
  readonly refresh: string;
  readonly timeFrom: string;
}

/** The slice of the monitoring config a dashboard reads (render-artefacts.ts passes the whole config). */
export interface DashboardConfig {
  readonly dashboards: DashboardSettings;
}

export interface DashboardOptions {
  /** Appended to the config's uid prefix; never change it, links and bookmarks use it. */
  readonly uidSuffix: string;
  readonly title: string;
  readonly description: string;
  readonly variables: readonly Record<string, unknown>[];
  readonly panels: readonly PanelSpec[];
  /** uid suffixes of the other dashboards, linked in the header with the current variables and time. */
  readonly links: readonly { readonly title: string; readonly uidSuffix: string }[];
}

/** The dashboard skeleton: stable uid, id null (provisioning assigns it), read-only, variables and laid-out panels. */
export function buildDashboard(cfg: DashboardConfig, o: DashboardOptions): Record<string, unknown> {
  const uid = (suffix: string) => `${cfg.dashboards.uidPrefix}-${suffix}`;
  return {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    description: o.description,
    // Provisioned from files: edits in the UI would be lost on the next reload, so do not invite them.
    editable: false,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: o.links.map((l) => ({
      asDropdown: false,
      icon: 'dashboard',
      includeVars: true,
      keepTime: true,
      tags: [],
      targetBlank: false,
      title: l.title,
      type: 'link',
      url: `/d/${uid(l.uidSuffix)}`,
    })),
    panels: layoutPanels(o.panels),
    refresh: cfg.dashboards.refresh,
    schemaVersion: 39,
    tags: [...cfg.dashboards.tags],
    templating: { list: o.variables },
    time: { from: cfg.dashboards.timeFrom, to: 'now' },
    timepicker: {},
    timezone: 'browser',
    title: o.title,
    uid: uid(o.uidSuffix),
    version: 1,
    weekStart: '',
  };
}

/** The data source picker every dashboard starts with (dashboard-linter template-datasource). */
export function datasourceVariable(): Record<string, unknown> {
  return {
    current: {},
    hide: 0,
    includeAll: false,
    label: 'Data source',
    multi: false,
    name: 'datasource',
    options: [],
    query: 'prometheus',
    refresh: 1,
    regex: '',
    type: 'datasource',
  };
}

/**
 * A multi-value `label_values(...)` variable, reloaded on time range change (template-on-time-change-reload) so
 * targets that appeared recently are listed. "All" matches any non-empty value.
 */
export function labelValuesVariable(
  name: string,
  label: string,
  metricSelector: string,
  labelName = name,
): Record<string, unknown> {
  const query = `label_values(${metricSelector}, ${labelName})`;
  return {
    allValue: '.+',
    current: {},
    datasource: PROMETHEUS_DATASOURCE,
    definition: query,
    hide: 0,
    includeAll: true,
    label,
    multi: true,
    name,
    options: [],
    query,
    refresh: 2,
    regex: '',
    sort: 1,
    type: 'query',
  };
}

/** Deep copy with object keys in code-point order, so generated JSON diffs stay stable whatever the build order. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
  }
  return value;
}
