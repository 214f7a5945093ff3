/** `P0` (maximum performance) .. `P15` -> 0..15; anything else (e.g. `[Unknown]`) -> undefined. */
export function parsePstate(text: string): number | undefined {
  const m = /^P(\d{1,2})$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 15 ? n : undefined;
}
