/** v1 `blkio.throttle.io_service_bytes[_recursive]` (cgroup-v1/blkio-controller.rst): "8:0 Read 4096" per device and op; the "Total" lines are skipped. */
export function parseBlkioServiceBytes(text: string): { readBytes: number; writeBytes: number } {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split('\n')) {
    const [device, op, value] = line.trim().split(/\s+/);
    // A lone "Total N" line closes the file; only per-device lines count.
    if (!device || !device.includes(':') || value === undefined) continue;
    const n = Number(value);
    if (!Number.isFinite(n)) continue;
    if (op === 'Read') readBytes += n;
    else if (op === 'Write') writeBytes += n;
  }
  return { readBytes, writeBytes };
}
