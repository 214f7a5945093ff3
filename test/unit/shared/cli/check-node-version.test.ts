import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNodeVersion } from '../../../../shared/cli/check-node-version.js';

test('Node older than the minimum gets a clear message', () => {
  assert.equal(checkNodeVersion('v20.20.2'), null);
  assert.equal(checkNodeVersion('v22.0.0'), null);
  assert.match(checkNodeVersion('v18.19.0')!, /needs Node.js >= 20.5.0, but this is v18.19.0/);
  assert.match(checkNodeVersion('v20.4.9')!, /Install Node 20/);
});
