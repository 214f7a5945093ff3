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
export interface CollectContext<S = unknown> {
  readonly signal: AbortSignal;
  /** Wall clock in ms, injectable so tests can pin time. */
  readonly now: () => number;
  /**
   * Replaces the served snapshot while the run goes on, for a source whose parts finish (or go stale) at different
   * times, e.g. one probe of several. The scheduler takes it only while the last finished run succeeded and this one
   * has not timed out; the run's result replaces it in the end.
   */
  readonly publish?: (snapshot: S) => void;
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
  collect(ctx: CollectContext<S>): Promise<S>;
  /** `nowMs` is the scrape's wall clock (the scheduler always passes it), for series that age between runs. */
  render(snapshot: S, sink: MetricSink, nowMs?: number): void;
  /** True while `render` of this snapshot reads `nowMs` (e.g. a probe's waiting time): a cached scrape then expires. */
  clockDependent?(snapshot: S): boolean;
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
