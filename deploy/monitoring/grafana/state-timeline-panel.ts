import { PROMETHEUS_DATASOURCE } from './prometheus-datasource.js';
import { promTargets } from './prom-targets.js';
import type { PanelSpec, Query, ValueMapping } from './panel-types.js';
import { valueMappings } from './value-mappings.js';

export interface StateTimelineOptions {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
  readonly mappings: readonly ValueMapping[];
  readonly w?: number;
  readonly h?: number;
}

/** One bar per series over time: conditions, residency and collector health read at a glance. */
export function stateTimelinePanel(o: StateTimelineOptions): PanelSpec {
  return {
    type: 'state-timeline',
    title: o.title,
    description: o.description,
    datasource: PROMETHEUS_DATASOURCE,
    fieldConfig: {
      defaults: {
        color: { mode: 'thresholds' },
        custom: { fillOpacity: 80, lineWidth: 0 },
        mappings: valueMappings(o.mappings),
        thresholds: { mode: 'absolute', steps: [{ color: 'transparent', value: null }] },
        unit: o.unit,
      },
      overrides: [],
    },
    options: {
      alignValue: 'left',
      legend: { displayMode: 'list', placement: 'bottom', showLegend: false },
      mergeValues: true,
      rowHeight: 0.9,
      showValue: 'never',
      tooltip: { mode: 'single', sort: 'none' },
    },
    targets: promTargets(o.queries),
    w: o.w ?? 24,
    h: o.h ?? 8,
  };
}
