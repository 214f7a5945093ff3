import { PROMETHEUS_DATASOURCE } from './prometheus-datasource.js';
import type { PromTarget, Query } from './panel-types.js';

/** Queries -> Grafana targets with refIds A, B, C... in order. */
export function promTargets(queries: readonly Query[]): PromTarget[] {
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
