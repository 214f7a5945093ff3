/** NVML's nvmlClocksEventReason* bit values (nvml.h), named as nvidia-smi's per-reason fields are. */
export const CLOCK_EVENT_REASON_BITS = {
  gpu_idle: 0x1n,
  applications_clocks_setting: 0x2n,
  sw_power_cap: 0x4n,
  hw_slowdown: 0x8n,
  sync_boost: 0x10n,
  sw_thermal_slowdown: 0x20n,
  hw_thermal_slowdown: 0x40n,
  hw_power_brake_slowdown: 0x80n,
  display_clock_setting: 0x100n,
} as const;

export type ClockEventReason = keyof typeof CLOCK_EVENT_REASON_BITS;

/**
 * `clocks_event_reasons.active` (`0x0000000000000001`) -> every known reason with whether it is active. Bits NVML may
 * add later are ignored rather than guessed. BigInt because the mask is 64-bit. Undefined when not a hex mask.
 */
export function decodeClockEventReasons(text: string): Readonly<Record<ClockEventReason, boolean>> | undefined {
  const t = text.trim();
  if (!/^0x[0-9a-f]{1,16}$/i.test(t)) return undefined;
  const mask = BigInt(t);
  const out = {} as Record<ClockEventReason, boolean>;
  for (const [reason, bit] of Object.entries(CLOCK_EVENT_REASON_BITS) as [ClockEventReason, bigint][]) {
    out[reason] = (mask & bit) !== 0n;
  }
  return out;
}
