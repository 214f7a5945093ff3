import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sortKeys } from '../../../../../deploy/monitoring/grafana/build-dashboard.js';

describe('sortKeys', () => {
  it('orders keys at every depth, keeps array order and drops undefined values', () => {
    const out = sortKeys({ b: 1, a: { d: [{ z: 1, y: 2 }, 3], c: undefined, b: null } });
    assert.equal(JSON.stringify(out), '{"a":{"b":null,"d":[{"y":2,"z":1},3]},"b":1}');
  });
});
