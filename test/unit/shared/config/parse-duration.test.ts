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
  for (const bad of ['', 'soon', '5 s', '-1s', '1d', 'm5', -2, null, {}])
    assert.equal(parseDuration(bad), null, JSON.stringify(bad));
});
