import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
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

test('render writes, byte for byte, what a prom-client registry renders, in both formats', async () => {
  const fill = (s: PromSink): void => {
    s.gauge('b_bytes', 'Help with a \\ backslash\nand a newline.', { uuid: 'GPU-2', gpu: '1' }, 2.5e21);
    s.gauge('b_bytes', 'ignored', { gpu: '0', uuid: 'GPU-1' }, -0.125);
    s.gauge('b_bytes', 'ignored', { uuid: 'GPU-2', gpu: '1' }, 7); // again: last value, first place
    s.counter('a_events_total', 'Events.', { reason: 'say "hi"\\now\nnext' }, 3);
    s.counter('a_events_total', 'Events.', { reason: 'say "hi"\\now\nnext' }, 4); // again: summed
    s.counter('a_events_total', 'Events.', { reason: 'other' }, -2); // a counter never goes down
    s.counter('c_runs', 'A counter without the suffix.', {}, 1);
    s.gauge('d_info', 'Identity.', {}, 1);
    s.gauge('e_ratio', 'Only NaN: no family.', {}, Number.NaN);
    for (let i = 0; i < 50; i++) s.gauge('f_seconds', 'Many.', { pid: String(1000 - i * 7), name: `p${i % 3}` }, i / 3);
  };
  for (const format of ['text', 'openmetrics'] as const) {
    const s = new PromSink();
    fill(s);
    const type = format === 'text' ? Registry.PROMETHEUS_CONTENT_TYPE : Registry.OPENMETRICS_CONTENT_TYPE;
    assert.equal(s.render(format), await s.registry(type).metrics(), format);
    assert.equal(new PromSink().render(format), await new PromSink().registry(type).metrics(), `empty, ${format}`);
  }
});
