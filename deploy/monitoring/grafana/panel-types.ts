/** The slice of Grafana's dashboard JSON model the generator writes (schemaVersion 39, Grafana 10.4+). */

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
