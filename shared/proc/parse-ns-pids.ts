/**
 * The `NSpid:` line of `/proc/<pid>/status`: the PID in each nested PID namespace, outermost (the reader's view)
 * first, innermost (what the process sees as its own PID, e.g. 1 for a container's init) last. Empty on kernels
 * before 4.1, which lack the line.
 */
export function parseNsPids(statusText: string): number[] {
  const match = /^NSpid:\s*(.*)$/m.exec(statusText);
  if (!match) return [];
  return match[1]!
    .trim()
    .split(/\s+/)
    .filter((s) => s !== '')
    .map(Number)
    .filter((n) => Number.isInteger(n));
}
