import type { Labels, MetricSink } from '../../exporter/collector.js';

/** A MetricSink that keeps every sample, for assertions. */
export class RecordingSink implements MetricSink {
  readonly samples: Array<{ type: 'gauge' | 'counter'; name: string; help: string; labels: Labels; value: number }> =
    [];

  gauge(name: string, help: string, labels: Labels, value: number): void {
    this.samples.push({ type: 'gauge', name, help, labels, value });
  }

  counter(name: string, help: string, labels: Labels, value: number): void {
    this.samples.push({ type: 'counter', name, help, labels, value });
  }

  /** Value of the one sample with this name whose labels include `labels`; undefined if none. */
  value(name: string, labels: Labels = {}): number | undefined {
    const hits = this.find(name, labels);
    if (hits.length > 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
    return hits[0]?.value;
  }

  find(name: string, labels: Labels = {}) {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }
}
