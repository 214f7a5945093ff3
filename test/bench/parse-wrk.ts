/** What one `wrk --latency` run printed, in numbers. */
export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  /** Latency percentiles from its "Latency Distribution" block, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** "Non-2xx or 3xx responses" (0 when the line is absent) and socket errors of every kind. */
  readonly non2xx: number;
  readonly socketErrors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`wrk: not a duration: ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Parses wrk 4.x's report (run with --latency); throws naming the line that is missing. */
export function parseWrk(text: string): WrkResult {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(text);
    if (!m) throw new Error(`wrk output has no ${what} line:\n${text}`);
    return m;
  };
  const total = need(/^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),/m, '"N requests in T"');
  const errors = /^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/m.exec(text);
  return {
    requests: Number(total[1]),
    seconds: durationMs(`${total[2]}${total[3]}`) / 1000,
    requestsPerSecond: Number(need(/^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec')[1]),
    p50Ms: durationMs(need(/^\s+50%\s+(\S+)/m, '50% latency')[1]!),
    p99Ms: durationMs(need(/^\s+99%\s+(\S+)/m, '99% latency')[1]!),
    maxMs: durationMs(need(/^\s+Latency\s+\S+\s+\S+\s+(\S+)/m, 'Latency stats')[1]!),
    non2xx: Number(/^\s*Non-2xx or 3xx responses: (\d+)/m.exec(text)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((a, n) => a + Number(n), 0) : 0,
  };
}
