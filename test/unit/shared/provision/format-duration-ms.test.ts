import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDurationMs } from '../../../../shared/provision/format-duration-ms.js';

test('milliseconds, tenths of seconds, minutes and hours', () => {
  assert.equal(formatDurationMs(0), '0ms');
  assert.equal(formatDurationMs(850), '850ms');
  assert.equal(formatDurationMs(4_249), '4.2s');
  assert.equal(formatDurationMs(59_999), '59.9s');
  assert.equal(formatDurationMs(60_000), '1m00s');
  assert.equal(formatDurationMs(187_400), '3m07s');
  assert.equal(formatDurationMs(3_720_000), '1h02m');
});

test('invalid durations print a question mark', () => {
  assert.equal(formatDurationMs(-5), '?');
  assert.equal(formatDurationMs(Number.POSITIVE_INFINITY), '?');
});
