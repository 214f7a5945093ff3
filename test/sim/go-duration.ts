/**
 * Go's time.ParseDuration and time.Time JSON formatting, as Ollama applies them to `keep_alive` and `expires_at`.
 */
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Parses a Go duration string ("5m", "1h30m", "-1m", "0") into milliseconds; throws Go's error text. */
export function parseGoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    sign = s.startsWith('-') ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new Error(`time: invalid duration ${quoted}`);
  let totalNs = 0;
  const re = /^(\d*\.?\d*)([a-zµμ]*)/;
  while (s !== '') {
    const m = re.exec(s);
    if (!m || m[1] === '' || m[1] === '.') throw new Error(`time: invalid duration ${quoted}`);
    if (m[2] === '') throw new Error(`time: missing unit in duration ${quoted}`);
    const unit = UNIT_NS[m[2]!];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(m[2])} in duration ${quoted}`);
    totalNs += Number(m[1]) * unit;
    s = s.slice(m[0].length);
  }
  return (sign * totalNs) / 1e6;
}

/**
 * Go's RFC3339Nano as time.Time marshals it: fractional seconds to 9 digits with trailing zeros trimmed, UTC "Z".
 * `extraNs` (0..999999) adds sub-millisecond digits so values look like Go's.
 */
export function formatGoTime(date: Date, extraNs = 0): string {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ (years > 9999 do not occur here)
  const frac = (iso.slice(20, 23) + String(Math.floor(extraNs)).padStart(6, '0')).replace(/0+$/, '');
  return iso.slice(0, 19) + (frac === '' ? '' : '.' + frac) + 'Z';
}
