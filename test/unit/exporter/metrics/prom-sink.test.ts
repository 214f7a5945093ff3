import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PromSink } from '../../../../exporter/metrics/prom-sink.js';

test('renders exposition text; each scrape starts empty; inconsistent labels are refused', async () => {
  const s = new PromSink();
  s.gauge('x_bytes', 'Bytes.', { uuid: 'GPU-1' }, 5);
  s.gauge('x_bytes', 'Bytes.', { uuid: 'GPU-2' }, 6);
  s.counter('y_total', 'Things.', {}, 3);
  s.gauge('z_ratio', 'NaN is dropped.', {}, Number.NaN);
  const text = await s.registry().metrics();
  assert.match(text, /# TYPE x_bytes gauge\nx_bytes\{uuid="GPU-1"\} 5\nx_bytes\{uuid="GPU-2"\} 6/);
  assert.match(text, /# TYPE y_total counter\ny_total 3/);
  assert.doesNotMatch(text, /z_ratio \S/);
  assert.equal(await new PromSink().registry().metrics(), '\n');
  assert.throws(() => s.gauge('x_bytes', 'Bytes.', { other: 'a' }, 1), /labels/);
});
