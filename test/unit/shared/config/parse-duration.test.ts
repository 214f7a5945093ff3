import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../../../shared/config/parse-duration.js';

test('durations in Go-like units or seconds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('15s'), 15_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration(3), 3000);
  assert.equal(parseDuration('2.5'), 2500);
  for (const bad of ['', 'soon', '5 s', '-1s', '1y', '1D', 'm5', -2, null, {}])
    assert.equal(parseDuration(bad), null, JSON.stringify(bad));
});

test('days and weeks, as Prometheus users write them', () => {
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration('1w'), 7 * 86_400_000);
  assert.equal(parseDuration('1w2d12h'), 9.5 * 86_400_000);
  assert.equal(parseDuration('1.5d'), 36 * 3_600_000);
  assert.equal(parseDuration('5ms'), 5, 'ms is still milliseconds, not minutes');
});
