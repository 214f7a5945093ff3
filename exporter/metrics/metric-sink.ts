export type Labels = Readonly<Record<string, string>>;

/**
 * Where collectors write the series of one scrape. Each scrape gets a fresh sink, so label sets that vanished from
 * the source vanish from /metrics too (prometheus "Writing exporters": build new const metrics on every collect).
 * Every sample of one name must use the same label names.
 */
export interface MetricSink {
  gauge(name: string, help: string, labels: Labels, value: number): void;
  /** A monotonic total kept by the collector itself (e.g. consecutive failures are a gauge, errors seen a counter). */
  counter(name: string, help: string, labels: Labels, value: number): void;
}
