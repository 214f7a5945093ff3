import type { MonitoringConfig } from '../monitoring-config.js';
import { layoutPanels } from './layout-panels.js';
import type { PanelSpec } from './panel-types.js';

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
export function buildDashboard(cfg: MonitoringConfig, o: DashboardOptions): Record<string, unknown> {
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
