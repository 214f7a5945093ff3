/** A single number file such as `memory.current` or `cpuacct.usage`. */
export function parseSingleValue(text: string): number {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value)) throw new Error(`not a number: ${JSON.stringify(text.slice(0, 40))}`);
  return value;
}
