import { Counter, Gauge, Registry, type RegistryContentType } from 'prom-client';
import type { Labels, MetricSink } from '../collector.js';

interface Family {
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly samples: Array<[Labels, number]>;
}

/** A MetricSink that renders one scrape through a fresh prom-client Registry, so vanished label sets vanish. */
export class PromSink implements MetricSink {
  private readonly families = new Map<string, Family>();

  gauge(name: string, help: string, labels: Labels, value: number): void {
    this.add('gauge', name, help, labels, value);
  }

  counter(name: string, help: string, labels: Labels, value: number): void {
    this.add('counter', name, help, labels, value);
  }

  private add(type: Family['type'], name: string, help: string, labels: Labels, value: number): void {
    if (!Number.isFinite(value)) return; // NaN/Inf are never real readings
    let f = this.families.get(name);
    if (!f) {
      f = { type, help, labelNames: Object.keys(labels).sort(), samples: [] };
      this.families.set(name, f);
    }
    if (f.type !== type) throw new Error(`metric ${name} written as both ${f.type} and ${type}`);
    const keys = Object.keys(labels).sort();
    if (keys.join(',') !== f.labelNames.join(','))
      throw new Error(`metric ${name}: labels {${keys}} differ from {${f.labelNames}}`);
    f.samples.push([labels, value]);
  }

  /** A fresh registry holding this scrape's series, rendering in `contentType` (text 0.0.4 or OpenMetrics). */
  registry(contentType: RegistryContentType = Registry.PROMETHEUS_CONTENT_TYPE): Registry<RegistryContentType> {
    const reg = new Registry<RegistryContentType>();
    reg.setContentType(contentType);
    for (const [name, f] of [...this.families].sort(([a], [b]) => a.localeCompare(b))) {
      if (f.type === 'gauge') {
        const g = new Gauge({ name, help: f.help, labelNames: f.labelNames, registers: [reg] });
        for (const [l, v] of f.samples) g.set(l, v);
      } else {
        const c = new Counter({ name, help: f.help, labelNames: f.labelNames, registers: [reg] });
        for (const [l, v] of f.samples) c.inc(l, Math.max(0, v));
      }
    }
    return reg;
  }
}
