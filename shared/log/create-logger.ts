import { writeSync } from 'node:fs';
import { pino, type Logger, type DestinationStream } from 'pino';
import { formatLogfmt } from './format-logfmt.js';

export type { Logger };

export type LogFormat = 'json' | 'logfmt';

/**
 * JSON lines (or logfmt lines) on stdout, one child logger per component (`log.child({component: 'gpu'})`).
 * Human-facing progress and summaries are written to stderr by the commands themselves, so stdout stays
 * machine-readable.
 */
export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const out =
    format === 'logfmt' ? logfmtStream(destination) : (destination ?? pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level,
      base: { service: 'ollama-sentinel' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    out,
  );
}

/** Re-writes each JSON line pino produces as logfmt, to `destination` or synchronously to stdout. */
function logfmtStream(destination: DestinationStream | undefined): DestinationStream {
  return {
    write(line: string) {
      const text = formatLogfmt(JSON.parse(line) as Record<string, unknown>);
      if (destination) destination.write(text);
      else writeSync(1, text);
    },
  };
}
