/**
 * The fields one `nvidia-smi --help-query-gpu` (or `--help-query-compute-apps`) accepts. Each entry line lists a
 * name and its aliases (`"clocks.current.sm" or "clocks.sm"`); nvidia-smi prints the FIRST name as the CSV column
 * header whichever alias was asked for, so that name is the entry's canonical spelling.
 */
export interface FieldCatalog {
  /** Every accepted spelling, aliases included. */
  readonly accepted: ReadonlySet<string>;
  /** Any accepted spelling -> the entry's first name (the header nvidia-smi prints). */
  readonly canonical: ReadonlyMap<string, string>;
}

// An entry line is nothing but quoted names joined by " or "; description lines never have that shape.
const ENTRY_LINE = /^"[^"]+"(?: or "[^"]+")*$/;

export function parseHelpQuery(text: string): FieldCatalog {
  const accepted = new Set<string>();
  const canonical = new Map<string, string>();
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!ENTRY_LINE.test(line)) continue;
    const names = [...line.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
    // Lines such as `"0: Default" means ...` in compute_mode's description fail ENTRY_LINE; this guards names with spaces.
    if (names.some((n) => /\s/.test(n))) continue;
    const first = names[0]!;
    for (const name of names) {
      accepted.add(name);
      if (!canonical.has(name)) canonical.set(name, first);
    }
  }
  return { accepted, canonical };
}
