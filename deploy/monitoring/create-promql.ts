import type { MonitoringConfig } from './monitoring-config.js';

export interface Promql {
  /** `name{<exporter selector>,<extra matchers>}`. */
  metric(name: string, ...matchers: string[]): string;
  /** `on (instance, job, <extra>)`: joins never cross exporters. */
  on(...labels: string[]): string;
  /** `by (instance, job, <extra>)`. */
  by(...labels: string[]): string;
}

/** Small PromQL helpers bound to the config's selector and instance labels, so no rule hard-codes them. */
export function createPromql(cfg: Pick<MonitoringConfig, 'exporterSelector' | 'instanceLabels'>): Promql {
  const list = (labels: string[]) => [...cfg.instanceLabels, ...labels].join(', ');
  return {
    metric: (name, ...matchers) => `${name}{${[cfg.exporterSelector, ...matchers].filter((m) => m !== '').join(', ')}}`,
    on: (...labels) => `on (${list(labels)})`,
    by: (...labels) => `by (${list(labels)})`,
  };
}
