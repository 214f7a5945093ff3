const ON = new Set(['enabled', 'yes', 'active', 'on']);
const OFF = new Set(['disabled', 'no', 'not active', 'off']);

/** nvidia-smi's two-state words (`Enabled`/`Disabled`, `Yes`/`No`, `Active`/`Not Active`) -> 1/0, else undefined. */
export function parseEnabled(text: string): 0 | 1 | undefined {
  const t = text.trim().toLowerCase();
  if (ON.has(t)) return 1;
  if (OFF.has(t)) return 0;
  return undefined;
}
