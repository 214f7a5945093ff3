import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClockEventReasons, CLOCK_EVENT_REASON_BITS } from '../../../../shared/gpu/decode-clock-event-reasons.js';
import { parsePstate } from '../../../../shared/gpu/parse-pstate.js';
import { parseEnabled } from '../../../../shared/gpu/parse-enabled.js';
import { normalizeBusId } from '../../../../shared/gpu/normalize-bus-id.js';
import { splitCsvRow } from '../../../../shared/gpu/split-csv-row.js';
import { cellNumber } from '../../../../shared/gpu/cell-number.js';

test('clock event reasons: each NVML bit decodes to its own reason', () => {
  for (const [reason, bit] of Object.entries(CLOCK_EVENT_REASON_BITS)) {
    const decoded = decodeClockEventReasons(`0x${bit.toString(16).padStart(16, '0')}`)!;
    assert.deepEqual(Object.entries(decoded).filter(([, on]) => on).map(([r]) => r), [reason]);
  }
  assert.equal(decodeClockEventReasons('0x0000000000000044')!.hw_thermal_slowdown, true);
  assert.equal(decodeClockEventReasons('0x0000000000000044')!.sw_power_cap, true);
  assert.equal(decodeClockEventReasons('0xFFFFFFFFFFFFFFFF')!.display_clock_setting, true);
  assert.equal(decodeClockEventReasons('[N/A]'), undefined);
  assert.equal(decodeClockEventReasons('12'), undefined);
});

test('pstate P0..P15', () => {
  assert.equal(parsePstate('P0'), 0);
  assert.equal(parsePstate('P8'), 8);
  assert.equal(parsePstate('P15'), 15);
  assert.equal(parsePstate('P16'), undefined);
  assert.equal(parsePstate('[Unknown]'), undefined);
});

test('Enabled/Disabled words', () => {
  assert.deepEqual(['Enabled', 'Disabled', 'Yes', 'No', 'Active', 'Not Active', 'N/A'].map(parseEnabled), [1, 0, 1, 0, 1, 0, undefined]);
});

test('bus ids compare across domain widths', () => {
  assert.equal(normalizeBusId('00000000:65:00.0'), normalizeBusId('0000:65:00.0'));
  assert.notEqual(normalizeBusId('00000000:65:00.0'), normalizeBusId('0000:66:00.0'));
  assert.equal(normalizeBusId('00000000:3B:00.0'), normalizeBusId('0000:3b:00.0'));
});

test('splitCsvRow reads free text outside-in and refuses short lines', () => {
  assert.deepEqual(splitCsvRow('a, b, c', 3), ['a', 'b', 'c']);
  assert.deepEqual(splitCsvRow('a, b, x, c', 3, 1), ['a', 'b, x', 'c']);
  assert.deepEqual(splitCsvRow('a, b, x', 2, 1), ['a', 'b, x']);
  assert.equal(splitCsvRow('a, b', 3, 1), undefined);
  assert.equal(splitCsvRow('a, b, c, d', 3), undefined);
});

test('cellNumber: base units from the header unit, nothing for unknown units or text', () => {
  const ok = (text: string) => ({ ok: true as const, text });
  assert.equal(cellNumber(ok('2'), 'MiB'), 2 * 1048576);
  assert.equal(cellNumber(ok('45'), '%'), 0.45);
  assert.equal(cellNumber(ok('1980'), 'MHz'), 1980e6);
  assert.equal(cellNumber(ok('623.90'), 'W'), 623.9);
  assert.equal(cellNumber(ok('57'), undefined), 57);
  assert.equal(cellNumber(ok('57'), 'furlongs'), undefined);
  assert.equal(cellNumber(ok('P0'), undefined), undefined);
  assert.equal(cellNumber({ ok: false, text: '[N/A]' }, 'W'), undefined);
  assert.equal(cellNumber(undefined, 'W'), undefined);
});
