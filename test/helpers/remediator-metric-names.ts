import { RemediatorMetrics } from '../../remediator/remediator-metrics.js';

/**
 * Every series name the remediator can publish, with its labels, read from its real registry (TLS metrics
 * included): a histogram counts as its _bucket, _sum and _count series, which are what queries name.
 */
export function remediatorMetricLabels(): ReadonlyMap<string, readonly string[]> {
  const metrics = new RemediatorMetrics();
  metrics.watchTls(() => ({ reloadErrors: 0, lastReloadOk: true }));
  const out = new Map<string, readonly string[]>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    const { name, labelNames = [] } = m as unknown as { name: string; labelNames?: string[] };
    const histogram = m.constructor.name === 'Histogram';
    if (histogram) for (const suffix of ['_bucket', '_sum', '_count']) out.set(`${name}${suffix}`, labelNames);
    else out.set(name, labelNames);
  }
  return out;
}
