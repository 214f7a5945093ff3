/**
 * Go marshals time.Time as RFC 3339 with up to nine fractional digits and a zone; Date.parse is only specified for
 * three. The zero time ("0001-01-01T00:00:00Z") means "unset" and is treated as absent.
 */
export function parseGoTime(value: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(value.trim());
  if (!m) return undefined;
  const fraction = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  const ms = Date.parse(`${m[1]}.${fraction}${m[3]}`);
  if (!Number.isFinite(ms) || m[1]!.startsWith('0001-01-01')) return undefined;
  return ms;
}
