import { PROMETHEUS_DATASOURCE } from './prometheus-datasource.js';

/**
 * A multi-value `label_values(...)` variable, reloaded on time range change (template-on-time-change-reload) so
 * targets that appeared recently are listed. "All" matches any non-empty value.
 */
export function labelValuesVariable(name: string, label: string, metricSelector: string, labelName = name): Record<string, unknown> {
  const query = `label_values(${metricSelector}, ${labelName})`;
  return {
    allValue: '.+',
    current: {},
    datasource: PROMETHEUS_DATASOURCE,
    definition: query,
    hide: 0,
    includeAll: true,
    label,
    multi: true,
    name,
    options: [],
    query,
    refresh: 2,
    regex: '',
    sort: 1,
    type: 'query',
  };
}
