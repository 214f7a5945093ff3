/**
 * A failed nvidia-smi run with a bounded `reason` (e.g. "timeout", "bad_field", "exit_255"), so callers can count
 * failures by reason without parsing messages. Lives in shared/ because the exporter and the remediator both run
 * nvidia-smi; the exporter turns it into its own CollectError.
 */
export class NvidiaSmiError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NvidiaSmiError';
  }
}
