/**
 * Grafana panels: the slice of the dashboard JSON model the generator writes (schemaVersion 39, Grafana 10.4+), a
 * builder per panel type the dashboards use, and their layout on the 24-column grid.
 */

export interface DatasourceRef {
  readonly type: string;
  readonly uid: string;
}

export interface PromTarget {
  readonly datasource: DatasourceRef;
  readonly editorMode: 'code';
  readonly expr: string;
  readonly instant: boolean;
  readonly legendFormat: string;
  readonly range: boolean;
  readonly refId: string;
}

export interface GridPos {
  readonly h: number;
  readonly w: number;
  readonly x: number;
  readonly y: number;
}

export interface Panel {
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly datasource?: DatasourceRef;
  readonly fieldConfig?: { readonly defaults: Record<string, unknown>; readonly overrides: readonly unknown[] };
  readonly options?: Record<string, unknown>;
  readonly targets?: readonly PromTarget[];
  readonly gridPos: GridPos;
  readonly id: number;
  readonly collapsed?: boolean;
  readonly panels?: readonly Panel[];
}

/** A panel before layout: its size, not yet its place. */
export type PanelSpec = Omit<Panel, 'gridPos' | 'id'> & { readonly w: number; readonly h: number };

export interface Query {
  readonly expr: string;
  readonly legend: string;
  /** Only the latest value (stat panels showing a name or a state). */
  readonly instant?: boolean;
}

export interface ValueMapping {
  readonly value: number;
  readonly text: string;
  readonly color: string;
}

/**
 * Every panel and query points at the `$datasource` variable, never at a fixed uid or `${DS_PROMETHEUS}` input:
 * file provisioning does not resolve inputs ("Datasource ${DS_PROMETHEUS} was not found", grafana#10786).
 */
export const PROMETHEUS_DATASOURCE: DatasourceRef = { type: 'prometheus', uid: '${datasource}' };

/** Queries -> Grafana targets with refIds A, B, C... in order. */
function promTargets(queries: readonly Query[]): PromTarget[] {
  return queries.map((q, i) => ({
    datasource: PROMETHEUS_DATASOURCE,
    editorMode: 'code',
    expr: q.expr,
    instant: q.instant === true,
    legendFormat: q.legend,
    range: q.instant !== true,
    refId: String.fromCharCode(65 + i),
  }));
}

/** Grafana's value-to-text mapping, so 0/1 state series read as words with colours. */
function valueMappings(mappings: readonly ValueMapping[]): unknown[] {
  if (mappings.length === 0) return [];
  return [
    {
      options: Object.fromEntries(
        mappings.map((m, i) => [String(m.value), { color: m.color, index: i, text: m.text }]),
      ),
      type: 'value',
    },
  ];
}

/** A full-width, expanded section header. */
export function rowPanel(title: string): PanelSpec {
  return { type: 'row', title, collapsed: false, panels: [], w: 24, h: 1 };
}

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

const GRID_WIDTH = 24;

/**
 * Places panels left to right, wrapping at Grafana's 24 columns; a row always starts a new line. Ids are the
 * position in the list, so they never change unless the panel order does.
 */
export function layoutPanels(specs: readonly PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  return specs.map((spec, i) => {
    const { w, h, ...rest } = spec;
    if (w > GRID_WIDTH) throw new Error(`panel "${spec.title}" is ${w} wide; the grid has ${GRID_WIDTH} columns`);
    if (spec.type === 'row' || x + w > GRID_WIDTH) {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    const panel: Panel = { ...rest, gridPos: { h, w, x, y }, id: i + 1 };
    x += w;
    lineHeight = Math.max(lineHeight, h);
    if (spec.type === 'row') {
      y += h;
      x = 0;
      lineHeight = 0;
    }
    return panel;
  });
}
