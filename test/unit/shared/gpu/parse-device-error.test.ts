import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeBusId } from '../../../../shared/gpu/parse-device-error.js';

test('bus ids compare across domain widths', () => {
  assert.equal(normalizeBusId('00000000:65:00.0'), normalizeBusId('0000:65:00.0'));
  assert.notEqual(normalizeBusId('00000000:65:00.0'), normalizeBusId('0000:66:00.0'));
  assert.equal(normalizeBusId('00000000:3B:00.0'), normalizeBusId('0000:3b:00.0'));
});
