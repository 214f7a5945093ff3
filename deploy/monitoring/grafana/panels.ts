import type { Builder } from '@grafana/grafana-foundation-sdk/cog';
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  GraphDrawStyle,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  SortOrder,
  StackingConfigBuilder,
  StackingMode,
  TimelineValueAlignment,
  TooltipDisplayMode,
  VisibilityMode,
  VizLegendOptionsBuilder,
  VizOrientation,
  VizTooltipOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
import {
  FieldColorBuilder,
  FieldColorModeId,
  MappingType,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  type Panel,
  type Threshold,
  type ValueMapping as GrafanaValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat, QueryEditorMode } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelineBuilder } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TextBuilder, TextMode } from '@grafana/grafana-foundation-sdk/text';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/**
 * The panels the dashboards use, as Grafana Foundation SDK builders (so every option is typed against Grafana's own
 * schema), with the few choices all our panels share: the `$datasource` data source, code-mode Prometheus queries,
 * legends and tooltips. Layout is build-dashboard.ts's job: a spec carries its size, not its place.
 */

/** An SDK panel builder that build-dashboard.ts can number and size. */
export interface SizedPanelBuilder extends Builder<Panel> {
  id(id: number): unknown;
  span(w: number): unknown;
  height(h: number): unknown;
}

/** A section header (a full-width expanded row) or a panel with its width and height on the 24-column grid. */
export type PanelSpec =
  | { readonly row: string }
  | { readonly title: string; readonly w: number; readonly h: number; readonly builder: SizedPanelBuilder };

export interface DatasourceRef {
  readonly type: string;
  readonly uid: string;
}

/**
 * Every panel, query, variable and annotation points at the `$datasource` variable, never at a fixed uid or
 * `${DS_PROMETHEUS}` input: file provisioning does not resolve inputs ("Datasource ${DS_PROMETHEUS} was not found",
 * grafana#10786).
 */
export const PROMETHEUS_DATASOURCE: DatasourceRef = { type: 'prometheus', uid: '${datasource}' };

export interface Query {
  readonly expr: string;
  readonly legend: string;
  /** Only the latest value (stat panels showing a name or a state, or a value over the whole range). */
  readonly instant?: boolean;
}

export interface ValueMapping {
  readonly value: number;
  readonly text: string;
  readonly color: string;
}

/** A PromQL query against `$datasource` in code mode, as every panel and annotation query here is written. */
export function promQuery(expr: string, refId: string): DataqueryBuilder {
  return new DataqueryBuilder()
    .datasource({ ...PROMETHEUS_DATASOURCE })
    .editorMode(QueryEditorMode.Code)
    .expr(expr)
    .refId(refId);
}

/** Queries -> Grafana targets with refIds A, B, C... in order. */
function promTargets(queries: readonly Query[]): DataqueryBuilder[] {
  return queries.map((q, i) => {
    const target = promQuery(q.expr, String.fromCharCode(65 + i)).legendFormat(q.legend);
    return q.instant === true ? target.instant() : target.range();
  });
}

/** Grafana's value-to-text mapping, so 0/1 state series read as words with colours. */
function valueMappings(mappings: readonly ValueMapping[]): GrafanaValueMapping[] {
  if (mappings.length === 0) return [];
  return [
    {
      type: MappingType.ValueToText,
      options: Object.fromEntries(
        mappings.map((m, i) => [String(m.value), { color: m.color, index: i, text: m.text }]),
      ),
    },
  ];
}

const thresholds = (steps: Threshold[]) => new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps);

/** A full-width, expanded section header. */
export function rowPanel(title: string): PanelSpec {
  return { row: title };
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
  const steps: Threshold[] = [{ color: 'green', value: null }];
  if (o.redFrom !== undefined) steps.push({ color: 'red', value: o.redFrom });
  const color = o.showName
    ? new FieldColorBuilder().mode(FieldColorModeId.Fixed).fixedColor('text')
    : new FieldColorBuilder().mode(FieldColorModeId.Thresholds);
  const builder = new StatBuilder()
    .title(o.title)
    .description(o.description)
    .datasource({ ...PROMETHEUS_DATASOURCE })
    .unit(o.unit)
    .colorScheme(color)
    .mappings(valueMappings(o.mappings ?? []))
    .thresholds(thresholds(steps))
    .colorMode(o.showName ? BigValueColorMode.None : BigValueColorMode.Background)
    .graphMode(BigValueGraphMode.None)
    .justifyMode(BigValueJustifyMode.Auto)
    .orientation(VizOrientation.Auto)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false))
    .textMode(o.showName ? BigValueTextMode.Name : BigValueTextMode.ValueAndName)
    .targets(promTargets(o.queries));
  return { title: o.title, builder, w: o.w ?? 6, h: o.h ?? 4 };
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
  /** One query drawn against a second axis on the right, in its own unit. */
  readonly rightAxis?: { readonly refId: string; readonly unit: string; readonly label: string };
}

