/** Flat keyed files (cgroup-v2.rst; v1 memory.stat too): `cpu.stat`, `memory.stat` ("key value" per line). */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value, extra] = line.trim().split(/\s+/);
    if (!key || value === undefined || extra !== undefined) continue;
    const n = Number(value);
    if (Number.isFinite(n)) out.set(key, n);
  }
  return out;
}
