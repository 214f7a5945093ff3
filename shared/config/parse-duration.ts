/**
 * The units parseDuration reads: Go's (ms, s, m, h) and the days and weeks Prometheus users write (`1d`, `1w`).
 * Values read here become milliseconds and never leave the process as text, so they need not be Go durations;
 * Ollama's keep_alive does (validate-models.ts checks it separately).
 */
export const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

// Longest unit first, so "5ms" is read as milliseconds and not as minutes followed by garbage.
const UNIT_ALTERNATION = Object.keys(DURATION_UNIT_MS)
  .sort((a, b) => b.length - a.length)
  .join('|');
const PART_RE = new RegExp(`(\\d+(?:\\.\\d+)?)(${UNIT_ALTERNATION})`, 'g');

/**
 * Parses "500ms", "15s", "1m30s", "2h", "1d", "1w2d" or a plain number of seconds into milliseconds.
 * Returns null when the text is not a duration, so callers can report the path.
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = [...text.matchAll(PART_RE)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return null;
  let total = 0;
  for (const [, num, unit] of parts) total += Number(num) * DURATION_UNIT_MS[unit!]!;
  return Math.round(total);
}
