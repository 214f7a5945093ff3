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

/** What a collector gets for one run: an abort signal that fires at the collector's hard timeout. */
export interface CollectContext {
  readonly signal: AbortSignal;
  /** Wall clock in ms, injectable so tests can pin time. */
  readonly now: () => number;
}

/**
 * One data source (node_exporter's collector contract, adapted to background collection):
 * `collect` runs on its own schedule, off the scrape path, and returns an immutable snapshot;
 * `render` turns the latest good snapshot into series on every scrape and never does I/O.
 */
export interface Collector<S = unknown> {
  /** Bounded label value for the collector's own health series, e.g. "gpu". */
  readonly name: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  collect(ctx: CollectContext): Promise<S>;
  render(snapshot: S, sink: MetricSink): void;
}

/**
 * A collection failure with a bounded reason ("timeout", "exit_12", "http_503", "parse", ...), which becomes the
 * `reason` label of the errors counter. Anything else thrown is counted as reason "error".
 */
export class CollectError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CollectError';
  }
}
