/**
 * Splits one nvidia-smi CSV line (fields joined by ", ", never quoted) into exactly `count` cells. Free text (a
 * process or product name) may itself contain ", ", so it is read outside-in: the cells left of `freeTextIndex`
 * from the left, the cells right of it from the right, and the free-text cell is whatever lies between.
 * Returns undefined when the line has too few cells.
 */
export function splitCsvRow(line: string, count: number, freeTextIndex?: number): string[] | undefined {
  const parts = line.split(', ');
  if (parts.length === count) return parts.map((p) => p.trim());
  if (parts.length < count || freeTextIndex === undefined || freeTextIndex < 0 || freeTextIndex >= count) {
    return undefined;
  }
  const right = count - freeTextIndex - 1;
  const head = parts.slice(0, freeTextIndex);
  const tail = right === 0 ? [] : parts.slice(parts.length - right);
  const middle = parts.slice(freeTextIndex, parts.length - right).join(', ');
  return [...head, middle, ...tail].map((p) => p.trim());
}
