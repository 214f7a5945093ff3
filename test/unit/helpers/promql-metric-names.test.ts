import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { promqlMetricNames } from '../../helpers/promql-metric-names.js';

describe('promqlMetricNames (test helper)', () => {
  it('finds names across functions, joins, offsets, numbers and label lists', () => {
    const names = promqlMetricNames(
      'sum by (instance, target) (rate(a_total{job=~"$job", x="rate(b)"}[$__rate_interval])) * on (uuid) group_left (index, name) b_info > 14e9 and c offset 5m unless max_over_time(d[30m]) < 0.5',
    );
    assert.deepEqual(names.sort(), ['a_total', 'b_info', 'c', 'd']);
  });

  it('keeps recorded names with colons whole', () => {
    assert.deepEqual(promqlMetricNames('target:x_bytes:sum > 0 or absent(up{job="j"})'), ['target:x_bytes:sum', 'up']);
  });
});
