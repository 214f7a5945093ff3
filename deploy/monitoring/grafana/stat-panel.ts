import { PROMETHEUS_DATASOURCE } from './prometheus-datasource.js';
import { promTargets } from './prom-targets.js';
import type { PanelSpec, Query, ValueMapping } from './panel-types.js';
import { valueMappings } from './value-mappings.js';

export interface StatOptions {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
  readonly w?: number;
  readonly h?: number;
  readonly mappings?: readonly ValueMapping[];
  /** Value from which the background turns red (default: never). */
  readonly redFrom?: number;
  /** Show the series name (legend) instead of the value: for info series such as versions. */
  readonly showName?: boolean;
}

export function statPanel(o: StatOptions): PanelSpec {
  const steps: unknown[] = [{ color: 'green', value: null }];
  if (o.redFrom !== undefined) steps.push({ color: 'red', value: o.redFrom });
  return {
    type: 'stat',
    title: o.title,
    description: o.description,
    datasource: PROMETHEUS_DATASOURCE,
    fieldConfig: {
      defaults: {
        color: { mode: o.showName ? 'fixed' : 'thresholds', fixedColor: o.showName ? 'text' : undefined },
        mappings: valueMappings(o.mappings ?? []),
        thresholds: { mode: 'absolute', steps },
        unit: o.unit,
      },
      overrides: [],
    },
    options: {
      colorMode: o.showName ? 'none' : 'background',
      graphMode: 'none',
      justifyMode: 'auto',
      orientation: 'auto',
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      textMode: o.showName ? 'name' : 'value_and_name',
    },
    targets: promTargets(o.queries),
    w: o.w ?? 6,
    h: o.h ?? 4,
  };
}
