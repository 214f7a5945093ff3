/**
 * A per-GPU error line that nvidia-smi prints among (or instead of) the CSV rows when it cannot open a device, e.g.
 * `Unable to determine the device handle for GPU0000:65:00.0: GPU is lost.  Reboot the system to recover this GPU`.
 * The other GPUs still answer, so such a line is data about one GPU, not a failure of the whole run.
 */
export interface DeviceError {
  /** PCI bus id as printed (domain width varies between drivers; compare with normalizeBusId below). */
  readonly pciBusId: string;
  readonly message: string;
  /** The message says the GPU fell off the bus / is lost. */
  readonly lost: boolean;
}

const DEVICE_ERROR =
  /^Unable to determine the device handle for (?:gpu|GPU)\s*([0-9A-Fa-f]+:[0-9A-Fa-f]+:[0-9A-Fa-f]+\.[0-9A-Fa-f]+)\s*:\s*(.*)$/;

export function parseDeviceError(line: string): DeviceError | undefined {
  const m = DEVICE_ERROR.exec(line.trim());
  if (!m) return undefined;
  const message = m[2]!.trim();
  return { pciBusId: m[1]!, message, lost: isGpuLostText(message) };
}

/** Text that nvidia-smi/NVML use for a GPU that is gone until reboot or reset. */
export function isGpuLostText(text: string): boolean {
  return /GPU is lost|fallen off the bus/i.test(text);
}

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
