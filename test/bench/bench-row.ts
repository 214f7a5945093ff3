/** One measured number of a benchmark, as the runner prints it in its table. */
export interface BenchRow {
  /** Which benchmark ("exporter", "parse", "remediator"). */
  readonly bench: string;
  /** The situation measured, e.g. "8 GPUs, 32 processes, 4 clients". */
  readonly case: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
}
