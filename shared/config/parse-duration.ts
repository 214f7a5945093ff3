/** The units parseDuration reads, longest first where one is a prefix of another (ms before m). */
export const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const UNIT_MS = DURATION_UNIT_MS;

/**
 * Parses "500ms", "15s", "1m30s", "2h" or a plain number of seconds into milliseconds.
 * Returns null when the text is not a duration, so callers can report the path.
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = text.match(/(\d+(?:\.\d+)?)(ms|s|m|h)/g);
  if (!parts || parts.join('') !== text) return null;
  let total = 0;
  for (const part of parts) {
    const [, num, unit] = part.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)$/)!;
    total += Number(num) * UNIT_MS[unit!]!;
  }
  return Math.round(total);
}
