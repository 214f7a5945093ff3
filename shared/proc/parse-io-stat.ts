/** v2 `io.stat` (nested keyed, cgroup-v2.rst): "8:0 rbytes=1 wbytes=2 rios=3 ..." per device; summed over devices. */
export function parseIoStat(text: string): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split('\n')) {
    for (const field of line.trim().split(/\s+/).slice(1)) {
      const [key, value] = field.split('=');
      const n = Number(value);
      if (!Number.isFinite(n)) continue;
      if (key === 'rbytes') readBytes += n;
      else if (key === 'wbytes') writeBytes += n;
    }
  }
  return { readBytes, writeBytes };
}
