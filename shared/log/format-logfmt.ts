/**
 * One pino JSON record as a logfmt line (`ts=… level=info msg="…" key=value`), the other format Go exporters offer
 * (`--log.format=logfmt`). Time, level and message first; then the record's own keys in order. Objects and arrays
 * are written as JSON; a value with spaces, quotes, `=` or nothing in it is quoted.
 */
export function formatLogfmt(record: Readonly<Record<string, unknown>>): string {
  const { time, level, msg, ...rest } = record;
  const pairs: [string, unknown][] = [['ts', time], ['level', level], ['msg', msg], ...Object.entries(rest)];
  return `${pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ')}\n`;
}

function value(v: unknown): string {
  const text = typeof v === 'string' ? v : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
  const quoted = JSON.stringify(text);
  // Quoted when empty, when it holds spaces or '=', or when JSON would escape anything in it (quotes, controls).
  return text === '' || /[\s=]/.test(text) || quoted.length !== text.length + 2 ? quoted : text;
}
