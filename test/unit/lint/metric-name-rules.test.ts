import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMetricNames } from '../../lint/metric-name-rules.js';

test('the naming lint flags missing prefixes, units and counter suffixes', () => {
  const text = [
    '# TYPE sentinel_gpu_memory_used_bytes gauge',
    '# TYPE sentinel_gpu_mem gauge',
    '# TYPE sentinel_things counter',
    '# TYPE sentinel_other_total gauge',
    '# TYPE gpu_temp_celsius gauge',
    '# TYPE sentinel_power_milliwatts gauge',
    '# TYPE sentinel_gpus gauge',
    '# TYPE process_cpu_seconds_total counter',
  ].join('\n');
  const got = checkMetricNames(text, ['process_']).map((p) => p.name);
  assert.deepEqual(
    got.sort(),
    [
      'gpu_temp_celsius',
      'sentinel_gpu_mem',
      'sentinel_other_total',
      'sentinel_other_total',
      'sentinel_power_milliwatts',
      'sentinel_power_milliwatts',
      'sentinel_things',
    ].sort(),
  );
});
