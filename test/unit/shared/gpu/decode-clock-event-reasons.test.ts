import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClockEventReasons, CLOCK_EVENT_REASON_BITS } from '../../../../shared/gpu/decode-clock-event-reasons.js';

test('clock event reasons: each NVML bit decodes to its own reason', () => {
  for (const [reason, bit] of Object.entries(CLOCK_EVENT_REASON_BITS)) {
    const decoded = decodeClockEventReasons(`0x${bit.toString(16).padStart(16, '0')}`)!;
    assert.deepEqual(
      Object.entries(decoded)
        .filter(([, on]) => on)
        .map(([r]) => r),
      [reason],
    );
  }
  assert.equal(decodeClockEventReasons('0x0000000000000044')!.hw_thermal_slowdown, true);
  assert.equal(decodeClockEventReasons('0x0000000000000044')!.sw_power_cap, true);
  assert.equal(decodeClockEventReasons('0xFFFFFFFFFFFFFFFF')!.display_clock_setting, true);
  assert.equal(decodeClockEventReasons('[N/A]'), undefined);
  assert.equal(decodeClockEventReasons('12'), undefined);
});
