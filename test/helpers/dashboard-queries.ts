/** One PromQL expression of a dashboard, with where it comes from (for failure messages and rule names). */
export interface DashboardQuery {
  readonly where: string;
  /** A valid metric name naming the place: the record name in the promtool syntax check. */
  readonly recordName: string;
  readonly expr: string;
}

interface PanelLike {
  readonly id?: number;
  readonly title?: string;
  readonly type?: string;
  readonly targets?: readonly { readonly expr?: string; readonly refId?: string }[];
  readonly panels?: readonly PanelLike[];
}

interface AnnotationLike {
  readonly name?: string;
  readonly builtIn?: number;
  readonly expr?: string;
  readonly target?: { readonly expr?: string };
}

/** Panel targets, annotation queries and the metric selectors inside `label_values(...)` variable queries. */
export function dashboardQueries(dashboard: Record<string, unknown>): DashboardQuery[] {
  const uid = String(dashboard.uid).replace(/[^a-zA-Z0-9_]/g, '_');
  const out: DashboardQuery[] = [];
  const visit = (panels: readonly PanelLike[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        out.push({
          where: `panel "${p.title}" (id ${p.id}) query ${t.refId}`,
          recordName: `${uid}:panel_${p.id}:${t.refId}`,
          expr: t.expr ?? '',
        });
      }
      visit(p.panels ?? []);
    }
  };
  visit((dashboard.panels ?? []) as PanelLike[]);
  const annotations = (dashboard.annotations as { list?: AnnotationLike[] } | undefined)?.list ?? [];
  for (const [i, a] of annotations.entries()) {
    const expr = a.target?.expr ?? a.expr;
    if (a.builtIn === 1 || expr === undefined) continue;
    out.push({ where: `annotation "${a.name}"`, recordName: `${uid}:annotation_${i}`, expr });
  }
  const variables = ((dashboard.templating as { list?: Record<string, unknown>[] } | undefined)?.list ?? []).filter(
    (v) => v.type === 'query',
  );
  for (const v of variables) {
    const m = String(v.query).match(/^label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\)$/);
    out.push({
      where: `variable $${v.name}`,
      recordName: `${uid}:variable_${v.name}`,
      expr: m ? m[1]! : String(v.query),
    });
  }
  return out;
}

/** Grafana's macros and variables replaced so promtool can parse the expression (values never matter). */
export function substituteMacros(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?/g, '.*');
}
