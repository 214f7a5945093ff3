/** The data source picker every dashboard starts with (dashboard-linter template-datasource). */
export function datasourceVariable(): Record<string, unknown> {
  return { current: {}, hide: 0, includeAll: false, label: 'Data source', multi: false, name: 'datasource', options: [], query: 'prometheus', refresh: 1, regex: '', type: 'datasource' };
}