export function timeseriesPanel(o: TimeseriesOptions): PanelSpec {
  const builder = new TimeseriesBuilder()
    .title(o.title)
    .description(o.description)
    .datasource({ ...PROMETHEUS_DATASOURCE })
    .unit(o.unit)
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.PaletteClassic))
    .drawStyle(GraphDrawStyle.Line)
    .fillOpacity(o.stack ? 30 : 10)
    .lineWidth(1)
    .showPoints(VisibilityMode.Never)
    .spanNulls(false)
    .stacking(new StackingConfigBuilder().group('A').mode(o.stack ? StackingMode.Normal : StackingMode.None))
    .legend(
      new VizLegendOptionsBuilder()
        .calcs(['lastNotNull', 'max'])
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .showLegend(true),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
    .targets(promTargets(o.queries));
  if (o.min !== undefined) builder.min(o.min);
  if (o.max !== undefined) builder.max(o.max);
  if (o.rightAxis) {
    builder.overrideByQuery(o.rightAxis.refId, [
      { id: 'unit', value: o.rightAxis.unit },
      { id: 'custom.axisPlacement', value: 'right' },
      { id: 'custom.axisLabel', value: o.rightAxis.label },
    ]);
  }
  return { title: o.title, builder, w: o.w ?? 12, h: o.h ?? 8 };
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
  const builder = new StateTimelineBuilder()
    .title(o.title)
    .description(o.description)
    .datasource({ ...PROMETHEUS_DATASOURCE })
    .unit(o.unit)
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Thresholds))
    .fillOpacity(80)
    .lineWidth(0)
    .mappings(valueMappings(o.mappings))
    .thresholds(thresholds([{ color: 'transparent', value: null }]))
    .alignValue(TimelineValueAlignment.Left)
    .legend(
      new VizLegendOptionsBuilder()
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom)
        .showLegend(false),
    )
    .mergeValues(true)
    .rowHeight(0.9)
    .showValue(VisibilityMode.Never)
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Single).sort(SortOrder.None))
    .targets(promTargets(o.queries));
  return { title: o.title, builder, w: o.w ?? 24, h: o.h ?? 8 };
}

/** A column of a table panel: one instant query, its header, unit and value mappings. */
export interface TableColumn {
  readonly expr: string;
  readonly header: string;
  readonly unit?: string;
  readonly mappings?: readonly ValueMapping[];
  /** Value from which the cell turns red (default: never). */
  readonly redFrom?: number;
}

export interface TableOptions {
  readonly title: string;
  readonly description: string;
  /** The labels every column's query keeps, in the order they are shown, first: the rows' key. */
  readonly keys: readonly {
    readonly label: string;
    readonly header: string;
    /** A data link on each cell of this column; `${__value.raw}` in the URL is the cell's value. */
    readonly link?: { readonly title: string; readonly url: string };
  }[];
  readonly columns: readonly TableColumn[];
  /** Label columns left out of the table (still there for the merge). */
  readonly hidden?: readonly string[];
  readonly w?: number;
  readonly h?: number;
}

/**
 * One row per key (e.g. per node), one column per instant query: Grafana's "merge" transformation joins the queries'
 * tables on their label columns, so every query must keep exactly the key labels. Columns are named after their refId
 * ("Value #A") until "organize" renames them, hides the time and orders the keys first.
 */
export function tablePanel(o: TableOptions): PanelSpec {
  const refId = (i: number) => String.fromCharCode(65 + i);
  const value = (i: number) => `Value #${refId(i)}`;
  const builder = new TableBuilder()
    .title(o.title)
    .description(o.description)
    .datasource({ ...PROMETHEUS_DATASOURCE })
    .unit('none')
    .colorScheme(new FieldColorBuilder().mode(FieldColorModeId.Thresholds))
    .thresholds(thresholds([{ color: 'text', value: null }]))
    .showHeader(true)
    .targets(
      o.columns.map((c, i) =>
        promQuery(c.expr, refId(i)).format(PromQueryFormat.Table).instant().legendFormat('__auto'),
      ),
    )
    .transformations([
      { id: 'merge', options: {} },
      {
        id: 'organize',
        options: {
          excludeByName: Object.fromEntries([['Time', true], ...(o.hidden ?? []).map((h) => [h, true])]),
          indexByName: Object.fromEntries(
            [...o.keys.map((k) => k.label), ...o.columns.map((_, i) => value(i))].map((n, i) => [n, i]),
          ),
          renameByName: Object.fromEntries([
            ...o.keys.map((k) => [k.label, k.header]),
            ...o.columns.map((c, i) => [value(i), c.header]),
          ]),
        },
      },
    ]);
  for (const k of o.keys) {
    if (k.link) builder.overrideByName(k.header, [{ id: 'links', value: [{ ...k.link, targetBlank: false }] }]);
  }
  for (const c of o.columns) {
    const props: { id: string; value: unknown }[] = [];
    if (c.unit !== undefined) props.push({ id: 'unit', value: c.unit });
    if (c.mappings !== undefined) props.push({ id: 'mappings', value: valueMappings(c.mappings) });
    if (c.redFrom !== undefined) {
      props.push({
        id: 'thresholds',
        value: thresholds([
          { color: 'text', value: null },
          { color: 'red', value: c.redFrom },
        ]).build(),
      });
    }
    if (c.mappings !== undefined || c.redFrom !== undefined)
      props.push({ id: 'custom.cellOptions', value: { type: 'color-text' } });
    if (props.length > 0) builder.overrideByName(c.header, props);
  }
  return { title: o.title, builder, w: o.w ?? 24, h: o.h ?? 8 };
}

/** A markdown note (no query): what the dashboard is and where it comes from. */
export function textPanel(o: { title: string; content: string; w?: number; h?: number }): PanelSpec {
  const builder = new TextBuilder().title(o.title).mode(TextMode.Markdown).content(o.content);
  return { title: o.title, builder, w: o.w ?? 24, h: o.h ?? 3 };
}
