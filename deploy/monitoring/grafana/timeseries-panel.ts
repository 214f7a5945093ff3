import { PROMETHEUS_DATASOURCE } from './prometheus-datasource.js';
import { promTargets } from './prom-targets.js';
import type { PanelSpec, Query } from './panel-types.js';

export interface TimeseriesOptions {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
  readonly w?: number;
  readonly h?: number;
  readonly min?: number;
  readonly max?: number;
  readonly stack?: boolean;
  /** Per-query overrides (by refId), e.g. a second unit on the right axis. */
  readonly overrides?: readonly unknown[];
}

export function timeseriesPanel(o: TimeseriesOptions): PanelSpec {
  return {
    type: 'timeseries',
    title: o.title,
    description: o.description,
    datasource: PROMETHEUS_DATASOURCE,
    fieldConfig: {
      defaults: {
        color: { mode: 'palette-classic' },
        custom: {
          drawStyle: 'line',
          fillOpacity: o.stack ? 30 : 10,
          lineWidth: 1,
          showPoints: 'never',
          spanNulls: false,
          stacking: { group: 'A', mode: o.stack ? 'normal' : 'none' },
        },
        max: o.max,
        min: o.min,
        unit: o.unit,
      },
      overrides: o.overrides ?? [],
    },
    options: {
      legend: { calcs: ['lastNotNull', 'max'], displayMode: 'table', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    targets: promTargets(o.queries),
    w: o.w ?? 12,
    h: o.h ?? 8,
  };
}
