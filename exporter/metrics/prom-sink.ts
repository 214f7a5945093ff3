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

  /**
   * The exposition document, byte for byte what `registry(contentType).metrics()` gives, written directly: a
   * prom-client registry of a few thousand series costs tens of milliseconds on the event loop, which every
   * scrape arriving meanwhile waits for. As there, a label set written twice keeps its first place: a gauge takes the
   * last value (and its labels' order), a counter the sum (with its first labels).
   */
  render(format: 'text' | 'openmetrics' = 'text'): string {
    const om = format === 'openmetrics';
    const blocks: string[] = [];
    for (const [name, f] of [...this.families].sort(([a], [b]) => a.localeCompare(b))) {
      const series = new Map<string, { labels: Labels; value: number }>();
      for (const [labels, v] of f.samples) {
        const key = JSON.stringify(f.labelNames.map((k) => labels[k]));
        const seen = series.get(key);
        if (f.type === 'gauge') series.set(key, { labels, value: v });
        else series.set(key, { labels: seen?.labels ?? labels, value: (seen?.value ?? 0) + Math.max(0, v) });
      }
      // OpenMetrics names a counter family without _total and each of its samples with it.
      const family = om && f.type === 'counter' ? name.replace(/_total$/, '') : name;
      const sample = om && f.type === 'counter' ? `${family}_total` : family;
      const lines = [`# HELP ${escape(family)} ${escape(f.help)}`, `# TYPE ${escape(family)} ${f.type}`];
      for (const { labels, value } of series.values()) {
        const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escape(v).replace(/"/g, '\\"')}"`);
        lines.push(`${sample}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${value}`);
      }
      blocks.push(lines.join('\n'));
    }
    return om ? `${blocks.join('\n')}\n# EOF\n` : `${blocks.join('\n\n')}\n`;
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

function escape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
