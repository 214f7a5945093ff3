/**
 * PCI bus ids print with an 8-digit domain in CSV (`00000000:65:00.0`) but a 4-digit one in some error messages
 * (`0000:65:00.0`): compare them as numbers. Returns the input lower-cased when it is not a bus id.
 */
export function normalizeBusId(busId: string): string {
  const m = /^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)\.([0-9a-f]+)$/i.exec(busId.trim());
  if (!m) return busId.trim().toLowerCase();
  const [domain, bus, device, fn] = m.slice(1).map((h) => parseInt(h, 16)) as [number, number, number, number];
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${hex(domain, 4)}:${hex(bus, 2)}:${hex(device, 2)}.${hex(fn, 1)}`;
}
